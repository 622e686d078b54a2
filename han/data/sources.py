"""Raw datasets ─► one DataFrame of documents.

Every reader returns the Documents contract of docs/ARCHITECTURE.md: columns ``id`` (unique
str), ``text``, ``label`` and ``source_split`` (``train``/``validation``/``test``, or ``""``
when the source has no official split), sorted so that runs are reproducible.

Kinds (``dataset.kind``): ``bbc`` (BBC news zip, read in place), ``imdb`` (aclImdb tar.gz,
streamed) and ``table`` (the user's own CSV / TSV / JSON lines / Parquet files).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import hashlib
import json
import logging
import lzma
import numbers
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from han.data.download import fetch

__all__ = [
    "KINDS",
    "DataError",
    "ReadStats",
    "dataset_files",
    "decode_text",
    "fingerprint",
    "read_documents",
]

logger = logging.getLogger(__name__)

KINDS = ("bbc", "imdb", "table")
# Bump when a reader's output changes for the same input, so on-disk caches keyed by
# fingerprint() are rebuilt.
READER_VERSION = 1
COLUMNS = ["id", "text", "label", "source_split"]
_SPLIT_RANK = {"train": 0, "validation": 1, "test": 2, "": 3}
_TABLE_SPLITS = (("train", "train_path"), ("validation", "validation_path"), ("test", "test_path"))
_TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
_FORMAT_ALIASES = {"csv": "csv", "tsv": "tsv", "tab": "tsv", "jsonl": "jsonl", "json": "jsonl",
                   "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet"}
_OPENERS: dict[str, Callable[..., IO[bytes]]] = {".gz": gzip.open, ".bz2": bz2.open,
                                                 ".xz": lzma.open}
_IMDB_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/([^/]+)\.txt$")
# IMDB reviews mark line breaks with HTML <br /> tags: whitespace, not words.
_BR_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SURROGATE = re.compile("[\udc80-\udcff]")
_DIGITS = re.compile(r"(\d+)")
_UTF8_BOM = b"\xef\xbb\xbf"


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
    if head.startswith(_UTF8_BOM):
        return "utf-8-sig"
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def _looks_like_utf16(head: bytes) -> bool:
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
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), True
    except UnicodeDecodeError:  # cp1252 leaves 5 bytes undefined; Latin-1 maps every byte
        return raw.decode("latin-1"), True


# ── settings ─────────────────────────────────────────────────────────────────────────────────

def _setting(cfg: Mapping, key: str, default: Any = None) -> Any:
    value = cfg.get(key)
    return default if value is None else value


def _kind(cfg: Mapping) -> str:
    kind = _setting(cfg, "kind")
    if kind not in KINDS:
        raise DataError(f"dataset.kind is {kind!r}; set it to one of: {', '.join(KINDS)}")
    return str(kind)


def _classes(cfg: Mapping) -> list[str] | None:
    """``dataset.classes`` as a sorted list, or None for all classes."""
    value = _setting(cfg, "classes")
    if isinstance(value, str):  # a command-line override of a single class
        value = [value]
    names = sorted({str(name) for name in value or ()})
    return names or None


def _table_roles(cfg: Mapping) -> list[tuple[str, str]]:
    """(source_split, setting name) for each table file that is set, train first."""
    if not _setting(cfg, "train_path"):
        raise DataError("dataset.train_path is not set: kind 'table' needs a training file "
                        "(CSV, TSV, JSON lines or Parquet); set dataset.train_path=<file>")
    return [(split, key) for split, key in _TABLE_SPLITS if _setting(cfg, key)]


def _require_file(path: Path, setting: str) -> None:
    if not path.is_file():
        raise DataError(f"{setting}: no file at {path} (looked for {path.absolute()}; relative "
                        f"paths start at the working directory); set {setting} to an existing "
                        "file")


# ── public API ───────────────────────────────────────────────────────────────────────────────

def dataset_files(cfg: Mapping, data_dir: Path, mirror: Path | str | None) -> list[Path]:
    """Locate the raw inputs of a dataset config, downloading archives into ``data_dir``.

    Cheap when the files are present. Table files come back in the order train, validation,
    test (those that are set), which is what ``read_documents`` expects.
    """
    kind = _kind(cfg)
    if kind == "table":
        paths = []
        for _, key in _table_roles(cfg):
            path = Path(str(_setting(cfg, key))).expanduser()
            _require_file(path, f"dataset.{key}")
            paths.append(path)
        return paths
    url = _setting(cfg, "url")
    if not url:
        raise DataError(f"dataset.url is not set for kind {kind!r}; set it to the archive's URL")
    filename = str(_setting(cfg, "filename", str(url).rstrip("/").rsplit("/", 1)[-1]))
    checksum = _setting(cfg, "sha256")  # upstream's; null when none is known
    return [fetch(str(url), filename, Path(data_dir), mirror, str(checksum) if checksum else None)]


def fingerprint(paths: Sequence[Path], cfg: Mapping) -> str:
    """sha256 over each file's name and bytes plus the settings that change what is read."""
    digest = hashlib.sha256()
    digest.update(json.dumps(_reader_settings(cfg), sort_keys=True).encode())
    for path in map(Path, paths):
        # Name and size delimit each file, so (a, bc) and (ab, c) hash differently.
        digest.update(f"\0{path.name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _reader_settings(cfg: Mapping) -> dict[str, Any]:
    kind = _kind(cfg)
    settings: dict[str, Any] = {"reader_version": READER_VERSION, "kind": kind}
    if kind == "bbc":
        settings["classes"] = _classes(cfg)
    elif kind == "table":
        settings.update(
            splits=[split for split, _ in _table_roles(cfg)],
            text_column=str(_setting(cfg, "text_column", "text")),
            label_column=str(_setting(cfg, "label_column", "label")),
            id_column=_setting(cfg, "id_column") and str(_setting(cfg, "id_column")),
            format=_setting(cfg, "format") and str(_setting(cfg, "format")),
        )
    return settings


def read_documents(cfg: Mapping, paths: Sequence[Path]) -> tuple[pd.DataFrame, ReadStats]:
    """Read the files from ``dataset_files`` into the Documents DataFrame (see module doc)."""
    kind = _kind(cfg)
    paths = [Path(p) for p in paths]
    stats = ReadStats()
    if kind == "table":
        rows = _read_table(cfg, paths, stats)
    else:
        if len(paths) != 1:
            raise DataError(f"kind {kind!r} reads one archive, got {len(paths)} paths: {paths}")
        _require_file(paths[0], "dataset.filename")
        reader = _read_bbc if kind == "bbc" else _read_imdb
        rows = reader(cfg, paths[0], stats)
    return _to_frame(rows), stats


# ── archives ─────────────────────────────────────────────────────────────────────────────────

Row = tuple[str, str, str, str]  # id, text, label, source_split


def _corrupt(path: Path, err: BaseException) -> DataError:
    return DataError(
        f"{path} is damaged or truncated ({type(err).__name__}: {err}). Delete it so it is "
        "downloaded again, or replace the copy in the mirror folder (dataset.mirror / "
        "HAN_DATA_MIRROR) if it came from there."
    )


# What a damaged zip or tar.gz raises somewhere inside zipfile / tarfile / gzip / zlib.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError,
                   NotImplementedError)


