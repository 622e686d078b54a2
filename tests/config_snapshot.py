"""Every resolved config of every preset, dataset, model and group option, composed the way a
command composes it (Hydra's compose API, the repository's conf/).

`python tests/config_snapshot.py > tests/fixtures/resolved_configs.json` records the state the
typed settings of issue #24 started from; tests/test_config_snapshot.py holds the composed
configs equal to it, except for the intended changes it lists.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

CONF = Path(os.environ.get("HAN_SNAPSHOT_CONF", Path(__file__).resolve().parents[1] / "conf"))
# Environment variables the paths group reads: cleared, so the snapshot is the same on any host.
_ENV = ("HAN_ROOT", "HAN_DATA_DIR", "HAN_DATA_MIRROR", "NLTK_DATA")


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def cases() -> dict[str, tuple[str, list[str]]]:
    """name ─► (primary config, overrides): each option of each group in turn."""
    found: dict[str, tuple[str, list[str]]] = {"train": ("train", [])}
    # hparams_search is left out: it needs the optional Optuna sweeper plugin.
    for group in ("dataset", "model", "trainer", "runtime", "experiment", "levers", "logger"):
        for option in _options(group):
            found[f"{group}={option}"] = ("train", [f"{group}={option}"])
    found["predict"] = ("predict", ["run_dir=x", "input=-"])
    found["bench"] = ("bench", [])
    return found


def _compose(primary: str, overrides: list[str]) -> dict[str, Any]:
    from hydra import compose
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf, open_dict

    cfg = compose(primary, overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # ${hydra:...} resolves as in a run
    with open_dict(cfg):
        del cfg["hydra"]
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def snapshot() -> dict[str, dict[str, Any]]:
    """name ─► the resolved config (hydra node left out), environment variables cleared."""
    from hydra import initialize_config_dir

    saved = {k: os.environ.pop(k) for k in _ENV if k in os.environ}
    try:
        with initialize_config_dir(str(CONF), version_base="1.3"):
            return {name: _compose(*case) for name, case in cases().items()}
    finally:
        os.environ.update(saved)


def differences(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ (added, removed or changed); key order is not compared."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in before:
                out.append(f"+{name}")
            elif key not in after:
                out.append(f"-{name}")
            else:
                out += differences(before[key], after[key], name)
        return out
    return [] if before == after and type(before) is type(after) else [f"~{prefix}"]


if __name__ == "__main__":
    json.dump(snapshot(), sys.stdout, indent=1, sort_keys=True)
    print()
