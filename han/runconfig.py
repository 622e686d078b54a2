"""A run's saved config that holds from any folder: resolved, its paths absolute.

Hydra composes `${oc.env:HAN_ROOT,...}` and relative paths: read again from another folder (or
by another user) they would point elsewhere, and a relative `dataset.train_path` would be taken
from the new folder. `han.cli.write_hydra_files` writes `.hydra/config.yaml` through
`resolved_config` (after `han.rundir` has checked the directory): every interpolation resolved,
every path setting absolute. `hydra.yaml` and `overrides.yaml` stay as Hydra composed them.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

# Settings that name files or folders, by group: made absolute against the folder of the run.
PATH_KEYS = {
    "paths": ("root_dir", "data_dir", "cache_dir", "mirror", "nltk_data", "log_dir", "output_dir"),
    "dataset": ("train_path", "validation_path", "test_path"),
    "model": ("embedding_path",),
}


def absolute(value: object, base: Path) -> object:
    """A path setting as an absolute path string (`~` expanded); None and URLs unchanged."""
    if value is None or (isinstance(value, str) and "://" in value):
        return value
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def resolved_config(cfg: DictConfig, base: Path | None = None) -> dict:
    """The config as plain data: interpolations resolved, path settings absolute."""
    base = Path.cwd() if base is None else base
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # choices as their names
    for group, keys in PATH_KEYS.items():
        section = data.get(group)
        if isinstance(section, dict):
            for key in keys:
                if key in section:
                    section[key] = absolute(section[key], base)
    return data
