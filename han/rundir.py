"""A run directory belongs to one run: resume it only with the same settings, code and data.

`claim` runs before any data work (from `han.cli.hydra_main`, the train task). The run directory
keeps `run.json`, the run's fingerprint: every setting that decides its result (the resolved
config minus the `COSMETIC` keys), the code version and, once the data are read, a digest of
them (`check_data`). A start whose fingerprint differs from the recorded one is refused with
one line naming the differing settings and the two ways on (another `hydra.run.dir`, or
`restart=true`) — before any file in the directory is touched. A finished run started again
says so and returns its metrics (a relaunched Hydra sweep skips its finished jobs this way).
`.hydra/` (config, hydra, overrides) is written here, after the check, not by Hydra
(`hydra.output_subdir: null`), so it never claims settings the run did not use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from han.config import ConfigError
from han.io import atomic_write_text, remove_stale_tmp

__all__ = ["RECORD", "COSMETIC", "RunRefused", "claim", "check_data", "settings_of", "data_digest",
           "write_hydra_files"]

log = logging.getLogger("han.rundir")
RECORD = "run.json"
FINISHED = "metrics.json"  # written last by a run (han.train)
# Settings that change how a run looks or where its files live, never its numbers.
COSMETIC = ("progress", "workers", "paths", "restart", "runtime.memory_growth")
_SHOWN = 6  # differing settings named in the error line


class RunRefused(ConfigError):
    """This start would mix two runs in one directory; nothing in it was touched."""

    keep_run_dir = True  # han.cli writes no error.txt into a directory this start must not touch


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out |= _flatten(value, f"{prefix}{key}.")
        return out
    return {prefix[:-1]: node}


def _cosmetic(key: str) -> bool:
    return any(key == c or key.startswith(c + ".") for c in COSMETIC)


def settings_of(cfg: DictConfig, resolve: bool = True) -> dict[str, Any]:
    """Every setting that decides a run's result, as dotted keys (hydra.* and COSMETIC out)."""
    try:
        container = OmegaConf.to_container(cfg, resolve=resolve, enum_to_str=True)
    except Exception:  # noqa: BLE001 - an interpolation that only resolves inside its job
        container = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    flat = _flatten({k: v for k, v in container.items() if k != "hydra"})
    return {k: v for k, v in sorted(flat.items()) if not _cosmetic(k)}


def _previous(run_dir: Path) -> tuple[dict | None, bool]:
    """(the recorded fingerprint, whether it was written by this module), or (None, False)."""
    record = run_dir / RECORD
    if record.is_file():
        try:
            return json.loads(record.read_text()), True
        except (OSError, ValueError):
            pass  # unreadable: judged by .hydra/config.yaml below, or as an unknown run
    config = run_dir / ".hydra" / "config.yaml"
    products = ("metrics.json", "vocab.json", "checkpoints", "model.keras", "model.joblib")
    if config.is_file() and any((run_dir / name).exists() for name in products):
        # a run started before run.json existed: compare its settings (a start that failed
        # before it produced anything, such as on a bad setting, has nothing to protect)
        return {"settings": settings_of(OmegaConf.load(config), resolve=False), "code": None,
                "legacy": True}, False
    return None, False


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """`key old -> new` for every differing setting; when a group's `name` differs (another
    model or dataset) the name stands for the whole group."""
    missing = "(unset)"
    # A setting added to the configs since (with a null default) changes nothing.
    keys = [k for k in sorted(set(old) | set(new)) if old.get(k, missing) != new.get(k, missing)
            and sorted(map(str, (old.get(k, missing), new.get(k, missing)))) != ["(unset)", "None"]]
    renamed = {k.rpartition(".")[0] for k in keys if k.endswith(".name") and "." in k}
    keys = [k for k in keys if k.rpartition(".")[0] in renamed and k.endswith(".name")
            or not any(k.startswith(group + ".") for group in renamed)]
    keys.sort(key=lambda k: (k.count("."), k))  # seed before model.name before model.x.y
    return [f"{k} {_show(old.get(k, missing))} -> {_show(new.get(k, missing))}" for k in keys]


def _ways_on(multirun: bool) -> str:
    where = "hydra.sweep.dir=<new folder>" if multirun else "hydra.run.dir=<new folder>"
    return (f"start a new run with {where}, or give restart=true to delete this run's results "
            "and train it again with the new settings")


def _refuse(run_dir: Path, what: list[str], multirun: bool) -> RunRefused:
    shown = ", ".join(what[:_SHOWN]) + (f" and {len(what) - _SHOWN} more" if len(what) > _SHOWN else "")
    return RunRefused(f"{run_dir} holds a run with other settings ({shown}); it was not touched: "
                      f"{_ways_on(multirun)}")


