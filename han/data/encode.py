"""Word ids and the two views the models read: hierarchical (L×T) and flat (first N words).

Both views are the same `EncodedDocs` structure — a flat id array cut into sentences, sentences
into documents — so one batching routine serves every model: a flat document is one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from han.data import ragged
from han.data.corpus import Corpus
from han.schema import typed


@dataclass
class ViewStats:
    """What a view cut or re-cut, so that nothing is lost silently."""

    docs_truncated: int = 0  # documents that lost sentences beyond L (or words beyond N)
    sentences_truncated: int = 0  # sentences cut at T words (wrap off)
    sentences_wrapped: int = 0  # sentences longer than T continued on the next row (wrap on)
    words_dropped: int = 0


@dataclass
class EncodedDocs:
    """Documents as vocabulary ids with their true sentence count and sentence lengths."""

    tokens: np.ndarray
    sentence_lengths: np.ndarray
    doc_sentences: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    stats: ViewStats = field(default_factory=ViewStats)

    def __len__(self) -> int:
        return len(self.doc_sentences)

    @cached_property
    def sentence_offsets(self) -> np.ndarray:
        return ragged.offsets(self.sentence_lengths)

    @cached_property
    def doc_offsets(self) -> np.ndarray:
        return ragged.offsets(self.doc_sentences)

    @cached_property
    def doc_tokens(self) -> np.ndarray:
        return ragged.segment_sums(self.sentence_lengths, self.doc_sentences)

    @cached_property
    def longest_sentence(self) -> np.ndarray:
        """Words in each document's longest sentence (0 for an empty document)."""
        out = np.zeros(len(self), dtype=np.int64)
        nonempty = self.doc_sentences > 0
        if nonempty.any():
            out[nonempty] = np.maximum.reduceat(
                self.sentence_lengths, self.doc_offsets[nonempty]
            )
        return out

    def select(self, docs: np.ndarray) -> EncodedDocs:
        """The documents at the given indices, in that order."""
        docs = np.asarray(docs)
        sentences = ragged.gather_segments(self.doc_sentences, docs)
        tokens, lengths = ragged.take(self.tokens, self.sentence_lengths, sentences)
        return EncodedDocs(
            tokens, lengths, self.doc_sentences[docs], self.labels[docs], self.ids[docs], self.stats
        )

    def hierarchical(self, max_sentences: int, max_words: int, wrap: bool = True) -> EncodedDocs:
        """At most L sentences of at most T words each; long sentences wrap or are cut."""
        stats = ViewStats()
        tokens, lengths, doc_sentences = self.tokens, self.sentence_lengths, self.doc_sentences
        long = lengths > max_words
        if wrap:
            stats.sentences_wrapped = int(long.sum())
            lengths, pieces = ragged.wrap(lengths, max_words)
            doc_sentences = ragged.segment_sums(pieces, doc_sentences)
        else:
            stats.sentences_truncated = int(long.sum())
            stats.words_dropped += int((lengths - max_words)[long].sum())
            tokens, lengths = ragged.clip(tokens, lengths, max_words)
        cut = doc_sentences > max_sentences
        stats.docs_truncated = int(cut.sum())
        keep = ragged.positions(doc_sentences) < max_sentences
        stats.words_dropped += int(lengths[~keep].sum())
        token_keep = np.repeat(keep, lengths)
        return EncodedDocs(
            tokens=tokens[token_keep],
            sentence_lengths=lengths[keep],
            doc_sentences=np.minimum(doc_sentences, max_sentences),
            labels=self.labels,
            ids=self.ids,
            stats=stats,
        )

    def flat(self, max_tokens: int, keep: str = "head") -> EncodedDocs:
        """N words of every document as one sentence (the tutorial's input: the first N).

        `keep` picks which N words a longer document keeps: head, tail or head_tail.
        """
        doc_tokens = self.doc_tokens
        tokens, lengths = ragged.clip(self.tokens, doc_tokens, max_tokens, keep)
        cut = doc_tokens > max_tokens
        stats = ViewStats(
            docs_truncated=int(cut.sum()), words_dropped=int((doc_tokens - max_tokens)[cut].sum())
        )
        keep = lengths > 0  # an empty document has no sentence row at all, as in `hierarchical`
        return EncodedDocs(
            tokens=tokens,
            sentence_lengths=lengths[keep],
            doc_sentences=keep.astype(np.int32),
            labels=self.labels,
            ids=self.ids,
            stats=stats,
        )

    def padded(self, docs: np.ndarray, flat: bool = False) -> np.ndarray:
        """Dense int32 ids of the given documents: (B, L_b, T_b), or (B, N_b) when flat.

        L_b and T_b are the batch's own maxima, so a batch of short documents is small.
        """
        docs = np.asarray(docs)
        n_sentences = self.doc_sentences[docs]
        sentences = np.repeat(self.doc_offsets[docs], n_sentences) + ragged.positions(n_sentences)
        lengths = self.sentence_lengths[sentences]
        starts = np.repeat(self.sentence_offsets[sentences], lengths)
        word = ragged.positions(lengths)
        row = np.repeat(np.repeat(np.arange(len(docs)), n_sentences), lengths)
        slot = np.repeat(ragged.positions(n_sentences), lengths)
        shape = (
            len(docs),
            max(1, int(n_sentences.max(initial=0))),
            max(1, int(lengths.max(initial=0))),
        )
        out = np.zeros(shape, dtype=np.int32)
        out[row, slot, word] = self.tokens[starts + word]
        return out[:, 0, :] if flat else out


