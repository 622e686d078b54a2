"""Embedding initialisation: random (default) or word2vec trained on the training split only.

The paper initialises its embeddings with word2vec trained on the training and validation data;
we use train only, so nothing about validation leaks into the model before selection. gensim
does the word2vec training: a well-kept, fast C implementation beats writing our own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from han.data.prepare import PreparedData

log = logging.getLogger(__name__)


def train_sentences(data: PreparedData) -> list[list[str]]:
    """The training split as sentences of vocabulary words (unknown words as `<unk>`)."""
    train = data.splits["train"]
    words = np.array(data.vocabulary.words, dtype=object)[train.tokens]
    return [list(s) for s in np.split(words, np.cumsum(train.sentence_lengths)[:-1]) if len(s)]


def embedding_matrix(
    model_cfg: Mapping, data: PreparedData, seed: int, workers: int = 1
) -> np.ndarray | None:
    """The initial embedding matrix, or None for Keras' random initialisation."""
    init = str(model_cfg.get("embedding_init", "random"))
    if init == "random":
        return None
    if init != "word2vec":
        raise ValueError(f"model.embedding_init must be random or word2vec, got {init!r}")
    from gensim.models import Word2Vec

    dim = int(model_cfg["embedding_dim"])
    w2v = Word2Vec(
        train_sentences(data),
        vector_size=dim,
        window=int(model_cfg.get("word2vec_window", 5)),
        min_count=1,
        sg=1,
        epochs=int(model_cfg.get("word2vec_epochs", 5)),
        seed=seed,
        workers=workers,  # one worker is what makes gensim reproducible for a seed
    )
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.05, (len(data.vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for i, word in enumerate(data.vocabulary.words[1:], start=1):
        if word in w2v.wv:
            matrix[i] = w2v.wv[word]
            found += 1
    log.info("word2vec (dim %d) initialised %d of %d vocabulary rows", dim, found, len(matrix))
    return matrix
