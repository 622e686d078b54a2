"""The earlier ways of running `BidirectionalGRU`, to measure each lead of issue #16 on its own.

`use(model, name)` switches every `BidirectionalGRU` of a built model to one implementation,
weights untouched, so the variants run in one process on the same weights and batches:

- ``stock``: two `keras.layers.GRU` loops, each projecting `x_t W` inside every step (before #16);
- ``projected``: the input projections of all steps in one product before the loop, but still
  one loop per direction;
- ``fused``: projections up front and one loop for both directions, still projecting every
  position of the word grid;
- ``distinct``: as fused, but the word encoder projects each distinct word of a batch once
  (the library's code at 905dcbf, benchmarks/fused_bigru.py);
- ``packed``: the library's own layer: packed rows, one loop per direction, a hand-written
  gradient (han/layers/bigru.py).

``stock``, ``projected`` and ``fused`` also give the word encoder its pre-#16 call (embed every
position, then the BiGRU).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from benchmarks.fused_bigru import fused_run, gru_recurrence
from han.layers.bigru import BidirectionalGRU
from han.layers.word_encoder import WordEncoder


def stock_call(self: BidirectionalGRU, inputs: Any, mask: Any = None, training: Any = None) -> Any:
    """The pre-#16 call: Keras' own GRU loops, one per direction (the layer's GPU path)."""
    return self.stock(inputs, mask)


def projected_call(
    self: BidirectionalGRU, inputs: Any, mask: Any = None, training: Any = None
) -> Any:
    """Input projections before the loop (lead 1) without fusing the directions (lead 2)."""
    if mask is None:
        mask = tf.ones(tf.shape(inputs)[:2], dtype=tf.bool)
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    steps = tf.maximum(tf.reduce_max(tf.concat([lengths, [0]], 0)), 1)
    time_major = tf.transpose(inputs[:, :steps], [1, 0, 2])  # (steps, N, D)
    outputs = []
    for gru, backwards in ((self.forward_gru, False), (self.backward_gru, True)):
        cell = gru.cell
        kernel, recurrent, bias = (
            tf.cast(tf.convert_to_tensor(w), inputs.dtype)
            for w in (cell.kernel, cell.recurrent_kernel, cell.bias)
        )
        units = self.units
        projected = tf.tensordot(time_major, kernel, 1) + bias[0]  # (steps, N, 3H)
        projected += tf.pad(bias[1, : 2 * units], [[0, units]])
        if backwards:
            projected = tf.reverse_sequence(projected, lengths, seq_axis=0, batch_axis=1)
        gates, candidates = tf.split(projected[:, None], [2 * units, units], axis=-1)
        states = gru_recurrence(gates, candidates, recurrent[None], bias[None, 1:, 2 * units :],
                                steps)[:, 0]  # (steps, N, H)
        if backwards:
            states = tf.reverse_sequence(states, lengths, seq_axis=0, batch_axis=1)
        outputs.append(states)
    states = tf.transpose(tf.concat(outputs, axis=-1), [1, 0, 2])
    states = tf.pad(states, [[0, 0], [0, tf.shape(inputs)[1] - steps], [0, 0]])
    return states * tf.cast(mask, states.dtype)[..., None]


def per_position_call(self: WordEncoder, word_ids: Any, training: Any = None) -> tuple[Any, Any]:
    """The pre-#16 word encoder: embed every position of the grid, then the BiGRU."""
    word_ids = tf.cast(word_ids, tf.int32)
    if self.word_dropout is not None:
        word_ids = self.word_dropout(word_ids, training=training)
    mask = tf.not_equal(word_ids, 0)
    embedded = self.dropout(self.embedding(word_ids), training=training)
    return self.rnn(embedded, mask=mask, training=training), mask


def fused_call(self: BidirectionalGRU, inputs: Any, mask: Any = None, training: Any = None) -> Any:
    return fused_run(self, *self.as_rows(inputs), mask)


def per_position_real(self: WordEncoder, word_ids: Any, training: Any = None) -> tuple[Any, Any]:
    """`WordEncoder.encode_real` on top of the pre-#16 call: the grid, then its real positions."""
    states, mask = per_position_call(self, word_ids, training)
    return tf.boolean_mask(states, mask), mask


def fused_run_real(self: BidirectionalGRU, rows: Any, index: Any, mask: Any = None,
                   training: Any = None, real_only: bool = False) -> Any:
    """`fused_run` behind the library's `run` signature (real positions cut from the grid)."""
    states = fused_run(self, rows, index, mask)
    return tf.boolean_mask(states, mask) if real_only else states


CALLS: dict[str, Callable[..., Any]] = {
    "stock": stock_call,
    "projected": projected_call,
    "fused": fused_call,
    "distinct": fused_call,
    "packed": BidirectionalGRU.call,
}
VARIANTS = tuple(CALLS)
PER_POSITION = ("stock", "projected", "fused")  # the word encoder's pre-#16 call


def use(model: keras.Model, name: str) -> keras.Model:
    """Every `BidirectionalGRU` (and word encoder) in `model` runs variant `name` from now on."""
    if name not in CALLS:
        raise ValueError(f"unknown variant {name!r}; expected one of {VARIANTS}")
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, BidirectionalGRU):
            layer.call = types.MethodType(CALLS[name], layer)
            if name == "distinct":
                layer.run = types.MethodType(fused_run_real, layer)
        if isinstance(layer, WordEncoder) and name in PER_POSITION:
            layer.call = types.MethodType(per_position_call, layer)
            layer.encode_real = types.MethodType(per_position_real, layer)
    return model
