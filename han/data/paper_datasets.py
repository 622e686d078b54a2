"""Readers for the datasets of Yang et al. (2016), Table 1, in their upstream formats.

``tang``: Tang, Qin & Liu (2015)'s document-level sentiment files (Yelp 2013 / 2014 / 2015,
IMDB with 10 ratings): three files, train / dev / test, one document a line,
``user \\t\\t product \\t\\t rating \\t\\t text``, the text already tokenised and lower-cased
with sentences joined by ``<sssss>``. The text is kept as written; the tokenizer setting
``dataset.tokenizer.pretokenized: sss`` then takes its sentences and words as they are.

``zhang``: Zhang, Zhao & LeCun (2015)'s CSV archives (AG News, DBpedia, Yelp review
full / polarity, Yahoo Answers, Amazon review full / polarity): ``<name>/train.csv`` and
``<name>/test.csv`` in one tar.gz, header-less, a 1-based class index then one or more text
fields (``dataset.columns`` names them), quoted with ``"``, newlines written as ``\\n``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import tarfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from han.data.documents import DataError, ReadStats, Row, count_fallback, decode_text, setting
from han.data.download import fetch, resolve_mirror

logger = logging.getLogger(__name__)

TANG_SPLITS = ("train", "validation", "test")
_ZHANG_MEMBER = re.compile(r"^(?:\./)?(?:[^/]+/)?(train|test)\.csv$")
_ZHANG_CLASSES = re.compile(r"^(?:\./)?(?:[^/]+/)?classes\.txt$")
# Zhang et al. write a newline inside a field as the two characters backslash and n.
_ESCAPED_NEWLINE = re.compile(r"(?:\\n)+")
_SURROGATE = re.compile("[\udc80-\udcff]")
# Some answers and reviews are longer than csv's default field limit of 131,072 characters.
csv.field_size_limit(1 << 30)


# ── files ────────────────────────────────────────────────────────────────────────────────────

def tang_files(cfg: Mapping, data_dir: Path, mirror: Path | str | None) -> list[Path]:
    """The train, dev and test files (``dataset.files``), from the mirror, the cache or
    ``dataset.url`` + file name; Tang's data ships as a 7z archive, so url may be null."""
    files = setting(cfg, "files") or {}
    missing = [split for split in TANG_SPLITS if not files.get(split)]
    if missing:
        raise DataError(f"dataset.files lacks {', '.join(missing)}; kind 'tang' needs the file "
                        "names of train, validation and test, e.g. dataset.files.train=<name>")
    base = setting(cfg, "url")
    mirror = resolve_mirror(mirror)
    paths = []
    for split in TANG_SPLITS:
        name = str(files[split])
        local = [Path(data_dir) / name] if mirror is None else [mirror / name, Path(data_dir) / name]
        found = next((p for p in local if p.is_file()), None)
        if found is None and not base:
            raise DataError(
                f"{name} (dataset.files.{split}) is neither in the mirror folder ({mirror}) nor "
                f"in {data_dir}, and dataset.url is null. Download Tang et al.'s archive (see "
                f"the dataset config), extract {name} into one of those folders, or set "
                "dataset.url to a folder URL that serves it.")
        paths.append(found or fetch(f"{str(base).rstrip('/')}/{name}", name, Path(data_dir),
                                    mirror))
    return paths


# ── readers ──────────────────────────────────────────────────────────────────────────────────

def read_tang(cfg: Mapping, paths: Sequence[Path], stats: ReadStats) -> list[Row]:
    """Three Tang et al. files ─► rows; label = the rating, id ``<split>-<line>``.

    Upstream separates fields with two tabs; one tab is accepted as well. Text is kept as
    written (sentences split by ``<sssss>``). Group: the user, so a split carved from train
    (``dataset.max_train_docs`` keeps the official ones) could keep each user whole.
    """
    if len(paths) != len(TANG_SPLITS):
        raise DataError(f"kind 'tang' reads 3 files (train, validation, test), got {len(paths)}")
    rows: list[Row] = []
    for split, path in zip(TANG_SPLITS, paths, strict=True):
        fallback = 0
        count = 0
        with Path(path).open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                line, used = decode_text(raw.rstrip(b"\r\n"))
                if not line.strip():
                    continue
                fields = re.split(r"\t\t?", line, maxsplit=3)
                if len(fields) != 4 or not fields[2].strip().isdigit():
                    raise DataError(
                        f"{path} line {number} is not 'user<TAB><TAB>product<TAB><TAB>rating"
                        f"<TAB><TAB>text' with an integer rating (got {line[:80]!r}); is "
                        f"dataset.files.{split} a Tang et al. (2015) .ss file?")
                user, _, rating, text = fields
                fallback += used
                count += 1
                rows.append((f"{split}-{number}", text.strip(), str(int(rating)), split,
                             user.strip()))
        count_fallback(stats, fallback, count, Path(path))
    check_sizes(cfg, rows, paths[0])
    return rows


