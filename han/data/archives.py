"""Archive readers: BBC News (zip), IMDB (aclImdb tar.gz), Reuters-21578 (tar.gz of SGML).

Each reads one downloaded (or mirrored) archive in its upstream layout into Documents rows;
`han.data.sources.read_documents` picks the reader from ``dataset.kind``.
"""

from __future__ import annotations

import html
import logging
import re
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from han.data.documents import (
    DataError,
    ReadStats,
    Row,
    classes,
    count_fallback,
    decode_text,
    setting,
)

logger = logging.getLogger(__name__)

_IMDB_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/([^/]+)\.txt$")
_IMDB_URLS = re.compile(r"^(?:\./)?aclImdb/(train|test)/urls_(pos|neg)\.txt$")
_IMDB_FILM = re.compile(r"\btt\d+\b")
# IMDB reviews mark line breaks with HTML <br /> tags: whitespace, not words.
_BR_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)

# Reuters-21578: reut2-000.sgm ... reut2-021.sgm at the archive root, <REUTERS ...> records.
_REUTERS_MEMBER = re.compile(r"^(?:\./)?reut2-\d{3}\.sgm$")
_RECORD = re.compile(rb"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL)
_ATTRIBUTE = re.compile(r'([A-Z]+)="([^"]*)"')
_TOPICS = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.DOTALL)
_TOPIC = re.compile(r"<D>(.*?)</D>", re.DOTALL)
_TEXT = re.compile(r"<TEXT\b([^>]*)>(.*?)</TEXT>", re.DOTALL)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.DOTALL)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.DOTALL)
_ANY_TAG = re.compile(r"</?[A-Z]+\b[^>]*>")
REUTERS_SUBSETS = ("r8", "r52")
# R8 (Cachopo 2007): the classes of R10 (ModApte's 10 most frequent topics) left with
# single-label documents; wheat and corn drop out, their stories are also tagged grain.
R8_CLASSES = ("acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade")
_MODAPTE = {"TRAIN": "train", "TEST": "test"}


def _corrupt(path: Path, err: BaseException) -> DataError:
    return DataError(
        f"{path} is damaged or truncated ({type(err).__name__}: {err}). Delete it so it is "
        "downloaded again, or replace the copy in the mirror folder (setting paths.mirror / "
        "env HAN_DATA_MIRROR) if it came from there."
    )


def _not_the_archive(path: Path, expected: str, name: str) -> DataError:
    return DataError(f"{path} holds no {expected}: it is not the {name} archive or is damaged. "
                     "Delete it so it is downloaded again.")


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
                raise _not_the_archive(path, "bbc/<class>/<NNN>.txt articles", "BBC")
            unknown = sorted(set(wanted or ()) - set(available))
            if unknown:
                raise DataError(f"dataset.classes names {unknown}, not in {path.name}; the "
                                f"available classes are {available}. Fix dataset.classes "
                                "(null or [] means all).")
            for cls, stem, info in members:
                if wanted is None or cls in wanted:
                    text, used_fallback = decode_text(archive.read(info))
                    fallback += used_fallback
                    rows.append((f"{cls}/{stem}", text, cls, "", ""))
    except DataError:
        raise
    except _ARCHIVE_ERRORS as err:
        raise _corrupt(path, err) from err
    count_fallback(stats, fallback, len(rows), path)
    return rows


