"""A bidirectional GRU over packed sequences: each step computes only the rows still running.

With the equations of Keras' GRU (`reset_after=True`, the cuDNN variant; Cho et al. 2014, the
paper's eqs. 1-4, whose update gate z_t is 1 - z_t here):

    z_t = σ(x_t W_z + b_z + h_{t-1} U_z + c_z)
    r_t = σ(x_t W_r + b_r + h_{t-1} U_r + c_r)
    h̃_t = tanh(x_t W_h + b_h + r_t ⊙ (h_{t-1} U_h + c_h))
    h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h̃_t

On CPU a step of a small GRU costs more in per-op overhead and memory traffic than in
arithmetic (docs/PERFORMANCE.md), so the layer does as little per step as it can:

- **Packing** (PyTorch's PackedSequence, by hand): rows are sorted by length, longest first, so
  at step t the rows still running are a prefix of n_t rows. Step t computes those n_t rows
  only; padded steps cost nothing, and no mask enters the loop.
- **x·W before the loop**: `x W + b` does not depend on the state, so it is one matrix product
  per direction over a table of distinct rows (the word encoder passes each distinct word of a
  batch once); each step gathers its rows of the table and computes `h_{t-1} U`. Reading the backward direction reversed within each
  row's length is a permutation of integer read indices, not of floats.
- **One loop per direction**: the two directions are independent, so TensorFlow runs their loops
  at the same time on two cores.
- **A hand-written gradient**: training saves, per step, the few terms the backward step needs
  (∂h_t/∂ of each pre-activation); the backward loop then carries dL/dh_{t-1} with one matrix
  product a step, and dU, the bias and the tables' gradients are single products or sums after
  the loop (han/layers/packed_gru.py). TensorFlow's own gradient of the same loop took 118 ms a
  step on the bench's batches against 65.

The result equals a masked `Bidirectional(GRU)` at every real step, forward and backward
(tests/test_layers.py); padded steps are zero. The weights stay those of two stock
`keras.layers.GRU` sublayers (`forward_gru`, `backward_gru`: kernel, recurrent_kernel, bias), so
`.keras` files saved by any earlier version load unchanged; on a GPU the layer runs those two
stock GRUs (cuDNN), since the packed loop was only measured on CPU, and so it does under XLA
(`runtime.jit_compile`), which cannot compile loops whose row count changes every step.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from han.layers.context import dense_paths
from han.layers.packed_gru import pack, packed_gru, scatter_states


@keras.saving.register_keras_serializable(package="han")
class BidirectionalGRU(keras.layers.Layer):
    """call(inputs (N, T, D), mask (N, T) bool, a prefix of each row) -> (N, T, 2·units).

    `run(rows, index, mask)` is the same for inputs given as a table of distinct rows (R, D)
    and an (N, T) index into it: the word encoder passes each distinct word of a batch once, so
    `x W` is computed per distinct word, not per position.
    """

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        # The weights (see the module docstring); run as layers only by `stock` (GPU, XLA).
        self.forward_gru = keras.layers.GRU(self.units, return_sequences=True, name="forward_gru")
        self.backward_gru = keras.layers.GRU(self.units, return_sequences=True, name="backward_gru")
        self.supports_masking = True  # the mask is an argument of call, not dropped

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.forward_gru.build(input_shape)
        self.backward_gru.build(input_shape)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        return self.run(*self.as_rows(inputs), mask, training=training)

    @staticmethod
    def as_rows(inputs: Any) -> tuple[Any, Any]:
        """inputs (N, T, D) as `run`'s table and index: one row per position."""
        shape = tf.shape(inputs)
        rows = tf.reshape(inputs, tf.stack([-1, shape[2]]))  # (N·T, D)
        return rows, tf.reshape(tf.range(shape[0] * shape[1]), shape[:2])  # (N, T)

    def run(self, rows: Any, index: Any, mask: Any = None, training: bool | None = None,
            real_only: bool = False) -> Any:
        """rows (R, D), index (N, T) int32 into rows, mask (N, T) -> states (N, T, 2·units).

        With `real_only`, the states of the real positions only, (P, 2·units) in the order of
        `tf.where(mask)` (row by row): what attention needs, without the padded grid. Training
        saves the terms of the hand-written gradient; inference runs the bare loop.
        """
        if dense_paths():  # a GPU (cuDNN beats any loop of ours) or XLA (static shapes only)
            states = self.stock(tf.gather(rows, index), mask)
            return tf.boolean_mask(states, mask) if real_only else states
        shape = tf.shape(index)
        count, time_steps = shape[0], shape[1]
        mask = tf.ones(shape, tf.bool) if mask is None else tf.cast(mask, tf.bool)
        packing = pack(mask)
        units = self.units
        sorted_index = tf.gather(index, packing.order)  # (N, T), longest row first
        position = [packing.step,  # forward: step t reads position t ...
                    tf.gather(tf.gather(packing.lengths, packing.order), packing.row) - 1
                    - packing.step]  # ... backward: position len - 1 - t
        states = []
        for gru, at in zip((self.forward_gru, self.backward_gru), position, strict=True):
            kernel, recurrent, bias = (tf.cast(tf.convert_to_tensor(w), rows.dtype)
                                       for w in (gru.cell.kernel, gru.cell.recurrent_kernel,
                                                 gru.cell.bias))
            # x W + b once per row; the gates' recurrent biases c_z, c_r are constants too.
            table = tf.matmul(rows, kernel) + (bias[0] + tf.pad(bias[1, : 2 * units], [[0, units]]))
            reads = tf.gather_nd(sorted_index, tf.stack([packing.row, at], 1))  # (P,)
            gates_table, candidate_table = tf.split(table, [2 * units, units], -1)
            states.append(packed_gru(gates_table, candidate_table, reads, recurrent,
                                     bias[1:, 2 * units :], packing, save=bool(training)))

        # Back to (N, T, 2H): slot (row i, position p) reads the forward state of step p and
        # the backward state of step len_i - 1 - p, of sorted row rank[i]; padding reads zero.
        real = tf.shape(packing.step)[0]  # P
        offsets = tf.concat([packing.offsets, [0]], 0)
        p = tf.range(time_steps)[None, :]  # (1, T)
        rank = packing.rank[:, None]  # (N, 1)
        forward_at = tf.gather(offsets, tf.minimum(p, tf.size(packing.sizes))) + rank
        backward_at = real + tf.gather(offsets, tf.maximum(packing.lengths[:, None] - 1 - p, 0)) + rank
        at = tf.stack([forward_at, backward_at], -1)  # (N, T, 2)
        if real_only:  # a permutation of the 2P packed states: its inverse is the gradient
            at = tf.reshape(tf.boolean_mask(at, mask), [-1])  # (2P,)
            outputs = scatter_states(tf.concat(states, 0), at, tf.math.invert_permutation(at))
            return tf.reshape(outputs, tf.stack([real, 2 * units]))  # (P, 2H)
        at = tf.reshape(tf.where(mask[..., None], at, 2 * real), [-1])  # (N·T·2,)
        is_real = at < 2 * real
        inverse = tf.scatter_nd(tf.boolean_mask(at, is_real)[:, None],
                                tf.boolean_mask(tf.range(tf.size(at)), is_real), [2 * real])
        outputs = scatter_states(tf.concat(states, 0), at, inverse)  # (N·T·2, H)
        return tf.reshape(outputs, tf.stack([count, time_steps, 2 * units]))

    def stock(self, inputs: Any, mask: Any = None) -> Any:
        """The same states from the two stock Keras GRUs (cuDNN on a GPU): the backward one
        reads each row reversed within its length. inputs (N, T, D) -> (N, T, 2·units)."""
        if mask is None:
            mask = tf.ones(tf.shape(inputs)[:2], dtype=tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)  # (N,)
        forward = self.forward_gru(inputs)
        backward = self.backward_gru(tf.reverse_sequence(inputs, lengths, seq_axis=1, batch_axis=0))
        backward = tf.reverse_sequence(backward, lengths, seq_axis=1, batch_axis=0)
        states = tf.concat([forward, backward], axis=-1)  # (N, T, 2H)
        return states * tf.cast(mask, states.dtype)[..., None]

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], 2 * self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}
