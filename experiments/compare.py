"""Aggregate a Hydra sweep into comparison tables, significance tests and a plot.

Usage: ``python -m experiments.compare <sweep_dir> [--reference flat] [--candidate han]
[--bootstrap 10000] [--seed 0] [--publish DIR]``. Writes ``comparison.csv``, ``comparison.md``
and ``comparison.png`` into ``sweep_dir`` (and, with ``--publish``, into DIR as well: how the
tables in docs/ are regenerated).

The steps, one module each: ``runs`` reads the sweep; ``levers`` keeps one job per model, seed
and fold, chosen on validation; ``folds`` pools a seed's k-fold jobs; this module summarises and
tests (``stats``); ``render`` and ``headline`` write what people read.

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
import math
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .folds import fold_summary, pool_folds
from .headline import headline
from .levers import choices_markdown, choose_levers
from .render import METRICS, failed_section, plot, to_markdown
from .runs import collect_runs
from .stats import mcnemar_exact, paired_bootstrap, t_interval


def best_baselines(runs: pd.DataFrame) -> dict[str, str]:
    """Per dataset, the linear model with the highest mean validation accuracy (never test)."""
    linear = runs[runs["family"] == "linear"]
    means = linear.groupby(["dataset", "model"])["val_accuracy"].mean().reset_index()
    return {
        dataset: str(group.sort_values(["val_accuracy", "model"], ascending=[False, True])
                     .iloc[0]["model"])
        for dataset, group in means.groupby("dataset")
    }


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model): run count, mean/std/95% CI of test metrics, mean val F1 and speed."""
    rows = []
    for (dataset, model), group in runs.groupby(["dataset", "model"], sort=True):
        row: dict[str, object] = {"dataset": dataset, "model": model, "n_runs": len(group)}
        for metric in METRICS:
            mean, std, low, high = t_interval(group[metric].to_numpy(dtype=float))
            row |= {f"{metric}_mean": mean, f"{metric}_std": std,
                    f"{metric}_ci_low": low, f"{metric}_ci_high": high}
        row["val_macro_f1_mean"] = float(group["val_macro_f1"].mean())
        row["docs_per_second_mean"] = float(group["docs_per_second"].mean())
        rows.append(row)
    stat_cols = [f"{m}_{s}" for m in METRICS for s in ("mean", "std", "ci_low", "ci_high")]
    return pd.DataFrame(rows, columns=["dataset", "model", "n_runs", *stat_cols,
                                       "val_macro_f1_mean", "docs_per_second_mean"])


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
    parser.add_argument("--publish", type=Path, default=None,
                        help="also copy comparison.md/.csv/.png into this directory (docs/...)")
    args = parser.parse_args(argv)
    sweep: Path = args.sweep_dir
    if not sweep.is_dir():
        print(f"error: {sweep} is not a directory", file=sys.stderr)
        return 2

    runs, failed = collect_runs(sweep)
    # Which commits produced the jobs (han.provenance), counted before any pooling.
    codes = ", ".join(f"{c} ({n} jobs)" for c, n in runs["code"].value_counts().items())
    runs, choices, lever_notes = choose_levers(runs)
    runs, fold_notes = pool_folds(runs, sweep)
    md = [f"# Comparison of `{sweep}`", ""]
    written = []
    if runs.empty:
        md.append("No completed runs.")
        table = pd.DataFrame()
    else:
        sig, notes = significance(runs, args.reference, args.candidate, args.bootstrap, args.seed)
        notes = lever_notes + fold_notes + notes
        table = summarize(runs).merge(sig, on=["dataset", "model"], how="left")
        table["n_paired"] = table["n_paired"].astype("Int64")  # NaN made it float
        table = table.merge(runs.groupby(["dataset", "model"])["family"].first().reset_index(),
                            on=["dataset", "model"], how="left")
        table = _against_baselines(table, runs, args, notes)
        folds = fold_summary(runs)
        if not folds.empty:
            table = table.merge(folds, on=["dataset", "model"], how="left")
        md += [f"Code: {codes}.", ""]
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
        if not choices.empty:
            md += ["", "## Levers chosen on validation", "",
                   "Per model, how many of its (seed, fold) slots chose each lever set, on the "
                   "slot's validation split; the tables above use the chosen jobs.", "",
                   choices_markdown(choices)]
        if notes:
            md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
        plot(table, sweep / "comparison.png", runs)
        written.append(sweep / "comparison.png")
    table.to_csv(sweep / "comparison.csv", index=False)
    md += ["", failed_section(failed, sweep), ""]
    (sweep / "comparison.md").write_text("\n".join(md))
    written = [sweep / "comparison.csv", sweep / "comparison.md", *written]

    if args.publish is not None:
        args.publish.mkdir(parents=True, exist_ok=True)
        for path in written:
            shutil.copyfile(path, args.publish / path.name)
        written += [args.publish / path.name for path in written]

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