def read_zhang(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
    """A Zhang et al. CSV tar.gz ─► rows; id ``<split>-<row>``.

    Text: the fields after the class index, in the order ``dataset.columns`` lists them, each a
    paragraph (a blank line between them), with every ``\\n`` escape a paragraph break too.
    Label: the class name from ``classes.txt`` (line i names class i) when the archive has one,
    else the class index ("1" to "5" stars for Yelp and Amazon, which ship no names).
    """
    columns = [str(c) for c in setting(cfg, "columns") or ()]
    if not columns:
        raise DataError("dataset.columns is not set: name the text fields after the class "
                        "index, e.g. dataset.columns=[title,description]")
    parsed: dict[str, list[tuple[int, str]]] = {}  # split → (class index, text) per row
    names: list[str] = []
    fallback = [0]
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                match = _ZHANG_MEMBER.match(member.name)
                is_classes = _ZHANG_CLASSES.match(member.name)
                if not member.isfile() or (match is None and is_classes is None):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if is_classes:
                    names = [n.strip() for n in decode_text(handle.read())[0].splitlines()
                             if n.strip()]
                else:  # streamed: Amazon's train.csv alone is ~1.5 GB
                    split = match.group(1)
                    parsed[split] = _zhang_records(handle, f"{path.name}:{split}.csv", columns,
                                                   fallback)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"{path} is damaged or truncated ({type(err).__name__}: {err}); delete "
                        "it so it is downloaded again, or replace the mirror's copy") from err
    if "train" not in parsed or "test" not in parsed:
        raise DataError(f"{path} holds no <name>/train.csv and <name>/test.csv (found "
                        f"{sorted(parsed) or 'neither'}): it is not a Zhang et al. (2015) CSV "
                        "archive or is damaged. Delete it so it is downloaded again.")
    rows: list[Row] = []
    for split in ("train", "test"):
        for number, (index, text) in enumerate(parsed[split], 1):
            if names and not 1 <= index <= len(names):
                raise DataError(f"{path.name}:{split}.csv row {number}: class index {index} is "
                                f"outside 1..{len(names)} of classes.txt")
            label = names[index - 1] if names else str(index)
            rows.append((f"{split}-{number}", text, label, split, ""))
    count_fallback(stats, fallback[0], len(rows), path)
    check_sizes(cfg, rows, path)
    return rows


class _Forward(io.RawIOBase):
    """A tar member of a streamed archive, read front to back: its own ``seekable()`` raises,
    which io.TextIOWrapper calls."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _zhang_records(handle: IO[bytes], member: str, columns: list[str],
                   fallback: list[int]) -> list[tuple[int, str]]:
    """(class index, text) of every row of one CSV, read as a stream.

    Bytes that are not UTF-8 survive as surrogates and are decoded per field with the
    cp1252 / Latin-1 fallback (counted in ``fallback[0]``), as for the user's own tables.
    """
    stream = io.TextIOWrapper(io.BufferedReader(_Forward(handle)), encoding="utf-8",
                              errors="surrogateescape", newline="")
    records: list[tuple[int, str]] = []
    try:
        for number, record in enumerate(csv.reader(stream), 1):
            if not record:
                continue
            if len(record) != 1 + len(columns) or not record[0].strip().isdigit():
                raise DataError(
                    f"{member} row {number} has {len(record)} fields ({record[:1]}...); expected a "
                    f"class index and {len(columns)} text field(s) {columns} (dataset.columns)")
            fields = []
            for field in record[1:]:
                if _SURROGATE.search(field):
                    field, _ = decode_text(field.encode("utf-8", "surrogateescape"))
                    fallback[0] += 1
                fields.append(_ESCAPED_NEWLINE.sub("\n\n", field).strip())
            records.append((int(record[0]), "\n\n".join(f for f in fields if f)))
    except csv.Error as err:
        raise DataError(f"{member} is not valid CSV ({err}); replace the archive") from err
    return records


def check_sizes(cfg: Mapping, rows: list[Row], path: Path) -> None:
    """Compare with ``dataset.expected_sizes`` (the published split sizes; ``total`` checks the
    sum); null skips the check, e.g. for a sample of the data."""
    expected = setting(cfg, "expected_sizes") or {}
    got = Counter(row[3] for row in rows)
    got["total"] = len(rows)
    wrong = {key: (int(value), got[key]) for key, value in expected.items()
             if value is not None and got[key] != int(value)}
    if wrong:
        detail = ", ".join(f"{key} {have} (expected {want})" for key, (want, have) in wrong.items())
        raise DataError(f"{path.name} and its companions give {detail} documents, not the "
                        "published sizes in dataset.expected_sizes: the files differ from the "
                        "upstream release. Replace them, or set dataset.expected_sizes=null to "
                        "use them anyway.")
