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


def test_word2vec_reads_only_the_training_split(data):
    sentences = train_sentences(data)
    assert sum(map(len, sentences)) == len(data.splits["train"].tokens)
    with pytest.raises(ValueError, match="embedding_init"):
        embedding_matrix({"embedding_init": "glove", "embedding_dim": 4}, data, seed=0)
