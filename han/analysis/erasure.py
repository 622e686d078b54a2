"""Documents with words or sentences removed, and their predictions in batches.

A removed word is taken out of its sentence (the words after it move up one place, as if it had
never been written); a sentence left without words, and a removed sentence, become an empty
sentence slot, which the model skips exactly (tests/test_models.py). So an erased document is
a real, shorter document, not one with an "unknown" word in the hole.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def remove_words(ids: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """ids (..., T) with the words where `drop` is true removed and the rest moved left."""
    keep = (ids != 0) & ~drop
    order = np.argsort(~keep, axis=-1, kind="stable")  # kept words first, in their order
    return np.where(np.take_along_axis(keep, order, -1), np.take_along_axis(ids, order, -1), 0)


def remove_sentences(ids: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """ids (..., L, T) with the sentences where `drop` (..., L) is true emptied."""
    return np.where(drop[..., None], 0, ids)


def leave_one_out(ids: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Every variant of one document (L, T) missing one unit: (n, L, T) and the units' positions
    (n, 2) for words or (n,) for sentences, in reading order."""
    if level == "word":
        units = np.argwhere(ids != 0)  # (n, 2)
        drop = np.zeros((len(units), *ids.shape), dtype=bool)
        drop[np.arange(len(units)), units[:, 0], units[:, 1]] = True
        return remove_words(np.broadcast_to(ids, drop.shape), drop), units
    units = np.flatnonzero((ids != 0).any(-1))  # (n,)
    drop = np.zeros((len(units), ids.shape[0]), dtype=bool)
    drop[np.arange(len(units)), units] = True
    return remove_sentences(np.broadcast_to(ids, (len(units), *ids.shape)), drop), units


def remove_top(ids: np.ndarray, scores: np.ndarray, k: int, level: str) -> np.ndarray:
    """One document (L, T) without its k highest-scoring units (scores (L, T) or (L,); ties go
    to the earlier unit)."""
    real = ids != 0 if level == "word" else (ids != 0).any(-1)
    flat_scores = np.where(real, scores, -np.inf).ravel()
    top = np.argsort(-flat_scores, kind="stable")[:k]
    drop = np.zeros(real.size, dtype=bool)
    drop[top] = True
    drop = drop.reshape(real.shape)
    return remove_words(ids, drop) if level == "word" else remove_sentences(ids, drop)


def probabilities(model: Any, ids: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """model.probabilities over (N, L, T) in batches, each trimmed to its own used L and T."""
    out = []
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        used = batch != 0
        sentences = max(int(np.flatnonzero(used.any((0, 2))).max(initial=0)) + 1, 1)
        words = max(int(np.flatnonzero(used.any((0, 1))).max(initial=0)) + 1, 1)
        out.append(np.asarray(model.probabilities(batch[:, :sentences, :words])))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def tvd(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation distance ½ Σ_c |p_c − q_c| along the last axis."""
    return 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(-1)
