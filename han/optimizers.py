"""Keras' Adam and SGD with momentum, each variable updated by one fused TensorFlow kernel.

Keras 3 writes an update as a chain of separate ops (subtract, multiply, square, sqrt, divide,
three assigns), each a full pass over the variable that allocates its result. For the word
embedding (vocabulary × 200, most of the model's parameters) that chain was 14-20% of a HAN
training step on CPU (docs/PERFORMANCE.md), and it densified the embedding's sparse gradient
twice (once for each moment). Here the update is TensorFlow's `ResourceApplyAdam` /
`ResourceApplyKerasMomentum`: the same formulas Keras uses, term by term,

    Adam:  m += (g - m)(1 - β1);  v += (g² - v)(1 - β2);  θ -= α m / (√v + ε),
           α = lr √(1 - β2^t) / (1 - β1^t)
    SGD:   m = momentum · m - lr · g;  θ += m   (Nesterov: θ += momentum · m - lr · g)

in one multi-threaded pass, with a sparse gradient densified once. It is not a lazy update:
every row's moments decay every step, exactly as in Keras. Anything these kernels do not cover
(AMSGrad, other backends, a distribution strategy, a dtype mismatch) falls back to Keras' own
code, so the classes are drop-in replacements with the same variables and checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf

from han.schema import typed


def _fusable(gradient: Any, variable: Any) -> bool:
    return (
        keras.backend.backend() == "tensorflow"
        and not tf.distribute.has_strategy()
        and gradient.dtype == variable.dtype
    )


def _handle(variable: Any) -> Any:
    """The resource handle of a Keras or tf variable."""
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle


def _dense(gradient: Any) -> Any:
    # One densification (a sparse embedding gradient); Keras' chain does it once per moment.
    return tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) else gradient


@keras.saving.register_keras_serializable(package="han")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` (amsgrad=False) with one `ResourceApplyAdam` per variable."""

    def __init__(self, *args: Any, name: str = "adam", **kwargs: Any) -> None:
        super().__init__(*args, name=name, **kwargs)  # Keras' name: the same variable paths

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if self.amsgrad or not _fusable(gradient, variable):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), step),
            lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype),
            grad=_dense(gradient),
        )
        return None


@keras.saving.register_keras_serializable(package="han")
class FusedSGD(keras.optimizers.SGD):
    """`keras.optimizers.SGD` with momentum > 0, one `ResourceApplyKerasMomentum` per variable."""

    def __init__(self, *args: Any, name: str = "sgd", **kwargs: Any) -> None:
        super().__init__(*args, name=name, **kwargs)

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if self.momentum == 0 or not _fusable(gradient, variable):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        tf.raw_ops.ResourceApplyKerasMomentum(
            var=_handle(variable),
            accum=_handle(self.momentums[self._get_variable_index(variable)]),
            lr=tf.cast(learning_rate, dtype),
            grad=_dense(gradient),
            momentum=tf.cast(self.momentum, dtype),
            use_nesterov=bool(self.nesterov),
        )
        return None


def make_optimizer(cfg: Mapping):
    """Adam (default) or SGD with momentum 0.9 (the paper), with optional gradient clipping.

    `trainer` settings in; the classes below (each variable's update one fused kernel) out.
    """
    cfg = typed("trainer", cfg)
    name = str(cfg.optimizer)
    kwargs = {"learning_rate": float(cfg.learning_rate)}
    if cfg.clipnorm:
        kwargs["global_clipnorm"] = float(cfg.clipnorm)
    if name == "adam":
        optimizer = FusedAdam(**kwargs)
    elif name == "sgd":
        optimizer = FusedSGD(momentum=float(cfg.momentum), **kwargs)
    else:
        raise ValueError(f"trainer.optimizer must be adam or sgd, got {name!r}")
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer
