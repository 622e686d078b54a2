"""Embeddings from a pretrained file (issue #15): GloVe text and word2vec binary fixtures
initialise exactly the rows they cover, and the coverage figures match a count by hand. A run
with pretrained vectors (data_summary.json's coverage) is in test_paper_datasets.py."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from paper_fixtures import tang_names
from runs import CONF

from han.data.prepare import prepare
from han.data.sources import DataError
from han.embeddings import embedding_matrix, initial_embedding

# Training split, by hand (Tang format, already tokenised):
#   "the food was bad <sssss> bad service ."  7 tokens
#   "the food was good ."                     5 tokens
#   "awful place ."                           3 tokens      → 15 training tokens
# Vocabulary (min_count 1): the food was bad service . good awful place → 9 words (+ pad, unk).
TRAIN = ["u1\t\tp1\t\t1\t\tthe food was bad <sssss> bad service .",
         "u2\t\tp1\t\t2\t\tthe food was good .", "u3\t\tp2\t\t1\t\tawful place ."]
# The file covers Food (→ food once lower-cased), good and bad, and zebra (not in the vocabulary):
# 3 of 9 words; tokens food ×2, good ×1, bad ×2 → 5 of 15. Without lower-casing: good, bad
# → 2 of 9 words, 3 of 15 tokens.
VECTORS = {"Food": 1.0, "good": 2.0, "bad": 3.0, "zebra": 4.0}
DIM = 4


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("pretrained")
    names = tang_names("yelp13")
    lines = {"train": TRAIN, "validation": ["u4\t\tp1\t\t2\t\tgood food ."],
             "test": ["u5\t\tp2\t\t1\t\tbad place ."]}
    for split, rows in lines.items():
        (path / names[split]).write_text("\n".join(rows) + "\n")
    return path


def load(folder, lowercase: bool = True):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=yelp13", f"paths.mirror={folder}",
                                f"paths.cache_dir={folder / 'cache'}", "dataset.expected_sizes=null",
                                "dataset.vocab.min_count=1",
                                f"dataset.tokenizer.lowercase={str(lowercase).lower()}"])
    return prepare(cfg.dataset, cfg.paths, seed=0, workers=1, progress=False)


def vector(value: float) -> np.ndarray:
    return np.arange(DIM, dtype=np.float32) + value


def write_glove_gz(path):
    with gzip.open(path, "wt", encoding="utf-8") as handle:  # GloVe: no header line
        for word, value in VECTORS.items():
            handle.write(word + " " + " ".join(f"{x:g}" for x in vector(value)) + "\n")
    return path


def write_word2vec_bin(path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(DIM)
    kv.add_vectors(list(VECTORS), np.stack([vector(v) for v in VECTORS.values()]))
    kv.save_word2vec_format(str(path), binary=True)
    return path


def check_rows(data, matrix, seed, covered: dict[str, float]) -> None:
    """Covered rows hold the file's vectors; every other row is the seeded random start."""
    expected = np.random.default_rng(seed).normal(0.0, 0.05, matrix.shape).astype(np.float32)
    expected[0] = 0.0
    for word, value in covered.items():
        expected[data.vocabulary.words.index(word)] = vector(value)
    np.testing.assert_array_equal(matrix, expected)


@pytest.mark.parametrize("kind", ["glove_gz", "word2vec_bin"])
def test_file_initialises_the_rows_it_covers_and_only_those(folder, tmp_path, kind):
    path = (write_glove_gz(tmp_path / "vectors.txt.gz") if kind == "glove_gz"
            else write_word2vec_bin(tmp_path / "vectors.bin"))
    data = load(folder)
    assert len(data.vocabulary) == 11 and len(data.splits["train"].tokens) == 15
    cfg = {"embedding_init": "pretrained", "embedding_path": str(path), "embedding_dim": DIM}
    counts = dict(data.counts)
    matrix, coverage = initial_embedding(cfg, data, seed=3)
    check_rows(data, matrix, 3, {"food": 1.0, "good": 2.0, "bad": 3.0})
    assert data.counts == counts  # the data are read, never changed: the caller records this
    assert (coverage["vocabulary_found"], coverage["vocabulary_words"]) == (3, 9)
    assert (coverage["train_tokens_found"], coverage["train_tokens"]) == (5, 15)
    assert coverage["vocabulary_share"] == coverage["train_token_share"] == 0.3333
    assert coverage["dim"] == DIM and coverage["lowercased"] is True


def test_case_is_matched_to_the_tokenizer(folder, tmp_path):
    path = write_glove_gz(tmp_path / "glove.txt.gz")
    data = load(folder, lowercase=False)
    cfg = {"embedding_init": "pretrained", "embedding_path": str(path), "embedding_dim": DIM}
    matrix, coverage = initial_embedding(cfg, data, seed=0)
    check_rows(data, matrix, 0, {"good": 2.0, "bad": 3.0})
    assert (coverage["vocabulary_found"], coverage["train_tokens_found"]) == (2, 3)


def test_word2vec_text_with_header_and_binary_setting(folder, tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(DIM)
    kv.add_vectors(list(VECTORS), np.stack([vector(v) for v in VECTORS.values()]))
    # A text file with the "<count> <dim>" header, under a name that says binary: the setting
    # embedding_binary=false overrules the name.
    path = tmp_path / "vectors.bin"
    kv.save_word2vec_format(str(path), binary=False)
    data = load(folder)
    cfg = {"embedding_init": "pretrained", "embedding_path": str(path), "embedding_dim": DIM,
           "embedding_binary": False}
    check_rows(data, embedding_matrix(cfg, data, seed=0), 0,
               {"food": 1.0, "good": 2.0, "bad": 3.0})


def test_dimension_mismatch_is_one_clear_error_or_taken_from_the_file(folder, tmp_path):
    from han.models import build_model

    path = write_glove_gz(tmp_path / "glove.txt.gz")
    data = load(folder)
    cfg = {"embedding_init": "pretrained", "embedding_path": str(path), "embedding_dim": 200}
    with pytest.raises(DataError, match=r"embedding_dim is 200 .* 4-d vectors; set "
                                        r"model.embedding_dim=4 or model.embedding_dim=from_file"):
        embedding_matrix(cfg, data, seed=0)
    cfg["embedding_dim"] = "from_file"
    matrix = embedding_matrix(cfg, data, seed=0)
    assert matrix.shape[1] == DIM and cfg["embedding_dim"] == "from_file"  # never written back
    model = build_model({**cfg, "family": "flat", "name": "flat", "gru_units": 2,
                         "attention_dim": 2}, len(data.vocabulary), 2, matrix)
    assert model.word_encoder.embedding.output_dim == DIM  # the model takes the file's size
    with pytest.raises(DataError, match="embedding_path"):
        embedding_matrix({"embedding_init": "pretrained", "embedding_dim": DIM}, data, seed=0)
    with pytest.raises(DataError, match="no file at"):
        embedding_matrix({"embedding_init": "pretrained", "embedding_dim": DIM,
                          "embedding_path": str(tmp_path / "missing.txt")}, data, seed=0)

