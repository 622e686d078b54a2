"""Attention pooling with a learned context vector (Yang et al. 2016, section 2.2, eqs. 5-10)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from han.layers.context import dense_paths


def masked_softmax(scores: Any, mask: Any) -> Any:
    """Softmax over the positions where `mask` is true; exactly 0 elsewhere.

    Multiplies by the mask instead of adding a large negative constant, so nothing can overflow
    in float16 and a row without any valid position gives zeros rather than NaN.
    """
    scores = ops.cast(scores, "float32")
    valid = ops.cast(mask, "float32")
    lowest = ops.full_like(scores, -3.0e38)
    row_max = ops.max(ops.where(mask, scores, lowest), axis=-1, keepdims=True, initial=-3.0e38)
    # An empty row would subtract -3e38; shifting by 0 keeps every intermediate finite.
    row_max = ops.where(ops.any(mask, axis=-1, keepdims=True), row_max, ops.zeros_like(row_max))
    shifted = ops.where(mask, scores - ops.stop_gradient(row_max), ops.zeros_like(scores))
    exps = ops.exp(shifted) * valid
    total = ops.sum(exps, axis=-1, keepdims=True)
    return exps / ops.where(total > 0, total, ops.ones_like(total))


def weighted_sum(inputs: Any, weights: Any) -> Any:
    """Σ_t weights_t · inputs_t in float32, returned in the dtype of `inputs`."""
    pooled = ops.sum(ops.cast(inputs, "float32") * ops.expand_dims(weights, -1), axis=1)
    return ops.cast(pooled, inputs.dtype)


@keras.saving.register_keras_serializable(package="han")
class AttentionPooling(keras.layers.Layer):
    """u_t = tanh(W h_t + b);  α_t = softmax_t(u_tᵀ u);  output Σ_t α_t h_t.

    The same layer serves as word attention (over the words of a sentence) and sentence
    attention (over the sentences of a document). `u` is the learned context vector.

    call(inputs (N, T, D), mask (N, T) bool) -> (pooled (N, D), weights (N, T) float32).
    """

    def __init__(self, attention_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attention_dim = int(attention_dim)
        self.projection = keras.layers.Dense(
            self.attention_dim, activation="tanh", name="projection"
        )
        # Consumes the mask of its input; the pooled output has no time axis, so no mask.
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.projection.build(input_shape)
        # Not autocast: the scores are computed in float32 even under mixed_float16.
        self.context = self.add_weight(
            name="context",
            shape=(self.attention_dim,),
            initializer="random_normal",
            autocast=False,
        )

    def call(self, inputs: Any, mask: Any = None) -> tuple[Any, Any]:
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")
        if dense_paths():  # XLA cannot compile tf.where's data-dependent shape
            hidden = ops.cast(self.projection(inputs), "float32")
            weights = masked_softmax(ops.sum(hidden * ops.cast(self.context, "float32"), -1), mask)
            return weighted_sum(inputs, weights), weights
        # u_t and its score only at the real positions: padding (often half of a word grid)
        # would only cost the projection's time, and its weight is 0 anyway.
        positions = tf.where(mask)  # (P, 2)
        weights = self._weights(tf.gather_nd(inputs, positions), positions, mask)
        return weighted_sum(inputs, weights), weights

    def pool_real(self, values: Any, mask: Any) -> tuple[Any, Any]:
        """The same from the real positions' vectors only: values (P, D) in `tf.where(mask)`
        order, mask (N, T) -> (pooled (N, D), weights (N, T)); no padded grid is built."""
        with tf.name_scope(self.name):  # as Keras' __call__ would: profiles file ops by layer
            positions = tf.where(mask)  # (P, 2): row, position
            weights = self._weights(values, positions, mask)  # (N, T)
            alpha = tf.gather_nd(weights, positions)[:, None]  # (P, 1)
            pooled = tf.math.unsorted_segment_sum(ops.cast(values, "float32") * alpha,
                                                  positions[:, 0], tf.shape(mask)[0])
            return ops.cast(pooled, values.dtype), weights

    def _weights(self, values: Any, positions: Any, mask: Any) -> Any:
        """α (N, T) from the real positions' vectors (P, D) (eqs. 6-7 / 9-10)."""
        hidden = ops.cast(self.projection(values), "float32")  # u_t, (P, A)
        scores = ops.sum(hidden * ops.cast(self.context, "float32"), axis=-1)  # (P,)
        scores = tf.scatter_nd(positions, scores, tf.shape(mask, out_type=tf.int64))  # (N, T)
        return masked_softmax(scores, mask)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "attention_dim": self.attention_dim}
