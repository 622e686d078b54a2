"""Embedding initialisation: random (default) or word2vec trained on the training split only.

The paper initialises its embeddings with word2vec trained on the training and validation data;
we use train only, so nothing about validation leaks into the model before selection. gensim
does the word2vec training: a well-kept, fast C implementation beats writing our own.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from han import faults
from han.data.prepare import PreparedData
from han.io import atomic_open, remove_stale_tmp
from han.schema import typed

log = logging.getLogger(__name__)
# word2vec passes when `model.word2vec_epochs` is null: about this many training tokens in all,
# between 5 passes (gensim's default; IMDB's 6M tokens) and 20 (a corpus of ~1,000 articles).
WORD2VEC_TOKENS = 10_000_000
WORD2VEC_PASSES = (5, 20)


def word2vec_passes(model_cfg: Mapping, train_tokens: int) -> int:
    """`model.word2vec_epochs`, or for null enough passes to see ~10M tokens (5 to 20).

    A small corpus needs more passes for its vectors to settle (20 beat 5 on BBC News), and a
    large one gets there in gensim's default 5 at a quarter of the cost.
    """
    value = typed("model", model_cfg).word2vec_epochs
    if value is not None:
        return int(value)
    low, high = WORD2VEC_PASSES
    return int(np.clip(np.ceil(WORD2VEC_TOKENS / max(1, train_tokens)), low, high))


def train_sentences(data: PreparedData) -> list[list[str]]:
    """The training split as sentences of vocabulary words (unknown words as `<unk>`)."""
    train = data.splits["train"]
    words = np.array(data.vocabulary.words, dtype=object)[train.tokens]
    return [list(s) for s in np.split(words, np.cumsum(train.sentence_lengths)[:-1]) if len(s)]


def embedding_matrix(
    model_cfg: Mapping, data: PreparedData, seed: int, workers: int = 1,
    cache_dir: Path | str | None = None,
) -> np.ndarray | None:
    """The initial embedding matrix, or None for Keras' random initialisation (what
    `initial_embedding` returns, without the pretrained file's coverage)."""
    return initial_embedding(model_cfg, data, seed, workers, cache_dir)[0]


def initial_embedding(
    model_cfg: Mapping, data: PreparedData, seed: int, workers: int = 1,
    cache_dir: Path | str | None = None,
) -> tuple[np.ndarray | None, dict | None]:
    """(the initial embedding matrix or None for Keras' random initialisation, the pretrained
    file's coverage or None); `data` is read, never changed: the caller records the coverage.

    With one worker word2vec is a pure function of the training split, the vocabulary, its
    settings and the seed, so the matrix is cached under `cache_dir` by those: a sweep's models
    of one size on one fold and seed (HAN, HN-AVE, HN-MAX) train word2vec once, not once each.
    """
    model_cfg = typed("model", model_cfg)
    init = str(model_cfg.embedding_init)
    if init == "random":
        return None, None
    if init == "pretrained":
        from han.pretrained import pretrained_matrix

        return pretrained_matrix(model_cfg, data, seed)
    if init != "word2vec":
        raise ValueError(f"model.embedding_init must be random, word2vec or pretrained, got "
                         f"{init!r}")
    import gensim

    dim = int(model_cfg.embedding_dim)
    window = int(model_cfg.word2vec_window)
    passes = word2vec_passes(model_cfg, len(data.splits["train"].tokens))
    path = None
    if cache_dir is not None and workers == 1:  # several workers are not reproducible
        path = Path(cache_dir) / f"word2vec-{_key(data, dim, window, passes, seed, gensim.__version__)}.npy"
        remove_stale_tmp(cache_dir)  # leftovers of writes that were killed
        cached = _cached_matrix(path, (len(data.vocabulary), dim))
        if cached is not None:
            log.info("word2vec (dim %d, %d passes) from the cache %s", dim, passes, path)
            return cached, None
    matrix = _word2vec(data, dim, window, passes, seed, workers)
    faults.point("word2vec")
    if path is not None:
        with atomic_open(path, "wb") as handle:
            np.save(handle, matrix)
    return matrix, None


def _cached_matrix(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached matrix if it is whole (its shape, finite float32); a damaged file is logged
    by name and deleted, to be rebuilt."""
    if not path.exists():
        return None
    try:
        matrix = np.load(path, allow_pickle=False)
        if matrix.shape != shape or matrix.dtype != np.float32 or not np.isfinite(matrix).all():
            raise ValueError(f"holds {matrix.dtype} {matrix.shape}, expected finite float32 {shape}")
        return matrix
    except (OSError, ValueError, EOFError) as err:
        log.warning("cache %s is damaged (%s: %s); rebuilding it", path, type(err).__name__, err)
        path.unlink(missing_ok=True)
        return None


def _key(data: PreparedData, *settings: object) -> str:
    train = data.splits["train"]
    digest = hashlib.sha256()
    for array in (train.tokens, train.sentence_lengths):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("\n".join(data.vocabulary.words).encode())
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:20]


def _word2vec(data: PreparedData, dim: int, window: int, passes: int, seed: int,
              workers: int) -> np.ndarray:
    import time

    from gensim.models import Word2Vec

    start = time.perf_counter()
    w2v = Word2Vec(
        train_sentences(data),
        vector_size=dim,
        window=window,
        min_count=1,
        sg=1,
        epochs=passes,
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
    log.info("word2vec (dim %d, %d passes, %d worker(s)) initialised %d of %d vocabulary rows "
             "in %.1f s", dim, passes, workers, found, len(matrix), time.perf_counter() - start)
    return matrix
