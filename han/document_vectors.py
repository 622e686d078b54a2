"""Dense document features for the linear rows of Yang et al. (2016), Table 2, that Tang et al.
(2015) ran: "SVM + AverageSG" and "Paragraph Vector"; and the featureless Majority floor.

Each featurizer is fitted on the training split only and then maps any documents (vocabulary
ids, `EncodedDocs`) to a (documents, features) float32 matrix: `fit_transform(train)` once,
`transform_docs(docs)` for validation, test and `make predict`. `han.baselines` puts a linear
classifier on top and picks its C on validation.

- `AverageVectors` (AverageSG): a document is the mean of the skip-gram vectors of its known
  words (the unknown id is left out, as the TF-IDF rows leave it out). The vectors are the
  word2vec that `han.embeddings` trains on the training split for the networks' embedding
  initialisation, with the same settings, so a sweep trains it once for both (its cache).
- `ParagraphVectors` (Le & Mikolov 2014, gensim's Doc2Vec): PV-DM (and optionally PV-DBOW,
  concatenated) trained on the training documents only; validation, test and new documents are
  *inferred* with the word and output weights frozen, never trained on. `trained_on` keeps the
  ids of the documents the model saw. With `pv_infer_train` (the default) the classifier is fit
  on the training documents' inferred vectors too, so it sees one kind of vector throughout.
- `NoFeatures`: one constant column, for the Majority row.

Dense features are standardised with the training split's mean and deviation, so one C grid
suits every corpus.
"""

from __future__ import annotations

import functools
import logging
import time
import zlib
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from han.data import ragged
from han.data.encode import EncodedDocs
from han.data.vocab import Vocabulary
from han.schema import Features, LinearModel, PVMode

log = logging.getLogger(__name__)