def _start_over(run_dir: Path, keep: set[str]) -> None:
    """restart=true: every file of the previous run goes, except the open log."""
    for path in run_dir.iterdir():
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    log.warning("restart=true: deleted the previous run's files in %s", run_dir)


def claim(cfg: DictConfig, run_dir: Path, code: str, validate: Callable[[], None],
          multirun: bool = False) -> dict | None:
    """Check `run_dir` against this start and take it; the finished run's metrics, else None.

    `validate()` checks the settings; when it fails in a directory that holds a run, nothing
    there is touched either. Raises `RunRefused` when the directory holds another run.
    """
    run_dir = Path(run_dir)
    previous, recorded = _previous(run_dir)
    try:
        validate()
    except Exception as err:
        if previous is not None:
            err.keep_run_dir = True  # type: ignore[attr-defined]
        else:
            write_hydra_files(run_dir, cfg)  # a failed sweep job is listed by its .hydra/
        raise
    settings = settings_of(cfg)
    # A record of a run started before run.json existed holds its settings as written.
    compared = settings_of(cfg, resolve=False) if (previous or {}).get("legacy") else settings
    finished = (run_dir / FINISHED).is_file()
    restart = bool(cfg.get("restart"))
    if previous is None and not restart and (finished or (run_dir / "checkpoints").is_dir()):
        raise _refuse(run_dir, ["a run with no record of its settings"], multirun)
    if previous is not None and not restart:
        what = _differences(previous["settings"], compared)
        if previous.get("code") and previous["code"] != code and not finished:
            what.append(f"code {previous['code']} -> {code}")
        if what:
            raise _refuse(run_dir, what, multirun)
        if finished:
            metrics = json.loads((run_dir / FINISHED).read_text())
            note = "" if previous.get("code") in (None, code) else f" (by code {previous['code']})"
            print(f"{run_dir} holds this run, finished{note}: nothing to do "
                  f"(restart=true trains it again)")
            return metrics
    if restart and run_dir.is_dir():
        _start_over(run_dir, keep={f"{cfg.get('task_name', 'train')}.log"})
    for folder in (run_dir, run_dir / "checkpoints"):
        remove_stale_tmp(folder)
    if previous is None or restart or not recorded:
        record = {"settings": settings, "code": code, "data": None}
        atomic_write_text(run_dir / RECORD, json.dumps(record, indent=1))
        write_hydra_files(run_dir, cfg)
    return None


def data_digest(arrays: list[np.ndarray], texts: list[Any]) -> str:
    """sha256 of the data a run read (its arrays and strings, in order)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"\0")
    for values in texts:
        digest.update("\x1f".join(map(str, values)).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def check_data(run_dir: Path, digest: str, multirun: bool = False) -> None:
    """Record the data's digest in `run.json`, or refuse a resume on other data (nothing
    written yet: this runs after the data are read, before the run writes anything)."""
    path = Path(run_dir) / RECORD
    if not path.is_file():
        return
    record = json.loads(path.read_text())
    if record.get("data") is None:
        atomic_write_text(path, json.dumps(record | {"data": digest}, indent=1))
    elif record["data"] != digest:
        raise _refuse(Path(run_dir), [f"the data (digest {record['data']} -> {digest}: a "
                                      "dataset file or a reader setting changed)"], multirun)


def write_hydra_files(run_dir: Path, cfg: Any) -> None:
    """`.hydra/config.yaml`, `hydra.yaml` and `overrides.yaml`, as Hydra writes them, except
    that `config.yaml` is resolved, its paths absolute (`han.runconfig`): the run holds from
    any folder. A config that does not resolve (a failed job's) is written as composed.

    The project's configs set `hydra.output_subdir: null` so that Hydra does not write them
    before the run directory has been checked (`han.rundir`); they are written here instead.
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from han.io import atomic_write_text
    from han.runconfig import resolved_config

    try:
        config = OmegaConf.create(resolved_config(cfg))
    except Exception:  # noqa: BLE001 - a missing or broken value: the job fails on it anyway
        config = cfg
    hydra_cfg = HydraConfig.instance().cfg
    folder = Path(run_dir) / ".hydra"
    for name, node in (("config.yaml", config), ("hydra.yaml", hydra_cfg),
                       ("overrides.yaml", hydra_cfg.hydra.overrides.task)):
        atomic_write_text(folder / name, OmegaConf.to_yaml(node))
