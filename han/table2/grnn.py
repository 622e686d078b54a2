"""Conv-GRNN and LSTM-GRNN (Tang et al. 2015): sentence vectors by a CNN or an LSTM, a gated
recurrent network over the sentences, the mean of its states as the document, softmax.

They read the HAN's (B, L, T) view through the HAN's own packing (han/layers/packing.py): only
the real sentences reach the word level, and their vectors return on a left-aligned grid to the
same bidirectional GRU and masked mean that HN-AVE uses at the sentence level.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from han.layers import MaskedAveragePooling, SentenceEncoder
from han.layers.convolution import NgramConvolution
from han.layers.packing import pack_sentences, to_grid
from han.table2.base import TableNetwork


@keras.saving.register_keras_serializable(package="han")
class GatedRecurrentNetwork(TableNetwork):
    """`sentence_model` 'cnn' (Conv-GRNN) or 'lstm' (LSTM-GRNN).

    cnn (Tang et al., section 2.1): per width h, a linear filter bank over the words, averaged
    over the windows that start at a real word, then tanh; the widths' vectors averaged.
    lstm: an LSTM over the words, the mean of its outputs over the real words.
    Document (section 2.2, bidirectional, averaged): h_i = [GRU→(s_i); GRU←(s_i)],
    d = mean_i h_i over the real sentences.
    """

    input_rank = 3

    def __init__(self, sentence_model: str, gru_units: int, filters: int = 0,
                 filter_widths: list[int] | None = None, lstm_units: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if sentence_model not in ("cnn", "lstm"):
            raise ValueError(f"sentence_model must be cnn or lstm, got {sentence_model!r}")
        self.sentence_model, self.gru_units = sentence_model, int(gru_units)
        self.filters, self.lstm_units = int(filters), int(lstm_units)
        self.filter_widths = [int(w) for w in filter_widths or []]
        if sentence_model == "cnn":
            self.convolutions = [NgramConvolution(self.filters, w, name=f"conv{w}")
                                 for w in self.filter_widths]
            self.sentence_size = self.filters
        else:
            self.lstm = keras.layers.LSTM(self.lstm_units, return_sequences=True, name="lstm")
            self.sentence_size = self.lstm_units
        self.word_mean = MaskedAveragePooling(name="word_mean")
        self.sentence_encoder = SentenceEncoder(self.gru_units, name="sentence_encoder")
        self.sentence_mean = MaskedAveragePooling(name="sentence_mean")
        self._add_classifier()

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_embedding()
        if self.sentence_model == "cnn":
            for conv in self.convolutions:
                conv.build((None, None, self.embedding_dim))
        else:
            self.lstm.build((None, None, self.embedding_dim))
        self.sentence_encoder.build((None, None, self.sentence_size))
        self.classifier.build((None, 2 * self.gru_units))

    def _sentence_vectors(self, sentences: Any, training: bool | None) -> Any:
        """(S, T) ids of real sentences -> (S, sentence_size)."""
        mask = sentences != 0
        words = self.embedding(sentences)
        if self.sentence_model == "lstm":
            return self.word_mean(self.lstm(words, mask=mask, training=training), mask=mask)[0]
        vectors = [tf.tanh(self.word_mean(conv(words, mask=mask), mask=mask)[0])
                   for conv in self.convolutions]
        return tf.add_n(vectors) / float(len(vectors))

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        packed = pack_sentences(tf.cast(ids, tf.int32))
        grid = to_grid(packed, self._sentence_vectors(packed.sentences, training))
        states = self.sentence_encoder(grid, mask=packed.grid_mask, training=training)
        document, _ = self.sentence_mean(states, mask=packed.grid_mask)
        return {"probabilities": self._classify(document, training)}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sentence_model": self.sentence_model,
                "gru_units": self.gru_units, "filters": self.filters,
                "filter_widths": self.filter_widths, "lstm_units": self.lstm_units}