def _read_bbc(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
    """BBC zip, read in place: ``bbc/<class>/<NNN>.txt`` ─► id ``<class>/<NNN>``."""
    wanted = _classes(cfg)
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
    _count_fallback(stats, fallback, len(rows), path)
    return rows


def _read_imdb(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
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
    _count_fallback(stats, fallback, len(rows), path)
    return rows


def _count_fallback(stats: ReadStats, count: int, total: int, path: Path) -> None:
    if count:
        note = (f"{count} of {total} documents in {path.name} are not valid UTF-8; decoded them "
                "as cp1252 / Latin-1")
        logger.info(note)
        stats.notes.append(note)
        stats.non_utf8_files += count


# ── tables ───────────────────────────────────────────────────────────────────────────────────

def _table_format(cfg: Mapping, path: Path) -> str:
    """The table format: ``dataset.format`` if set, else from the file extension."""
    chosen = _setting(cfg, "format")
    if chosen is not None:
        fmt = _FORMAT_ALIASES.get(str(chosen).lower())
        if fmt is None:
            raise DataError(f"dataset.format is {chosen!r}; set it to one of "
                            f"{', '.join(_TABLE_FORMATS)} (or null to go by file extension)")
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _OPENERS:
        suffixes.pop()
    fmt = _FORMAT_ALIASES.get(suffixes[-1].lstrip(".")) if suffixes else None
    if fmt is None:
        raise DataError(f"cannot tell the format of {path} from its extension: use .csv, .tsv, "
                        ".jsonl / .json (JSON lines) or .parquet, or set dataset.format to one "
                        f"of {', '.join(_TABLE_FORMATS)}")
    return fmt


def _read_table(cfg: Mapping, paths: list[Path], stats: ReadStats) -> list[Row]:
    roles = _table_roles(cfg)
    if len(paths) != len(roles):
        raise DataError(f"got {len(paths)} table files but {len(roles)} of dataset.train_path / "
                        "validation_path / test_path are set; pass dataset_files()'s list")
    text_col = str(_setting(cfg, "text_column", "text"))
    label_col = str(_setting(cfg, "label_column", "label"))
    id_col = _setting(cfg, "id_column")
    rows: list[Row] = []
    seen: dict[str, Path] = {}  # id → file, to catch ids repeated within or across files
    for (split, key), path in zip(roles, paths, strict=True):
        _require_file(path, f"dataset.{key}")
        fmt = _table_format(cfg, path)
        frame, row_fb = _load_table(path, fmt)
        present = [str(c) for c in frame.columns]
        if frame.empty:
            raise DataError(f"{path} has no data rows (columns: {present}); dataset.{key} must "
                            "point to a file with documents")
        for column, setting in ((text_col, "text_column"), (label_col, "label_column"),
                                (id_col, "id_column")):
            if column is not None and str(column) not in present:
                hint = (" (only one column: is the separator right? set dataset.format)"
                        if len(present) == 1 else "")
                raise DataError(f"{path} has no column {str(column)!r}; its columns are "
                                f"{present}{hint}. Set dataset.{setting} to the right column.")
        frame.columns = present
        texts, text_fb = _cells(frame[text_col])
        labels, label_fb = _cells(frame[label_col])
        labels = [label.strip() for label in labels]
        _no_blanks(labels, path, f"label (column {label_col!r})", "fill in or remove those rows")
        if id_col is None:
            ids, id_fb = [f"{split}-{i}" for i in range(len(frame))], [False] * len(frame)
        else:
            ids, id_fb = _cells(frame[str(id_col)])
            ids = [i.strip() for i in ids]
            _no_blanks(ids, path, f"id (column {id_col!r})", "fill in the ids or set "
                       "dataset.id_column=null to number the rows")
        row_fb = row_fb or [False] * len(frame)
        fallback = sum(any(flags) for flags in zip(text_fb, label_fb, id_fb, row_fb, strict=True))
        _count_fallback(stats, fallback, len(frame), path)
        if id_col is not None:  # generated ids are unique by construction
            _unique_ids(ids, path, id_col, seen)
        rows.extend(zip(ids, texts, labels, [split] * len(frame), strict=True))
    return rows


def _load_table(path: Path, fmt: str) -> tuple[pd.DataFrame, list[bool] | None]:
    """One table file, and for JSON lines which rows needed the decoding fallback.

    Raises DataError naming the file and format when it cannot be parsed.
    """
    try:
        if fmt == "parquet":
            return pd.read_parquet(path), None
        if fmt == "jsonl":
            return _load_jsonl(path)
        # Everything as text: labels 1 stay "1", "NA" stays "NA". UTF-8 (with or without a
        # byte-order mark) keeps non-UTF-8 bytes (surrogateescape) so _cells() can decode them
        # per document; UTF-16 / UTF-32 are read when their byte-order mark says so.
        encoding = _table_encoding(path)
        frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", dtype=object,
                            keep_default_na=False, encoding=encoding,
                            encoding_errors="surrogateescape" if encoding.startswith("utf-8")
                            else "strict")
        return frame, None
    except pd.errors.EmptyDataError as err:
        raise DataError(f"{path} is empty: expected a header row and data ({fmt})") from err
    except DataError:
        raise
    except (ValueError, OSError, UnicodeError, EOFError) as err:  # ParserError, ArrowInvalid, ..
        raise DataError(f"{path} could not be read as {fmt} ({type(err).__name__}: {err}); "
                        "fix the file, or set dataset.format if it is another format") from err


def _table_encoding(path: Path) -> str:
    """utf-8, or what the file's byte-order mark names; UTF-16 without one is named in an error."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rb") as handle:
        head = handle.read(1024)
    encoding = bom_encoding(head)
    if encoding is None and _looks_like_utf16(head):
        raise DataError(f"{path} looks like UTF-16 text without a byte-order mark; save it as "
                        "UTF-8 (or as UTF-16 with its byte-order mark, as spreadsheets do)")
    return encoding or "utf-8"


def _load_jsonl(path: Path) -> tuple[pd.DataFrame, list[bool]]:
    """JSON lines (one object per line); a file holding one JSON array of objects also works."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rb") as handle:
        raw = handle.read()
    encoding = _table_encoding(path)
    if encoding in ("utf-16", "utf-32"):  # lines are split on bytes below: make it UTF-8
        raw = raw.decode(encoding).encode("utf-8")
    records: list[Any] = []
    fallback: list[bool] = []
    if raw.lstrip(_UTF8_BOM + b" \t\r\n").startswith(b"["):
        text, used = decode_text(raw)
        loaded = json.loads(text)
        records = loaded if isinstance(loaded, list) else [loaded]
        fallback = [used] * len(records)
    else:
        # Decoding line by line keeps a few Latin-1 lines from garbling the UTF-8 ones.
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            text, used = decode_text(line)
            try:
                records.append(json.loads(text))
            except json.JSONDecodeError as err:
                raise DataError(f"{path} line {number} is not valid JSON ({err}); fix it or "
                                "set dataset.format if the file is not JSON lines") from err
            fallback.append(used)
    bad = [number for number, record in enumerate(records, 1) if not isinstance(record, dict)]
    if bad:
        raise DataError(f"{path}: record(s) {_few(bad)} are not JSON objects; JSON lines needs "
                        'one {"text": ..., "label": ...} object per line')
    if not records:
        raise DataError(f"{path} is empty: expected JSON objects, one per line")
    return pd.DataFrame.from_records(records).astype(object), fallback


