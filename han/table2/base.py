"""What the Table 2 networks share: word embeddings (random or a given matrix), the classifier
tail (dropout → Dense → float32 softmax) and their config; none of them has attention."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from han.inference import InferenceModel


class TableNetwork(InferenceModel):
    """A network without attention: `explain` raises `NoAttention`; `probabilities` serves."""

    has_attention = False

    def __init__(self, num_classes: int, dropout: float = 0.0, vocab_size: int = 0,
                 embedding_dim: int = 0, embedding_matrix: np.ndarray | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_classes, self.dropout_rate = int(num_classes), float(dropout)
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self._matrix = embedding_matrix
        if embedding_matrix is not None and embedding_matrix.shape != (vocab_size, embedding_dim):
            raise ValueError(
                f"embedding matrix has shape {embedding_matrix.shape} but the model needs "
                f"(vocab_size, model.embedding_dim) = ({vocab_size}, {embedding_dim}); "
                "set model.embedding_dim to the vectors' size")
        self.embedding = (keras.layers.Embedding(self.vocab_size, self.embedding_dim,
                                                 embeddings_initializer="uniform", name="embedding")
                          if self.embedding_dim else None)

    def _add_classifier(self, dropout: float | None = None) -> None:
        """Added last, so summaries read bottom-up; `dropout` before it (default: model.dropout)."""
        rate = self.dropout_rate if dropout is None else dropout
        self.dropout = keras.layers.Dropout(rate, name="dropout")
        self.classifier = keras.layers.Dense(self.num_classes, name="classifier")
        self.softmax = keras.layers.Activation("softmax", dtype="float32", name="probabilities")

    def _classify(self, document: Any, training: bool | None) -> Any:
        return self.softmax(self.classifier(self.dropout(document, training=training)))

    def _build_embedding(self) -> None:
        """The embedding, with word2vec (or pretrained) vectors copied in when given."""
        if self.embedding is None:
            return
        self.embedding.build((None, None))
        if self._matrix is not None:
            self.embedding.embeddings.assign(np.asarray(self._matrix, "float32"))

    def get_config(self) -> dict[str, Any]:
        # The matrix is left out: the trained embeddings are saved with the weights.
        return {**super().get_config(), "num_classes": self.num_classes,
                "dropout": self.dropout_rate, "vocab_size": self.vocab_size,
                "embedding_dim": self.embedding_dim}
