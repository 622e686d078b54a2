"""The bench's BiGRU variants (benchmarks/variants.py) compute the library's function."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import variants
from han.models import build_model

CONFIG = {"name": "hierarchical", "family": "hierarchical", "embedding_dim": 8, "gru_units": 4, "attention_dim": 6,
          "word_chunks": 2}


def _outputs(variant: str, ids: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list]:
    keras.utils.set_random_seed(0)
    model = variants.use(build_model(CONFIG, 40, 3), variant)
    with tf.GradientTape() as tape:
        probs = model(ids, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(labels, probs)
    grads = tape.gradient(loss, model.trainable_variables)
    return probs.numpy(), [tf.convert_to_tensor(g).numpy() for g in grads]


@pytest.mark.parametrize("variant", [v for v in variants.VARIANTS if v != "packed"])
def test_every_bench_variant_gives_the_librarys_outputs_and_gradients(variant) -> None:
    rng = np.random.default_rng(0)
    ids = np.zeros((4, 3, 6), "int32")
    for d, sentences in enumerate([3, 1, 2, 3]):
        for s in range(sentences):
            n = rng.integers(1, 7)
            ids[d, s, :n] = rng.integers(1, 40, n)
    labels = np.array([0, 2, 1, 2])
    expected_probs, expected_grads = _outputs("packed", ids, labels)
    probs, grads = _outputs(variant, ids, labels)
    np.testing.assert_allclose(probs, expected_probs, atol=1e-6)
    for a, b in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_an_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        variants.use(build_model(CONFIG, 40, 3), "nope")
