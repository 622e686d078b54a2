"""A plain functional HAN over the full (B, L, T) grid, the way most public ports build it.

Every one of the L sentence slots goes through the word encoder, padding slots included; the
layers and masks are the project's own, so it computes the same function as
`HierarchicalAttentionNetwork` with attention pooling. Used only by the benchmark, to measure
what packing the real sentences saves.
"""

from __future__ import annotations

import keras
from keras import ops

from han.layers import AttentionPooling, SentenceEncoder, WordEncoder


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
    word_encoder = WordEncoder(vocab_size, embedding_dim, gru_units, name="word_encoder")
    word_attention = AttentionPooling(attention_dim, name="word_attention")

    if time_distributed:
        word_ids = keras.Input((max_words,), dtype="int32", name="word_ids")
        states, word_mask = word_encoder(word_ids)
        sentence, _ = word_attention(states, mask=word_mask)
        reader = keras.Model(word_ids, sentence, name="sentence_reader")
        sentences = keras.layers.TimeDistributed(reader, name="time_distributed")(ids)
    else:
        states, word_mask = word_encoder(ops.reshape(ids, (-1, max_words)))
        sentence, _ = word_attention(states, mask=word_mask)
        sentences = ops.reshape(sentence, (-1, max_sentences, 2 * gru_units))

    sentence_mask = ops.any(ops.not_equal(ids, 0), axis=-1)
    states = SentenceEncoder(gru_units, name="sentence_encoder")(sentences, mask=sentence_mask)
    document, _ = AttentionPooling(attention_dim, name="sentence_attention")(
        states, mask=sentence_mask
    )
    logits = keras.layers.Dense(num_classes, name="classifier")(document)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(
        logits
    )
    return keras.Model(ids, probabilities, name="padded_han")