def encode_corpus(
    corpus: Corpus, id_map: np.ndarray, classes: list[str], docs: np.ndarray
) -> EncodedDocs:
    """Vocabulary ids and class indices of the selected documents (full length, no view yet).

    `id_map` is `Vocabulary.lexicon_map(corpus.lexicon)`: computed once, shared by every split.
    A label outside `classes` (unlabelled text given to `han.predict`) becomes -1.
    """
    part = corpus.select(docs)
    class_index = {name: i for i, name in enumerate(classes)}
    return EncodedDocs(
        tokens=id_map[part.tokens],
        sentence_lengths=part.sentence_lengths,
        doc_sentences=part.doc_sentences,
        labels=np.array([class_index.get(label, -1) for label in part.labels], dtype=np.int32),
        ids=part.ids,
    )


def is_flat(model_cfg: Mapping) -> bool:
    """Flat models read N words; hierarchical ones L sentences × T words."""
    return str(model_cfg["family"]) == "flat"


# Caps on the derived grid: the packed HAN costs little per extra slot, but a dense (B, L, T)
# batch of a pathological corpus must still fit in memory.
AUTO_LIMITS = {"max_sentences": 200, "max_words": 100}
AUTO_PERCENTILE = 99


@dataclass(frozen=True)
class ViewSettings:
    """The resolved L, T and N of a run: what every view of every split is cut to."""

    max_sentences: int
    max_words: int
    max_tokens: int
    keep_words: str = "head"
    wrap: bool = True
    derived: tuple[str, ...] = ()  # which of L and T came from the training split's lengths

    @classmethod
    def resolve(cls, dataset_cfg: Mapping, train: EncodedDocs | None = None) -> ViewSettings:
        """The dataset's settings, with L and/or T set to `null` derived from `train`.

        T is the 99th percentile of the training sentences' lengths; L the 99th percentile of
        the training documents' sentence counts once sentences longer than T wrap (or are cut)
        at T, so that 99% of training documents are read whole. Capped by `AUTO_LIMITS`.
        """
        dataset_cfg = typed("dataset", dataset_cfg)
        keep = str(dataset_cfg["keep_words"])
        if keep not in ragged.KEEP:
            raise ValueError(
                f"dataset.keep_words must be one of {', '.join(ragged.KEEP)}, got {keep!r}"
            )
        wrap = bool(dataset_cfg["wrap_long_sentences"])
        words, sentences = dataset_cfg["max_words"], dataset_cfg["max_sentences"]
        derived = tuple(k for k, v in (("max_sentences", sentences), ("max_words", words)) if v is None)
        if derived and (train is None or len(train) == 0):
            raise ValueError(
                f"dataset.{' and dataset.'.join(derived)} = null is derived from the training "
                "split, which is empty here; set it to a number"
            )
        if words is None:
            words = _percentile(train.sentence_lengths, AUTO_LIMITS["max_words"])
        if sentences is None:
            lengths, doc_sentences = train.sentence_lengths, train.doc_sentences
            if wrap:
                _, pieces = ragged.wrap(lengths, int(words))
                doc_sentences = ragged.segment_sums(pieces, doc_sentences)
            sentences = _percentile(doc_sentences, AUTO_LIMITS["max_sentences"])
        return cls(
            max_sentences=int(sentences),
            max_words=int(words),
            max_tokens=int(dataset_cfg["max_tokens"]),
            keep_words=keep,
            wrap=wrap,
            derived=derived,
        )

    def to_json(self) -> dict:
        return {
            "max_sentences": self.max_sentences,
            "max_words": self.max_words,
            "max_tokens": self.max_tokens,
            "keep_words": self.keep_words,
            "wrap_long_sentences": self.wrap,
            "derived_from_train_p99": list(self.derived),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> ViewSettings:
        return cls(
            max_sentences=int(data["max_sentences"]),
            max_words=int(data["max_words"]),
            max_tokens=int(data["max_tokens"]),
            keep_words=str(data.get("keep_words", "head")),
            wrap=bool(data.get("wrap_long_sentences", True)),
            derived=tuple(data.get("derived_from_train_p99", ())),
        )


def _percentile(values: np.ndarray, cap: int) -> int:
    return int(min(cap, max(1, np.ceil(np.percentile(values, AUTO_PERCENTILE)))))


def view_for_model(docs: EncodedDocs, view: ViewSettings, flat: bool) -> EncodedDocs:
    """The view a model reads: N words (flat) or L sentences × T words."""
    if flat:
        return docs.flat(view.max_tokens, view.keep_words)
    return docs.hierarchical(view.max_sentences, view.max_words, wrap=view.wrap)
