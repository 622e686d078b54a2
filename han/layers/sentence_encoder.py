"""Sentence encoder: bidirectional GRU over the sentence vectors of a document (section 2.2)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from han.layers.bigru import BidirectionalGRU


@keras.saving.register_keras_serializable(package="han")
class SentenceEncoder(keras.layers.Layer):
    """h_i = [GRU→(s_i), GRU←(s_i)]  (eqs. 8-9 minus the attention).

    call(sentences (B, L, D), mask (B, L) bool) -> states (B, L, 2·gru_units). The mask must be
    a prefix of each row (the model left-aligns a document's sentences); padded outputs are zero.
    """

    def __init__(self, gru_units: int, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gru_units = int(gru_units)
        self.dropout_rate = float(dropout)
        self.dropout = keras.layers.Dropout(self.dropout_rate, name="sentence_dropout")
        self.rnn = BidirectionalGRU(self.gru_units, name="bigru")
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.rnn.build(input_shape)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        inputs = self.dropout(inputs, training=training)
        return self.rnn(inputs, mask=mask, training=training)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gru_units": self.gru_units, "dropout": self.dropout_rate}
