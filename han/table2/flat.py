"""The flat networks of Table 2: a word CNN (Kim 2014), Zhang et al.'s (2015) small character
CNN and their LSTM. Each reads one (B, N) id tensor, 0 = padding only."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from han.layers import MaskedAveragePooling, MaskedMaxPooling
from han.layers.convolution import NgramConvolution
from han.table2.base import TableNetwork


@keras.saving.register_keras_serializable(package="han")
class WordCNN(TableNetwork):
    """Kim (2014), CNN-non-static: filters of each width over the words (eq. 2), max over time
    (eq. 3) of the windows that start at a real word, concatenated, dropout, softmax."""

    def __init__(self, filter_widths: list[int], filters: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filter_widths, self.filters = [int(w) for w in filter_widths], int(filters)
        self.convolutions = [NgramConvolution(self.filters, w, "relu", name=f"conv{w}")
                             for w in self.filter_widths]
        self.pooling = MaskedMaxPooling(name="max_over_time")
        self._add_classifier()

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_embedding()
        for conv in self.convolutions:
            conv.build((None, None, self.embedding_dim))
        self.classifier.build((None, self.filters * len(self.filter_widths)))

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        ids = tf.cast(ids, tf.int32)
        mask = ids != 0
        words = self.embedding(ids)
        pooled = [self.pooling(conv(words, mask=mask), mask=mask)[0] for conv in self.convolutions]
        return {"probabilities": self._classify(tf.concat(pooled, -1), training)}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filter_widths": self.filter_widths,
                "filters": self.filters}


@keras.saving.register_keras_serializable(package="han")
class MeanLSTM(TableNetwork):
    """Zhang et al. (2015), section 3.2: an LSTM over the words, the mean of its outputs over
    the real words (padding weighs exactly 0), then softmax."""

    def __init__(self, lstm_units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lstm_units = int(lstm_units)
        self.lstm = keras.layers.LSTM(self.lstm_units, return_sequences=True, name="lstm")
        self.mean = MaskedAveragePooling(name="mean")
        self._add_classifier()

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_embedding()
        self.lstm.build((None, None, self.embedding_dim))
        self.classifier.build((None, self.lstm_units))

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        ids = tf.cast(ids, tf.int32)
        mask = ids != 0
        # Right-padded rows: an output at a real word depends on the words before it only.
        outputs = self.lstm(self.embedding(ids), mask=mask, training=training)
        return {"probabilities": self._classify(self.mean(outputs, mask=mask)[0], training)}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "lstm_units": self.lstm_units}


# (filters' width, max pooling after it) of the six convolutions (Zhang et al. 2015, Table 1).
CHAR_LAYERS = ((7, 3), (7, 3), (3, None), (3, None), (3, None), (3, 3))
FIRST_CHAR_ID = 2  # 0 = padding, 1 = a character outside the alphabet (han/data/chars.py)


@keras.saving.register_keras_serializable(package="han")
class CharCNN(TableNetwork):
    """Zhang et al. (2015), the small model: one-hot characters (70 wide; padding, blanks and
    characters outside the alphabet are zero vectors), read backward, in a frame of l0 = 1014;
    six convolutions (256 features; widths 7, 7, 3, 3, 3, 3; max pooling 3 after the 1st, 2nd and
    6th), two fully connected layers of 1024 with dropout, softmax. Gaussian init (std 0.05).

    Input: character ids (B, n) as written (han/data/chars.py); the model reverses each row
    within its length and cuts or zero-pads it to the frame, so padding changes nothing.
    """

    def __init__(self, alphabet_size: int, max_chars: int, conv_filters: int,
                 hidden_units: int, init_stddev: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alphabet_size, self.max_chars = int(alphabet_size), int(max_chars)
        self.conv_filters, self.hidden_units = int(conv_filters), int(hidden_units)
        self.init_stddev = float(init_stddev)
        init = keras.initializers.RandomNormal(0.0, self.init_stddev, seed=None)
        self.convolutions, self.poolings = [], []
        for i, (width, pool) in enumerate(CHAR_LAYERS, 1):
            self.convolutions.append(keras.layers.Conv1D(
                self.conv_filters, width, activation="relu", kernel_initializer=init,
                name=f"conv{i}"))
            self.poolings.append(keras.layers.MaxPooling1D(pool, name=f"pool{i}") if pool else None)
        self.hidden = [keras.layers.Dense(self.hidden_units, activation="relu",
                                          kernel_initializer=init, name=f"fc{i}") for i in (7, 8)]
        self.hidden_dropout = [keras.layers.Dropout(self.dropout_rate, name=f"dropout{i}")
                               for i in (7, 8)]
        self._add_classifier(dropout=0.0)  # Zhang et al.: dropout between the FC layers only

    def frame_length(self) -> int:
        """Positions left after the six convolutions and three poolings."""
        length = self.max_chars
        for width, pool in CHAR_LAYERS:
            length = length - width + 1
            length = length // pool if pool else length
        return length

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if self.frame_length() < 1:
            raise ValueError(f"model.max_chars={self.max_chars} is too short for the six "
                             "convolutions; Zhang et al. use 1014")
        length, width = self.max_chars, self.alphabet_size
        for conv, pool in zip(self.convolutions, self.poolings, strict=True):
            conv.build((None, length, width))
            length, width = length - conv.kernel_size[0] + 1, self.conv_filters
            length = length // pool.pool_size[0] if pool else length
        self.hidden[0].build((None, length * width))
        self.hidden[1].build((None, self.hidden_units))
        self.classifier.build((None, self.hidden_units))

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        ids = tf.cast(ids, tf.int32)
        lengths = tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1)
        # Backward (section 2.2): the last character read lands at the start of the frame.
        ids = tf.reverse_sequence(ids, lengths, seq_axis=1, batch_axis=0)[:, : self.max_chars]
        ids = tf.pad(ids, [[0, 0], [0, self.max_chars - tf.shape(ids)[1]]])
        x = tf.one_hot(tf.reshape(ids, [-1, self.max_chars]) - FIRST_CHAR_ID, self.alphabet_size)
        for conv, pool in zip(self.convolutions, self.poolings, strict=True):
            x = conv(x)
            x = pool(x) if pool else x
        x = tf.reshape(x, [tf.shape(x)[0], self.frame_length() * self.conv_filters])
        for dense, dropout in zip(self.hidden, self.hidden_dropout, strict=True):
            x = dropout(dense(x), training=training)
        return {"probabilities": self._classify(x, training)}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alphabet_size": self.alphabet_size,
                "max_chars": self.max_chars, "conv_filters": self.conv_filters,
                "hidden_units": self.hidden_units, "init_stddev": self.init_stddev}
