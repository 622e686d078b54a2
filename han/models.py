"""HAN (Yang et al. 2016) and the flat attention model (the reference network), built from `conf/model/*.yaml`.

Both models take one dense int32 id tensor (0 = padding only) and derive every mask from it.
`model(ids)` gives float32 class probabilities; `model.explain(ids)` adds the attention weights;
`model.probabilities(ids)` is `model(ids)` compiled once for batches of any shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from han.inference import InferenceModel
from han.layers import POOLING_KINDS, SentenceEncoder, WordEncoder, make_pooling
from han.layers.packing import from_grid, pack_sentences, to_grid
from han.table2.build import build_network  # also registers the Table 2 networks for loading
from han.table2.settings import network_of


class _Classifier(InferenceModel):
    """Shared tail (dropout → Dense → float32 softmax) and config for both models."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embedding_dim: int,
        gru_units: int,
        attention_dim: int,
        pooling: str = "attention",
        dropout: float = 0.0,
        embedding_dropout: float = 0.0,
        embedding_matrix: np.ndarray | None = None,
        word_dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if pooling not in POOLING_KINDS:
            raise ValueError(f"unknown pooling {pooling!r}; expected one of {POOLING_KINDS}")
        self.vocab_size = int(vocab_size)
        self.num_classes = int(num_classes)
        self.embedding_dim = int(embedding_dim)
        self.gru_units = int(gru_units)
        self.attention_dim = int(attention_dim)
        self.pooling = pooling
        self.dropout_rate = float(dropout)
        self.embedding_dropout = float(embedding_dropout)
        self.word_dropout = float(word_dropout)
        self.word_encoder = WordEncoder(
            self.vocab_size,
            self.embedding_dim,
            self.gru_units,
            embedding_dropout=self.embedding_dropout,
            embeddings_initializer=embedding_matrix,
            word_dropout=self.word_dropout,
            name="word_encoder",
        )
        self.word_attention = make_pooling(pooling, self.attention_dim, name="word_attention")

    def _add_classifier(self) -> None:
        """The document-level tail; subclasses add it last so summaries read bottom-up."""
        self.dropout = keras.layers.Dropout(self.dropout_rate, name="dropout")
        self.classifier = keras.layers.Dense(self.num_classes, name="classifier")
        # float32 softmax, so mixed_float16 training still gives well-formed probabilities.
        self.softmax = keras.layers.Activation("softmax", dtype="float32", name="probabilities")

    def _classify(self, document: Any, training: bool | None) -> Any:
        return self.softmax(self.classifier(self.dropout(document, training=training)))

    def get_config(self) -> dict[str, Any]:
        # The embedding matrix is left out: the trained embeddings are saved with the weights.
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "gru_units": self.gru_units,
            "attention_dim": self.attention_dim,
            "pooling": self.pooling,
            "dropout": self.dropout_rate,
            "embedding_dropout": self.embedding_dropout,
            "word_dropout": self.word_dropout,
        }



@keras.saving.register_keras_serializable(package="han")
class HierarchicalAttentionNetwork(_Classifier):
    """HN-ATT / HN-AVE / HN-MAX: words → sentence vectors → document vector → softmax.

    Input ids (B, L, T). Only the real sentences of the batch (S ≤ B·L) go through the word
    level: they are packed with `tf.boolean_mask`, encoded and pooled, then scattered back into a
    (B, L, 2H) grid for the sentence level. The grid is left-aligned (a document's k-th real
    sentence sits in row k), so empty sentence slots in the middle of a document are skipped
    exactly like masked steps, and the sentence mask stays right-padded as cuDNN requires.
    """

    input_rank = 3

    def __init__(
        self, *args: Any, sentence_dropout: float = 0.0, word_chunks: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sentence_dropout = float(sentence_dropout)
        self.word_chunks = max(1, int(word_chunks))
        self.sentence_encoder = SentenceEncoder(
            self.gru_units, dropout=self.sentence_dropout, name="sentence_encoder"
        )
        self.sentence_attention = make_pooling(
            self.pooling, self.attention_dim, name="sentence_attention"
        )
        self._add_classifier()

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _, max_sentences, max_words = input_shape
        states = 2 * self.gru_units
        self.word_encoder.build((None, max_words))
        self.word_attention.build((None, max_words, states))
        self.sentence_encoder.build((None, max_sentences, states))
        self.sentence_attention.build((None, max_sentences, states))
        self.classifier.build((None, states))

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        ids = tf.cast(ids, tf.int32)
        # Word level over the S real sentences only; sentence level on a left-aligned grid.
        packed = pack_sentences(ids)
        sentences, word_weights = self._read(packed.sentences, training)
        grid = to_grid(packed, sentences)
        states = self.sentence_encoder(grid, mask=packed.grid_mask, training=training)
        document, grid_weights = self.sentence_attention(states, mask=packed.grid_mask)

        # Attention back to the original (B, L) / (B, L, T) slots; 0 on padding.
        word_weights = tf.scatter_nd(packed.slots, word_weights, tf.shape(ids, out_type=tf.int64))
        return {
            "probabilities": self._classify(document, training),
            "word_attention": word_weights,
            "sentence_attention": from_grid(packed, grid_weights),
        }

    def _read(self, packed: Any, training: bool | None) -> tuple[Any, Any]:
        """Word encoder + word attention over packed sentences (S, T) → (S, 2H), (S, T).

        Sentences are sorted by length and read in `word_chunks` groups, each only as long as
        its own longest sentence; results go back to the original order. Each row is computed
        independently of the others, so the grouping changes no number. The packed BiGRU
        computes no padded step anyway, so one group (the default) is fastest: every distinct
        word is projected once per batch (docs/PERFORMANCE.md).
        """
        lengths = tf.reduce_sum(tf.cast(packed != 0, tf.int32), axis=1)
        order = tf.argsort(lengths)
        packed, lengths = tf.gather(packed, order), tf.gather(lengths, order)
        count, width = tf.shape(packed)[0], tf.shape(packed)[1]
        vectors, weights = [], []
        for k in range(self.word_chunks):
            start = count * k // self.word_chunks
            stop = count * (k + 1) // self.word_chunks
            # reduce_max of an empty group is the int32 minimum; a group reads at least 1 step.
            steps = tf.maximum(tf.reduce_max(lengths[start:stop]), 1)
            # Only the real words' states: attention pools them without a padded grid.
            words, mask = self.word_encoder.encode_real(packed[start:stop, :steps], training)
            vector, weight = self.word_attention.pool_real(words, mask)
            vectors.append(vector)
            weights.append(tf.pad(weight, [[0, 0], [0, width - steps]]))
        inverse = tf.math.invert_permutation(order)
        return tf.gather(tf.concat(vectors, 0), inverse), tf.gather(tf.concat(weights, 0), inverse)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "sentence_dropout": self.sentence_dropout,
            "word_chunks": self.word_chunks,
        }


