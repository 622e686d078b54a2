"""A plain functional HAN over the full (B, L, T) grid, the way most public ports build it.

Every one of the L sentence slots goes through the word encoder, padding slots included, and
the GRUs are stock `Bidirectional(GRU)` layers driven by a mask. Attention is the project's own
masked `AttentionPooling`, so the reference computes the same function as
`HierarchicalAttentionNetwork` and differs only in how it gets there. Used by the benchmark to
measure what packing, length-sorted chunks and the mask-free BiGRU save.
"""

from __future__ import annotations

import keras
from keras import ops

from han.layers import AttentionPooling


def _masked_bigru(units: int, name: str) -> keras.layers.Bidirectional:
    return keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True), name=name)


def build_padded_han(
    vocab_size: int,
    num_classes: int,
    max_sentences: int,
    max_words: int,
    embedding_dim: int = 200,
    gru_units: int = 50,
    attention_dim: int = 100,
    *,
    time_distributed: bool = True,
) -> keras.Model:
    """Functional HN-ATT for ids (B, max_sentences, max_words).

    `time_distributed=True` wraps the word level in `TimeDistributed`, which in Keras 3 runs it
    once per sentence slot (L calls of batch B). `False` folds the slots into the batch instead
    (one call of batch B·L), which is what Keras 2's `TimeDistributed` did.
    """
    ids = keras.Input((max_sentences, max_words), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
    word_gru = _masked_bigru(gru_units, "word_bigru")
    word_attention = AttentionPooling(attention_dim, name="word_attention")

    def read(word_ids):
        mask = ops.not_equal(word_ids, 0)
        states = word_gru(embedding(word_ids), mask=mask)
        return word_attention(states, mask=mask)[0]

    if time_distributed:
        word_ids = keras.Input((max_words,), dtype="int32", name="word_ids")
        reader = keras.Model(word_ids, read(word_ids), name="sentence_reader")
        sentences = keras.layers.TimeDistributed(reader, name="time_distributed")(ids)
    else:
        sentence = read(ops.reshape(ids, (-1, max_words)))
        sentences = ops.reshape(sentence, (-1, max_sentences, 2 * gru_units))

    sentence_mask = ops.any(ops.not_equal(ids, 0), axis=-1)
    states = _masked_bigru(gru_units, "sentence_bigru")(sentences, mask=sentence_mask)
    document, _ = AttentionPooling(attention_dim, name="sentence_attention")(
        states, mask=sentence_mask
    )
    logits = keras.layers.Dense(num_classes, name="classifier")(document)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(
        logits
    )
    return keras.Model(ids, probabilities, name="padded_han")


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
