"""The Documents contract and what every reader shares.

A reader returns a DataFrame with columns ``id`` (unique str), ``text``, ``label``,
``source_split`` (``train``/``validation``/``test``, or ``""`` when the source has no official
split) and ``group`` (documents that must share a split, e.g. IMDB reviews of one film; ``""``
when none), sorted so that runs are reproducible; see docs/ARCHITECTURE.md. This module imports
nothing from the project, so the readers (archives.py, sources.py) depend on it and not on each
other.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

COLUMNS = ["id", "text", "label", "source_split", "group"]
Row = tuple[str, str, str, str, str]  # id, text, label, source_split, group
_SPLIT_RANK = {"train": 0, "validation": 1, "test": 2, "": 3}
_DIGITS = re.compile(r"(\d+)")
UTF8_BOM = b"\xef\xbb\xbf"


class DataError(ValueError):
    """Bad input data or settings; the message names the file, row or setting and the fix."""


@dataclass
class ReadStats:
    """What reading noticed besides the documents themselves."""

    non_utf8_files: int = 0  # documents decoded with the cp1252 / Latin-1 fallback
    notes: list[str] = field(default_factory=list)


# Byte-order marks of the Unicode encodings other than UTF-8 (UTF-32 first: its little-endian
# mark starts with UTF-16's). Spreadsheets save "Unicode text" as UTF-16 with a mark.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def bom_encoding(head: bytes) -> str | None:
    """The encoding that a byte-order mark at the start of `head` names (utf-8-sig, utf-16,
    utf-32), or None when there is none."""
    if head.startswith(UTF8_BOM):
        return "utf-8-sig"
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def looks_like_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: text whose every other byte is NUL."""
    sample = head[:1024]
    return len(sample) >= 8 and (sample[1::2].count(0) > 0.4 * len(sample) / 2
                                 or sample[0::2].count(0) > 0.4 * len(sample) / 2)


def decode_text(raw: bytes) -> tuple[str, bool]:
    """Decode bytes as UTF-8 (BOM stripped), UTF-16 / UTF-32 when a byte-order mark says so,
    else cp1252, else Latin-1; never fails or drops. The flag: the fallback was used."""
    encoding = bom_encoding(raw[:4])
    if encoding in ("utf-16", "utf-32"):
        try:
            return raw.decode(encoding), False
        except UnicodeDecodeError:
            pass
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), True
    except UnicodeDecodeError:  # cp1252 leaves 5 bytes undefined; Latin-1 maps every byte
        return raw.decode("latin-1"), True


# ── settings ─────────────────────────────────────────────────────────────────────────────────

def setting(cfg: Mapping, key: str) -> Any:
    """``cfg[key]``: the readers get typed dataset settings (han/schema/dataset.py), which hold every
    key of their kind, so a default here would be a second home for the schema's. A mandatory
    value still unset (`???`) reads as None: the reader says which setting to give."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig) and OmegaConf.is_missing(cfg, key):
        return None
    return cfg[key]


def classes(cfg: Mapping) -> list[str] | None:
    """``dataset.classes`` as a sorted list, or None for all classes."""
    value = setting(cfg, "classes")
    if isinstance(value, str):  # a command-line override of a single class
        value = [value]
    names = sorted({str(name) for name in value or ()})
    return names or None


def require_file(path: Path, name: str) -> None:
    """Raise a DataError naming the setting ``name`` unless ``path`` is a file we may read."""
    if path.is_dir():
        raise DataError(f"{name}: {path} is a directory, not a file; set {name} to a file in it")
    if path.is_file() and not os.access(path, os.R_OK):
        raise DataError(f"{name}: {path} cannot be read (permission denied); make it readable "
                        f"(chmod a+r {path}) or set {name} to a copy you can read")
    if not path.is_file():
        raise DataError(f"{name}: no file at {path} (looked for {path.absolute()}; relative "
                        f"paths start at the working directory); set {name} to an existing "
                        "file")


def count_fallback(stats: ReadStats, count: int, total: int, path: Path) -> None:
    """Log and count the documents of ``path`` that needed the decoding fallback."""
    if count:
        note = (f"{count} of {total} documents in {path.name} are not valid UTF-8; decoded them "
                "as cp1252 / Latin-1")
        logger.info(note)
        stats.notes.append(note)
        stats.non_utf8_files += count


def few(items: Sequence[Any], limit: int = 5) -> str:
    """First few items and the count, for error messages."""
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


# ── output ───────────────────────────────────────────────────────────────────────────────────

def _natural_key(text: str) -> list[Any]:
    """'tech/10' after 'tech/9': digit runs compare as numbers (alternating str, int, ...)."""
    return [int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(text))]


def to_frame(rows: list[Row]) -> pd.DataFrame:
    """Rows as the Documents frame: train, validation, test, then no split; ids in natural order."""
    rows.sort(key=lambda row: (_SPLIT_RANK.get(row[3], 4), _natural_key(row[0]), row[0]))
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=str) if rows else pd.DataFrame(
        {name: pd.Series([], dtype=str) for name in COLUMNS})
    duplicated = frame["id"][frame["id"].duplicated()].unique().tolist()
    if duplicated:
        raise DataError(f"document ids must be unique, but {few(duplicated)} repeat; "
                        "delete the archive so it is downloaded again")
    return frame

