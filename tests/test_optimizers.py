"""The fused optimizers (han/optimizers.py) follow Keras' Adam and SGD step for step."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from han.optimizers import FusedAdam, FusedSGD, make_optimizer


def _train(optimizer: keras.optimizers.Optimizer, ids: list[np.ndarray], dense: bool) -> list:
    """A few steps of a tiny embedding + dense model; returns the final weights."""
    rng = np.random.default_rng(0)
    table = tf.Variable(rng.normal(size=(50, 6)).astype("float32"))
    kernel = tf.Variable(rng.normal(size=(6, 3)).astype("float32"))
    targets = tf.constant(rng.normal(size=(len(ids[0]), 3)).astype("float32"))

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(tf.matmul(tf.gather(table, batch), kernel) - targets))
        grads = tape.gradient(loss, [table, kernel])  # the table's: IndexedSlices
        if dense:
            grads = [tf.convert_to_tensor(g) for g in grads]
        optimizer.apply_gradients(zip(grads, [table, kernel], strict=True))

    for batch in ids:
        step(tf.constant(batch))
    return [table.numpy(), kernel.numpy()]


def _batches(unique: bool) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    pick = (lambda: rng.permutation(50)[:16]) if unique else (lambda: rng.integers(0, 50, 16))
    return [pick().astype("int32") for _ in range(12)]


@pytest.mark.parametrize("dense", [True, False], ids=["dense", "sparse"])
def test_fused_adam_takes_keras_adams_steps(dense) -> None:
    """Dense gradients, and sparse ones with distinct rows (what the word encoder produces)."""
    batches = _batches(unique=True)
    expected = _train(keras.optimizers.Adam(0.01), batches, dense)
    got = _train(FusedAdam(0.01), batches, dense)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-6)
    # Rows no batch touched still moved: every row's moments decay, as in dense Adam.
    assert not np.allclose(expected[0], _train(keras.optimizers.Adam(0.0), batches, dense)[0])


def test_fused_adam_squares_the_summed_gradient_of_a_repeated_row() -> None:
    """With a row repeated in a sparse gradient, Keras squares each slice before summing them;
    the fused update squares the row's total gradient, as Adam is defined (and as Keras does
    for the same gradient given dense)."""
    batches = _batches(unique=False)
    got = _train(FusedAdam(0.01), batches, dense=False)
    as_dense = _train(keras.optimizers.Adam(0.01), batches, dense=True)
    slice_wise = _train(keras.optimizers.Adam(0.01), batches, dense=False)
    for a, b in zip(got, as_dense, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-6)
    assert not np.allclose(got[0], slice_wise[0], atol=1e-3)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("unique", [True, False])
def test_fused_sgd_takes_keras_momentum_steps(nesterov, unique) -> None:
    batches = _batches(unique)
    expected = _train(keras.optimizers.SGD(0.01, momentum=0.9, nesterov=nesterov), batches, False)
    got = _train(FusedSGD(0.01, momentum=0.9, nesterov=nesterov), batches, False)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_the_trainer_builds_fused_optimizers_with_keras_variables() -> None:
    """Same variables, names and config as Keras' own: checkpoints and resumes are unchanged."""
    adam = make_optimizer({"optimizer": "adam", "learning_rate": 0.002, "clipnorm": 5.0})
    sgd = make_optimizer({"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.9,
                          "clipnorm": None})  # the schema default clips at 5
    assert isinstance(adam, FusedAdam) and isinstance(sgd, FusedSGD)
    variable = keras.Variable(np.zeros((4, 2), "float32"))
    for fused, stock in ((adam, keras.optimizers.Adam(0.002, global_clipnorm=5.0)),
                         (sgd, keras.optimizers.SGD(0.01, momentum=0.9))):
        fused.build([variable])
        stock.build([variable])
        assert fused.name.split("_")[0] == stock.name.split("_")[0]  # Keras' names, so paths
        assert ([(v.name, tuple(v.shape)) for v in fused.variables]
                == [(v.name, tuple(v.shape)) for v in stock.variables])
        config = {k: v for k, v in fused.get_config().items() if k != "name"}
        assert config == {k: v for k, v in stock.get_config().items() if k != "name"}
