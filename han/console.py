"""What every layer may need from the command line, kept low so that nothing imports han/cli.py
but the commands (tests/test_imports.py): where the configs are, the expected-failure type and
the progress-bar switch."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CONFIG_DIR", "UsageError", "progress_disable"]


def _config_dir(here: Path | None = None) -> Path:
    """The configs: inside the installed package (a wheel ships them as ``han/conf``), else the
    repository's top-level ``conf/`` (a clone, an editable install, ``python -m``)."""
    here = here or Path(__file__).resolve().parent
    packaged = here / "conf"
    return packaged if (packaged / "train.yaml").is_file() else here.parent / "conf"


CONFIG_DIR = _config_dir()



class UsageError(Exception):
    """An expected failure that is none of the project's own error types: `han.cli` prints it as
    one line (`error: ...`) and exits with status 2."""


def progress_disable(progress: bool) -> bool | None:
    """tqdm's `disable`: bars only on a terminal (None = tqdm's automatic mode), never if off."""
    return None if progress else True
