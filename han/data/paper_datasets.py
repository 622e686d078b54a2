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

from han.data.documents import DataError, ReadStats, Row, count_fallback, decode_text, setting
from han.data.download import fetch, resolve_mirror

logger = logging.getLogger(__name__)

TANG_SPLITS = ("train", "validation", "test")
_ZHANG_MEMBER = re.compile(r"^(?:\./)?(?:[^/]+/)?(train|test)\.csv$")
_ZHANG_CLASSES = re.compile(r"^(?:\./)?(?:[^/]+/)?classes\.txt$")
# Zhang et al. write a newline inside a field as the two characters backslash and n.
_ESCAPED_NEWLINE = re.compile(r"(?:\\n)+")


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
    tables: dict[str, bytes] = {}
    names: list[str] = []
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
                else:
                    tables[match.group(1)] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"{path} is damaged or truncated ({type(err).__name__}: {err}); delete "
                        "it so it is downloaded again, or replace the mirror's copy") from err
    if "train" not in tables or "test" not in tables:
        raise DataError(f"{path} holds no <name>/train.csv and <name>/test.csv (found "
                        f"{sorted(tables) or 'neither'}): it is not a Zhang et al. (2015) CSV "
                        "archive or is damaged. Delete it so it is downloaded again.")
    rows: list[Row] = []
    for split in ("train", "test"):
        rows.extend(_zhang_rows(tables[split], split, columns, names, path, stats))
    check_sizes(cfg, rows, path)
    return rows


def _zhang_rows(raw: bytes, split: str, columns: list[str], names: list[str], path: Path,
                stats: ReadStats) -> list[Row]:
    text, used = decode_text(raw)
    if used:
        count_fallback(stats, 1, 1, path)
    rows: list[Row] = []
    member = f"{path.name}:{split}.csv"
    for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
        if not record:
            continue
        if len(record) != 1 + len(columns) or not record[0].strip().isdigit():
            raise DataError(
                f"{member} row {number} has {len(record)} fields ({record[:1]}...); expected a "
                f"class index and {len(columns)} text field(s) {columns} (dataset.columns)")
        index = int(record[0])
        if names and not 1 <= index <= len(names):
            raise DataError(f"{member} row {number}: class index {index} is outside 1..{len(names)}"
                            f" of classes.txt")
        label = names[index - 1] if names else str(index)
        paragraphs = [_ESCAPED_NEWLINE.sub("\n\n", field).strip() for field in record[1:]]
        rows.append((f"{split}-{number}", "\n\n".join(p for p in paragraphs if p), label, split,
                     ""))
    return rows


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
