"""The user's own tables (``dataset.kind: table``): CSV, TSV, JSON lines or Parquet files.

One file per split (``dataset.train_path``, optional ``validation_path`` / ``test_path``), the
columns named by ``text_column``, ``label_column``, ``id_column`` and ``group_column``; cells are
read as text, and bytes that are not UTF-8 are decoded per document (``decode_text``).
``han.data.sources`` dispatches here; ``read_table`` also serves ``han.predict``'s inputs.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from han.data.documents import (
    UTF8_BOM,
    DataError,
    ReadStats,
    Row,
    bom_encoding,
    count_fallback,
    decode_text,
    few,
    looks_like_utf16,
    require_file,
    setting,
)

__all__ = ["read_rows", "read_table", "table_roles"]

_TABLE_SPLITS = (("train", "train_path"), ("validation", "validation_path"), ("test", "test_path"))
_TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
_FORMAT_ALIASES = {"csv": "csv", "tsv": "tsv", "tab": "tsv", "jsonl": "jsonl", "json": "jsonl",
                   "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet"}
_OPENERS: dict[str, Callable[..., IO[bytes]]] = {".gz": gzip.open, ".bz2": bz2.open,
                                                 ".xz": lzma.open}
_SURROGATE = re.compile("[\udc80-\udcff]")


def table_roles(cfg: Mapping) -> list[tuple[str, str]]:
    """(source_split, setting name) for each table file that is set, train first."""
    if not setting(cfg, "train_path"):
        raise DataError("dataset.train_path is not set: kind 'table' needs a training file "
                        "(CSV, TSV, JSON lines or Parquet); set dataset.train_path=<file>")
    return [(split, key) for split, key in _TABLE_SPLITS if setting(cfg, key)]


def _table_format(cfg: Mapping, path: Path) -> str:
    """The table format: ``dataset.format`` if set, else from the file extension."""
    chosen = setting(cfg, "format")
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


def read_rows(cfg: Mapping, paths: list[Path], stats: ReadStats) -> list[Row]:
    """The rows of the table files `dataset_files` listed, in the order train, validation, test."""
    roles = table_roles(cfg)
    if len(paths) != len(roles):
        raise DataError(f"got {len(paths)} table files but {len(roles)} of dataset.train_path / "
                        "validation_path / test_path are set; pass dataset_files()'s list")
    text_col = str(setting(cfg, "text_column"))
    label_col = str(setting(cfg, "label_column"))
    id_col = setting(cfg, "id_column")
    group_col = setting(cfg, "group_column")
    rows: list[Row] = []
    seen: dict[str, Path] = {}  # id → file, to catch ids repeated within or across files
    for (split, key), path in zip(roles, paths, strict=True):
        require_file(path, f"dataset.{key}")
        fmt = _table_format(cfg, path)
        frame, row_fb = _load_table(path, fmt, separator(cfg, fmt))
        present = [str(c) for c in frame.columns]
        if frame.empty:
            raise DataError(f"{path} has no data rows (columns: {present}); dataset.{key} must "
                            "point to a file with documents")
        for column, name in ((text_col, "text_column"), (label_col, "label_column"),
                             (id_col, "id_column"), (group_col, "group_column")):
            if column is not None and str(column) not in present:
                hint = (" (only one column: is the separator right? set dataset.separator, "
                        "e.g. dataset.separator=semicolon, or dataset.format)"
                        if len(present) == 1 else "")
                raise DataError(f"{path} has no column {str(column)!r}; its columns are "
                                f"{present}{hint}. Set dataset.{name} to the right column.")
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
        if group_col is None:
            groups, group_fb = [""] * len(frame), [False] * len(frame)
        else:
            groups, group_fb = _cells(frame[str(group_col)])
            groups = [g.strip() for g in groups]
            # A blank group would make a document its own group and could put it in another
            # split than the documents it belongs with: refuse rather than guess.
            _no_blanks(groups, path, f"group (column {group_col!r})", "fill in the groups, "
                       "remove those rows, or set dataset.group_column=null")
        row_fb = row_fb or [False] * len(frame)
        fallback = sum(any(flags) for flags in zip(text_fb, label_fb, id_fb, group_fb, row_fb,
                                                   strict=True))
        count_fallback(stats, fallback, len(frame), path)
        if id_col is not None:  # generated ids are unique by construction
            _unique_ids(ids, path, id_col, seen)
        rows.extend(zip(ids, texts, labels, [split] * len(frame), groups, strict=True))
    return rows


# dataset.separator by name (a `;` on Hydra's command line would need quoting)
SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "space": " "}


def separator(cfg: Mapping, fmt: str) -> str:
    """The column separator of a delimited file: `dataset.separator` (a name of `SEPARATORS`
    or one character), else a tab for .tsv and a comma for .csv."""
    chosen = setting(cfg, "separator")
    if chosen is None:
        return "\t" if fmt == "tsv" else ","
    chosen = SEPARATORS.get(str(chosen), str(chosen))
    if len(chosen) != 1:
        raise DataError(f"dataset.separator is {setting(cfg, 'separator')!r}; set it to one "
                        f"character or one of {', '.join(SEPARATORS)}")
    return chosen


def _load_table(path: Path, fmt: str, sep: str | None = None) -> tuple[pd.DataFrame, list[bool] | None]:
    """One table file, and for JSON lines which rows needed the decoding fallback.

    Raises DataError naming the file and format when it cannot be parsed.
    """
    try:
        if fmt == "parquet":
            from han.extras import require_parquet

            require_parquet()  # an extra: the error names it
            return pd.read_parquet(path), None
        if fmt == "jsonl":
            return _load_jsonl(path)
        # Everything as text: labels 1 stay "1", "NA" stays "NA". UTF-8 (with or without a
        # byte-order mark) keeps non-UTF-8 bytes (surrogateescape) so _cells() can decode them
        # per document; UTF-16 / UTF-32 are read when their byte-order mark says so.
        encoding = _table_encoding(path)
        frame = pd.read_csv(path, sep=sep or ("\t" if fmt == "tsv" else ","), dtype=object,
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
                        "fix the file, or set dataset.separator (e.g. dataset.separator="
                        "semicolon) or dataset.format if it is another format") from err


def _table_encoding(path: Path) -> str:
    """utf-8, or what the file's byte-order mark names; UTF-16 without one is named in an error."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rb") as handle:
        head = handle.read(1024)
    encoding = bom_encoding(head)
    if encoding is None and looks_like_utf16(head):
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
    if raw.lstrip(UTF8_BOM + b" \t\r\n").startswith(b"["):
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
        raise DataError(f"{path}: record(s) {few(bad)} are not JSON objects; JSON lines needs "
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


def _unique_ids(ids: Sequence[str], path: Path, id_col: Any, seen: dict[str, Path]) -> None:
    repeated = []
    for row, doc_id in enumerate(ids, 1):
        if doc_id in seen:
            where = "" if seen[doc_id] == path else f" (also in {seen[doc_id]})"
            repeated.append(f"{doc_id!r} at row {row}{where}")
        seen.setdefault(doc_id, path)
    if repeated:
        raise DataError(f"{path}: ids in column {id_col!r} must be unique, but {len(repeated)} "
                        f"repeat: {few(repeated, 3)}; fix the ids or set dataset.id_column=null "
                        "to number the rows")


def _no_blanks(values: Sequence[str], path: Path, what: str, fix: str) -> None:
    blank = [row for row, value in enumerate(values, 1) if not value]
    if blank:
        raise DataError(f"{path}: {len(blank)} row(s) have an empty or missing {what}: data rows "
                        f"{few(blank)} (row 1 is the first row after any header); {fix}")


def read_table(path: Path, fmt: str | None = None) -> pd.DataFrame:
    """One table file as text cells (CSV, TSV, JSON lines, parquet), for `han.predict`."""
    frame, _ = _load_table(Path(path), _table_format({"format": fmt}, Path(path)))
    return frame
