"""Which code produced a result: recorded in every run's metrics.json, listed by
`experiments.compare`, so a table in the docs can name the commit it came from."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import han


@functools.cache
def code_version() -> str:
    """The git commit of this checkout (`+dirty` with uncommitted changes to tracked files),
    or the package version when the code is not a git checkout (an installed wheel)."""
    root = Path(han.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"han {han.__version__}"
    return f"{commit}+dirty" if dirty else commit