def _cells(column: pd.Series) -> tuple[list[str], list[bool]]:
    """Column values as str (missing → "", 1.0 → "1") and whether each needed the fallback."""
    values: list[str] = []
    fallback: list[bool] = []
    for value in column.tolist():
        used = False
        if pd.api.types.is_scalar(value) and pd.isna(value):  # None, NaN, pd.NA (nullable ints)
            value = ""
        elif isinstance(value, str):
            if _SURROGATE.search(value):
                value, used = decode_text(value.encode("utf-8", "surrogateescape"))
        elif isinstance(value, bytes):
            value, used = decode_text(value)
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))  # integer labels stored as float because of a gap
        elif isinstance(value, numbers.Number) or not isinstance(value, Iterable):
            value = str(value)
        else:
            value = json.dumps(value, ensure_ascii=False, default=str)
        values.append(value)
        fallback.append(used)
    return values, fallback


def _few(items: Sequence[Any], limit: int = 5) -> str:
    """First few items and the count, for error messages."""
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _unique_ids(ids: Sequence[str], path: Path, id_col: Any, seen: dict[str, Path]) -> None:
    repeated = []
    for row, doc_id in enumerate(ids, 1):
        if doc_id in seen:
            where = "" if seen[doc_id] == path else f" (also in {seen[doc_id]})"
            repeated.append(f"{doc_id!r} at row {row}{where}")
        seen.setdefault(doc_id, path)
    if repeated:
        raise DataError(f"{path}: ids in column {id_col!r} must be unique, but {len(repeated)} "
                        f"repeat: {_few(repeated, 3)}; fix the ids or set dataset.id_column=null "
                        "to number the rows")


