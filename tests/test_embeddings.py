"""word2vec initialisation, trained on the training split only."""

from __future__ import annotations

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from runs import CONF

from han.data.prepare import prepare
from han.embeddings import embedding_matrix, train_sentences


@pytest.fixture(scope="module")
def data(bbc_csv, tmp_path_factory):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=csv", f"dataset.train_path={bbc_csv}",
                                "dataset.id_column=id", "dataset.vocab.min_count=2",
                                f"paths.cache_dir={tmp_path_factory.mktemp('cache')}"])
    return prepare(cfg.dataset, cfg.paths, seed=0, workers=1, progress=False)


def test_word2vec_matrix_is_seeded_and_covers_the_vocabulary(data):
    cfg = {"embedding_init": "word2vec", "embedding_dim": 16, "word2vec_epochs": 3}
    first = embedding_matrix(cfg, data, seed=1, workers=1)
    again = embedding_matrix(cfg, data, seed=1, workers=1)
    assert first.shape == (len(data.vocabulary), 16)
    assert (first[0] == 0).all(), "padding stays zero"
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, embedding_matrix(cfg, data, seed=2, workers=1))
    assert embedding_matrix({"embedding_init": "random"}, data, seed=1) is None


def test_word2vec_cache_returns_the_same_matrix_and_keys_on_every_setting(data, tmp_path):
    cfg = {"embedding_init": "word2vec", "embedding_dim": 16, "word2vec_epochs": 3}
    fresh = embedding_matrix(cfg, data, seed=1, workers=1)
    cached = embedding_matrix(cfg, data, seed=1, workers=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("word2vec-*.npy"))) == 1
    np.testing.assert_array_equal(cached, fresh)
    np.testing.assert_array_equal(embedding_matrix(cfg, data, seed=1, workers=1, cache_dir=tmp_path),
                                  fresh)  # read back from the file
    embedding_matrix(cfg, data, seed=2, workers=1, cache_dir=tmp_path)
    embedding_matrix(cfg | {"word2vec_window": 2}, data, seed=1, workers=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("word2vec-*.npy"))) == 3, "seed and window are in the key"
    embedding_matrix(cfg, data, seed=1, workers=2, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("word2vec-*.npy"))) == 3, "several workers are not reproducible"


def test_word2vec_reads_only_the_training_split(data):
    sentences = train_sentences(data)
    assert sum(map(len, sentences)) == len(data.splits["train"].tokens)
    with pytest.raises(ValueError, match="embedding_init"):
        embedding_matrix({"embedding_init": "glove", "embedding_dim": 4}, data, seed=0)


def test_null_word2vec_epochs_scales_passes_to_the_corpus():
    from han.embeddings import word2vec_passes

    assert word2vec_passes({"word2vec_epochs": 3}, 10) == 3  # a number is taken as given
    assert word2vec_passes({"word2vec_epochs": None}, 6_000_000) == 5  # IMDB-sized: the minimum
    assert word2vec_passes({"word2vec_epochs": None}, 800_000) == 13  # ~10M tokens in all
    assert word2vec_passes({}, 1_000) == 20  # a tiny corpus: capped
