"""The statistics of a comparison, all over documents, every seed's rows of a document together.

A comparison pairs two models on the same test documents. Seeds of one model usually share
their test documents (IMDB's official test set) or overlap with each other (k-fold), so
per-seed tests are not independent and cannot be combined as if they were. Both tools here
therefore treat the *document* as the unit: a document's rows from every paired seed move
together.

- `paired_permutation`: the two-sided paired approximate randomisation test (Noreen 1989;
  recommended for NLP by Riezler & Maxwell 2005 and Dror et al. 2018). Under H0 the two models
  are exchangeable on each document, so each document's summed difference in correct
  predictions, d_i, keeps or flips its sign with probability 1/2; p is the share of sign
  patterns whose |sum| reaches the observed one. It is scipy's
  `permutation_test(..., permutation_type="samples")` on (d_i, 0) pairs, enumerated exactly when
  2^n is at most the number of resamples (tested equal).
- `bootstrap_intervals`: percentile intervals (Efron & Tibshirani 1993, ch. 13) of pooled
  accuracy, resampling documents. Accuracies of resamples stay inside [0, 1], unlike a Student-t
  interval from 2-3 seeds.
- `holm`: Holm's (1979) step-down adjustment over every test of one table.

What none of them captures: the training randomness a new seed would bring beyond the seeds run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product

import numpy as np
import pandas as pd

LEVEL = 0.95


def per_document(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sums of `columns` per document `id` (every seed's rows together), and rows per document.

    Returns ((documents, len(columns)) float array, (documents,) counts), documents in order of
    first appearance.
    """
    codes, _ = pd.factorize(frame["id"])
    n = int(codes.max()) + 1 if len(codes) else 0
    sums = np.stack([np.bincount(codes, weights=frame[c].to_numpy(dtype=float), minlength=n)
                     for c in columns], axis=1)
    return sums, np.bincount(codes, minlength=n).astype(float)


def paired_permutation(diff: np.ndarray, n_resamples: int, seed: int) -> float:
    """Two-sided p of H0 "the two models are exchangeable on every document".

    `diff` holds one value per document: its summed difference in correct predictions over the
    paired seeds. Exact (every sign pattern) when 2^len(diff) <= n_resamples; otherwise
    Monte Carlo, reported as (k + 1) / (n_resamples + 1) so it is never 0.
    """
    d = np.asarray(diff, dtype=float)
    d = d[d != 0]  # a document where both agree flips nothing
    observed = abs(d.sum())
    if len(d) == 0:
        return 1.0
    tol = 1e-9 * max(1.0, observed)
    if 2 ** len(d) <= n_resamples:
        signs = np.array(list(product((1.0, -1.0), repeat=len(d))))
        return float(np.mean(np.abs(signs @ d) >= observed - tol))
    rng = np.random.default_rng(seed)
    chunk = max(1, 4_000_000 // len(d))
    hits = 0
    for start in range(0, n_resamples, chunk):
        m = min(chunk, n_resamples - start)
        signs = rng.integers(0, 2, size=(m, len(d)), dtype=np.int8) * 2 - 1
        hits += int(np.sum(np.abs(signs @ d) >= observed - tol))
    return (hits + 1) / (n_resamples + 1)


def bootstrap_intervals(numerators: np.ndarray, rows: np.ndarray, n_resamples: int, seed: int,
                        level: float = LEVEL) -> np.ndarray:
    """Percentile intervals of sum(numerator) / sum(rows) over documents resampled.

    `numerators` is (documents, K): K quantities sharing the same resampled documents (a
    model's correct predictions, or a difference of two models'). Returns (K, 2).
    """
    num = np.asarray(numerators, dtype=float).reshape(len(rows), -1)
    n = len(rows)
    if n == 0 or n_resamples < 1:
        return np.full((num.shape[1], 2), math.nan)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)
    stats = []
    for start in range(0, n_resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        denominators = rows[idx].sum(axis=1)  # (m,)
        stats.append(np.stack([num[idx, k].sum(axis=1) for k in range(num.shape[1])], axis=1)
                     / denominators[:, None])
    values = np.concatenate(stats)
    tail = (1 - level) / 2
    return np.quantile(values, [tail, 1 - tail], axis=0).T


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (NaN stays NaN and is not counted as a test)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(1.0, adjusted)
    return out
