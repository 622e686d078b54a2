"""k-fold sweeps in `experiments.compare`: a seed's fold jobs pooled into one run.

With `dataset.folds=K`, the K jobs of one (dataset, model, seed) each test a different fold, so
together they predict every document once. `pool_folds` replaces them by one row per seed whose
test accuracy and macro-F1 are computed over the pooled predictions (every document once, not
a mean of fold scores), whose `predictions` is the pooled predictions.csv (so the paired tests of
`experiments.paired.significance` run over all documents unchanged), and which keeps the fold
sd (sd of the per-fold test accuracies) and the number of folds found. A seed with missing
folds is still pooled over the folds that exist, and flagged.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .runs import Predictions, has_predictions

POOLED_DIR = "folds_pooled"  # in the sweep directory: one predictions file per pooled run


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over every class seen as a label or a prediction (han.evaluation's rule:
    a class never predicted has precision 0)."""
    f1s = []
    for c in sorted(set(labels) | set(predicted)):
        tp = float(np.sum((labels == c) & (predicted == c)))
        precision = tp / max(1, int(np.sum(predicted == c)))
        recall = tp / max(1, int(np.sum(labels == c)))
        f1s.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    return float(np.mean(f1s)) if f1s else math.nan


def _strip_fold(overrides: str) -> str:
    return " ".join(o for o in overrides.split() if not o.startswith("dataset.fold="))


def _pool_seed(group: pd.DataFrame, out: Path | None, where: str, notes: list[str]) -> dict:
    """One pooled row from the fold jobs of one (dataset, model, seed)."""
    k = int(group["folds"].max())
    if group["folds"].nunique() > 1:
        notes.append(f"{where}: jobs with different dataset.folds "
                     f"({sorted(set(group['folds'].astype(int)))}); pooled as {k} folds.")
    dup = group[group["fold"].duplicated()]
    if not dup.empty:  # e.g. the same fold run twice: keep the first, never count a doc twice
        notes.append(f"{where}: fold(s) {sorted(set(dup['fold'].astype(int)))} have more than "
                     "one job; the first of each is used.")
        group = group.drop_duplicates("fold")
    missing = sorted(set(range(k)) - set(group["fold"].astype(int)))
    if missing:
        notes.append(f"{where}: {len(group)} of {k} folds (missing fold(s) {missing}); pooled "
                     "over the folds found, so not every document is tested.")
    frames = []
    for r in group.itertuples():
        if not has_predictions(r.predictions):
            notes.append(f"{where}: predictions.csv missing in {r.job}; that fold's documents "
                         "are left out of the pooled scores.")
            continue
        try:
            frames.append(r.predictions.read())
        except ValueError as exc:  # pandas' parser and missing-column errors
            notes.append(f"{where}: unreadable predictions.csv in {r.job} ({exc}); left out.")
    first = group.iloc[0]
    row = first.to_dict() | {
        "job": ", ".join(group["job"]),
        "test_loss": float(group["test_loss"].mean()),
        "val_accuracy": float(group["val_accuracy"].mean()),
        "val_macro_f1": float(group["val_macro_f1"].mean()),
        "best_epoch": int(round(float(group["best_epoch"].median()))),
        "train_epochs": int(group["train_epochs"].sum()),
        "train_seconds": float(group["train_seconds"].sum()),  # the seed's whole cost
        "docs_per_second": float(group["docs_per_second"].mean()),
        "overrides": _strip_fold(str(first["overrides"])),
        "fold": math.nan,
        "folds": k,
        "n_folds": len(group),
        "fold_sd": float(np.std(group["test_accuracy"], ddof=1)) if len(group) > 1 else math.nan,
        "missing_folds": " ".join(map(str, missing)),
        "predictions": None,
    }
    if not frames:  # nothing to pool: the fold mean is the best estimate left
        row |= {"test_accuracy": float(group["test_accuracy"].mean()),
                "test_macro_f1": float(group["test_macro_f1"].mean())}
        return row
    pooled = pd.concat(frames, ignore_index=True)
    twice = pooled["id"].duplicated()
    if twice.any():
        notes.append(f"{where}: {int(twice.sum())} document id(s) tested in more than one fold "
                     "(the folds are not a partition); the first prediction is used.")
        pooled = pooled[~twice]
    labels, predicted = pooled["label"].to_numpy(), pooled["predicted"].to_numpy()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        pooled.to_csv(out, index=False)
    return row | {"test_accuracy": float(np.mean(labels == predicted)),
                  "test_macro_f1": macro_f1(labels, predicted),
                  "predictions": Predictions(out, frame=pooled.reset_index(drop=True)),
                  "n_docs": len(pooled)}


def pool_folds(runs: pd.DataFrame, sweep: Path | None) -> tuple[pd.DataFrame, list[str]]:
    """`runs` with each (dataset, model, seed)'s fold jobs replaced by one pooled run.

    Jobs without `folds` pass through unchanged, so a sweep without folds gives exactly the
    table it gave before. With a sweep directory the pooled predictions also land in
    `<sweep>/folds_pooled/`; from committed records they stay in memory.
    """
    if "folds" not in runs or runs["folds"].isna().all():
        return runs, []
    is_fold = runs["folds"].notna()
    rows, notes = [], []
    for (dataset, model, seed), group in runs[is_fold].groupby(["dataset", "model", "seed"],
                                                               sort=True):
        out = None if sweep is None else sweep / POOLED_DIR / f"{dataset}-{model}-seed{seed}.csv"
        rows.append(_pool_seed(group.sort_values("fold"), out,
                               f"{dataset}/{model}, seed {seed}", notes))
    pooled = pd.DataFrame(rows)
    return pd.concat([runs[~is_fold], pooled], ignore_index=True), notes


def _span(values: pd.Series) -> str | None:
    """"1313", or "1200-1313" when a seed lost documents (missing folds)."""
    found = sorted(set(int(v) for v in values.dropna()))
    if not found:
        return None
    return str(found[0]) if len(found) == 1 else f"{found[0]}-{found[-1]}"


def fold_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model) of pooled runs: folds found per seed, mean fold sd, documents."""
    if "n_folds" not in runs:
        return pd.DataFrame()
    pooled = runs[runs["n_folds"].notna()]
    rows = []
    for (dataset, model), group in pooled.groupby(["dataset", "model"], sort=True):
        found = sorted(set(group["n_folds"].astype(int)))
        k = int(group["folds"].max())
        rows.append({
            "dataset": dataset, "model": model,
            # "10" when every seed has all 10 folds; "9-10 of 10" flags a seed with missing folds
            "folds_found": str(k) if found == [k] else f"{found[0]}-{found[-1]} of {k}",
            "fold_sd": float(group["fold_sd"].mean()),
            "docs_per_seed": _span(group["n_docs"]) if "n_docs" in group else None,
        })
    return pd.DataFrame(rows)
