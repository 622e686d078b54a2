"""The paper in one file: HN-ATT (Yang et al. 2016, section 2) over a padded (B, L, T) grid.

The specification of the model. It reads like the paper, one line per equation, and computes
what `han.models.HierarchicalAttentionNetwork` computes (tests/test_models.py holds the two equal
in outputs and gradients); the library's model differs only in how it gets there (packed real
sentences, a mask-free BiGRU with its own gradient, attention scored at real positions only).
The benchmarks (benchmarks/padded_reference.py) time it as the padded port public code writes.

Equations (section 2.1-2.4):
  (1)-(4)  GRU: z_t, r_t, h~_t, h_t                           keras GRU (reset_after form)
  word encoder:       x_it = W_e w_it;  h_it = [GRU->(x_it), GRU<-(x_it)]
  (5)  u_it = tanh(W_w h_it + b_w)
  (6)  a_it = exp(u_it' u_w) / sum_t exp(u_it' u_w)           over the real words only
  (7)  s_i  = sum_t a_it h_it
  sentence encoder:   h_i = [GRU->(s_i), GRU<-(s_i)]
  (8)  u_i  = tanh(W_s h_i + b_s)
  (9)  a_i  = exp(u_i' u_s) / sum_i exp(u_i' u_s)             over the real sentences only
  (10) v    = sum_i a_i h_i
  (11) p    = softmax(W_c v + b_c)
Padding (id 0) gets exactly zero attention; dropout is left out (it is off at inference).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["ContextAttention", "build_padded_han"]


@keras.saving.register_keras_serializable(package="han.paper")
class ContextAttention(keras.layers.Layer):
    """Eqs. (5)-(7) (words) and (8)-(10) (sentences): one learned context vector u."""

    def __init__(self, attention_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attention_dim = int(attention_dim)
        self.supports_masking = True  # the mask is `real`, given explicitly; none goes on

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        dim = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(dim, self.attention_dim))  # W
        self.bias = self.add_weight(name="bias", shape=(self.attention_dim,),
                                    initializer="zeros")                          # b
        self.context = self.add_weight(name="context", shape=(self.attention_dim,),
                                       initializer="random_normal")               # u_w / u_s

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def call(self, h: Any, real: Any) -> tuple[Any, Any]:
        """h (N, T, D), real (N, T) bool -> (pooled (N, D), a (N, T))."""
        u = ops.tanh(ops.matmul(h, self.kernel) + self.bias)              # (N, T, A)  eq 5 / 8
        score = ops.sum(u * self.context, axis=-1)                        # (N, T)     u_t' u
        score = ops.where(real, score, ops.full_like(score, -1e9))
        e = ops.exp(score - ops.max(score, axis=-1, keepdims=True))
        e = e * ops.cast(real, e.dtype)                                   # padding: exactly 0
        total = ops.sum(e, axis=-1, keepdims=True)
        a = e / ops.where(total > 0, total, ops.ones_like(total))         # (N, T)     eq 6 / 9
        return ops.sum(ops.expand_dims(a, -1) * h, axis=1), a             # (N, D)     eq 7 / 10


def _bigru(units: int, name: str) -> keras.layers.Bidirectional:
    """Eqs. (1)-(4) forwards and backwards, concatenated; a mask skips the padding."""
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
    """HN-ATT for ids (B, L, T) = (B, max_sentences, max_words); 0 is padding.

    `time_distributed=True` runs the word level once per sentence slot (Keras 3's
    `TimeDistributed`: L calls of batch B); `False` folds the slots into the batch (one call of
    batch B·L), as Keras 2's did. Every slot is encoded, padding included: the padded cost.
    """
    ids = keras.Input((max_sentences, max_words), dtype="int32", name="ids")   # (B, L, T)
    embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")  # W_e
    word_gru = _bigru(gru_units, "word_bigru")
    word_attention = ContextAttention(attention_dim, name="word_attention")

    def read(word_ids: Any) -> Any:
        """One sentence's words (N, T) -> its vector s_i (N, 2H)."""
        real = ops.not_equal(word_ids, 0)                                 # (N, T)
        x = embedding(word_ids)                                           # (N, T, E)  x_it
        h = word_gru(x, mask=real)                                        # (N, T, 2H) h_it
        return word_attention(h, real)[0]                                 # (N, 2H)    s_i

    if time_distributed:
        word_ids = keras.Input((max_words,), dtype="int32", name="word_ids")
        reader = keras.Model(word_ids, read(word_ids), name="sentence_reader")
        s = keras.layers.TimeDistributed(reader, name="time_distributed")(ids)  # (B, L, 2H)
    else:
        s = ops.reshape(read(ops.reshape(ids, (-1, max_words))),
                        (-1, max_sentences, 2 * gru_units))               # (B, L, 2H)
    real = ops.any(ops.not_equal(ids, 0), axis=-1)                        # (B, L) real sentences
    h = _bigru(gru_units, "sentence_bigru")(s, mask=real)                 # (B, L, 2H) h_i
    v, _ = ContextAttention(attention_dim, name="sentence_attention")(h, real)  # (B, 2H)
    logits = keras.layers.Dense(num_classes, name="classifier")(v)        # (B, C)  W_c v + b_c
    p = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)  # eq 11
    return keras.Model(ids, p, name="padded_han")
