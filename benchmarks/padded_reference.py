"""Padded references, the way most public ports build them: the HAN is the paper's own
specification (`han.paper.build_padded_han`, every one of the L sentence slots encoded, stock
masked `Bidirectional(GRU)` layers), and a tutorial-style flat model. Used by the benchmark to
measure what packing, length-sorted chunks and the mask-free BiGRU save.
"""

from __future__ import annotations

import keras
from keras import ops

from han.layers import AttentionPooling
from han.paper import build_padded_han

__all__ = ["build_padded_flat", "build_padded_han"]


def _masked_bigru(units: int, name: str) -> keras.layers.Bidirectional:
    return keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True), name=name)


def build_padded_flat(
    vocab_size: int,
    num_classes: int,
    max_words: int,
    embedding_dim: int = 100,
    gru_units: int = 150,
    attention_dim: int = 50,
) -> keras.Model:
    """Tutorial-style flat model for ids (B, max_words): Embedding → masked Bidirectional(GRU)
    → attention, every document padded to `max_words` (as ilivans/tf-rnn-attention does)."""
    ids = keras.Input((max_words,), dtype="int32", name="ids")
    mask = ops.not_equal(ids, 0)
    embedded = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(ids)
    states = _masked_bigru(gru_units, "word_bigru")(embedded, mask=mask)
    document, _ = AttentionPooling(attention_dim, name="word_attention")(states, mask=mask)
    logits = keras.layers.Dense(num_classes, name="classifier")(document)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(
        logits
    )
    return keras.Model(ids, probabilities, name="padded_flat")
