"""Paired tests of one table: each model against the reference and each network against its
dataset's best baseline, over the same test documents, Holm-adjusted together.

Every test pairs two models on the same test documents, a document's rows from every paired
seed together (``stats``): the difference in accuracy with its 95% bootstrap interval over
documents, and the two-sided paired permutation p. The best baseline is the linear model
(``model.family: linear``) with the best mean *validation* score (``best_baselines``), so the
choice never looks at test. All p-values of one table are adjusted together by Holm's method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from han.schema import Monitor, better

from .runs import DEFAULT_MONITOR, has_predictions
from .stats import bootstrap_intervals, holm, paired_permutation, per_document
from .summarize import correct

TEST_COLUMNS = ["n_paired", "n_docs", "delta_accuracy", "delta_ci_low", "delta_ci_high", "p"]


def best_baselines(runs: pd.DataFrame) -> dict[str, str]:
    """Per dataset, the linear model validation chooses (never test): the selection rule of
    every choice (`han.schema.better`) on the model's mean validation scores over its jobs, the
    monitored metric first (the jobs' `trainer.monitor`), a tie to the lower mean loss, then the
    model's name."""
    best: dict[str, str] = {}
    for dataset, linear in runs[runs["family"] == "linear"].groupby("dataset", sort=True):
        monitors = linear["monitor"].dropna() if "monitor" in linear else pd.Series()
        monitor = Monitor(str(monitors.mode().iat[0]) if len(monitors) else DEFAULT_MONITOR)
        chosen: tuple[str, float, float] | None = None
        for model, group in linear.groupby("model", sort=True):
            means = {key: float(group[f"val_{key}"].mean()) for key in Monitor}
            if chosen is None or better(monitor.score(means), means["loss"], *chosen[1:]):
                chosen = (str(model), monitor.score(means), means["loss"])
        if chosen is not None:
            best[str(dataset)] = chosen[0]
    return best


def _paired_frames(ref_runs: pd.DataFrame, cand_runs: pd.DataFrame, where: str,
                   notes: list[str]) -> list[pd.DataFrame]:
    """Per seed, the two models' predictions joined on document id (one frame per seed)."""
    reference = str(ref_runs["model"].iloc[0]) if len(ref_runs) else "reference"
    pairs = []
    for seed_, cand in cand_runs.groupby("seed"):
        ref = ref_runs[ref_runs["seed"] == seed_]
        here = f"{where}, seed {seed_}"
        if ref.empty:
            notes.append(f"{here}: no `{reference}` job with this seed; seed skipped.")
            continue
        if len(ref) > 1 or len(cand) > 1:  # e.g. an optuna sweep over other parameters
            notes.append(f"{here}: {len(ref)} reference and {len(cand)} candidate jobs, "
                         "pairing is ambiguous; seed skipped.")
            continue
        missing = [r["job"] for r in (ref.iloc[0], cand.iloc[0])
                   if not has_predictions(r["predictions"])]
        if missing:
            notes.append(f"{here}: predictions.csv missing in {', '.join(missing)}; seed skipped.")
            continue
        try:
            joined = ref.iloc[0]["predictions"].read().merge(
                cand.iloc[0]["predictions"].read(), on="id", suffixes=("_ref", "_cand"))
        except ValueError as exc:  # includes pandas' parser and missing-column errors
            notes.append(f"{here}: unreadable predictions.csv ({exc}); seed skipped.")
            continue
        joined = joined[joined["label_ref"] == joined["label_cand"]]
        if joined.empty:
            notes.append(f"{here}: no shared test documents; seed skipped.")
            continue
        pairs.append(joined)
    return pairs


def paired_test(pairs: list[pd.DataFrame], n_resamples: int, seed: int) -> dict[str, float]:
    """Candidate minus reference over the pooled paired rows: Δ accuracy, its bootstrap
    interval over documents and the two-sided paired permutation p (experiments.stats)."""
    pooled = pd.concat(pairs, ignore_index=True)
    pooled["diff"] = (correct(pooled, "predicted_cand", "label_ref")
                      - correct(pooled, "predicted_ref", "label_ref"))
    sums, count = per_document(pooled, ["diff"])
    (low, high), = (bootstrap_intervals(sums, count, n_resamples, seed) if n_resamples > 0
                    else [(math.nan, math.nan)])
    return {"n_paired": len(pairs), "n_docs": len(count),
            "delta_accuracy": float(sums.sum() / count.sum()), "delta_ci_low": float(low),
            "delta_ci_high": float(high),
            "p": paired_permutation(sums[:, 0], n_resamples, seed) if n_resamples > 0 else math.nan}


def significance(
    runs: pd.DataFrame,
    reference: str = "flat",
    candidates: Sequence[str] | None = None,
    n_resamples: int = 10000,
    seed: int = 0,
) -> tuple[pd.DataFrame, list[str]]:
    """Paired tests of each candidate model against ``reference``, plus notes on what was skipped."""
    rows, notes = [], []
    for dataset, ds_runs in runs.groupby("dataset", sort=True):
        ref_runs = ds_runs[ds_runs["model"] == reference]
        if ref_runs.empty:
            notes.append(f"{dataset}: reference model `{reference}` has no runs; tests skipped.")
            continue
        models = sorted(set(ds_runs["model"]) - {reference})
        for model in [m for m in models if candidates is None or m in candidates]:
            pairs = _paired_frames(ref_runs, ds_runs[ds_runs["model"] == model],
                                   f"{dataset}/{model} vs {reference}", notes)
            if pairs:
                rows.append({"dataset": dataset, "model": model}
                            | paired_test(pairs, n_resamples, seed))
    return pd.DataFrame(rows, columns=["dataset", "model", *TEST_COLUMNS]), notes


def against_baselines(table: pd.DataFrame, runs: pd.DataFrame, n_resamples: int, seed: int,
                      notes: list[str]) -> pd.DataFrame:
    """Adds, per network, the paired tests against its dataset's best baseline (bl_ columns)."""
    best = best_baselines(runs)
    for dataset in sorted(set(runs["dataset"]) - set(best)):
        notes.append(f"{dataset}: no baseline run (model=tfidf_lr, or a network run with "
                     "baseline=true); the networks are not tested against a baseline.")
    if not best:
        return table
    table["baseline"] = table["dataset"].map(best)
    parts = []
    for dataset, name in best.items():
        networks = sorted(set(runs.loc[(runs["dataset"] == dataset)
                                       & (runs["family"] != "linear"), "model"]))
        sig, more = significance(runs[runs["dataset"] == dataset], name, networks,
                                 n_resamples, seed)
        parts.append(sig)
        notes += more
    sig = pd.concat(parts, ignore_index=True).rename(columns={c: f"bl_{c}" for c in TEST_COLUMNS})
    table = table.merge(sig, on=["dataset", "model"], how="left")
    table["bl_n_paired"] = table["bl_n_paired"].astype("Int64")
    return table


def adjust(table: pd.DataFrame) -> pd.DataFrame:
    """Holm's adjustment over every p of the table (against the reference and the baseline)."""
    columns = [c for c in ("p", "bl_p") if c in table]
    flat = np.concatenate([table[c].to_numpy(dtype=float) for c in columns])
    adjusted = holm(flat)
    for k, c in enumerate(columns):
        table[f"{c}_holm"] = adjusted[k * len(table):(k + 1) * len(table)]
    return table