@keras.saving.register_keras_serializable(package="han")
class FlatAttentionNetwork(_Classifier):
    """Embedding + BiGRU + attention over the first N words (ilivans/tf-rnn-attention).

    Input ids (B, N); `explain` gives `word_attention` (B, N).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_classifier()

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _, max_words = input_shape
        self.word_encoder.build((None, max_words))
        self.word_attention.build((None, max_words, 2 * self.gru_units))
        self.classifier.build((None, 2 * self.gru_units))

    def _forward(self, ids: Any, training: bool | None) -> dict[str, Any]:
        words, word_mask = self.word_encoder(tf.cast(ids, tf.int32), training=training)
        document, word_weights = self.word_attention(words, mask=word_mask)
        return {"probabilities": self._classify(document, training), "word_attention": word_weights}


FAMILIES = {"hierarchical": HierarchicalAttentionNetwork, "flat": FlatAttentionNetwork}


def build_model(
    model_cfg: Mapping[str, Any],
    vocab_size: int,
    num_classes: int,
    embedding_matrix: np.ndarray | None = None,
) -> keras.Model:
    """The model described by a `conf/model/*.yaml` group, built for ids of any shape.

    `model.embedding_dim=from_file` takes the size of `embedding_matrix` (pretrained vectors).
    """
    from han.schema import typed

    if network_of(model_cfg) is not None:  # the other networks of the paper's Table 2
        return build_network(model_cfg, vocab_size, num_classes, embedding_matrix)
    cfg = typed("model", model_cfg)
    family = str(cfg.family)
    if family not in FAMILIES:
        raise ValueError(f"model.family must be one of {sorted(FAMILIES)}, got {family!r}")
    if str(cfg.embedding_dim) == "from_file":
        if embedding_matrix is None:
            raise ValueError("model.embedding_dim=from_file needs model.embedding_init=pretrained "
                             "and model.embedding_path")
        embedding_dim = int(np.shape(embedding_matrix)[1])
    else:
        embedding_dim = int(cfg.embedding_dim)
    if embedding_matrix is not None:
        embedding_matrix = np.asarray(embedding_matrix, dtype="float32")
        if embedding_matrix.shape != (vocab_size, embedding_dim):
            raise ValueError(
                f"embedding matrix has shape {embedding_matrix.shape} but the model needs "
                f"(vocab_size, model.embedding_dim) = ({vocab_size}, {embedding_dim}); "
                "set model.embedding_dim to the vectors' size"
            )
    kwargs: dict[str, Any] = {
        "vocab_size": vocab_size,
        "num_classes": num_classes,
        "embedding_dim": embedding_dim,
        "gru_units": int(cfg.gru_units),
        "attention_dim": int(cfg.attention_dim),
        "pooling": str(cfg.pooling),
        "dropout": float(cfg.dropout),
        "embedding_dropout": float(cfg.embedding_dropout),
        "word_dropout": float(cfg.word_dropout),
        "embedding_matrix": embedding_matrix,
        "name": str(cfg.name),
    }
    if family == "hierarchical":
        kwargs["sentence_dropout"] = float(cfg.sentence_dropout)
        kwargs["word_chunks"] = int(cfg.word_chunks)
    model = FAMILIES[family](**kwargs)
    # Built with unknown sizes, so the saved build config and exports accept any L, T, N.
    model.build((None,) * model.input_rank)
    return model
