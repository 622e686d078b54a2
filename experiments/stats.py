"""The statistics of a comparison: Student-t intervals over runs, and the two paired tests over
documents (McNemar's exact test, the one-sided paired bootstrap)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def t_interval(values: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, sample std, and the 95% Student-t interval; NaN where n is too small."""
    n = len(values)
    mean = float(np.mean(values)) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    std = float(np.std(values, ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def mcnemar_exact(y_true: Sequence, pred_a: Sequence, pred_b: Sequence) -> float:
    """Two-sided exact McNemar p: binomial(0.5) test on the discordant pairs; 1.0 if none."""
    y = np.asarray(y_true)
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    b = int(np.sum(right_a & ~right_b))
    c = int(np.sum(~right_a & right_b))
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), b + c, 0.5)))


def paired_bootstrap(
    y_true: Sequence,
    pred_a: Sequence,
    pred_b: Sequence,
    n: int,
    seed: int,
    groups: Sequence | None = None,
) -> float:
    """One-sided p for "accuracy(b) - accuracy(a) <= 0" by resampling documents.

    Rows sharing a ``groups`` value (a document id seen under several seeds) are resampled
    together. Returns (k + 1) / (n + 1) with k the resamples where b does not beat a, so the
    p-value is never reported as exactly 0 from a finite number of resamples.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    y = np.asarray(y_true)
    diff = (np.asarray(pred_b) == y).astype(np.int64) - (np.asarray(pred_a) == y)
    if groups is not None:
        codes, _ = pd.factorize(pd.Series(np.asarray(groups)))
        diff = np.bincount(codes, weights=diff).astype(np.int64)
    m = len(diff)
    if m == 0:
        return math.nan
    rng = np.random.default_rng(seed)
    # The sign of the accuracy difference only depends on the summed per-document differences;
    # resample in chunks so 10k resamples of a large test set stay within a few tens of MB.
    chunk = max(1, 2_000_000 // m)
    not_better = 0
    for start in range(0, n, chunk):
        idx = rng.integers(0, m, size=(min(chunk, n - start), m))
        not_better += int(np.sum(diff[idx].sum(axis=1) <= 0))
    return (not_better + 1) / (n + 1)