def _no_blanks(values: Sequence[str], path: Path, what: str, fix: str) -> None:
    blank = [row for row, value in enumerate(values, 1) if not value]
    if blank:
        raise DataError(f"{path}: {len(blank)} row(s) have an empty or missing {what}: data rows "
                        f"{_few(blank)} (row 1 is the first row after any header); {fix}")


# ── output ───────────────────────────────────────────────────────────────────────────────────

def _natural_key(text: str) -> list[Any]:
    """'tech/10' after 'tech/9': digit runs compare as numbers (alternating str, int, ...)."""
    return [int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(text))]


def _to_frame(rows: list[Row]) -> pd.DataFrame:
    rows.sort(key=lambda row: (_SPLIT_RANK.get(row[3], 4), _natural_key(row[0]), row[0]))
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=str) if rows else pd.DataFrame(
        {name: pd.Series([], dtype=str) for name in COLUMNS})
    duplicated = frame["id"][frame["id"].duplicated()].unique().tolist()
    if duplicated:
        raise DataError(f"document ids must be unique, but {_few(duplicated)} repeat; "
                        "delete the archive so it is downloaded again")
    return frame


def read_table(path: Path, fmt: str | None = None) -> pd.DataFrame:
    """One table file as text cells (CSV, TSV, JSON lines, parquet), for `han.predict`."""
    frame, _ = _load_table(Path(path), _table_format({"format": fmt}, Path(path)))
    return frame
