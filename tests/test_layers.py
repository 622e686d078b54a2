"""The layers of han.layers against hand computations, on tiny inputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from han.layers import (
    AttentionPooling,
    BidirectionalGRU,
    MaskedAveragePooling,
    MaskedMaxPooling,
    SentenceEncoder,
    WordDropout,
    WordEncoder,
    masked_softmax,
)

MASK = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
POOLINGS = [
    pytest.param(lambda: AttentionPooling(5), id="attention"),
    pytest.param(MaskedAveragePooling, id="average"),
    pytest.param(MaskedMaxPooling, id="max"),
]


def _inputs(seed: int = 0, shape: tuple[int, ...] = (3, 4, 6)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_attention_pooling_follows_the_equations() -> None:
    layer = AttentionPooling(5)
    x = _inputs()
    pooled, weights = (t.numpy() for t in layer(x, mask=MASK))

    kernel, bias = layer.projection.get_weights()
    scores = np.tanh(x @ kernel + bias) @ layer.context.numpy()
    exps = np.where(MASK, np.exp(scores - scores.max(axis=1, keepdims=True)), 0.0)
    expected = exps / exps.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    np.testing.assert_allclose(pooled, (expected[..., None] * x).sum(axis=1), atol=1e-5)
    assert np.all(weights[~MASK] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)


def test_masked_softmax_ignores_huge_padded_scores() -> None:
    scores = np.array([[1e4, -1e4, 6e4], [3.0, 3.0, -7.0]], dtype="float32")
    mask = np.array([[1, 1, 0], [1, 1, 0]], dtype=bool)
    weights = masked_softmax(scores, mask).numpy()
    np.testing.assert_array_equal(weights, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])


def test_average_pooling_matches_numpy() -> None:
    x = _inputs(1)
    pooled, weights = (t.numpy() for t in MaskedAveragePooling()(x, mask=MASK))
    counts = MASK.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(weights, MASK / counts, atol=1e-7)
    expected = np.stack([x[i, MASK[i]].mean(axis=0) for i in range(len(x))])
    np.testing.assert_allclose(pooled, expected, atol=1e-6)


def test_max_pooling_never_picks_padding_and_reports_argmax_shares() -> None:
    # All real values are negative, so an unmasked max would pick the zero padding.
    x = np.array([[[-1.0, -5.0, -4.0], [-3.0, -2.0, -6.0], [0.0, 0.0, 0.0]]], dtype="float32")
    mask = np.array([[1, 1, 0]], dtype=bool)
    pooled, weights = (t.numpy() for t in MaskedMaxPooling()(x, mask=mask))
    np.testing.assert_array_equal(pooled, [[-1.0, -2.0, -4.0]])
    # Features 0 and 2 peak at position 0, feature 1 at position 1.
    np.testing.assert_allclose(weights, [[2 / 3, 1 / 3, 0.0]], atol=1e-7)

    x = _inputs(2)
    pooled, weights = (t.numpy() for t in MaskedMaxPooling()(x, mask=MASK))
    expected = np.stack([x[i, MASK[i]].max(axis=0) for i in range(len(x))])
    np.testing.assert_array_equal(pooled, expected)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(weights[~MASK] == 0.0)


@pytest.mark.parametrize("make", POOLINGS)
def test_rows_without_valid_positions_pool_to_zeros(make) -> None:
    layer = make()
    x = tf.constant(_inputs(3) * 100.0)
    mask = MASK.copy()
    mask[1] = False
    with tf.GradientTape() as tape:
        tape.watch(x)
        pooled, weights = layer(x, mask=mask)
        total = tf.reduce_sum(pooled)
    gradient = tape.gradient(total, x).numpy()
    assert np.all(pooled.numpy()[1] == 0.0)
    assert np.all(weights.numpy()[1] == 0.0)
    assert np.isfinite(pooled.numpy()).all() and np.isfinite(gradient).all()
    assert np.all(gradient[1] == 0.0)


@pytest.mark.parametrize("make", POOLINGS)
def test_pooling_under_mixed_precision(make, mixed_precision) -> None:
    layer = make()
    x = (_inputs(4) * 300.0).astype("float16")
    pooled, weights = layer(x, mask=MASK)
    assert pooled.dtype == tf.float16 and weights.dtype == tf.float32
    assert np.isfinite(pooled.numpy()).all()
    np.testing.assert_allclose(weights.numpy().sum(axis=1), 1.0, atol=1e-5)
    assert np.all(weights.numpy()[~MASK] == 0.0)


@pytest.mark.parametrize("make", POOLINGS)
def test_pooling_the_real_positions_alone_equals_pooling_the_padded_grid(make) -> None:
    """`pool_real` (what the HAN's word level uses: no padded grid) gives the grid's numbers;
    padding keeps exactly zero weight."""
    layer = make()
    grid = _inputs(4) * MASK[..., None]
    mask = MASK.copy()
    mask[1] = False  # and a row without any real position
    pooled, weights = layer(grid, mask=mask)
    real_pooled, real_weights = layer.pool_real(tf.boolean_mask(grid, mask), mask)
    np.testing.assert_allclose(real_pooled.numpy(), pooled.numpy(), atol=1e-6)
    np.testing.assert_allclose(real_weights.numpy(), weights.numpy(), atol=1e-6)
    assert np.all(real_weights.numpy()[~mask] == 0.0)
    assert np.all(real_pooled.numpy()[1] == 0.0)


@pytest.mark.parametrize("training", [False, True])
def test_word_encoder_real_states_are_the_grids_real_positions(training) -> None:
    encoder = WordEncoder(vocab_size=20, embedding_dim=8, gru_units=4)
    ids = np.array([[3, 4, 5, 0], [7, 0, 0, 0], [0, 0, 0, 0], [9, 3, 3, 3]], dtype="int32")
    states, mask = encoder(ids, training=training)
    real, real_mask = encoder.encode_real(ids, training=training)
    np.testing.assert_array_equal(real_mask.numpy(), mask.numpy())
    np.testing.assert_allclose(real.numpy(), states.numpy()[ids != 0], atol=1e-6)


def test_word_encoder_shapes_mask_and_padding_invariance() -> None:
    encoder = WordEncoder(vocab_size=20, embedding_dim=8, gru_units=4)
    ids = np.array([[3, 4, 5, 0], [7, 0, 0, 0], [0, 0, 0, 0]], dtype="int32")
    states, mask = encoder(ids)
    assert states.shape == (3, 4, 8)
    np.testing.assert_array_equal(mask.numpy(), ids != 0)
    assert np.isfinite(states.numpy()).all()  # the all-padding row too

    longer, _ = encoder(np.pad(ids, ((0, 0), (0, 3))))
    valid = ids != 0
    np.testing.assert_allclose(longer.numpy()[:, :4][valid], states.numpy()[valid], atol=1e-6)


def test_word_encoder_uses_a_given_embedding_matrix() -> None:
    matrix = np.random.default_rng(0).normal(size=(20, 8)).astype("float32")
    encoder = WordEncoder(20, 8, 4, embeddings_initializer=matrix)
    encoder(np.array([[1, 2]], dtype="int32"))
    np.testing.assert_array_equal(encoder.embedding.embeddings.numpy(), matrix)
    assert encoder.get_config()["embeddings_initializer"] is None  # weights, not config
    with pytest.raises(ValueError, match="embedding_dim"):
        WordEncoder(20, 6, 4, embeddings_initializer=matrix)


def test_word_dropout_only_replaces_real_words_and_only_in_training() -> None:
    ids = np.array([[5, 6, 7, 0, 0], [9, 0, 0, 0, 0], [2, 3, 4, 5, 6]] * 200, dtype="int32")
    layer = WordDropout(0.3, seed=1)
    dropped = np.asarray(layer(ids, training=True))
    np.testing.assert_array_equal(dropped == 0, ids == 0)  # padding never touched
    changed = dropped != ids
    assert np.all(dropped[changed] == 1)  # replaced by the unknown id, nothing else
    assert 0.25 < changed.sum() / (ids != 0).sum() < 0.35
    np.testing.assert_array_equal(np.asarray(layer(ids, training=False)), ids)
    np.testing.assert_array_equal(np.asarray(layer(ids)), ids)


def test_word_encoder_with_word_dropout_is_deterministic_at_inference() -> None:
    # Seeded: with 5 real words, "nothing dropped" had a 1-in-32 chance and failed the test.
    keras.utils.set_random_seed(0)
    ids = np.array([[3, 4, 5, 0], [6, 7, 0, 0]], dtype="int32")
    plain = WordEncoder(10, 4, 3)
    dropping = WordEncoder(10, 4, 3, word_dropout=0.5)
    plain(ids)
    dropping(ids)
    dropping.embedding.set_weights(plain.embedding.get_weights())
    dropping.rnn.set_weights(plain.rnn.get_weights())
    np.testing.assert_allclose(np.asarray(dropping(ids)[0]), np.asarray(plain(ids)[0]), atol=1e-6)
    assert not np.allclose(np.asarray(dropping(ids, training=True)[0]),
                           np.asarray(plain(ids)[0]), atol=1e-6)


def test_sentence_encoder_ignores_padded_steps() -> None:
    encoder = SentenceEncoder(gru_units=3)
    sentences = _inputs(5, (1, 3, 6))
    padded = np.concatenate([sentences, np.full((1, 2, 6), 9.0, "float32")], axis=1)
    mask = np.array([[1, 1, 1, 0, 0]], dtype=bool)  # garbage in the padded steps
    dense = encoder(sentences).numpy()
    sparse = encoder(padded, mask=mask).numpy()
    assert sparse.shape == (1, 5, 6)
    np.testing.assert_allclose(sparse[:, :3], dense, atol=1e-6)
    assert np.all(sparse[:, 3:] == 0.0)


def test_mask_free_bigru_equals_a_masked_keras_bidirectional_gru() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(6, 7, 5)).astype("float32")
    lengths = np.array([7, 1, 4, 0, 3, 6])
    mask = np.arange(7)[None, :] < lengths[:, None]
    ours = BidirectionalGRU(4)
    stock = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))
    ours.build(inputs.shape)
    stock.build(inputs.shape)
    stock.set_weights(ours.get_weights())
    expected = stock(inputs, mask=mask).numpy() * mask[..., None]
    np.testing.assert_allclose(ours(inputs, mask=mask).numpy(), expected, atol=1e-6)
    # The path a GPU takes (the two stock GRUs, cuDNN there) gives the same states.
    np.testing.assert_allclose(ours.stock(inputs, mask=mask).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("shape", [(0, 5, 4), (3, 5, 4), (2, 0, 4)], ids=["no-rows", "all-padding",
                                                                          "no-steps"])
def test_bigru_gives_zeros_for_a_batch_without_real_steps(shape, training) -> None:
    """Eager and compiled: the packed loops run zero steps (every row padding, or no row)."""
    layer = BidirectionalGRU(3)
    layer.build((None, None, 4))
    inputs = tf.random.normal(shape)
    mask = tf.zeros(shape[:2], tf.bool)
    compiled = tf.function(lambda x, m: layer(x, mask=m, training=training))
    for run in (lambda x, m: layer(x, mask=m, training=training), compiled):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            states = run(inputs, mask)
        assert states.shape == (*shape[:2], 6)
        assert np.all(states.numpy() == 0.0)
        gradient = tape.gradient(tf.reduce_sum(states), inputs)
        assert gradient is None or np.all(gradient.numpy() == 0.0)


def _stock_pair(units: int, width: int, seed: int = 0):
    """Our BiGRU and a stock masked Bidirectional(GRU) with the same non-trivial weights."""
    rng = np.random.default_rng(seed)
    ours = BidirectionalGRU(units)
    stock = keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True, name="gru"))
    ours.build((None, None, width))
    stock.build((None, None, width))
    # Non-zero biases too (Keras starts them at zero), so every bias term is checked.
    ours.set_weights([w + 0.3 * rng.normal(size=w.shape) for w in ours.get_weights()])
    stock.set_weights(ours.get_weights())
    return ours, stock


@pytest.mark.parametrize("training", [True, False])
def test_mask_free_bigru_has_the_gradients_of_a_masked_keras_bidirectional_gru(training) -> None:
    """training=True runs the hand-written gradient, False TensorFlow's through the bare loop."""
    inputs = tf.constant(_inputs(6, (6, 7, 5)))
    lengths = np.array([7, 1, 4, 0, 3, 6])
    mask = np.arange(7)[None, :] < lengths[:, None]
    ours, stock = _stock_pair(4, 5)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(inputs)
        got = ours(inputs, mask=mask, training=training)
        expected = stock(inputs, mask=mask) * mask[..., None]
        # A non-linear loss, so every output position weighs differently.
        got_loss, expected_loss = (tf.reduce_sum(tf.sin(3.0 * t)) for t in (got, expected))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-6)
    assert np.all(got.numpy()[~mask] == 0.0)
    ours_grads = tape.gradient(got_loss, [inputs, *ours.trainable_variables])
    stock_grads = tape.gradient(expected_loss, [inputs, *stock.trainable_variables])
    for a, b in zip(ours_grads, stock_grads, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def test_bigru_weights_keep_the_layout_of_a_stock_bidirectional_gru() -> None:
    """Names, shapes and order of the weights are those of `Bidirectional(GRU)` (and of the
    pre-#16 layer): `.keras` files saved before the fused loop still load."""
    ours, stock = _stock_pair(4, 5)

    def layout(layer: keras.layers.Layer) -> list[tuple[str, tuple[int, ...]]]:
        return [(w.path.split("/", 1)[1], tuple(w.shape)) for w in layer.weights]

    assert layout(ours) == layout(stock) == [
        (f"{direction}_gru/gru_cell/{name}", shape)
        for direction in ("forward", "backward")
        for name, shape in (("kernel", (5, 12)), ("recurrent_kernel", (4, 12)), ("bias", (2, 12)))
    ]


@pytest.mark.parametrize("training", [False, True])
def test_word_encoder_equals_embedding_then_a_masked_keras_bidirectional_gru(training) -> None:
    """The distinct-word projection (x W once per distinct word) changes no number, forward
    or backward, including the embedding's gradient."""
    ids = np.array([[3, 4, 3, 9, 0], [4, 4, 0, 0, 0], [0, 0, 0, 0, 0], [9, 8, 7, 3, 4]], "int32")
    encoder = WordEncoder(vocab_size=12, embedding_dim=6, gru_units=4)
    encoder(ids)
    _, stock = _stock_pair(4, 6, seed=1)
    encoder.rnn.set_weights(stock.get_weights())
    mask = ids != 0
    with tf.GradientTape(persistent=True) as tape:
        got, got_mask = encoder(ids, training=training)
        embedded = encoder.embedding(ids)
        expected = stock(embedded, mask=mask) * mask[..., None]
        got_loss, expected_loss = (tf.reduce_sum(tf.sin(3.0 * t)) for t in (got, expected))
    np.testing.assert_array_equal(got_mask.numpy(), mask)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-6)
    table = encoder.embedding.embeddings
    got_grads = tape.gradient(got_loss, [table, *encoder.rnn.trainable_variables])
    expected_grads = tape.gradient(expected_loss, [table, *stock.trainable_variables])
    for a, b in zip(got_grads, expected_grads, strict=True):
        np.testing.assert_allclose(tf.convert_to_tensor(a).numpy(),
                                   tf.convert_to_tensor(b).numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [
        AttentionPooling(7, name="att"),
        MaskedAveragePooling(),
        MaskedMaxPooling(),
        WordEncoder(30, 8, 4, embedding_dropout=0.1),
        WordEncoder(30, 8, 4, word_dropout=0.2),
        WordDropout(0.1, seed=3),
        SentenceEncoder(5, dropout=0.2),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_serialize(layer) -> None:
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(revived) is type(layer)
    assert revived.get_config() == layer.get_config()
