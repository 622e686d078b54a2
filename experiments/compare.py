"""Aggregate a Hydra sweep into comparison tables, significance tests and a plot.

Usage: ``python -m experiments.compare <sweep_dir> [--reference flat] [--candidate han]
[--bootstrap 10000] [--seed 0]``. Writes ``comparison.csv``, ``comparison.md`` and
``comparison.png`` into ``sweep_dir``.

Significance against the reference model, on the same test documents:

- ``p_mcnemar``: McNemar's exact test per seed (jobs paired by dataset and seed, predictions
  joined on ``id``); the reported value is the **median** of the per-seed two-sided p-values.
  The median, not Fisher's method, because seeds usually share the test documents, so the
  per-seed tests are not independent and a Fisher-combined p would overstate the evidence.
- ``p_bootstrap``: one-sided paired bootstrap for "candidate accuracy - reference accuracy
  <= 0", resampling document ids (a document's rows from every paired seed move together).
- ``delta_accuracy``: candidate minus reference accuracy over the same pooled paired rows.

Every network is also tested, the same way, against the **best baseline** of its dataset: the
linear TF-IDF model (``model.family: linear``) with the highest mean *validation* accuracy, so
the choice never looks at test. A sweep without baseline jobs uses the bag-of-words baseline
each network run fitted beside itself (``baseline_predictions.csv``, ``metrics.json["baseline"]``).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from experiments.folds import fold_summary, pool_folds
from experiments.headline import headline

METRICS = ("test_accuracy", "test_macro_f1")
BASELINE_MODELS = ("tfidf_lr", "ngram_tfidf_lr")  # runs written before metrics.json had "family"
RUN_COLUMNS = ["job", "dataset", "model", "family", "seed", "num_classes", "test_accuracy", "test_macro_f1",
               "test_loss", "val_accuracy", "val_macro_f1", "best_epoch", "train_epochs",
               "train_seconds", "docs_per_second", "predictions", "overrides", "folds", "fold"]


@dataclass
class FailedJob:
    """A job directory without a usable metrics.json."""

    path: Path
    overrides: list[str] = field(default_factory=list)
    reason: str = "no metrics.json"


def _natural_key(path: Path) -> list[object]:
    # Job numbers sort numerically (2 before 10), not lexically.
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix())]


def _read_overrides(job: Path) -> list[str]:
    try:
        loaded = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return []
    return [str(o) for o in loaded] if isinstance(loaded, list) else []


def _row(m: dict, job: str, predictions: Path, overrides: str) -> dict[str, object]:
    """One table row from a metrics.json-shaped dict."""
    return {
        "job": job,
        "dataset": str(m["dataset"]),
        "model": str(m["model"]),
        "family": str(m.get("family") or ("linear" if m["model"] in BASELINE_MODELS else "network")),
        "seed": int(m["seed"]),
        "num_classes": int(m["num_classes"]),
        "test_accuracy": float(m["test"]["accuracy"]),
        "test_macro_f1": float(m["test"]["macro_f1"]),
        "test_loss": float(m["test"]["loss"]),
        "val_accuracy": float(m["validation"]["accuracy"]),
        "val_macro_f1": float(m["validation"]["macro_f1"]),
        "best_epoch": int(m["validation"]["best_epoch"]),
        "train_epochs": int(m["train"]["epochs"]),
        "train_seconds": float(m["train"]["seconds"]),
        "docs_per_second": float(m["train"]["docs_per_second"]),
        "predictions": str(predictions) if predictions.is_file() else None,
        "overrides": overrides,
        "folds": m.get("folds"), "fold": m.get("fold"),  # k-fold jobs (experiments.folds)
    }


def _run_row(job: Path, sweep: Path) -> dict[str, object]:
    m = json.loads((job / "metrics.json").read_text())
    return _row(m, job.relative_to(sweep).as_posix() or ".", job / "predictions.csv",
                " ".join(_read_overrides(job)))


def collect_runs(sweep_dir: str | Path) -> tuple[pd.DataFrame, list[FailedJob]]:
    """One row per job with a readable metrics.json, plus the jobs that have none."""
    sweep = Path(sweep_dir)
    # A job is any directory with Hydra's .hydra/ or a metrics.json; failed jobs only have the former.
    jobs = {p.parent for p in sweep.rglob(".hydra") if p.is_dir()}
    jobs |= {p.parent for p in sweep.rglob("metrics.json")}
    rows, failed = [], []
    for job in sorted(jobs, key=_natural_key):
        if not (job / "metrics.json").is_file():
            failed.append(FailedJob(job, _read_overrides(job)))
            continue
        try:
            rows.append(_run_row(job, sweep))
        except (OSError, ValueError, KeyError, TypeError) as exc:  # half-written or old schema
            failed.append(FailedJob(job, _read_overrides(job), f"unreadable metrics.json: {exc!r}"))
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    beside = _beside_baselines(sweep, jobs, runs)
    if not beside.empty:  # concatenating an empty frame would turn the int columns to object
        runs = pd.concat([runs, beside], ignore_index=True)
    return runs, failed


def _beside_baselines(sweep: Path, jobs: set[Path], runs: pd.DataFrame) -> pd.DataFrame:
    """Rows for the baselines that network runs fitted beside themselves, for the datasets of
    the sweep that have no baseline job; one per (dataset, seed), since the same seed gives
    the same split and the same fitted baseline."""
    have = set(runs.loc[runs["family"] == "linear", "dataset"])
    rows, seen = [], set()
    for job in sorted(jobs, key=_natural_key):
        predictions = job / "baseline_predictions.csv"
        try:
            m = json.loads((job / "metrics.json").read_text())
            b = m["baseline"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        # A seed's fold jobs each fitted the baseline on their own fold: one row per fold.
        key = (str(m["dataset"]), b["model"], int(m["seed"]), m.get("fold"))
        if key[0] in have or key in seen or not predictions.is_file():
            continue
        seen.add(key)
        # The baseline as a run of its own: the network's header, the baseline's scores.
        fitted = m | {
            "model": b["model"], "family": "linear", "test": b["test"],
            "validation": b["validation"] | {"best_epoch": 0},
            "train": {"epochs": 0, "seconds": b.get("seconds", 0.0), "docs_per_second": math.nan},
        }
        label = f"{job.relative_to(sweep).as_posix() or '.'} (beside)"
        rows.append(_row(fitted, label, predictions, ""))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def best_baselines(runs: pd.DataFrame) -> dict[str, str]:
    """Per dataset, the linear model with the highest mean validation accuracy (never test)."""
    linear = runs[runs["family"] == "linear"]
    means = linear.groupby(["dataset", "model"])["val_accuracy"].mean().reset_index()
    return {
        dataset: str(group.sort_values(["val_accuracy", "model"], ascending=[False, True])
                     .iloc[0]["model"])
        for dataset, group in means.groupby("dataset")
    }


def _t_interval(values: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, sample std, and the 95% Student-t interval; NaN where n is too small."""
    n = len(values)
    mean = float(np.mean(values)) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    std = float(np.std(values, ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model): run count, mean/std/95% CI of test metrics, mean val F1 and speed."""
    rows = []
    for (dataset, model), group in runs.groupby(["dataset", "model"], sort=True):
        row: dict[str, object] = {"dataset": dataset, "model": model, "n_runs": len(group)}
        for metric in METRICS:
            mean, std, low, high = _t_interval(group[metric].to_numpy(dtype=float))
            row |= {f"{metric}_mean": mean, f"{metric}_std": std,
                    f"{metric}_ci_low": low, f"{metric}_ci_high": high}
        row["val_macro_f1_mean"] = float(group["val_macro_f1"].mean())
        row["docs_per_second_mean"] = float(group["docs_per_second"].mean())
        rows.append(row)
    stat_cols = [f"{m}_{s}" for m in METRICS for s in ("mean", "std", "ci_low", "ci_high")]
    return pd.DataFrame(rows, columns=["dataset", "model", "n_runs", *stat_cols,
                                       "val_macro_f1_mean", "docs_per_second_mean"])


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


def _read_predictions(path: str) -> pd.DataFrame:
    # Ids and class names are strings by contract; stop pandas turning "007" into 7.
    frame = pd.read_csv(path, usecols=["id", "label", "predicted"], dtype=str)
    return frame.drop_duplicates("id")


def significance(
    runs: pd.DataFrame,
    reference: str = "flat",
    candidates: Sequence[str] | None = None,
    n_bootstrap: int = 10000,
    seed: int = 0,
) -> tuple[pd.DataFrame, list[str]]:
    """Paired tests of each candidate model against ``reference``, plus notes on what was skipped."""
    cols = ["dataset", "model", "n_paired", "delta_accuracy", "p_mcnemar", "p_bootstrap"]
    rows, notes = [], []
    for dataset, ds_runs in runs.groupby("dataset", sort=True):
        ref_runs = ds_runs[ds_runs["model"] == reference]
        if ref_runs.empty:
            notes.append(f"{dataset}: reference model `{reference}` has no runs; tests skipped.")
            continue
        models = sorted(set(ds_runs["model"]) - {reference})
        for model in [m for m in models if candidates is None or m in candidates]:
            pairs, p_seeds = [], []
            for seed_, cand in ds_runs[ds_runs["model"] == model].groupby("seed"):
                ref = ref_runs[ref_runs["seed"] == seed_]
                where = f"{dataset}/{model} vs {reference}, seed {seed_}"
                if ref.empty:
                    notes.append(f"{where}: no `{reference}` job with this seed; seed skipped.")
                    continue
                if len(ref) > 1 or len(cand) > 1:  # e.g. an optuna sweep over other parameters
                    notes.append(f"{where}: {len(ref)} reference and {len(cand)} candidate jobs, "
                                 "pairing is ambiguous; seed skipped.")
                    continue
                # A missing file is None in the row, which pandas may have turned into NaN.
                missing = [r["job"] for r in (ref.iloc[0], cand.iloc[0])
                           if pd.isna(r["predictions"])]
                if missing:
                    notes.append(f"{where}: predictions.csv missing in {', '.join(missing)}; "
                                 "seed skipped.")
                    continue
                try:
                    joined = _read_predictions(ref.iloc[0]["predictions"]).merge(
                        _read_predictions(cand.iloc[0]["predictions"]), on="id",
                        suffixes=("_ref", "_cand"))
                except ValueError as exc:  # includes pandas' parser and missing-column errors
                    notes.append(f"{where}: unreadable predictions.csv ({exc}); seed skipped.")
                    continue
                joined = joined[joined["label_ref"] == joined["label_cand"]]
                if joined.empty:
                    notes.append(f"{where}: no shared test documents; seed skipped.")
                    continue
                p_seeds.append(mcnemar_exact(joined["label_ref"], joined["predicted_ref"],
                                             joined["predicted_cand"]))
                pairs.append(joined)
            if not pairs:
                continue
            pooled = pd.concat(pairs, ignore_index=True)
            y = pooled["label_ref"].to_numpy()
            delta = float(np.mean(pooled["predicted_cand"].to_numpy() == y)
                          - np.mean(pooled["predicted_ref"].to_numpy() == y))
            p_boot = (paired_bootstrap(y, pooled["predicted_ref"], pooled["predicted_cand"],
                                       n_bootstrap, seed, groups=pooled["id"])
                      if n_bootstrap > 0 else math.nan)
            rows.append([dataset, model, len(pairs), delta, float(np.median(p_seeds)), p_boot])
    return pd.DataFrame(rows, columns=cols), notes


def _fmt(value: object, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _fmt_p(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def _paired_cells(r: dict, prefix: str, reference: object) -> list[str]:
    if r["model"] == reference or (isinstance(reference, float) and math.isnan(reference)):
        return ["—"] * 4
    if pd.isna(r[f"{prefix}n_paired"]):
        return ["n/a"] * 3 + ["0"]
    return [f"{r[f'{prefix}delta_accuracy']:+.4f}", _fmt_p(r[f"{prefix}p_mcnemar"]),
            _fmt_p(r[f"{prefix}p_bootstrap"]), str(int(r[f"{prefix}n_paired"]))]


def to_markdown(table: pd.DataFrame, reference: str) -> str:
    """Render the comparison table as a GitHub markdown table."""
    header = ["dataset", "model", "runs", "test acc (mean ± sd)", "test acc 95% CI",
              "test macro-F1 (mean ± sd)", "macro-F1 95% CI", "val macro-F1", "train docs/s",
              f"Δacc vs {reference}", "p McNemar (median)", "p bootstrap", "paired seeds"]
    with_baseline, with_folds = "baseline" in table, "fold_sd" in table
    if with_folds:  # k-fold: a run is a seed's folds pooled (experiments.folds)
        header[3:3] = ["folds", "fold sd (acc)", "docs/seed"]
    if with_baseline:
        header += ["best baseline", "Δacc vs baseline", "p McNemar", "p bootstrap",
                   "paired seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in table.to_dict("records"):
        cells = [r["dataset"], r["model"], str(r["n_runs"])]
        if with_folds:
            cells += [_fmt(r["folds_found"]), _fmt(r["fold_sd"]), _fmt(r["docs_per_seed"])]
        for metric in METRICS:
            cells.append(f"{_fmt(r[f'{metric}_mean'])} ± {_fmt(r[f'{metric}_std'])}")
            low, high = r[f"{metric}_ci_low"], r[f"{metric}_ci_high"]
            cells.append("n/a" if math.isnan(low) else f"[{_fmt(low)}, {_fmt(high)}]")
        cells += [_fmt(r["val_macro_f1_mean"]), _fmt(r["docs_per_second_mean"], 1)]
        cells += _paired_cells(r, "", reference)
        if with_baseline:
            name = r["baseline"]
            cells += [name if isinstance(name, str) else "none"]
            cells += _paired_cells(r, "bl_", name) if r["family"] != "linear" else ["—"] * 4
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _failed_section(failed: list[FailedJob], sweep: Path) -> str:
    lines = [f"## Failed jobs ({len(failed)})", ""]
    if not failed:
        return "\n".join(lines + ["None."])
    for job in failed:
        overrides = " ".join(job.overrides) or "(no overrides.yaml)"
        rel = job.path.relative_to(sweep).as_posix() or "."
        lines.append(f"- `{rel}`: {job.reason}; overrides: `{overrides}`")
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path) -> None:
    """Mean test accuracy per model (one panel per dataset), 95% CI error bars.

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
        sub = table[table["dataset"] == dataset].sort_values("model")
        means = sub["test_accuracy_mean"].to_numpy(dtype=float)
        low = np.clip(sub["test_accuracy_ci_low"].to_numpy(dtype=float), 0, 1)
        high = np.clip(sub["test_accuracy_ci_high"].to_numpy(dtype=float), 0, 1)
        x = np.arange(len(sub))
        has_ci = ~np.isnan(low)  # no interval from a single run
        ax.errorbar(x[has_ci], means[has_ci], yerr=[means[has_ci] - low[has_ci],
                    high[has_ci] - means[has_ci]], fmt="o", color="tab:blue", capsize=4)
        ax.plot(x[~has_ci], means[~has_ci], "o", color="tab:gray")
        for xi, mean, n in zip(x, means, sub["n_runs"], strict=True):
            ax.annotate(f"{mean:.3f}\nn={n}", (xi, mean), textcoords="offset points",
                        xytext=(8, -4), fontsize=8)
        span = np.concatenate([means, low[has_ci], high[has_ci]])
        lo, hi = np.nanmin(span), np.nanmax(span)
        pad = max(0.005, 0.15 * (hi - lo))
        ax.set_ylim(max(0.0, lo - pad), min(1.0 + pad / 2, hi + pad))
        ax.set_xticks(x, list(sub["model"]))
        ax.set_xlim(-0.5, len(sub) - 0.2)
        ax.set_title(dataset)
        ax.grid(axis="y", alpha=0.3)
        if k == 0:
            ax.set_ylabel("test accuracy (mean, 95% CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _against_baselines(table: pd.DataFrame, runs: pd.DataFrame, args: argparse.Namespace,
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
                                 args.bootstrap, args.seed)
        parts.append(sig)
        notes += more
    cols = ["n_paired", "delta_accuracy", "p_mcnemar", "p_bootstrap"]
    sig = pd.concat(parts, ignore_index=True).rename(columns={c: f"bl_{c}" for c in cols})
    table = table.merge(sig, on=["dataset", "model"], how="left")
    table["bl_n_paired"] = table["bl_n_paired"].astype("Int64")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--reference", default="flat", help="model the others are tested against")
    parser.add_argument("--candidate", action="append", default=None,
                        help="model to test against the reference (repeatable; default: all)")
    parser.add_argument("--bootstrap", type=int, default=10000, help="resamples; 0 disables")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap random seed")
    args = parser.parse_args(argv)
    sweep: Path = args.sweep_dir
    if not sweep.is_dir():
        print(f"error: {sweep} is not a directory", file=sys.stderr)
        return 2

    runs, failed = collect_runs(sweep)
    runs, fold_notes = pool_folds(runs, sweep)
    md = [f"# Comparison of `{sweep}`", ""]
    written = []
    if runs.empty:
        md.append("No completed runs.")
        table = pd.DataFrame()
    else:
        sig, notes = significance(runs, args.reference, args.candidate, args.bootstrap, args.seed)
        notes = fold_notes + notes
        table = summarize(runs).merge(sig, on=["dataset", "model"], how="left")
        table["n_paired"] = table["n_paired"].astype("Int64")  # NaN made it float
        table = table.merge(runs.groupby(["dataset", "model"])["family"].first().reset_index(),
                            on=["dataset", "model"], how="left")
        table = _against_baselines(table, runs, args, notes)
        folds = fold_summary(runs)
        if not folds.empty:
            table = table.merge(folds, on=["dataset", "model"], how="left")
        md += ["Test accuracy (%), mean ± sd (runs); the last columns: a network's accuracy "
               "minus the best baseline's, paired over the same documents (one-sided paired "
               "bootstrap p).", "", headline(table), "", "## All models", "",
               to_markdown(table, args.reference), "",
               f"p McNemar: median over seeds of the two-sided exact test per seed. p bootstrap: "
               f"one-sided, H0: accuracy(model) - accuracy({args.reference}) <= 0; "
               f"{args.bootstrap} resamples of documents pooled over seeds (seed {args.seed}). "
               "Best baseline: the linear TF-IDF model with the highest mean validation "
               "accuracy; the networks are tested against it the same way."]
        if "fold_sd" in table:
            md += ["", "k-fold: a run is one seed's fold jobs pooled, its accuracy and macro-F1 "
                   "computed over every document once (docs/seed); runs are seeds. fold sd: sd "
                   "of the per-fold test accuracies, mean over seeds. The paired tests pair a "
                   "seed's pooled predictions over all its documents."]
        if notes:
            md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
        plot(table, sweep / "comparison.png")
        written.append(sweep / "comparison.png")
    table.to_csv(sweep / "comparison.csv", index=False)
    md += ["", _failed_section(failed, sweep), ""]
    (sweep / "comparison.md").write_text("\n".join(md))
    written = [sweep / "comparison.csv", sweep / "comparison.md", *written]

    print("\n".join(md))
    for path in written:
        print(f"wrote {path}")
    print(f"failed_jobs: {len(failed)}")
    print(f"comparison written to {sweep}")
    return 0 if not runs.empty else 1


def script() -> None:
    """`han-compare`: `main` with the project's error handling (one line, exit status 2)."""
    from han.cli import run_cli

    sys.exit(run_cli(main))


if __name__ == "__main__":
    script()
