"""Every setting a message names exists (issue #26): an error that tells the user to set
`dataset.mirror` when the setting is `paths.mirror` sends them nowhere.

The messages are the strings of `raise`, of error constructors, of logging calls and of `print`
in han/ and experiments/; every dotted setting name in them (`dataset.x`, `paths.y`, ...) must
be a key (or a group of keys) of a composed config: training with every dataset, model, recipe,
runtime and logger, the search preset, and the predict and evaluate configs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
GROUPS = ("dataset", "model", "trainer", "runtime", "paths", "logger", "levers", "hydra")
SETTING = re.compile(r"(?<![\w./-])(?:{})(?:\.[a-z_][a-z0-9_]*)+".format("|".join(GROUPS)))
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "warn"}
NOT_SETTINGS = {"hydra.errors", "hydra.core", "hydra.types", "hydra.utils"}  # modules


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_message_call(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in LOG_CALLS or name == "print" or name.endswith(("Error", "Missing", "Exception"))


def messages(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            out += _strings(node.exc)
        elif isinstance(node, ast.Call) and _is_message_call(node):
            out += _strings(node)
    return out


def named_settings() -> dict[str, set[str]]:
    """Every dotted setting name in a message, with the files that print it."""
    found: dict[str, set[str]] = {}
    for path in sorted([*(REPO / "han").rglob("*.py"), *(REPO / "experiments").glob("*.py")]):
        for text in messages(path):
            for name in SETTING.findall(text):
                name = name.rstrip(".")
                if name not in NOT_SETTINGS and not name.startswith(tuple(f"{m}." for m in NOT_SETTINGS)):
                    found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def _keys(node, prefix: str = "") -> set[str]:
    out = set()
    if isinstance(node, DictConfig):
        for key in node:
            name = f"{prefix}{key}"
            out.add(name)
            out |= _keys(node._get_node(key), f"{name}.")
    return out


@pytest.fixture(scope="module")
def config_keys() -> set[str]:
    def options(group: str) -> list[str]:
        return sorted(p.stem for p in (CONF / group).glob("*.yaml"))

    keys: set[str] = set()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        overrides = [[f"dataset={d}"] for d in options("dataset")]
        overrides += [[f"model={m}"] for m in options("model")]
        overrides += [[f"trainer={t}"] for t in options("trainer")]
        overrides += [[f"runtime={r}"] for r in options("runtime")]
        overrides += [[f"logger={x}"] for x in options("logger")]
        overrides += [[f"levers={x}"] for x in options("levers")]
        overrides += [["hparams_search=han_optuna"], ["hydra/launcher=han_submitit_slurm"]]
        for chosen in overrides:
            cfg = compose("train", overrides=chosen, return_hydra_config=True)
            keys |= _keys(cfg)
        for name in ("predict", "evaluate"):
            keys |= _keys(compose(name, overrides=["run_dir=x"], return_hydra_config=True))
    return keys


def test_messages_name_settings_at_all():
    found = named_settings()
    # the collector sees the messages this issue is about
    assert {"paths.mirror", "paths.nltk_data"} <= set(found), sorted(found)
    assert len(found) >= 15


def test_every_setting_a_message_names_exists(config_keys):
    missing = {name: sorted(files) for name, files in named_settings().items()
               if name not in config_keys}
    assert not missing, f"messages name settings that no config has: {missing}"


def test_a_misnamed_setting_would_be_caught(config_keys, tmp_path):
    assert "dataset.mirror" not in config_keys and "paths.mirror" in config_keys
    module = tmp_path / "m.py"
    module.write_text('def f(p):\n    raise ValueError(f"{p}: set dataset.mirror")\n')
    assert set(SETTING.findall(" ".join(messages(module)))) == {"dataset.mirror"}


def test_the_package_has_project_urls():
    import tomllib

    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    assert {"Homepage", "Issues"} <= set(urls)
    from han.export import SERVING_URL

    assert urls["Serving"] == SERVING_URL  # the message an installed copy prints points there
