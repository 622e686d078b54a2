"""What every network of the project is at its boundary: ids in, float32 probabilities out.

`model(ids)` gives class probabilities (B, C); `model.probabilities(ids)` is the same, compiled
once for every batch shape; `model.explain(ids)` adds the attention weights of a model that has
attention (`has_attention`); `model.export` serves int32 ids of any shape.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

# The one cache of compiled inference functions: model → {name: tf.function}. Kept outside the
# model, because a tf.function attribute would end up in SavedModel exports; weak keys, so a
# model's functions go with it.
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class NoAttention(TypeError):
    """`explain` of a model without attention (the CNN, LSTM and GRNN rows of Table 2)."""


class InferenceModel(keras.Model):
    """The shared boundary: `_forward(ids, training)` gives a dict with `probabilities` and,
    when `has_attention`, the attention weights (exactly 0 on padding)."""

    input_rank = 2  # (B, N) flat; hierarchical models (B, L, T)
    has_attention = True

    def call(self, inputs: Any, training: bool | None = False) -> Any:
        return self._forward(inputs, training=training)["probabilities"]

    def probabilities(self, ids: Any) -> Any:
        """`model(ids)` in inference mode, (B, C): what evaluation loops call, batch after batch.

        One trace with unknown dimensions serves every batch shape (batches vary in B, L, T).
        """
        spec = tf.TensorSpec((None,) * self.input_rank, tf.int32)
        compiled = self._compiled("probabilities", lambda model, x: model(x, training=False),
                                  input_signature=[spec])
        return compiled(tf.cast(tf.convert_to_tensor(ids), tf.int32))

    def explain(self, ids: Any) -> dict[str, Any]:
        """Probabilities and attention weights (exactly 0 on padding), in inference mode.

        Runs as a tf.function (about 10x faster than eager on CPU), traced for unknown sizes
        after the first few shapes.
        """
        if not self.has_attention:
            raise NoAttention(f"model {self.name!r} has no attention to explain its predictions "
                              "with; its predictions come from probabilities(ids)")
        compiled = self._compiled("explain", lambda model, x: model._forward(x, training=False),
                                  reduce_retracing=True)
        return compiled(tf.cast(tf.convert_to_tensor(ids), tf.int32))

    def _compiled(self, name: str, fn: Callable[[Any, Any], Any], **options: Any) -> Any:
        """`fn(self, ids)` as a tf.function, built on first use and kept in `_COMPILED`."""
        functions = _COMPILED.setdefault(self, {})
        if name not in functions:
            model = weakref.ref(self)  # a strong reference would keep the model alive forever
            functions[name] = tf.function(lambda ids: fn(model(), ids), **options)
        return functions[name]

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        raise NotImplementedError

    def export(
        self,
        filepath: Any,
        format: str = "tf_saved_model",
        verbose: bool | None = None,
        input_signature: Any = None,
        **kwargs: Any,
    ) -> Any:
        """`keras.Model.export` with int32 ids of any batch/sentence/word count by default."""
        if input_signature is None:
            shape = (None,) * self.input_rank
            input_signature = [tf.TensorSpec(shape, tf.int32, name="ids")]
        return super().export(
            filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InferenceModel:
        return cls(**config)
