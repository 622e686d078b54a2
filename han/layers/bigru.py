"""A bidirectional GRU for right-padded sequences that needs no RNN mask.

Padding only ever follows a sequence's real steps, so a forward GRU's outputs at the real steps
never see it; and reversing each sequence within its own length (`tf.reverse_sequence`) turns
the backward direction into a forward pass over real steps too. The GRUs therefore run
unmasked, which on CPU saves the masked RNN loop's ~60% overhead and on GPU keeps cuDNN away
from fully masked rows (tensorflow/tensorflow#43103). The result equals a masked
`Bidirectional(GRU)` at every real step; padded steps are set to zero.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="han")
class BidirectionalGRU(keras.layers.Layer):
    """call(inputs (N, T, D), mask (N, T) bool, a prefix of each row) -> (N, T, 2·units)."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.forward_gru = keras.layers.GRU(self.units, return_sequences=True, name="forward_gru")
        self.backward_gru = keras.layers.GRU(self.units, return_sequences=True, name="backward_gru")
        self.supports_masking = True  # the mask is an argument of call, not dropped

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.forward_gru.build(input_shape)
        self.backward_gru.build(input_shape)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        if mask is None:
            mask = tf.ones(tf.shape(inputs)[:2], dtype=tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        forward = self.forward_gru(inputs, training=training)
        reversed_inputs = tf.reverse_sequence(inputs, lengths, seq_axis=1, batch_axis=0)
        backward = self.backward_gru(reversed_inputs, training=training)
        backward = tf.reverse_sequence(backward, lengths, seq_axis=1, batch_axis=0)
        states = tf.concat([forward, backward], axis=-1)
        return states * tf.cast(mask, states.dtype)[..., None]

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], 2 * self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}
