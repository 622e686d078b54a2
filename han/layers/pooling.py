"""Masked average and max pooling (the paper's HN-AVE and HN-MAX baselines).

Both return `(pooled, weights)` like `AttentionPooling`, so every model variant can be explained
the same way: average gives uniform weights, max gives each position's share of argmax features.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from han.layers.attention import AttentionPooling, weighted_sum


def pool_real_on_grid(layer: keras.layers.Layer, values: Any, mask: Any) -> tuple[Any, Any]:
    """`pool_real` for a pooling that needs the grid: the real vectors scattered back into it."""
    shape = tf.concat([tf.shape(mask, out_type=tf.int64), tf.shape(values, out_type=tf.int64)[1:]], 0)
    return layer(tf.scatter_nd(tf.where(mask), values, shape), mask=mask)


def _valid_mask(inputs: Any, mask: Any) -> Any:
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype="bool")
    return ops.cast(mask, "bool")


@keras.saving.register_keras_serializable(package="han")
class MaskedAveragePooling(keras.layers.Layer):
    """Mean over the valid positions. call(inputs (N, T, D), mask (N, T)) -> ((N, D), (N, T))."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> tuple[Any, Any]:
        valid = ops.cast(_valid_mask(inputs, mask), "float32")
        count = ops.sum(valid, axis=-1, keepdims=True)
        weights = valid / ops.maximum(count, 1.0)
        return weighted_sum(inputs, weights), weights

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def pool_real(self, values: Any, mask: Any) -> tuple[Any, Any]:
        return pool_real_on_grid(self, values, mask)


@keras.saving.register_keras_serializable(package="han")
class MaskedMaxPooling(keras.layers.Layer):
    """Element-wise max over the valid positions; padding never wins, even against negatives.

    weights[n, t] = share of the D features whose argmax is position t (0 on padding), a
    readable stand-in for attention. A row with no valid position pools to zeros.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> tuple[Any, Any]:
        mask = _valid_mask(inputs, mask)
        values = ops.cast(inputs, "float32")
        lowest = ops.full_like(values, -3.0e38)
        candidates = ops.where(ops.expand_dims(mask, -1), values, lowest)
        has_valid = ops.any(mask, axis=-1, keepdims=True)  # (N, 1)
        best = ops.max(candidates, axis=1, initial=-3.0e38)  # initial: no eager error when N = 0
        pooled = ops.where(has_valid, best, ops.zeros_like(best))

        steps = ops.shape(inputs)[1]
        winners = ops.one_hot(ops.argmax(candidates, axis=1), steps, dtype="float32")  # (N, D, T)
        weights = ops.mean(winners, axis=1) * ops.cast(mask, "float32")
        return ops.cast(pooled, inputs.dtype), weights

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def pool_real(self, values: Any, mask: Any) -> tuple[Any, Any]:
        return pool_real_on_grid(self, values, mask)


POOLING_KINDS = ("attention", "average", "max")


def make_pooling(kind: str, attention_dim: int, name: str) -> keras.layers.Layer:
    """The pooling layer for `kind` ('attention' | 'average' | 'max')."""
    if kind == "attention":
        return AttentionPooling(attention_dim, name=name)
    if kind == "average":
        return MaskedAveragePooling(name=name)
    if kind == "max":
        return MaskedMaxPooling(name=name)
    raise ValueError(f"unknown pooling {kind!r}; expected one of {POOLING_KINDS}")
