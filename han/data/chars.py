"""The character view of a document (Zhang et al. 2015, section 2.2), built once and cached.

A document is its lower-cased raw text, cut at the model's frame (l0 = 1014 characters; the
rest is ignored, as in the paper), each character an id: 0 = padding only, 1 = a character
outside the alphabet or a blank (the paper quantises both as all-zero vectors), 2.. = the
alphabet. Nothing goes silently: the characters outside the alphabet are counted, the most
frequent named, and logged with the blanks and the documents cut at the frame.

The cache is keyed like the tokenised corpus (the raw files' fingerprint) plus the frame and
the alphabet, and written atomically; a damaged file is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from han.data import ragged, sources
from han.data.documents import DataError
from han.data.encode import EncodedDocs
from han.io import atomic_open, remove_stale_tmp

log = logging.getLogger(__name__)

# The paper's 70 characters: 26 letters, 10 digits, 33 others and the new line. Its list names
# '-' twice, so 69 are distinct (as in its reference code): one-hot vectors are 69 wide.
_LISTED = "abcdefghijklmnopqrstuvwxyz0123456789" + "-,;.!?:'\"/\\|_@#$%^&*~`+-=<>()[]{}" + "\n"
ALPHABET = "".join(dict.fromkeys(_LISTED))
ALPHABET_SIZE = len(ALPHABET)
PAD, OUTSIDE = 0, 1  # ids 0 and 1; the alphabet's characters are 2 .. ALPHABET_SIZE + 1
BLANKS = np.array([ord(c) for c in " \t\r\x0b\x0c\xa0"], dtype=np.uint32)
CHARS_VERSION = 1
_LOOKUP = np.full(128, OUTSIDE, dtype=np.uint8)
_LOOKUP[[ord(c) for c in ALPHABET]] = np.arange(2, ALPHABET_SIZE + 2, dtype=np.uint8)
TOP_OUTSIDE = 10  # the most frequent characters outside the alphabet, named in the log


@dataclass
class CharView:
    """Every document's first `max_chars` characters as ids, by document id."""

    ids: np.ndarray  # (D,) document ids (str)
    codes: np.ndarray  # (Σ lengths,) uint8 character ids
    lengths: np.ndarray  # (D,) characters read per document (≤ max_chars)
    max_chars: int
    counts: dict  # what the view did not read as alphabet characters (see encode_texts)

    def check(self) -> None:
        """ValueError unless the arrays fit together (a cache file is checked on read)."""
        if len(self.ids) != len(self.lengths) or int(self.lengths.sum()) != len(self.codes):
            raise ValueError("character lengths do not add up")
        if len(self.lengths) and int(self.lengths.max()) > self.max_chars:
            raise ValueError("a document is longer than the frame")
        if len(self.codes) and int(self.codes.max()) > ALPHABET_SIZE + 1:
            raise ValueError("character ids outside the alphabet's range")

    def docs(self, encoded: EncodedDocs) -> EncodedDocs:
        """The character view of the documents of `encoded` (same order, ids and labels): each
        document one row of character ids, the flat models' layout."""
        where = {doc_id: i for i, doc_id in enumerate(self.ids)}
        missing = [str(d) for d in encoded.ids if d not in where]
        if missing:
            raise DataError(f"the character view has no document {missing[0]!r} (and "
                            f"{len(missing) - 1} more): delete its cache file to rebuild it")
        rows = np.array([where[d] for d in encoded.ids], dtype=np.int64)
        tokens, lengths = ragged.take(self.codes, self.lengths, rows)
        real = lengths > 0  # an empty document has no row, as in the word views
        return EncodedDocs(tokens=tokens.astype(np.int32), sentence_lengths=lengths[real],
                           doc_sentences=real.astype(np.int32), labels=encoded.labels,
                           ids=encoded.ids)

    def save(self, path: Path) -> None:
        meta = json.dumps({"ids": self.ids.tolist(), "counts": self.counts,
                           "max_chars": self.max_chars}, ensure_ascii=False).encode()
        with atomic_open(path, "wb") as handle:
            np.savez(handle, codes=self.codes, lengths=self.lengths,
                     meta=np.frombuffer(meta, dtype=np.uint8))

    @classmethod
    def load(cls, path: Path) -> CharView:
        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            view = cls(np.array(meta["ids"], dtype=object), data["codes"], data["lengths"],
                       int(meta["max_chars"]), meta["counts"])
        view.check()
        return view


