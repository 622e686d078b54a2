"""A comparison as people read it: the markdown table of every model and the accuracy plot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .headline import difference, fmt, model_order, percent
from .runs import FailedJob
from .summarize import HEADER, markdown_cells


def _paired_cells(r: dict, prefix: str, reference: object) -> list[str]:
    if r["model"] == reference or (isinstance(reference, float) and math.isnan(reference)):
        return ["—"] * 2
    if pd.isna(r[f"{prefix}n_paired"]):
        return ["n/a", "0"]
    return [difference(r, prefix), str(int(r[f"{prefix}n_paired"]))]


def to_markdown(table: pd.DataFrame, reference: str) -> str:
    """Render the comparison table as a GitHub markdown table (accuracies in %)."""
    header = ["dataset", "model", "runs", *HEADER,  # summarize's columns (experiments/summarize.py)
              f"Δacc vs {reference} [95% CI], p (Holm)", "paired seeds"]
    with_baseline, with_folds = "baseline" in table, "fold_sd" in table
    if with_folds:  # k-fold: a run is a seed's folds pooled (experiments.folds)
        header[3:3] = ["folds", "fold sd (acc)", "docs/seed"]
    if with_baseline:
        header += ["best baseline", "Δacc vs baseline [95% CI], p (Holm)", "paired seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in table.to_dict("records"):
        cells = [r["dataset"], r["model"], str(r["n_runs"])]
        if with_folds:
            cells += [fmt(r["folds_found"]), percent(r["fold_sd"]), fmt(r["docs_per_seed"])]
        cells += markdown_cells(r)
        cells += _paired_cells(r, "", reference)
        if with_baseline:
            name = r["baseline"]
            cells += [name if isinstance(name, str) else "none"]
            cells += _paired_cells(r, "bl_", name) if r["family"] != "linear" else ["—"] * 2
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def duplicates_markdown(runs: pd.DataFrame) -> str:
    """Per dataset, what `dataset.dedup` removed before the splits (data_summary.json)."""
    lines = ["| dataset | dedup | documents kept | groups (exact) | documents in groups | removed "
             "| official test twins kept | groups with conflicting labels |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    cols = ["dedup", "docs_kept", "dup_groups", "dup_exact_groups", "dup_in_groups",
            "dup_removed", "dup_test_twins_kept", "dup_conflicting"]
    for dataset, group in runs.groupby("dataset", sort=True):
        known = group.dropna(subset=["dup_groups"])
        if known.empty:
            lines.append(f"| {dataset} | not recorded |" + " n/a |" * 6)
            continue
        r = known.iloc[0]
        varies = len(known[cols].drop_duplicates()) > 1
        cells = [f"{dataset}{' (differs between jobs: first shown)' if varies else ''}",
                 str(r["dedup"]), str(int(r["docs_kept"])),
                 f"{int(r['dup_groups'])} ({int(r['dup_exact_groups'])})"]
        cells += [str(int(r[c])) for c in cols[4:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failed_section(failed: list[FailedJob]) -> str:
    lines = [f"## Failed jobs ({len(failed)})", ""]
    if not failed:
        return "\n".join(lines + ["None."])
    for job in failed:
        overrides = " ".join(job.overrides) or "(no overrides.yaml)"
        lines.append(f"- `{job.job}`: {job.reason}; overrides: `{overrides}`")
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path, runs: pd.DataFrame | None = None) -> None:
    """Test accuracy per model (one panel per dataset): every run as a dot, the pooled accuracy
    as a marker with its 95% bootstrap interval over documents. Baselines in grey, networks in
    blue.

    Points, not bars from zero: models near 97% would otherwise look identical. The y axis
    spans the data (CIs clipped to [0, 1], the range accuracy can take).
    """
    # Figure + Agg canvas directly, so importing this module never switches pyplot's backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    datasets = sorted(table["dataset"].unique())
    fig = Figure(figsize=(max(5.0, 1.1 * table["model"].nunique() + 2) * len(datasets), 4))
    FigureCanvasAgg(fig)
    for k, dataset in enumerate(datasets):
        ax = fig.add_subplot(1, len(datasets), k + 1)
        sub = table[table["dataset"] == dataset].set_index("model", drop=False)
        sub = sub.loc[model_order(sub["model"])]
        means = sub["test_accuracy_pooled"].fillna(sub["test_accuracy_mean"]).to_numpy(dtype=float)
        low = np.clip(sub["test_accuracy_ci_low"].to_numpy(dtype=float), 0, 1)
        high = np.clip(sub["test_accuracy_ci_high"].to_numpy(dtype=float), 0, 1)
        x = np.arange(len(sub))
        has_ci = ~np.isnan(low)
        linear = (sub["family"] == "linear").to_numpy() if "family" in sub else np.zeros(len(sub), bool)
        colors = np.where(linear, "tab:gray", "tab:blue")
        span = [means]
        if runs is not None:
            for xi, model in zip(x, sub["model"], strict=True):
                values = runs.loc[(runs["dataset"] == dataset) & (runs["model"] == model),
                                  "test_accuracy"].to_numpy(dtype=float)
                ax.plot(np.full(len(values), xi - 0.12), values, ".", color="black", alpha=0.5,
                        markersize=4)
                span.append(values)
        for xi, mean, lo, hi, ci, color in zip(x, means, low, high, has_ci, colors, strict=True):
            yerr = [[mean - lo], [hi - mean]] if ci else None
            ax.errorbar([xi], [mean], yerr=yerr, fmt="o", color=color, capsize=4)
            if ci:
                span.append(np.array([lo, hi]))
        for xi, mean, n in zip(x, means, sub["n_runs"], strict=True):
            ax.annotate(f"{mean:.3f}\nn={n}", (xi, mean), textcoords="offset points",
                        xytext=(8, -4), fontsize=8)
        values = np.concatenate(span)
        lo, hi = np.nanmin(values), np.nanmax(values)
        pad = max(0.005, 0.15 * (hi - lo))
        ax.set_ylim(max(0.0, lo - pad), min(1.0 + pad / 2, hi + pad))
        ax.set_xticks(x, list(sub["model"]), rotation=20)
        ax.set_xlim(-0.5, len(sub) - 0.2)
        ax.set_title(dataset)
        ax.grid(axis="y", alpha=0.3)
        if k == 0:
            ax.set_ylabel("test accuracy (runs; pooled, 95% bootstrap CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
