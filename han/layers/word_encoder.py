"""Word encoder: embedding + bidirectional GRU over the words of each sentence (section 2.2)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from han.layers.bigru import BidirectionalGRU

UNKNOWN_ID = 1  # the vocabulary's unknown-word id (han/data/vocab.py)


@keras.saving.register_keras_serializable(package="han")
class WordDropout(keras.layers.Layer):
    """Word dropout: each real word id becomes the unknown id with probability `rate`.

    Training only; padding (id 0) is never touched, so masks and padding invariance are
    unchanged. It teaches the model to classify from the words it knows when a document is full
    of unknown ones (rare names, a test period newer than training), instead of reading the
    unknown id itself as evidence for the class whose training documents held the most of it.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"model.word_dropout must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, word_ids: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0.0:
            return word_ids
        draw = keras.random.uniform(ops.shape(word_ids), seed=self.seed_generator)
        drop = ops.logical_and(draw < self.rate, ops.greater(word_ids, 0))
        return ops.where(drop, ops.full_like(word_ids, UNKNOWN_ID), word_ids)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="han")
class WordEncoder(keras.layers.Layer):
    """x_it = W_e w_it;  h_it = [GRU→(x_it), GRU←(x_it)]  (eqs. 5-7 minus the attention).

    call(word_ids (S, T) int) -> (states (S, T, 2·gru_units), mask (S, T) bool = ids != 0).
    `embeddings_initializer` is an initializer name or a (vocab_size, embedding_dim) matrix
    (e.g. word2vec); a matrix is copied in at build time and is not part of the config, since
    the trained weights are saved with the model anyway.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        gru_units: int,
        embedding_dropout: float = 0.0,
        embeddings_initializer: str | np.ndarray | None = None,
        word_dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.word_dropout_rate = float(word_dropout)
        # Only built when used: models and checkpoints without it keep their variables.
        self.word_dropout = (
            WordDropout(self.word_dropout_rate, name="word_dropout") if word_dropout else None
        )
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.gru_units = int(gru_units)
        self.embedding_dropout = float(embedding_dropout)
        self._matrix: np.ndarray | None = None
        initializer: Any = "uniform"
        if isinstance(embeddings_initializer, np.ndarray):
            expected = (self.vocab_size, self.embedding_dim)
            if embeddings_initializer.shape != expected:
                raise ValueError(
                    f"embedding matrix has shape {embeddings_initializer.shape}, expected "
                    f"{expected} (vocab_size, embedding_dim)"
                )
            self._matrix = embeddings_initializer
        elif embeddings_initializer is not None:
            initializer = embeddings_initializer
        self._initializer_name = initializer if isinstance(initializer, str) else None
        self.embedding = keras.layers.Embedding(
            self.vocab_size,
            self.embedding_dim,
            embeddings_initializer=initializer,
            name="embedding",
        )
        self.dropout = keras.layers.Dropout(self.embedding_dropout, name="embedding_dropout")
        self.rnn = BidirectionalGRU(self.gru_units, name="bigru")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.embedding.build(input_shape)
        if self._matrix is not None:
            self.embedding.embeddings.assign(self._matrix.astype("float32"))
        self.rnn.build((*input_shape, self.embedding_dim))

    def call(self, word_ids: Any, training: bool | None = None) -> tuple[Any, Any]:
        return self._encode(word_ids, training, real_only=False)

    def encode_real(self, word_ids: Any, training: bool | None = None) -> tuple[Any, Any]:
        """word_ids (S, T) -> (states of the real words (P, 2·gru_units), in `tf.where(mask)`
        order, and mask (S, T)): for attention, which needs no padded grid."""
        with tf.name_scope(self.name):  # as Keras' __call__ would: profiles file ops by layer
            return self._encode(word_ids, training, real_only=True)

    def _encode(self, word_ids: Any, training: bool | None, real_only: bool) -> tuple[Any, Any]:
        word_ids = ops.cast(word_ids, "int32")
        if self.word_dropout is not None:
            word_ids = self.word_dropout(word_ids, training=training)
        mask = ops.not_equal(word_ids, 0)
        if training and self.embedding_dropout > 0:
            # Dropout draws a mask per position, so every position needs its own embedding.
            embedded = self.dropout(self.embedding(word_ids), training=training)
            rows, index = BidirectionalGRU.as_rows(embedded)
        else:
            # x W of the GRUs once per distinct word of the batch rather than once per position
            # (a batch of 64 IMDB reviews holds ~4x fewer distinct words than positions); the
            # embedding's gradient then also has one row per distinct word.
            distinct, index = tf.unique(tf.reshape(word_ids, [-1]))  # (V_batch,), (S·T,)
            rows, index = self.embedding(distinct), tf.reshape(index, tf.shape(word_ids))
        with tf.name_scope(self.rnn.name):
            states = self.rnn.run(rows, index, mask, training=training, real_only=real_only)
        return states, mask

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "gru_units": self.gru_units,
            "embedding_dropout": self.embedding_dropout,
            "word_dropout": self.word_dropout_rate,
            "embeddings_initializer": self._initializer_name if self._matrix is None else None,
        }