def doc_words(docs: EncodedDocs) -> list[list[str]]:
    """Each document's known vocabulary ids as strings (unknown words left out, as `as_text`)."""
    known = docs.tokens > Vocabulary.unk_id
    words = docs.tokens.astype(str)
    doc_of_token = ragged.segment_ids(docs.doc_tokens)
    bounds = np.searchsorted(doc_of_token[known], np.arange(len(docs) + 1))
    kept = words[known]
    return [kept[a:b].tolist() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def stable_hash(text: str) -> int:
    """gensim's seed hash for a word's initial vector. Python's `hash` of a string changes from
    process to process (PYTHONHASHSEED), which would make a seeded Doc2Vec differ between runs."""
    return zlib.crc32(text.encode())


@contextmanager
def _seeded_start():
    """gensim (4.4) starts an inferred vector from Python's `hash` of the document's words,
    which differs between processes; within this block it starts from `stable_hash` instead,
    so the same run gives the same vectors (and metrics) in every process."""
    from gensim.models import doc2vec

    original = doc2vec.pseudorandom_weak_vector
    doc2vec.pseudorandom_weak_vector = functools.partial(original, hashfxn=stable_hash)
    try:
        yield
    finally:
        doc2vec.pseudorandom_weak_vector = original


class _Standardised:
    """Mean 0, deviation 1 per column, measured on the training split (scikit-learn's
    StandardScaler: a constant column is only centred)."""

    scaler: object

    def _fit_scale(self, x: np.ndarray) -> np.ndarray:
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler()
        return self.scaler.fit_transform(x).astype(np.float32)

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return self.scaler.transform(x).astype(np.float32)


class NoFeatures:
    """The Majority row: nothing about a document is read."""

    def fit_transform(self, train: EncodedDocs) -> np.ndarray:
        return self.transform_docs(train)

    def transform_docs(self, docs: EncodedDocs) -> np.ndarray:
        return np.ones((len(docs), 1), dtype=np.float32)


class AverageVectors(_Standardised):
    """AverageSG: the mean skip-gram vector of a document's known words (Tang et al. 2015)."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = np.asarray(matrix, dtype=np.float32)  # (V, E): row i is vocabulary id i

    def _means(self, docs: EncodedDocs) -> np.ndarray:
        from scipy import sparse

        known = docs.tokens > Vocabulary.unk_id
        rows = ragged.segment_ids(docs.doc_tokens)[known]
        counts = np.bincount(rows, minlength=len(docs)).astype(np.float32)
        # (documents, V) word counts times (V, E) vectors: every document's sum in one product.
        bag = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, docs.tokens[known])),
                                shape=(len(docs), len(self.matrix)))
        return np.asarray(bag @ self.matrix) / np.maximum(counts, 1.0)[:, None]

    def fit_transform(self, train: EncodedDocs) -> np.ndarray:
        return self._fit_scale(self._means(train))

    def transform_docs(self, docs: EncodedDocs) -> np.ndarray:
        return self._scale(self._means(docs))


class ParagraphVectors(_Standardised):
    """Paragraph Vector: Doc2Vec trained on the training documents; others inferred."""

    def __init__(self, modes: Sequence[str], vector_size: int, window: int, epochs: int,
                 min_count: int, negative: int, seed: int, infer_train: bool = True) -> None:
        bad = sorted(set(modes) - set(PVMode))
        if bad or not modes:
            raise ValueError(f"model.pv_modes must be a non-empty list of: "
                             f"{', '.join(PVMode)}; got {list(modes)}")
        self.modes, self.vector_size, self.window = list(modes), vector_size, window
        self.epochs, self.min_count, self.negative, self.seed = epochs, min_count, negative, seed
        self.infer_train = infer_train
        self.models: list = []
        self.trained_on: np.ndarray = np.array([], dtype=str)

    def fit_transform(self, train: EncodedDocs) -> np.ndarray:
        from gensim.models.doc2vec import Doc2Vec, TaggedDocument

        start = time.perf_counter()
        corpus = [TaggedDocument(words, [i]) for i, words in enumerate(doc_words(train))]
        self.models = [
            Doc2Vec(corpus, dm=int(mode == "dm"), vector_size=self.vector_size,
                    window=self.window, min_count=self.min_count, negative=self.negative, dm_mean=1,
                    epochs=self.epochs, seed=self.seed, workers=1,  # one worker: reproducible
                    hashfxn=stable_hash)
            for mode in self.modes
        ]
        self.trained_on = np.asarray(train.ids, dtype=str)
        log.info("paragraph vectors (%s, %d-d, %d epochs) trained on %d training documents in "
                 "%.1f s", "+".join(self.modes), self.vector_size, self.epochs, len(train),
                 time.perf_counter() - start)
        if self.infer_train:  # as every other document's: the classifier sees one kind
            return self._fit_scale(self._infer(doc_words(train)))
        # The training documents' own vectors, learnt with the words (Le & Mikolov 2014).
        return self._fit_scale(np.hstack([m.dv.vectors for m in self.models]))

    def transform_docs(self, docs: EncodedDocs) -> np.ndarray:
        """Inferred vectors: gradient steps on a new document vector only, the model frozen."""
        return self._scale(self._infer(doc_words(docs)))

    def _infer(self, words: list[list[str]]) -> np.ndarray:
        parts = []
        with _seeded_start():
            for model in self.models:
                vectors = []
                for w in words:
                    # Inference draws from the model's generator: reseeded, so a document's
                    # vector does not depend on which documents were inferred before it.
                    model.random = np.random.RandomState(self.seed)
                    vectors.append(model.infer_vector(w, epochs=self.epochs))
                parts.append(np.stack(vectors) if vectors else
                             np.zeros((0, self.vector_size), np.float32))
        return np.hstack(parts)


def make_featurizer(cfg: LinearModel, matrix_for=None, seed: int = 0):
    """The featurizer `model.features` names (None for TF-IDF, which `han.baselines` builds).

    `matrix_for(settings)` returns the word2vec matrix for AverageSG (han.embeddings).
    """
    if cfg.features == Features.tfidf:
        return None
    if cfg.features == Features.none:
        return NoFeatures()
    if cfg.features == Features.average_sg:
        if matrix_for is None:
            raise ValueError("model.features=average_sg needs the training split's word2vec")
        settings = {"embedding_init": "word2vec", "embedding_dim": int(cfg.embedding_dim),
                    "word2vec_window": int(cfg.word2vec_window),
                    "word2vec_epochs": cfg.word2vec_epochs}
        return AverageVectors(matrix_for(settings))
    return ParagraphVectors(
        modes=[str(mode) for mode in cfg.pv_modes], vector_size=int(cfg.vector_size),
        window=int(cfg.pv_window), epochs=int(cfg.pv_epochs), min_count=int(cfg.pv_min_count),
        negative=int(cfg.pv_negative), seed=seed, infer_train=bool(cfg.pv_infer_train),
    )
