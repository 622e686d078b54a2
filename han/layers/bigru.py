"""A bidirectional GRU for right-padded sequences: one loop for both directions, no RNN mask.

Padding only ever follows a sequence's real steps, so a forward GRU's outputs at the real steps
never see it; and reading each sequence reversed within its own length turns the backward
direction into a forward pass over real steps too. The GRUs therefore run
unmasked (a masked RNN loop costs ~60% more on CPU, and cuDNN fails on fully masked rows,
tensorflow/tensorflow#43103). The result equals a masked `Bidirectional(GRU)` at every real
step; padded steps are set to zero.

The word-level BiGRU was three quarters of a training step (docs/PERFORMANCE.md), most of it
the input side `x_t W` inside every step and the reversal of the inputs. Hence, with the
equations of Keras' GRU (`reset_after=True`, the cuDNN variant; Cho et al. 2014, the paper's
eqs. 1-4, whose update gate z_t is 1 - z_t here):

    z_t = σ(x_t W_z + b_z + h_{t-1} U_z + c_z)
    r_t = σ(x_t W_r + b_r + h_{t-1} U_r + c_r)
    h̃_t = tanh(x_t W_h + b_h + r_t ⊙ (h_{t-1} U_h + c_h))
    h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h̃_t

- the input projections `x_t W + b` of every step and both directions are one matrix product
  before the loop, over a table of distinct rows (`run`: the word encoder passes each distinct
  word of a batch once); only `h_{t-1} U` stays inside the loop;
- one loop advances the forward and the backward GRU together: their states are one (2, N, H)
  tensor and each step is one batched (2, N, H)·(2, H, 3H) product, so the loop runs
  max(length) steps once instead of twice;
- the backward direction's reversal is a permutation of integer read indices, not of floats.

The weights stay those of two stock `keras.layers.GRU` sublayers (`forward_gru`,
`backward_gru`: kernel, recurrent_kernel, bias, in that order), so `.keras` files saved with the
earlier two-layer implementation load unchanged.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


def gru_recurrence(gate_inputs: Any, candidate_inputs: Any, recurrent_kernel: Any,
                   candidate_bias: Any, steps: Any) -> Any:
    """Runs G independent GRUs for `steps` steps from h_0 = 0, time-major throughout.

    gate_inputs (T, G, N, 2H) = x_t [W_z W_r] + [b_z + c_z, b_r + c_r] (both biases of the two
    gates are constants outside the loop), candidate_inputs (T, G, N, H) = x_t W_h + b_h,
    recurrent_kernel (G, H, 3H) = [U_z U_r U_h], candidate_bias (G, 1, H) = c_h.
    Returns the states (steps, G, N, H). G = 2 runs a forward and a backward GRU in one loop:
    each step is one batched matrix product for both, so the loop's fixed cost is paid once.
    """
    units = int(recurrent_kernel.shape[-2])  # static: the splits below need no shape ops
    dtype = gate_inputs.dtype
    gates_in = tf.TensorArray(dtype, size=tf.shape(gate_inputs)[0]).unstack(gate_inputs)
    candidates_in = tf.TensorArray(dtype, size=tf.shape(gate_inputs)[0]).unstack(candidate_inputs)
    outputs = tf.TensorArray(dtype, size=steps)
    state = tf.zeros(tf.concat([tf.shape(gate_inputs)[1:3], [units]], 0), dtype)  # (G, N, H)

    def step(t: Any, state: Any, outputs: Any) -> tuple[Any, Any, Any]:
        inner = tf.matmul(state, recurrent_kernel)  # h_{t-1} U, (G, N, 3H)
        h_gates, h_candidate = tf.split(inner, [2 * units, units], axis=-1)
        update, reset = tf.split(tf.sigmoid(gates_in.read(t) + h_gates), 2, axis=-1)
        candidate = tf.tanh(candidates_in.read(t) + reset * (h_candidate + candidate_bias))
        state = candidate + update * (state - candidate)  # = z h_{t-1} + (1 - z) h̃_t
        return t + 1, state, outputs.write(t, state)

    _, _, outputs = tf.while_loop(
        lambda t, *_: t < steps, step, (tf.constant(0), state, outputs), maximum_iterations=steps
    )
    return outputs.stack()


@tf.custom_gradient
def permute_rows(values: Any, index: Any, inverse: Any) -> Any:
    """values[index] for a permutation `index` of the rows; the gradient is one more gather
    (by the inverse permutation) instead of the scatter-add TensorFlow uses for any gather."""

    def gradient(upstream: Any) -> tuple[Any, None, None]:
        return tf.gather(upstream, inverse), None, None

    return tf.gather(values, index), gradient


def reversed_time(lengths: Any, steps: Any) -> Any:
    """(steps, N) int32: step t of the backward GRU reads position len-1-t of its row (t <
    len), and padded steps stay in place, so each column is a permutation of range(steps)."""
    t = tf.range(steps)[:, None]  # (steps, 1)
    return tf.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (steps, N)


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
        # The weights (see the module docstring); run as layers only by `stock`, on a GPU.
        self.forward_gru = keras.layers.GRU(self.units, return_sequences=True, name="forward_gru")
        self.backward_gru = keras.layers.GRU(self.units, return_sequences=True, name="backward_gru")
        self.supports_masking = True  # the mask is an argument of call, not dropped

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.forward_gru.build(input_shape)
        self.backward_gru.build(input_shape)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        shape = tf.shape(inputs)
        rows = tf.reshape(inputs, tf.stack([-1, shape[2]]))  # (N·T, D): one row per position
        index = tf.reshape(tf.range(shape[0] * shape[1]), shape[:2])  # (N, T)
        return self.run(rows, index, mask)

    def run(self, rows: Any, index: Any, mask: Any = None) -> Any:
        """rows (R, D), index (N, T) int32 into rows, mask (N, T) -> states (N, T, 2·units)."""
        if tf.config.list_logical_devices("GPU"):  # cuDNN's fused GRU beats any loop of ours
            return self.stock(tf.gather(rows, index), mask)
        shape = tf.shape(index)
        count, time_steps = shape[0], shape[1]
        if mask is None:
            mask = tf.ones(shape, dtype=tf.bool)
        mask = tf.cast(mask, tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)  # (N,)
        # No step past the longest row; at least one, so that an all-padding batch has outputs.
        steps = tf.minimum(tf.maximum(tf.reduce_max(tf.concat([lengths, [0]], 0)), 1), time_steps)
        cells = (self.forward_gru.cell, self.backward_gru.cell)
        kernel, recurrent, bias = (
            [tf.cast(tf.convert_to_tensor(getattr(c, name)), rows.dtype) for c in cells]
            for name in ("kernel", "recurrent_kernel", "bias")
        )

        # x W + b once per row and direction: a (2R, 3H) table, forward rows first. The
        # recurrent biases of the two gates are added here too, once, instead of every step.
        units = self.units
        table = tf.concat([
            tf.matmul(rows, k) + b[0] + tf.pad(b[1, : 2 * units], [[0, units]])
            for k, b in zip(kernel, bias, strict=True)
        ], 0)
        # Step t of the forward GRU reads position t, of the backward one position len-1-t.
        backward_time = reversed_time(lengths, steps)  # (steps, N)
        forward_rows = tf.transpose(index[:, :steps])  # (steps, N)
        backward_rows = tf.transpose(tf.gather(index, tf.transpose(backward_time), batch_dims=1))
        reads = tf.stack([forward_rows, backward_rows + tf.shape(rows)[0]], axis=1)  # (steps, 2, N)
        gate_inputs, candidate_inputs = tf.split(tf.gather(table, reads), [2 * units, units], -1)

        candidate_bias = tf.stack([bias[0][1:, 2 * units :], bias[1][1:, 2 * units :]])
        states = gru_recurrence(gate_inputs, candidate_inputs, tf.stack(recurrent),
                                candidate_bias, steps)  # (steps, 2, N, H)

        # Back to (N, steps, 2H) in one permutation: forward states in place, backward ones
        # un-reversed. Flat row of (step t, direction d, column n): (2t + d)·N + n.
        flat = tf.reshape(states, tf.stack([-1, self.units]))  # (steps·2·N, H)
        columns = tf.range(count)[None, :]
        forward_at = (2 * tf.range(steps)[:, None]) * count + columns  # (steps, N)
        backward_at = (2 * backward_time + 1) * count + columns
        order = tf.reshape(tf.transpose(tf.stack([forward_at, backward_at], -1), [1, 0, 2]), [-1])
        outputs = permute_rows(flat, order, tf.math.invert_permutation(order))
        outputs = tf.reshape(outputs, tf.stack([count, steps, 2 * self.units]))  # (N, steps, 2H)
        outputs = tf.pad(outputs, [[0, 0], [0, time_steps - steps], [0, 0]])  # (N, T, 2H)
        return outputs * tf.cast(mask, outputs.dtype)[..., None]

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