def encode_texts(texts: Sequence[str], max_chars: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Lower-cased texts cut at `max_chars` -> (codes, lengths, counts), vectorised.

    counts: documents, characters read, characters outside the alphabet (and the most frequent
    of them), blanks, documents cut at the frame and the characters cut.
    """
    full = np.array([len(t) for t in texts], dtype=np.int64)
    cut = [t.lower()[:max_chars] for t in texts]
    lengths = np.array([len(t) for t in cut], dtype=np.int64)
    points = np.frombuffer("".join(cut).encode("utf-32-le"), dtype="<u4")
    codes = np.full(len(points), OUTSIDE, dtype=np.uint8)
    ascii_ = points < 128
    codes[ascii_] = _LOOKUP[points[ascii_]]
    blank = np.isin(points, BLANKS)
    outside = (codes == OUTSIDE) & ~blank
    chars, freq = np.unique(points[outside], return_counts=True)
    top = np.argsort(-freq, kind="stable")[:TOP_OUTSIDE]
    counts = {
        "documents": len(texts),
        "characters": int(lengths.sum()),
        "outside_alphabet": int(outside.sum()),
        "outside_alphabet_top": {chr(int(chars[i])): int(freq[i]) for i in top},
        "blanks": int(blank.sum()),
        "documents_cut": int((full > max_chars).sum()),
        "characters_cut": int(np.maximum(full - max_chars, 0).sum()),
    }
    return codes, lengths, counts


def describe(counts: Mapping, max_chars: int) -> str:
    """One log line of what the character view read and what it did not."""
    top = ", ".join(f"{c!r} {n}" for c, n in counts["outside_alphabet_top"].items())
    return (f"character view: the first {max_chars} characters of {counts['documents']} "
            f"documents, {counts['characters']} characters; {counts['outside_alphabet']} outside "
            f"the {ALPHABET_SIZE}-character alphabet{f' ({top})' if top else ''} and "
            f"{counts['blanks']} blanks read as zero vectors (Zhang et al. 2015); "
            f"{counts['documents_cut']} documents cut at {max_chars} "
            f"({counts['characters_cut']} characters not read)")


def char_view(texts: Sequence[str], ids: Sequence[str], max_chars: int) -> CharView:
    codes, lengths, counts = encode_texts(texts, max_chars)
    return CharView(np.asarray(ids, dtype=object), codes, lengths, int(max_chars), counts)


def cache_key(source_fingerprint: str, max_chars: int) -> str:
    parts = {"source": source_fingerprint, "max_chars": int(max_chars), "alphabet": ALPHABET,
             "version": CHARS_VERSION}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def load_chars(dataset_cfg: Mapping, paths_cfg: Mapping, max_chars: int) -> tuple[CharView, bool]:
    """The character view of a dataset's documents, from the cache when the raw files and the
    frame are unchanged; returns it and whether it came from the cache."""
    files = sources.dataset_files(dataset_cfg, Path(paths_cfg["data_dir"]), paths_cfg.get("mirror"))
    key = cache_key(sources.fingerprint(files, dataset_cfg), max_chars)
    cache_dir = Path(paths_cfg["cache_dir"])
    path = cache_dir / f"{dataset_cfg['name']}-chars-{key}.npz"
    remove_stale_tmp(cache_dir)
    if path.exists():
        try:
            view = CharView.load(path)
            log.info("%s (cached in %s)", describe(view.counts, max_chars), path)
            return view, True
        except Exception as err:  # noqa: BLE001 - any unreadable cache is rebuilt
            log.warning("cache %s is damaged (%s: %s); rebuilding it", path, type(err).__name__,
                        err)
            path.unlink(missing_ok=True)
    documents, _ = sources.read_documents(dataset_cfg, files)
    view = char_view(documents["text"].astype(str).tolist(), documents["id"].astype(str).tolist(),
                     max_chars)
    cache_dir.mkdir(parents=True, exist_ok=True)
    view.save(path)
    log.info("%s (cached in %s)", describe(view.counts, max_chars), path)
    return view, False
