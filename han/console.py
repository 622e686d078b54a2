"""What every layer may need from the command line, kept low so that nothing imports han/cli.py
but the commands (tests/test_imports.py): the expected-failure type and the progress-bar switch."""

from __future__ import annotations

__all__ = ["UsageError", "progress_disable"]


class UsageError(Exception):
    """An expected failure that is none of the project's own error types: `han.cli` prints it as
    one line (`error: ...`) and exits with status 2."""


def progress_disable(progress: bool) -> bool | None:
    """tqdm's `disable`: bars only on a terminal (None = tqdm's automatic mode), never if off."""
    return None if progress else True