def read_imdb(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
    """aclImdb tar.gz, streamed: ``aclImdb/<split>/<pos|neg>/<id>_<rating>.txt`` reviews.

    Group: the review's film, from ``aclImdb/<split>/urls_<pos|neg>.txt`` (line i is the film
    of review id i).
    """
    reviews: list[tuple[str, str, str, str]] = []  # split, label, stem, text
    films: dict[tuple[str, str], list[str]] = {}  # (split, label) → film id of review id i
    fallback = 0
    try:
        # Stream mode reads the archive once, front to back: no member index is built.
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                match = _IMDB_MEMBER.match(member.name)
                urls = _IMDB_URLS.match(member.name)
                if (match is None and urls is None) or not member.isfile():
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if urls is not None:
                    films[(urls.group(1), urls.group(2))] = imdb_film_ids(handle.read())
                    continue
                text, used_fallback = decode_text(handle.read())
                fallback += used_fallback
                split, label, stem = match.groups()
                reviews.append((split, label, stem, _BR_TAG.sub(" ", text)))
    except _ARCHIVE_ERRORS as err:
        raise _corrupt(path, err) from err
    if not reviews:
        raise _not_the_archive(path, "aclImdb/{train,test}/{pos,neg}/*.txt reviews", "IMDB")
    rows: list[Row] = []
    no_film = 0
    for split, label, stem, text in reviews:
        number = stem.split("_", 1)[0]
        listed = films.get((split, label), [])
        film = listed[int(number)] if number.isdigit() and int(number) < len(listed) else ""
        no_film += not film
        rows.append((f"{split}/{label}/{stem}", text, label, split, film))
    if no_film:
        # Without its film a review is a group of its own: validation may then share its film.
        note = (f"{no_film} of {len(rows)} reviews in {path.name} have no film in "
                "aclImdb/<split>/urls_<pos|neg>.txt; each is a group of its own")
        logger.warning(note)
        stats.notes.append(note)
    present = {(split, label) for _, _, label, split, _ in rows}
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            if (split, label) not in present:
                note = f"{path.name} has no aclImdb/{split}/{label}/ reviews"
                logger.warning(note)
                stats.notes.append(note)
    count_fallback(stats, fallback, len(rows), path)
    return rows


def imdb_film_ids(raw: bytes) -> list[str]:
    """Lines of an aclImdb ``urls_*.txt`` ─► film ids, the whole URL when it has none.

    ``http://www.imdb.com/title/tt0406816/usercomments`` ─► ``tt0406816``.
    """
    films = []
    for line in raw.decode("utf-8", "replace").splitlines():
        match = _IMDB_FILM.search(line)
        films.append(match.group(0) if match else line.strip())
    return films



def reuters_subset(cfg: Mapping) -> str:
    """``dataset.subset`` (r8 or r52), checked."""
    subset = str(setting(cfg, "subset")).lower()
    if subset not in REUTERS_SUBSETS:
        raise DataError(f"dataset.subset is {subset!r}; set it to one of "
                        f"{', '.join(REUTERS_SUBSETS)} (Reuters-21578 ModApte R8 or R52)")
    return subset


def read_reuters(cfg: Mapping, path: Path, stats: ReadStats) -> list[Row]:
    """Reuters-21578 tar.gz, streamed, into the ModApte R8 or R52 single-label documents.

    ModApte: ``LEWISSPLIT="TRAIN"``/``"TEST"`` and ``TOPICS="YES"``; single-label: exactly one
    ``<D>`` in ``<TOPICS>`` (a repeated topic counts twice, as in the standard counts). R8 keeps
    8 classes, R52 every class with a training and a test document. Id: ``NEWID``; text: title,
    blank line, body (the title alone when there is no body; the whole ``<TEXT>`` of the
    ``TYPE="UNPROC"`` records, which have neither).
    """
    subset = reuters_subset(cfg)
    candidates: list[tuple[Row, bool]] = []  # single-label ModApte rows, decoding fallback
    files = 0
    records = 0
    no_text: list[str] = []
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                if not member.isfile() or not _REUTERS_MEMBER.match(member.name):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                files += 1
                for match in _RECORD.finditer(handle.read()):
                    records += 1
                    row, used_fallback = _reuters_record(match.group(1), match.group(2))
                    if row is None:
                        continue
                    if not row[1]:
                        no_text.append(row[0])
                        continue
                    candidates.append((row, used_fallback))
    except _ARCHIVE_ERRORS as err:
        raise _corrupt(path, err) from err
    if not records:
        raise _not_the_archive(path, "reut2-NNN.sgm files with <REUTERS> records", "Reuters-21578")
    if no_text:
        note = (f"skipped {len(no_text)} ModApte record(s) of {path.name} with neither title nor "
                f"body, NEWID {', '.join(no_text[:5])}")
        logger.warning(note)
        stats.notes.append(note)
    rows, fallback = _reuters_subset_rows(candidates, subset)
    logger.info("read %d records from %d files of %s: %d single-label ModApte documents, "
                "%d in %s", records, files, path.name, len(candidates), len(rows), subset.upper())
    _check_reuters_sizes(cfg, subset, rows, path)
    count_fallback(stats, fallback, len(rows), path)
    return rows


def _reuters_record(attributes: bytes, content: bytes) -> tuple[Row | None, bool]:
    """One ``<REUTERS>`` record as a row (label: its topic), None unless ModApte single-label.

    Records are decoded one at a time, so one stray byte (reut2-017.sgm has 0xFC) needs the
    fallback for its own record only.
    """
    text, used_fallback = decode_text(content)
    attrs = dict(_ATTRIBUTE.findall(attributes.decode("ascii", "replace")))
    split = _MODAPTE.get(attrs.get("LEWISSPLIT", ""))
    topics_match = _TOPICS.search(text)
    topics = _TOPIC.findall(topics_match.group(1)) if topics_match else []
    if split is None or attrs.get("TOPICS") != "YES" or len(topics) != 1:
        return None, False
    return (attrs["NEWID"], _reuters_text(text), topics[0].strip(), split, ""), used_fallback


def _reuters_text(record: str) -> str:
    """Title, blank line, body; entities unescaped (control-character references vanish)."""
    text = _TEXT.search(record)
    if text is None:
        return ""
    parts = [_clean(m.group(1)) for m in (_TITLE.search(text.group(2)),
                                          _BODY.search(text.group(2))) if m is not None]
    if not any(parts) and "UNPROC" in text.group(1):
        # Unprocessed records (tables such as the Fed's weekly reports) have no TITLE / BODY.
        parts = [_clean(_ANY_TAG.sub(" ", text.group(2)))]
    return "\n\n".join(part for part in parts if part)


def _clean(text: str) -> str:
    """Entities unescaped, outer whitespace stripped."""
    return html.unescape(text).strip()


def _reuters_subset_rows(candidates: list[tuple[Row, bool]], subset: str) -> tuple[list[Row], int]:
    """The rows of R8 or R52, and how many of them needed the decoding fallback."""
    if subset == "r8":
        keep = set(R8_CLASSES)
    else:  # R52: classes with at least one training and one test document
        per_split = Counter((row[3], row[2]) for row, _ in candidates)
        keep = {label for split, label in per_split if split == "train"
                and per_split[("test", label)] > 0}
    chosen = [(row, fallback) for row, fallback in candidates if row[2] in keep]
    return [row for row, _ in chosen], sum(fallback for _, fallback in chosen)


def _check_reuters_sizes(cfg: Mapping, subset: str, rows: list[Row], path: Path) -> None:
    """Compare with ``dataset.expected_sizes[subset]``, the published split sizes."""
    expected = (setting(cfg, "expected_sizes") or {}).get(subset)
    if not expected:
        return
    got = Counter(row[3] for row in rows)
    wanted = {split: int(expected[split]) for split in ("train", "test") if split in expected}
    if any(got[split] != count for split, count in wanted.items()):
        raise DataError(
            f"{path} gives {subset.upper()} {got['train']} train / {got['test']} test "
            f"documents; Reuters-21578 ModApte has {wanted.get('train')} / {wanted.get('test')} "
            f"(dataset.expected_sizes.{subset}). The archive differs from Distribution 1.0: "
            "delete it so it is downloaded again, or set dataset.expected_sizes=null to use it "
            "anyway.")
