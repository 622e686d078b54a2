"""The BiGRU of commit 905dcbf (before packing), kept so `make bench` can measure against it.

One time-major loop advances both directions over every row of a chunk for max(length) steps:
each step is one batched (2, N, H)·(2, H, 3H) product, padded steps included, and the gradient
is TensorFlow's own through the while loop. `benchmarks/variants.py` runs it as ``fused`` and
``distinct``; the library's packed layer is ``packed`` (han/layers/bigru.py).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from han.layers.bigru import BidirectionalGRU


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



def fused_run(self: BidirectionalGRU, rows: Any, index: Any, mask: Any = None,
              training: Any = None) -> Any:
    """The pre-packing `BidirectionalGRU.run`: one time-major loop advances both directions over
    every row for max(length) steps (a batched (2, N, H)·(2, H, 3H) product per step), with
    TensorFlow's own while-loop gradient."""
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

