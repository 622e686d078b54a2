"""The tokenised corpus: documents' metadata plus their words as flat arrays, cached on disk.

The cache is keyed by everything that changes the tokens (the raw files' bytes, the reader's and
the tokenizer's settings, the tokenizer's code version and NLTK's version) and written
atomically, so a killed run never leaves a file that loads wrong. It is written chunk by chunk
as the tokenizer returns them and read memory-mapped (han/data/corpus_file.py), so neither
preparing nor training holds a second copy of the corpus's words. Splits and the vocabulary are
not part of it: they are cheap and are recomputed from it on every run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from han.data import corpus_file, ragged
from han.data.tokenize import (
    TOKENIZER_VERSION,
    LexiconMerger,
    TokenizerSettings,
    iter_tokenized,
    tokenize_texts,
)
from han.io import remove_stale_tmp

log = logging.getLogger(__name__)

# "groups" joined later: its name is in cache_key()'s field list, so older caches are rebuilt.
_STRING_FIELDS = ("ids", "labels", "source_split", "groups", "lexicon")
_ARRAY_FIELDS = ("tokens", "sentence_lengths", "doc_sentences")


@dataclass
class Corpus:
    """Documents as arrays: `tokens` (lexicon ids) cut into sentences, sentences into documents."""

    ids: np.ndarray
    labels: np.ndarray
    source_split: np.ndarray
    groups: np.ndarray  # documents that must share a split ("" = none)
    lexicon: np.ndarray
    tokens: np.ndarray
    sentence_lengths: np.ndarray
    doc_sentences: np.ndarray
    truncated_chars: int = 0
    non_utf8_files: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def doc_tokens(self) -> np.ndarray:
        """Words per document."""
        return ragged.segment_sums(self.sentence_lengths, self.doc_sentences)

    def select(self, docs: np.ndarray) -> Corpus:
        """The documents at the given indices (or boolean mask), in that order."""
        docs = np.flatnonzero(docs) if docs.dtype == bool else np.asarray(docs)
        sentences = ragged.gather_segments(self.doc_sentences, docs)
        tokens, sentence_lengths = ragged.take(self.tokens, self.sentence_lengths, sentences)
        return Corpus(
            ids=self.ids[docs],
            labels=self.labels[docs],
            source_split=self.source_split[docs],
            groups=self.groups[docs],
            lexicon=self.lexicon,
            tokens=tokens,
            sentence_lengths=sentence_lengths,
            doc_sentences=self.doc_sentences[docs],
            truncated_chars=self.truncated_chars,
            non_utf8_files=self.non_utf8_files,
        )

    def sentences(self, doc: int) -> list[list[str]]:
        """One document's words, for reports and tests."""
        start = int(ragged.offsets(self.doc_sentences)[doc])
        lengths = self.sentence_lengths[start : start + self.doc_sentences[doc]]
        first = int(self.sentence_lengths[:start].sum())
        words = self.lexicon[self.tokens[first : first + lengths.sum()]]
        cuts = np.cumsum(lengths)[:-1]
        return [list(part) for part in np.split(words, cuts)]

    def save(self, path: Path) -> None:
        """Writes the cache file atomically (han/data/corpus_file.py, the format streaming
        preparation writes too: the same corpus gives the same bytes)."""
        corpus_file.write(Path(path), {name: getattr(self, name) for name in _ARRAY_FIELDS},
                          {name: getattr(self, name).tolist() for name in _STRING_FIELDS},
                          (self.truncated_chars, self.non_utf8_files))

    @classmethod
    def load(cls, path: Path) -> Corpus:
        """The cached corpus, its large arrays memory-mapped (read-only)."""
        arrays, strings, (truncated, non_utf8) = corpus_file.read(Path(path))
        if set(strings) != set(_STRING_FIELDS):
            raise ValueError(f"holds fields {sorted(strings)}, expected {sorted(_STRING_FIELDS)}")
        values = arrays | {name: np.array(strings[name], dtype=object) for name in _STRING_FIELDS}
        corpus = cls(**values, truncated_chars=truncated, non_utf8_files=non_utf8)
        corpus.check()
        return corpus

    def check(self) -> None:
        """Raise ValueError unless the arrays fit together (a cache file is checked on read)."""
        n = len(self.ids)
        if not (len(self.labels) == len(self.source_split) == len(self.groups)
                == len(self.doc_sentences) == n):
            raise ValueError("per-document arrays of different lengths")
        if int(self.doc_sentences.sum()) != len(self.sentence_lengths):
            raise ValueError("sentence counts do not add up")
        if int(self.sentence_lengths.sum()) != len(self.tokens):
            raise ValueError("sentence lengths do not add up to the tokens")
        if len(self.tokens) and not 0 <= int(self.tokens.min()) <= int(self.tokens.max()) < len(self.lexicon):
            raise ValueError("token ids outside the lexicon")

    @classmethod
    def from_documents(
        cls,
        documents: pd.DataFrame,
        settings: TokenizerSettings,
        workers: int | None = None,
        progress: bool = True,
        non_utf8_files: int = 0,
    ) -> Corpus:
        """Tokenises a Documents frame (columns id, text, label, source_split, optional group)."""
        chunk = tokenize_texts(documents["text"].tolist(), settings, workers, progress=progress)
        return cls(
            **{name: np.array(values, dtype=object)
               for name, values in _document_strings(documents).items()},
            lexicon=np.array(chunk.lexicon, dtype=object),
            tokens=chunk.tokens,
            sentence_lengths=chunk.sentence_lengths,
            doc_sentences=chunk.doc_sentences,
            truncated_chars=chunk.truncated_chars,
            non_utf8_files=non_utf8_files,
        )


