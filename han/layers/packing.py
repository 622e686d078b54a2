"""The real sentences of a batch, packed for the word level and unpacked onto a sentence grid.

Every hierarchical model here (HN-ATT/AVE/MAX, Conv-GRNN, LSTM-GRNN) reads documents the same
way: only the S ≤ B·L real sentences go through the word level (`tf.boolean_mask`), and their
vectors are scattered back onto a left-aligned (B, L, D) grid for the sentence level, so an empty
sentence slot in the middle of a document is skipped exactly like a padded one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tensorflow as tf


class PackedSentences(NamedTuple):
    """Where each real sentence of a (B, L, T) id tensor goes."""

    sentences: Any  # (S, T) the real sentences' ids, in row-major order
    sentence_mask: Any  # (B, L) bool: the slot holds a real sentence
    slots: Any  # (S, 2) int64: [document, slot] of each real sentence
    rank: Any  # (B, L) int64: the slot's row on the left-aligned grid (-1 before any)
    grid_mask: Any  # (B, L) bool: a prefix of each row, one True per real sentence


def pack_sentences(ids: Any) -> PackedSentences:
    """ids (B, L, T) int32, 0 = padding -> the real sentences and the grid they return to."""
    sentence_mask = tf.reduce_any(ids != 0, axis=-1)  # a sentence is real iff it has a word
    rank = tf.cumsum(tf.cast(sentence_mask, tf.int64), axis=1) - 1
    counts = tf.reduce_sum(tf.cast(sentence_mask, tf.int32), axis=1)
    return PackedSentences(
        sentences=tf.boolean_mask(ids, sentence_mask),
        sentence_mask=sentence_mask,
        slots=tf.where(sentence_mask),
        rank=rank,
        grid_mask=tf.sequence_mask(counts, maxlen=tf.shape(ids)[1]),
    )


def to_grid(packed: PackedSentences, vectors: Any) -> Any:
    """Sentence vectors (S, D) -> (B, L, D): sentence k of a document in row k, zeros after."""
    shape = tf.shape(packed.sentence_mask, out_type=tf.int64)
    rows = tf.stack([packed.slots[:, 0], tf.boolean_mask(packed.rank, packed.sentence_mask)], 1)
    width = tf.shape(vectors, out_type=tf.int64)[1]
    return tf.scatter_nd(rows, vectors, tf.stack([shape[0], shape[1], width]))


def from_grid(packed: PackedSentences, grid_values: Any) -> Any:
    """Per-row values of the grid (B, L) back to the original sentence slots; 0 on padding."""
    values = tf.gather(grid_values, tf.maximum(packed.rank, 0), batch_dims=1)
    return values * tf.cast(packed.sentence_mask, values.dtype)
