"""HAN's forward pass with two handles the faithfulness tests need (docs/ATTENTION.md).

`probe(model, ids, ...)` computes what `model.explain(ids)` computes, from the model's own
layers and weights, and lets a caller

- scale each word embedding x_it (eq. 5) and each sentence vector s_i (eq. 8) by a given
  factor: at factor 1 the output is unchanged, and ∂p/∂factor = ∇_x p · x is gradient × input,
  the gradient importance of Jain & Wallace (NAACL 2019, section 3);
- replace the attention weights α_it (eq. 6) and α_i (eq. 9) by a function of them before they
  pool, e.g. a permutation among the real positions (`permute_real`).

It is a second implementation of the model's forward pass, so a test pins it to
`model.explain` (same probabilities and weights); `han/models.py` keeps its packed, faster path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from han.layers.attention import AttentionPooling
from han.layers.bigru import BidirectionalGRU
from han.layers.pooling import MaskedAveragePooling

Reweigh = Callable[[Any, Any], Any]  # (weights (N, T), mask (N, T)) -> new weights (N, T)


def check_probeable(model: Any) -> None:
    """A clear error for the models the probe cannot take apart."""
    if getattr(model, "input_rank", None) != 3:
        raise ValueError(
            f"the faithfulness tests need a hierarchical model (han, han_uniform); "
            f"{model.name} is flat: give a run of model=han"
        )
    if model.pooling not in ("attention", "average"):
        raise ValueError(
            f"the faithfulness tests need attention (or uniform) pooling, {model.name} pools by "
            f"{model.pooling!r}: its 'weights' do not weigh the annotations"
        )


def _pool(layer: Any, values: Any, positions: Any, mask: Any, reweigh: Reweigh | None) -> tuple[Any, Any]:
    """Σ_t α_t h_t over real positions: values (P, D) in `tf.where(mask)` order -> (N, D), (N, T)."""
    if isinstance(layer, AttentionPooling):
        weights = layer._weights(values, positions, mask)  # eqs. 6-7 / 9-10
    elif isinstance(layer, MaskedAveragePooling):
        valid = tf.cast(mask, tf.float32)
        weights = valid / tf.maximum(tf.reduce_sum(valid, -1, keepdims=True), 1.0)
    else:  # pragma: no cover - check_probeable rejects it first
        raise ValueError(f"cannot probe {type(layer).__name__}")
    if reweigh is not None:
        weights = reweigh(weights, mask) * tf.cast(mask, tf.float32)  # padding stays exactly 0
    alpha = tf.gather_nd(weights, positions)[:, None]
    pooled = tf.math.unsorted_segment_sum(tf.cast(values, tf.float32) * alpha, positions[:, 0],
                                          tf.shape(mask)[0])
    return pooled, weights


def _word_level(model: Any, packed: Any, scale: Any = None, reweigh: Reweigh | None = None,
                differentiable: bool = False) -> tuple[Any, Any]:
    """Eqs. 5-7 on real sentences (S, T), one per row: sentence vectors s_i (S, 2H) and α_it (S, T)."""
    word_mask = packed != 0
    encoder = model.word_encoder
    embedded = tf.cast(encoder.embedding(packed), tf.float32)  # x_it
    if scale is not None:
        embedded *= scale[..., None]
    rows, index = BidirectionalGRU.as_rows(embedded)
    words = encoder.rnn.run(rows, index, word_mask, training=differentiable, real_only=True)
    return _pool(model.word_attention, words, tf.where(word_mask), word_mask, reweigh)


def _sentence_level(model: Any, grid: Any, counts: Any,
                    reweigh: Reweigh | None = None) -> tuple[Any, Any]:
    """Eqs. 8-10 and the classifier on left-aligned sentence vectors (B, L, 2H), the first
    `counts` (B,) of each row real: probabilities (B, C) and α_i on the grid (B, L)."""
    grid_mask = tf.sequence_mask(counts, tf.shape(grid)[1])
    states = model.sentence_encoder(grid, mask=grid_mask, training=False)
    positions = tf.where(grid_mask)
    document, weights = _pool(model.sentence_attention, tf.gather_nd(states, positions),
                              positions, grid_mask, reweigh)
    return model._classify(document, False), weights


def probe(
    model: Any,
    ids: Any,
    word_scale: Any = None,
    sentence_scale: Any = None,
    word_reweigh: Reweigh | None = None,
    sentence_reweigh: Reweigh | None = None,
    differentiable: bool = False,
) -> dict[str, Any]:
    """`model.explain(ids)` in inference mode, with the handles above.

    ids (B, L, T); word_scale (B, L, T) and sentence_scale (B, L) float, or None (factor 1).
    `differentiable` runs the packed GRU's training path, which records its gradient (no
    dropout is applied either way). Returns probabilities (B, C), word_attention (B, L, T),
    sentence_attention (B, L).
    """
    ids = tf.cast(tf.convert_to_tensor(ids), tf.int32)
    sentence_mask = tf.reduce_any(ids != 0, axis=-1)  # (B, L)
    shape = tf.shape(ids, out_type=tf.int64)
    slots = tf.where(sentence_mask)  # (S, 2)
    packed = tf.boolean_mask(ids, sentence_mask)  # (S, T)
    if word_scale is not None:
        word_scale = tf.boolean_mask(tf.cast(word_scale, tf.float32), sentence_mask)
    sentences, word_weights = _word_level(model, packed, word_scale, word_reweigh, differentiable)
    if sentence_scale is not None:
        sentences *= tf.boolean_mask(tf.cast(sentence_scale, tf.float32), sentence_mask)[:, None]

    # The sentence level reads the sentences left-aligned, as the model does.
    rank = tf.cumsum(tf.cast(sentence_mask, tf.int64), axis=1) - 1
    rows = tf.stack([slots[:, 0], tf.boolean_mask(rank, sentence_mask)], axis=1)
    grid = tf.scatter_nd(rows, sentences, tf.stack([shape[0], shape[1], tf.shape(sentences, out_type=tf.int64)[1]]))
    counts = tf.reduce_sum(tf.cast(sentence_mask, tf.int32), 1)
    probabilities, grid_weights = _sentence_level(model, grid, counts, sentence_reweigh)

    sentence_weights = tf.gather(grid_weights, tf.maximum(rank, 0), batch_dims=1)
    sentence_weights *= tf.cast(sentence_mask, tf.float32)
    return {
        "probabilities": probabilities,
        "word_attention": tf.scatter_nd(slots, word_weights, shape),
        "sentence_attention": sentence_weights,
    }


def permute_real(seed: Any) -> Reweigh:
    """A reweigh function: each row's weights shuffled among its real positions (seeded; every
    row draws its own permutation). Padding keeps weight 0; the weights still sum to 1.
    """
    def shuffle(weights: Any, mask: Any) -> Any:
        size = tf.shape(mask)[1]
        key = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        keys = tf.random.stateless_uniform(tf.shape(mask), seed=key)
        order = tf.argsort(tf.where(mask, keys, 2.0), axis=1)  # real positions, shuffled, first
        real = tf.argsort(tf.where(mask, tf.range(size)[None, :], size), axis=1, stable=True)
        shuffled = tf.gather(weights, order, batch_dims=1)  # k-th: a random real weight
        return tf.gather(shuffled, tf.argsort(real, axis=1), batch_dims=1)  # to the k-th real slot
    return shuffle


def gradient_importance(model: Any, ids: Any) -> dict[str, Any]:
    """|∇_x p_ŷ · x| per word and |∇_s p_ŷ · s| per sentence (gradient × input, J&W section 3).

    p_ŷ is the probability of the predicted class. Returns numpy arrays: probabilities (B, C),
    word (B, L, T), sentence (B, L); 0 on padding.
    """
    ids = tf.cast(tf.convert_to_tensor(ids), tf.int32)
    word_scale = tf.ones(tf.shape(ids), tf.float32)
    sentence_scale = tf.ones(tf.shape(ids)[:2], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch([word_scale, sentence_scale])
        out = probe(model, ids, word_scale, sentence_scale, differentiable=True)
        probs = out["probabilities"]
        chosen = tf.reduce_sum(probs * tf.one_hot(tf.argmax(probs, -1), tf.shape(probs)[1]), -1)
    word, sentence = tape.gradient(chosen, [word_scale, sentence_scale])
    word *= tf.cast(ids != 0, tf.float32)
    sentence *= tf.cast(tf.reduce_any(ids != 0, -1), tf.float32)
    return {"probabilities": probs.numpy(), "word": tf.abs(word).numpy(),
            "sentence": tf.abs(sentence).numpy()}


def word_leave_one_out(model: Any, ids: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Probabilities (n, C) of one document (L, T) with each of its n real words removed, in
    reading order (as `erasure.leave_one_out(ids, "word")` lists them).

    The same numbers as running the model on the n erased documents, at a fraction of the cost:
    removing a word changes only its own sentence's vector s_i, so the other sentences are
    encoded once and only the n shortened sentences go through the word level. A sentence left
    without words is dropped, as the model skips an empty sentence.
    """
    from han.analysis.erasure import remove_words

    ids = np.asarray(ids)
    real = np.flatnonzero((ids != 0).any(-1))
    units = np.argwhere(ids != 0)  # (n, 2): slot, position
    rank = np.searchsorted(real, units[:, 0])  # the unit's sentence among the real ones
    shortened = remove_words(ids[units[:, 0]], np.eye(ids.shape[1], dtype=bool)[units[:, 1]])
    kept = (shortened != 0).any(-1)
    base = _compiled(model, "words")(tf.constant(ids[real], tf.int32))  # (Ls, D)
    changed = np.zeros((len(units), base.shape[1]), np.float32)
    for start in range(0, int(kept.sum()), batch_size):
        rows = shortened[kept][start : start + batch_size]
        changed[np.flatnonzero(kept)[start : start + batch_size]] = _compiled(model, "words")(tf.constant(rows, tf.int32)).numpy()
    # Source row of each grid slot: the document's own sentences, one of them replaced (row
    # n_real + j: variant j's shortened sentence) or, when it emptied, removed (the rest move up).
    n_real = len(real)
    source = np.tile(np.arange(n_real), (len(units), 1))
    source[np.arange(len(units)), rank] = n_real + np.arange(len(units))
    for j in np.flatnonzero(~kept):
        source[j] = np.append(np.delete(source[j], rank[j]), n_real + len(units))  # a zero row
    table = np.concatenate([base.numpy(), changed, np.zeros((1, base.shape[1]), np.float32)])
    counts = np.where(kept, n_real, n_real - 1).astype(np.int32)
    out = [_compiled(model, "document")(tf.constant(table[source[s : s + batch_size]]),
                                        tf.constant(counts[s : s + batch_size], tf.int32)).numpy()
           for s in range(0, len(units), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


_COMPILED: dict[tuple[int, str], Any] = {}


def _compiled(model: Any, part: str) -> Any:
    """The word level (sentences (S, T) -> s_i) or the sentence level (grid, counts ->
    probabilities) of `model`, traced once per model."""
    key = (id(model), part)
    if key not in _COMPILED:
        if part == "words":
            _COMPILED[key] = tf.function(lambda packed: _word_level(model, packed)[0],
                                         input_signature=[tf.TensorSpec([None, None], tf.int32)])
        else:
            _COMPILED[key] = tf.function(
                lambda grid, counts: _sentence_level(model, grid, counts)[0],
                input_signature=[tf.TensorSpec([None, None, None], tf.float32),
                                 tf.TensorSpec([None], tf.int32)])
    return _COMPILED[key]
