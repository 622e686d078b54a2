"""The packed GRU recurrence and its hand-written gradient (han/layers/bigru.py's engine).

Rows sorted by length, longest first, so the rows still running at step t are a prefix of n_t
rows (`pack`); `gru_loop` computes only those each step, gathering its rows of the x·W tables
(equations in han/layers/bigru.py); `packed_gru` adds the gradient: the forward loop saves the
terms ∂h_t/∂(pre-activations) and z_t, the backward loop carries dL/dh_{t-1} with one product a
step, and dU, the bias and the tables' gradients are single products or sorted segment sums
after the loop.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tensorflow as tf


class Packing(NamedTuple):
    """Where each (step t, row) lives once rows are sorted by length, longest first.

    Packed position p (0 ≤ p < P, P = number of real positions) holds step `step[p]` of sorted
    row `row[p]`; step t's rows are positions offsets[t] : offsets[t] + sizes[t].
    """

    order: Any  # (N,) sorted row -> original row
    rank: Any  # (N,) original row -> sorted row
    lengths: Any  # (N,) original row lengths
    sizes: Any  # (steps,) rows still running at each step, non-increasing
    offsets: Any  # (steps,) first packed position of each step
    step: Any  # (P,)
    row: Any  # (P,) sorted row
    previous: Any  # (P,) packed position of the same row one step earlier; P at step 0


def pack(mask: Any) -> Packing:
    """The packing of right-padded rows; mask (N, T) bool, a prefix of each row."""
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)  # (N,)
    order = tf.argsort(lengths, direction="DESCENDING", stable=True)
    sorted_lengths = tf.gather(lengths, order)
    steps = tf.reduce_max(tf.concat([sorted_lengths, [0]], 0))
    running = tf.range(steps)[:, None] < sorted_lengths[None, :]  # (steps, N)
    sizes = tf.reduce_sum(tf.cast(running, tf.int32), axis=1)
    offsets = tf.cumsum(sizes, exclusive=True)
    where = tf.cast(tf.where(running), tf.int32)  # (P, 2), step-major: the packed order
    step, row = where[:, 0], where[:, 1]
    earlier = tf.gather(offsets, tf.maximum(step - 1, 0)) + row
    previous = tf.where(step > 0, earlier, tf.shape(step)[0])
    return Packing(order, tf.math.invert_permutation(order), lengths, sizes, offsets, step, row,
                   previous)


def _gradient_scope() -> str:
    """The layer's name scope, so a profile files the hand-written gradients' ops under it
    (TensorFlow runs a custom gradient in the scope of the `tape.gradient` call)."""
    scope = tf.get_current_name_scope()
    return f"{scope}/gradient/" if scope else "gradient/"


def _in_scope(scope: str) -> Any:
    def wrap(fn: Any) -> Any:
        def scoped(*args: Any) -> Any:
            with tf.name_scope(scope):
                return fn(*args)
        return scoped
    return wrap


def _array(dtype: Any, steps: Any, width: int) -> tf.TensorArray:
    """One (n_t, width) element per step, plus a last empty one (see `_concat`)."""
    return tf.TensorArray(dtype, size=steps + 1, infer_shape=False, element_shape=[None, width])


def _split(value: Any, sizes: Any) -> tf.TensorArray:
    """value (P, ...) as one element per step (sizes[t] rows each): reading an element is a
    reference, where slicing rows out of `value` every step would be a copy. A last empty
    element keeps a zero-step batch valid in eager mode (see `_concat`)."""
    return tf.TensorArray(value.dtype, size=tf.size(sizes) + 1, infer_shape=False,
                          element_shape=[None, *value.shape[1:]]
                          ).split(value, tf.concat([sizes, [0]], 0))


def _concat(array: tf.TensorArray, steps: Any, width: int) -> Any:
    """The elements stacked row-wise; the empty last element keeps a zero-step batch (every row
    padding) valid in eager mode, where concatenating no elements fails."""
    return array.write(steps, tf.zeros([0, width], array.dtype)).concat()


def gru_loop(gates_table: Any, candidate_table: Any, reads: Any, recurrent_kernel: Any,
             candidate_bias: Any, packing: Packing, save: bool) -> tuple[Any, ...]:
    """One GRU over packed positions -> states (P, H).

    Position p's inputs are rows `reads[p]` of gates_table (R, 2H) = x [W_z W_r] + [b_z + c_z,
    b_r + c_r] and candidate_table (R, H) = x W_h + b_h; each step gathers its own rows, so no
    (P, 3H) input tensor is ever built. With `save`, also three backward terms of each
    position: k (P, 3H), ∂h/∂ of the update and reset pre-activations and of h_{t-1}U_h (what
    the tile of dh multiplies); a (P, H), ∂h/∂ of the candidate pre-activation; z (P, H),
    ∂h/∂h_{t-1} along the direct path.
    """
    units = int(recurrent_kernel.shape[-2])  # static: the splits below need no shape ops
    sizes = packing.sizes
    steps = tf.size(sizes)
    dtype = gates_table.dtype
    step_reads = _split(reads, sizes)
    # Two products a step rather than one and a split (a copy); the bias add fuses into the
    # second (oneDNN's MatMul + BiasAdd).
    gates_kernel, candidate_kernel = recurrent_kernel[:, : 2 * units], recurrent_kernel[:, 2 * units :]
    candidate_bias = tf.reshape(candidate_bias, [units])

    def step(t: Any, state: Any, *arrays: Any) -> tuple[Any, ...]:
        state = state[: sizes[t]]  # the rows still running: a prefix
        rows = step_reads.read(t)
        gates = tf.sigmoid(tf.gather(gates_table, rows) + tf.matmul(state, gates_kernel))
        update, reset = tf.split(gates, 2, -1)
        recurrent = tf.nn.bias_add(tf.matmul(state, candidate_kernel), candidate_bias)  # h U_h + c_h
        candidate = tf.tanh(tf.gather(candidate_table, rows) + reset * recurrent)
        gap = state - candidate
        state = candidate + update * gap  # = z h_{t-1} + (1 - z) h̃_t
        out = [state]
        if save:
            keep = 1 - update
            d_candidate = keep * (1 - candidate * candidate)
            out += [tf.concat([gap * update * keep,  # ∂h/∂(update pre-activation)
                               d_candidate * recurrent * reset * (1 - reset),  # ∂h/∂(reset pre-act.)
                               d_candidate * reset], -1),  # ∂h/∂(h_{t-1} U_h)
                    d_candidate, update]
        return (t + 1, state, *(a.write(t, v) for a, v in zip(arrays, out, strict=True)))

    widths = [units, 3 * units, units, units] if save else [units]
    first = tf.concat([sizes, [0]], 0)[0]
    _, _, *arrays = tf.while_loop(
        lambda t, *_: t < steps, step,
        (tf.constant(0), tf.zeros(tf.stack([first, units]), dtype),
         *(_array(dtype, steps, w) for w in widths)),
    )
    return tuple(_concat(a, steps, w) for a, w in zip(arrays, widths, strict=True))


def packed_gru(gates_table: Any, candidate_table: Any, reads: Any, recurrent_kernel: Any,
               candidate_bias: Any, packing: Packing, save: bool) -> Any:
    """`gru_loop`'s states, differentiable through a hand-written backward loop when `save`."""
    if not save:
        return gru_loop(gates_table, candidate_table, reads, recurrent_kernel, candidate_bias,
                        packing, False)[0]
    units = int(recurrent_kernel.shape[-2])
    sizes = packing.sizes
    scope = _gradient_scope()

    @tf.custom_gradient
    def run(gates_table: Any, candidate_table: Any, kernel: Any, bias: Any) -> Any:
        states, k, a, z = gru_loop(gates_table, candidate_table, reads, kernel, bias, packing,
                                   save=True)

        @_in_scope(scope)
        def gradient(upstream: Any) -> tuple[Any, Any, Any, Any]:  # upstream (P, H) = ∂L/∂h
            steps = tf.size(sizes)
            dtype = upstream.dtype
            ups, ks, zs = (_split(v, sizes) for v in (upstream, k, z))

            def back(t: Any, carry: Any, d_states: Any) -> tuple[Any, Any, Any]:
                # ∂L/∂h_t: the loss's own, plus step t+1's (whose rows are a prefix of these).
                dh = ups.read(t) + tf.pad(carry, [[0, sizes[t] - tf.shape(carry)[0]], [0, 0]])
                d_inner = tf.tile(dh, [1, 3]) * ks.read(t)  # ∂L/∂(h_{t-1} U)
                carry = dh * zs.read(t) + tf.matmul(d_inner, kernel, transpose_b=True)
                return t - 1, carry, d_states.write(t, dh)

            _, _, d_states = tf.while_loop(
                lambda t, *_: t >= 0, back,
                (steps - 1, tf.zeros(tf.stack([steps * 0, units]), dtype),
                 _array(dtype, steps, units)),
            )
            dh = _concat(d_states, steps, units)  # (P, H)
            d_inner = tf.tile(dh, [1, 3]) * k  # (P, 3H)
            previous = tf.gather(tf.pad(states, [[0, 1], [0, 0]]), packing.previous)  # h_{t-1}
            d_kernel = tf.matmul(previous, d_inner, transpose_a=True)  # (H, 3H)
            d_bias = tf.reduce_sum(d_inner, axis=0, keepdims=True)[:, 2 * units :]  # (1, H)
            # The tables' gradients: each position's, summed per row. Sorted by row first,
            # TensorFlow's sorted segment sum reads and writes in order (~1.7x faster on CPU
            # than the unsorted one); one sort serves both tables.
            order = tf.argsort(reads, stable=True)
            rows = tf.gather(reads, order)
            d_tables = []
            for table, d_x in ((gates_table, d_inner[:, : 2 * units]), (candidate_table, dh * a)):
                summed = tf.math.segment_sum(tf.gather(d_x, order), rows)
                d_tables.append(tf.pad(summed, [[0, tf.shape(table)[0] - tf.shape(summed)[0]],
                                                [0, 0]]))
            return d_tables[0], d_tables[1], d_kernel, d_bias

        return states, gradient

    return run(gates_table, candidate_table, recurrent_kernel, candidate_bias)


def scatter_states(states: Any, index: Any, inverse: Any) -> Any:
    """[states; 0][index] where every row of `states` is read exactly once (and the zero row
    any number of times); the gradient is one gather by `inverse`, not a scatter-add."""
    scope = _gradient_scope()

    @tf.custom_gradient
    def run(states: Any) -> Any:
        @_in_scope(scope)
        def gradient(upstream: Any) -> Any:
            return tf.gather(upstream, inverse)

        return tf.gather(tf.pad(states, [[0, 1], [0, 0]]), index), gradient

    return run(states)
