"""`summarize`: a sweep's per-model table, and the one home of a compare metric.

Each per-model column of comparison.csv is computed here (`summarize`, from the runs) and shown
here (`HEADER` and `markdown_cells`, the markdown table's cells for it, which `render.to_markdown`
places after the model's name and runs). A new metric is a column added to the three; the
statistics it may rest on (bootstrap intervals over documents, paired tests) are
`experiments.stats`', unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .headline import fmt, interval, percent
from .runs import has_predictions
from .stats import bootstrap_intervals, per_document

__all__ = ["HEADER", "METRICS", "correct", "markdown_cells", "summarize"]

METRICS = ("test_accuracy", "test_macro_f1")  # the runs' metrics, mean ± sd per model

# The markdown table's columns for `summarize`'s, in order (`markdown_cells`).
HEADER = ["test acc (mean ± sd)", "test acc, pooled [95% CI]", "test macro-F1 (mean ± sd)",
          "val macro-F1", "train docs/s"]


def correct(frame: pd.DataFrame, predicted: str = "predicted", label: str = "label") -> pd.Series:
    """1.0 where a prediction is right, else 0.0."""
    return (frame[predicted] == frame[label]).astype(float)


def summarize(runs: pd.DataFrame, n_resamples: int, seed: int) -> pd.DataFrame:
    """Per (dataset, model): runs, mean ± sd of the test metrics over runs, and the pooled test
    accuracy over every run's documents with its bootstrap interval over documents."""
    rows = []
    for (dataset, model), group in runs.groupby(["dataset", "model"], sort=True):
        row: dict[str, object] = {"dataset": dataset, "model": model, "n_runs": len(group)}
        for metric in METRICS:
            values = group[metric].to_numpy(dtype=float)
            row |= {f"{metric}_mean": float(np.mean(values)),
                    f"{metric}_std": float(np.std(values, ddof=1)) if len(values) > 1 else math.nan}
        try:
            frames = [p.read() for p in group["predictions"] if has_predictions(p)]
        except ValueError:  # an unreadable file: the paired tests note it
            frames = []
        low = high = pooled = math.nan
        if frames and len(frames) == len(group):  # an interval only over every run's documents
            joined = pd.concat(frames, ignore_index=True)
            sums, count = per_document(joined.assign(correct=correct(joined)), ["correct"])
            pooled = float(sums.sum() / count.sum())
            (low, high), = bootstrap_intervals(sums, count, n_resamples, seed)
        row |= {"test_accuracy_pooled": pooled, "test_accuracy_ci_low": low,
                "test_accuracy_ci_high": high,
                "val_macro_f1_mean": float(group["val_macro_f1"].mean()),
                "docs_per_second_mean": float(group["docs_per_second"].mean())}
        rows.append(row)
    stat_cols = [f"{m}_{s}" for m in METRICS for s in ("mean", "std")]
    return pd.DataFrame(rows, columns=["dataset", "model", "n_runs", *stat_cols,
                                       "test_accuracy_pooled", "test_accuracy_ci_low",
                                       "test_accuracy_ci_high", "val_macro_f1_mean",
                                       "docs_per_second_mean"])


def markdown_cells(r: dict) -> list[str]:
    """A row of `summarize` as the markdown table's cells under `HEADER` (accuracies in %)."""
    return [f"{percent(r['test_accuracy_mean'])} ± {percent(r['test_accuracy_std'])}",
            f"{percent(r['test_accuracy_pooled'])} "
            f"{interval(r['test_accuracy_ci_low'], r['test_accuracy_ci_high'])}",
            f"{percent(r['test_macro_f1_mean'])} ± {percent(r['test_macro_f1_std'])}",
            percent(r["val_macro_f1_mean"]), fmt(r["docs_per_second_mean"], 1)]
