"""A run directory that holds from any folder: its saved config resolved, its paths absolute.

Hydra saves `.hydra/config.yaml` as composed, interpolations included: `${oc.env:HAN_ROOT,...}`
read again from another folder (or by another user) would point elsewhere, and a relative
`dataset.train_path` would be taken from the new folder. `save_resolved_config` rewrites it once
the job starts: every interpolation resolved, every path setting absolute. Hydra's own record of
the command line (`overrides.yaml`, `hydra.yaml`) is left as it was.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from han.io import atomic_write_text

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
    data = OmegaConf.to_container(cfg, resolve=True)
    for group, keys in PATH_KEYS.items():
        section = data.get(group)
        if isinstance(section, dict):
            for key in keys:
                if key in section:
                    section[key] = absolute(section[key], base)
    return data


def save_resolved_config(cfg: DictConfig, run_dir: Path, base: Path | None = None) -> Path:
    """Rewrite `<run_dir>/.hydra/config.yaml` resolved (`resolved_config`); returns its path."""
    path = Path(run_dir) / ".hydra" / "config.yaml"
    atomic_write_text(path, OmegaConf.to_yaml(OmegaConf.create(resolved_config(cfg, base))))
    return path