def _document_strings(documents: pd.DataFrame) -> dict[str, list[str]]:
    """A Documents frame's per-document strings as the corpus keeps them (no group column: "")."""
    groups = documents["group"] if "group" in documents else pd.Series([""] * len(documents))
    return {"ids": documents["id"].astype(str).tolist(),
            "labels": documents["label"].astype(str).tolist(),
            "source_split": documents["source_split"].astype(str).tolist(),
            "groups": groups.astype(str).tolist()}


def write_documents(
    path: Path,
    documents: pd.DataFrame,
    settings: TokenizerSettings,
    workers: int | None = None,
    progress: bool = True,
    non_utf8_files: int = 0,
    chunk_size: int = 250,
) -> None:
    """Tokenises a Documents frame into the cache file at `path`, chunk by chunk.

    Each chunk's tokens and lengths are appended to scratch files as the tokenizer returns
    them, so no array of the whole corpus is held; the file equals `Corpus.from_documents(...)
    .save(path)` byte for byte (tested).
    """
    merger, truncated = LexiconMerger(), 0
    with corpus_file.array_sinks(Path(path).parent, Path(path).name) as sinks:
        for chunk in iter_tokenized(documents["text"].tolist(), settings, workers, chunk_size,
                                    progress):
            sinks["tokens"].append(merger.global_tokens(chunk))
            sinks["sentence_lengths"].append(chunk.sentence_lengths)
            sinks["doc_sentences"].append(chunk.doc_sentences)
            truncated += chunk.truncated_chars
        strings = _document_strings(documents) | {"lexicon": list(merger.lexicon)}
        corpus_file.write(Path(path), sinks, strings, (truncated, non_utf8_files))


def cache_key(source_fingerprint: str, settings: TokenizerSettings) -> str:
    """Hash of everything that changes the tokenised corpus."""
    import nltk

    parts = {
        "source": source_fingerprint,
        "tokenizer": settings.cache_key(),
        "tokenizer_version": TOKENIZER_VERSION,
        "nltk": nltk.__version__,
        "fields": [f.name for f in fields(Corpus)],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def cached_corpus(
    cache_dir: Path,
    name: str,
    key: str,
    build,
) -> tuple[Corpus, Path, bool]:
    """Loads the corpus cached under `key`, or has `build(path)` write it there, then loads it.

    Returns the corpus (its large arrays memory-mapped), its cache file and whether it came
    from the cache. A cache file that cannot be read (truncated by a full disk, say) is
    rebuilt, not trusted; one of an older format is rebuilt with a line that says so.
    """
    path = Path(cache_dir) / f"{name}-{key}.npz"
    remove_stale_tmp(cache_dir)  # leftovers of writes that were killed
    if path.exists():
        try:
            return Corpus.load(path), path, True
        except corpus_file.OldFormat as err:
            log.info("cache %s is of %s; this version writes format %d (written as it is "
                     "tokenised, memory-mapped on read): rebuilding it", path, err,
                     corpus_file.FORMAT)
            path.unlink(missing_ok=True)
        except Exception as err:  # noqa: BLE001 - any unreadable cache is rebuilt
            log.warning("cache %s is damaged (%s: %s); rebuilding it", path, type(err).__name__,
                        err)
            path.unlink(missing_ok=True)
    try:
        build(path)
    except PermissionError as err:
        from han.data.documents import DataError

        raise DataError(f"paths.cache_dir={cache_dir} is not writable ({err.strerror}); set "
                        "paths.cache_dir to a folder you can write") from err
    log.info("cached the tokenised corpus in %s", path)
    return Corpus.load(path), path, False
