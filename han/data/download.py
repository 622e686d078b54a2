"""Make a raw dataset file available locally: offline mirror, then cache, then download.

A download goes to a temporary ``.part`` file that is renamed into place only after its byte
count matches ``Content-Length``, so a file under its final name is always complete.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

__all__ = ["MIRROR_ENV", "DatasetUnavailableError", "fetch", "resolve_mirror"]

logger = logging.getLogger(__name__)

MIRROR_ENV = "HAN_DATA_MIRROR"
_CHUNK = 1 << 16
_TIMEOUT_S = 60.0
_USER_AGENT = "han-data/0.1 (python urllib)"


class DatasetUnavailableError(RuntimeError):
    """A dataset file is neither in the mirror, nor cached, nor downloadable."""


def resolve_mirror(mirror: Path | str | None = None) -> Path | None:
    """The mirror folder: the argument if given, else env ``HAN_DATA_MIRROR``, else None."""
    if mirror is None or str(mirror) == "":
        mirror = os.environ.get(MIRROR_ENV) or None
    return None if mirror is None else Path(mirror).expanduser()


def fetch(url: str, filename: str, cache_dir: Path, mirror: Path | str | None = None,
          sha256: str | None = None) -> Path:
    """Return a local path to ``filename``: the mirror copy, the cached copy, or a fresh download.

    Mirror files are read in place (never copied); their readers check the layout (a mirror
    may hold repacked copies, so no hash). A download must match ``sha256`` (upstream's
    checksum) when one is given, before it gets its final name. Raises
    ``DatasetUnavailableError`` when the file has to be downloaded and the download fails or
    does not match; no partial file is left behind.
    """
    mirror_dir = resolve_mirror(mirror)
    if mirror_dir is not None and (mirror_dir / filename).is_file():
        return mirror_dir / filename
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / filename
    if target.is_file():
        return target
    _download(url, target, sha256)
    return target


def _unavailable(url: str, target: Path, reason: str) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"could not download {url}: {reason}. To work without the network, put "
        f"{target.name} into {target.parent} or into a mirror folder "
        f"(setting paths.mirror / env {MIRROR_ENV})."
    )


def _download(url: str, target: Path, sha256: str | None = None) -> None:
    """Download ``url`` to ``target`` atomically, with a progress bar."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _unavailable(url, target, f"cannot create the folder ({err})") from err
    # A unique .part name per call: parallel jobs (e.g. a joblib sweep) starting on a cold cache
    # must not write into one file; each rename is atomic and moves a complete file.
    part = target.with_name(f"{target.name}.{uuid.uuid4().hex[:8]}.part")
    logger.info("downloading %s to %s", url, target)
    try:
        with open(part, "xb") as out:
            digest = _copy_response(url, out, target)
        if sha256 and digest != sha256.lower():
            raise _unavailable(
                url, target, f"sha256 mismatch: got {digest}, expected {sha256.lower()} "
                "(dataset.sha256); the transfer was damaged or the upstream file changed")
        os.replace(part, target)
    except BaseException as err:
        part.unlink(missing_ok=True)
        if isinstance(err, DatasetUnavailableError):
            raise
        if isinstance(err, urllib.error.HTTPError):
            raise _unavailable(url, target, f"HTTP {err.code} {err.reason}") from err
        if isinstance(err, urllib.error.URLError):
            raise _unavailable(url, target, f"no connection ({err.reason})") from err
        if isinstance(err, (OSError, http.client.HTTPException, ValueError)):
            raise _unavailable(url, target, f"{type(err).__name__}: {err}") from err
        raise  # KeyboardInterrupt and programming errors pass through unchanged


def _copy_response(url: str, out: BinaryIO, target: Path) -> str:
    """Stream the response body into ``out``; raise if fewer/more bytes than announced.
    Returns the body's sha256."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        received = 0
        with tqdm(
            total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=target.name,
            mininterval=1.0, leave=False, disable=None,  # None: only on a terminal
        ) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # http.client returns b"" instead of raising when the server closes early, so count.
    if expected is not None and received != expected:
        raise _unavailable(
            url, target, f"truncated transfer ({received} of {expected} bytes received)"
        )
    if received == 0:
        raise _unavailable(url, target, "the server sent an empty file")
    return digest.hexdigest()

