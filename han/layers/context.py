"""Where a layer is being traced: the packed CPU code paths need neither XLA nor a GPU."""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.ops import control_flow_util  # no public API tells a jit_compile trace


def in_xla() -> bool:
    """True while tracing under `tf.function(jit_compile=True)` (`runtime.jit_compile`).

    XLA needs static shapes: the packed loops (per-step row counts) and `tf.where` over a mask
    do not compile, so layers take their dense paths there, as on a GPU.
    """
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def dense_paths() -> bool:
    """On a GPU (cuDNN's fused GRU beats any loop of ours) or under XLA."""
    return bool(tf.config.list_logical_devices("GPU")) or in_xla()
