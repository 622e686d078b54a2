"""Embeddings from a pretrained vectors file: GloVe text, word2vec text or word2vec binary.

`model.embedding_init=pretrained model.embedding_path=<file>`. gensim's KeyedVectors reads every
one of these formats, gzip-compressed too. Words are matched the way the tokenizer wrote them:
when it lower-cases, a file's "Paris" serves "paris" (the file's first, i.e. most frequent,
casing wins). Rows of words the file lacks, and the unknown row 1, start random as with word2vec;
the padding row 0 is zero. How much the file covers (vocabulary and training tokens) is logged
and written to `data_summary.json` (`embedding_coverage`): a file that misses most training
tokens starts the model from little more than noise.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from han.data.prepare import PreparedData
from han.data.sources import DataError

log = logging.getLogger(__name__)
FROM_FILE = "from_file"


def _is_binary(model_cfg: Mapping, path: Path) -> bool:
    chosen = model_cfg["embedding_binary"]
    if chosen is not None:
        return bool(chosen)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] == ".bin"


def _has_header(path: Path) -> bool:
    """word2vec text files start with "<count> <dim>"; GloVe files start with a vector."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        first = handle.readline().split()
    return len(first) == 2 and all(part.isdigit() for part in first)


def load_vectors(model_cfg: Mapping):
    """The file of `model.embedding_path` as gensim KeyedVectors; DataError if unreadable."""
    from gensim.models import KeyedVectors

    value = model_cfg["embedding_path"]
    if not value:
        raise DataError("model.embedding_init=pretrained needs model.embedding_path=<file> "
                        "(GloVe or word2vec, text or .bin, optionally .gz)")
    path = Path(str(value)).expanduser()
    if not path.is_file():
        raise DataError(f"model.embedding_path: no file at {path.absolute()}; set it to a GloVe "
                        "or word2vec vectors file")
    binary = _is_binary(model_cfg, path)
    try:
        header = binary or _has_header(path)
        return KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=not header)
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as err:
        kind = "binary word2vec" if binary else "text (GloVe or word2vec)"
        raise DataError(f"model.embedding_path {path} could not be read as {kind} vectors "
                        f"({type(err).__name__}: {err}); check the file, or set "
                        "model.embedding_binary=true|false if its name misleads") from err


def pretrained_matrix(model_cfg: Mapping, data: PreparedData,
                      seed: int) -> tuple[np.ndarray, dict]:
    """(the vocabulary's rows from the file, random where it has no vector; the file's
    coverage of the vocabulary and of the training tokens, for data_summary.json)."""
    vectors = load_vectors(model_cfg)
    dim = int(vectors.vector_size)
    wanted = model_cfg["embedding_dim"]
    if str(wanted) != FROM_FILE and int(wanted) != dim:
        raise DataError(f"model.embedding_dim is {wanted} but {model_cfg['embedding_path']} "
                        f"holds {dim}-d vectors; set model.embedding_dim={dim} or "
                        f"model.embedding_dim={FROM_FILE}")
    lowercase = data.lowercase
    index: dict[str, int] = {}
    for i, word in enumerate(vectors.index_to_key):  # file order: the first casing wins
        index.setdefault(word.lower() if lowercase else word, i)
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.05, (len(data.vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = np.zeros(len(data.vocabulary), dtype=bool)
    # Rows 0 (padding) and 1 (unknown) are not words: never looked up.
    for row, word in enumerate(data.vocabulary.words[2:], start=2):
        at = index.get(word)
        if at is not None:
            matrix[row] = vectors.vectors[at]
            found[row] = True
    train_tokens = data.splits["train"].tokens
    coverage = {
        "file": str(model_cfg["embedding_path"]),
        "dim": dim,
        "lowercased": lowercase,
        "vocabulary_words": len(data.vocabulary) - 2,
        "vocabulary_found": int(found.sum()),
        "vocabulary_share": round(float(found.sum() / max(1, len(data.vocabulary) - 2)), 4),
        "train_tokens": len(train_tokens),
        "train_tokens_found": int(found[train_tokens].sum()),
        "train_token_share": round(float(found[train_tokens].mean()), 4)
        if len(train_tokens) else 0.0,
    }
    log.info("pretrained vectors %s (%d-d): %d of %d vocabulary words (%.1f%%), %.1f%% of "
             "training tokens", coverage["file"], dim, coverage["vocabulary_found"],
             coverage["vocabulary_words"], 100 * coverage["vocabulary_share"],
             100 * coverage["train_token_share"])
    return matrix, coverage
