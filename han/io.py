"""Atomic file writes: a killed run never leaves a half-written file under the final name.

The temporary file of a write is named ``.<name>.<host>-<pid>.<random>.tmp`` beside its target,
so that `remove_stale_tmp` can tell a leftover of a killed process (its pid is gone) from a
write still under way in another process (a parallel sweep job sharing a cache).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from han import faults

log = logging.getLogger(__name__)
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"
_TMP = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[^.]+\.tmp$")
STALE_SECONDS = 24 * 3600  # another host's leftover: removed once this old


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w") -> Iterator[IO]:
    """Opens a temporary file beside `path`; renames it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_scratch_prefix(path.name), suffix=".tmp")
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            faults.point(f"write:{path.name}")  # a kill here leaves only the .tmp file
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide results from collaborators
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _scratch_prefix(name: str) -> str:
    """The start of every temporary file's name this process writes for `name`: `_TMP` reads
    the host and process back, so `remove_stale_tmp` knows when its writer is gone."""
    return f".{name}.{_HOST}-{os.getpid()}."


def scratch_name(name: str) -> str:
    """A scratch file's name for `name` that `remove_stale_tmp` removes once its process is
    gone (named as `atomic_open`'s temporary files are)."""
    return f"{_scratch_prefix(name)}{os.urandom(4).hex()}.tmp"


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_open(path) as handle:
        handle.write(text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_tmp(folder: Path | str) -> list[Path]:
    """Deletes the `.tmp` files that killed writes left in `folder` (not its subfolders).

    A leftover is a temporary file of `atomic_open` whose process is gone (same host), or one of
    another host older than a day; a write still under way is left alone. Each is logged by name.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.glob(".*.tmp"):
        match = _TMP.match(path.name)
        if match is None:
            continue
        try:
            if match["host"] == _HOST:
                stale = not _alive(int(match["pid"]))
            else:
                stale = time.time() - path.stat().st_mtime > STALE_SECONDS
            if stale:
                path.unlink()
                removed.append(path)
                log.warning("removed %s, left by a write that was killed", path)
        except OSError:  # gone meanwhile, or not ours to delete
            continue
    return removed
