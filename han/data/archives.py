"""Archive readers: BBC News (zip), IMDB (aclImdb tar.gz).

Each reads one downloaded (or mirrored) archive in its upstream layout into Documents rows;
`han.data.sources.read_documents` picks the reader from ``dataset.kind``.
"""

from __future__ import annotations

import logging
import re
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from han.data.documents import DataError, ReadStats, Row, classes, count_fallback, decode_text

logger = logging.getLogger(__name__)

_IMDB_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/([^/]+)\.txt$")
# IMDB reviews mark line breaks with HTML <br /> tags: whitespace, not words.
_BR_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _corrupt(path: Path, err: BaseException) -> DataError:
    return DataError(
        f"{path} is damaged or truncated ({type(err).__name__}: {err}). Delete it so it is "
        "downloaded again, or replace the copy in the mirror folder (dataset.mirror / "
        "HAN_DATA_MIRROR) if it came from there."
    )


# What a damaged zip or tar.gz raises somewhere inside zipfile / tarfile / gzip / zlib.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError,
                   NotImplementedError)


def read_bbc(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
    """BBC zip, read in place: ``bbc/<class>/<NNN>.txt`` ─► id ``<class>/<NNN>``."""
    wanted = classes(cfg)
    rows: list[Row] = []
    fallback = 0
    try:
        with zipfile.ZipFile(path) as archive:
            members = []
            for info in archive.infolist():
                parts = info.filename.split("/")
                # bbc/<class>/<file>.txt only: skips README.TXT, folders and macOS ._ files.
                if (not info.is_dir() and len(parts) == 3 and parts[2].lower().endswith(".txt")
                        and not parts[2].startswith(".")):
                    members.append((parts[1], parts[2][:-4], info))
            available = sorted({cls for cls, _, _ in members})
            if not available:
                raise DataError(f"{path} holds no bbc/<class>/<NNN>.txt articles: it is not the "
                                "BBC archive or is damaged. Delete it so it is downloaded again.")
            unknown = sorted(set(wanted or ()) - set(available))
            if unknown:
                raise DataError(f"dataset.classes names {unknown}, not in {path.name}; the "
                                f"available classes are {available}. Fix dataset.classes "
                                "(null or [] means all).")
            for cls, stem, info in members:
                if wanted is None or cls in wanted:
                    text, used_fallback = decode_text(archive.read(info))
                    fallback += used_fallback
                    rows.append((f"{cls}/{stem}", text, cls, ""))
    except DataError:
        raise
    except _ARCHIVE_ERRORS as err:
        raise _corrupt(path, err) from err
    count_fallback(stats, fallback, len(rows), path)
    return rows


def read_imdb(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
    """aclImdb tar.gz, streamed: ``aclImdb/<split>/<pos|neg>/<id>_<rating>.txt`` only."""
    rows: list[Row] = []
    fallback = 0
    try:
        # Stream mode reads the archive once, front to back: no member index is built.
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                match = _IMDB_MEMBER.match(member.name)
                if match is None or not member.isfile():
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                text, used_fallback = decode_text(handle.read())
                fallback += used_fallback
                split, label, stem = match.groups()
                rows.append((f"{split}/{label}/{stem}", _BR_TAG.sub(" ", text), label, split))
    except _ARCHIVE_ERRORS as err:
        raise _corrupt(path, err) from err
    if not rows:
        raise DataError(f"{path} holds no aclImdb/{{train,test}}/{{pos,neg}}/*.txt reviews: it "
                        "is not the IMDB archive or is damaged. Delete it so it is downloaded "
                        "again.")
    present = {(split, label) for _, _, label, split in rows}
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            if (split, label) not in present:
                note = f"{path.name} has no aclImdb/{split}/{label}/ reviews"
                logger.warning(note)
                stats.notes.append(note)
    count_fallback(stats, fallback, len(rows), path)
    return rows

