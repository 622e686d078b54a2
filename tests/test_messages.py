"""Every setting a message names exists (issue #26): an error that tells the user to set
`dataset.mirror` when the setting is `paths.mirror` sends them nowhere. And no message points an
installed copy at a file or URL it does not have (docs/, conf/, an invented project URL).

The messages are the strings of `raise`, of error constructors, of logging calls, of `print`
and of `errors.append` in han/ and experiments/, and of the module's own functions those call
(a message built by a helper, such as han.rundir's `_ways_on`); every dotted setting name in
them (`dataset.x`, `paths.y`, ...) and every top-level `key=` must be a key (or a group of keys,
or a config group) of a composed config: training with every dataset, model, recipe, runtime
and logger, the search preset, and the data, predict and evaluate configs.
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
    if name == "append":  # errors.append(...): han.config and han.settings collect messages
        return "error" in getattr(func.value, "id", getattr(func.value, "attr", ""))
    return name in LOG_CALLS or name == "print" or name.endswith(("Error", "Missing", "Exception"))


def _message_nodes(tree: ast.Module) -> list[ast.AST]:
    """The nodes that make messages, with the bodies of the module's functions they call."""
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    nodes: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            nodes.append(node.exc)
        elif isinstance(node, ast.Call) and _is_message_call(node):
            nodes.append(node)
    seen: set[str] = set()
    queue = list(nodes)
    while queue:
        for call in [n for n in ast.walk(queue.pop()) if isinstance(n, ast.Call)]:
            name = getattr(call.func, "id", "")
            if name in functions and name not in seen:
                seen.add(name)
                body = [n for stmt in functions[name].body for n in [stmt]
                        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
                nodes += body  # the docstring is not a message
                queue += body
    return nodes


def messages(path: Path) -> list[str]:
    return [text for node in _message_nodes(ast.parse(path.read_text())) for text in _strings(node)]


def _sources() -> list[Path]:
    return sorted([*(REPO / "han").rglob("*.py"), *(REPO / "experiments").glob("*.py")])


def named_settings() -> dict[str, set[str]]:
    """Every dotted setting name in a message, with the files that print it."""
    found: dict[str, set[str]] = {}
    for path in _sources():
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
        keys |= _keys(compose("data", return_hydra_config=True))
    return keys


# A top-level setting given on the command line in a message: `restart=true`, `input=<file>`.
TOP_LEVEL = re.compile(r"(?<![\w./${-])([a-z][a-z0-9_]*)=(?=[\w<'\"])")


def named_top_level() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in _sources():
        for text in messages(path):
            for name in TOP_LEVEL.findall(text):
                found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def test_messages_name_settings_at_all():
    found = named_settings()
    # the collector sees the messages this issue is about, han.config's collected errors,
    # deduplication's, and han.rundir's refusal built by its helpers (issue #23)
    assert {"paths.mirror", "paths.nltk_data", "dataset.dedup", "dataset.folds",
            "dataset.train_path", "hydra.run.dir", "hydra.sweep.dir"} <= set(found), sorted(found)
    assert len(found) >= 25
    top = named_top_level()
    assert {"restart", "input", "output", "overwrite", "run_dir", "hparams_search",
            "logger"} <= set(top), sorted(top)


def test_every_setting_a_message_names_exists(config_keys):
    missing = {name: sorted(files) for name, files in named_settings().items()
               if name not in config_keys}
    assert not missing, f"messages name settings that no config has: {missing}"


def test_a_misnamed_setting_would_be_caught(config_keys, tmp_path):
    assert "dataset.mirror" not in config_keys and "paths.mirror" in config_keys
    module = tmp_path / "m.py"
    module.write_text('def f(p):\n    raise ValueError(f"{p}: set dataset.mirror")\n')
    assert set(SETTING.findall(" ".join(messages(module)))) == {"dataset.mirror"}


def test_every_top_level_setting_a_message_names_exists(config_keys):
    groups = {p.name for p in CONF.iterdir() if p.is_dir()}
    missing = {name: sorted(files) for name, files in named_top_level().items()
               if name not in config_keys and name not in groups}
    assert not missing, f"messages name settings that no config has: {missing}"


# A file of the repository, a Makefile target, a web address: an installed copy has none of them.
# (A message may name `make setup` for a checkout if it says so; experiments.docs rewrites a
# checkout's docs and refuses to run anywhere else.)
TARGETS = re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), re.M)
REPOSITORY_ONLY = re.compile(r"(?<![\w/])(?:docs|conf|tests|benchmarks)/[\w./]*(?:\.\w+|/)"
                             r"|https?://|\bmake (?:{})\b".format("|".join(TARGETS)))
CHECKOUT_TOOLS = {"experiments/docs.py"}


def test_no_message_points_an_installed_copy_at_what_it_lacks():
    found = {}
    for path in _sources():
        name = str(path.relative_to(REPO))
        for text in messages(path):
            if (REPOSITORY_ONLY.search(text) and "checkout" not in text
                    and name not in CHECKOUT_TOOLS):
                found.setdefault(name, []).append(text.strip())
    assert not found, f"messages that name the repository's files or a URL: {found}"


def test_the_package_invents_no_project_urls():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # no public home exists; an invented address would send users to someone else's project
    assert "urls" not in project
