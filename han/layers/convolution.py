"""N-gram convolution over the real words only (Kim 2014, section 2; Tang et al. 2015, 2.1).

A filter of width h reads the window of words i .. i+h-1 for every real position i; words past
a row's end read as zero vectors, as Kim pads short sentences with zeros. Padding is zeroed
before the convolution and every window starts at a real word, so adding padding changes no
feature of a real window: pooling over the real window starts (`han.layers.pooling`) is exact.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="han")
class NgramConvolution(keras.layers.Layer):
    """c_i = f(W · [x_i; …; x_{i+h-1}] + b) at every position i (Kim 2014, eq. 2).

    call(inputs (N, T, D), mask (N, T) bool, a prefix of each row) -> (N, T, filters): the
    feature of the window starting at each position; the caller pools over `mask`.
    """

    def __init__(self, filters: int, width: int, activation: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters, self.width = int(filters), int(width)
        self.activation = activation
        self.conv = keras.layers.Conv1D(self.filters, self.width, padding="valid",
                                        activation=activation, name="conv")
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.conv.build((input_shape[0], None, input_shape[-1]))

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None:  # padding is a zero vector whatever its embedding learned
            inputs = inputs * tf.cast(mask, inputs.dtype)[..., None]
        # width - 1 zero vectors after the last position: every position starts a window.
        inputs = tf.pad(inputs, [[0, 0], [0, self.width - 1], [0, 0]])
        return self.conv(inputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "width": self.width,
                "activation": self.activation}
