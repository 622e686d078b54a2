"""Tables (and figures) of the attention analyses, rebuilt from their committed records.

`python -m han.analysis.summary <dir>` (`make attention-tables DIR=<dir>`) reads
`<dir>/records/` — faithfulness_*.csv.gz (one row per document and level), runs.csv (one row per
run: its metrics and commit) and word_attention.csv.gz (one row per occurrence of a studied word)
— and writes `<dir>/faithfulness.md|csv`, `<dir>/uniform_baseline.md` and the word-attention
tables and figures (`han.analysis.word_weights`). Nothing is recomputed from a model.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from han.analysis.tables import markdown
from han.analysis.word_weights import write_outputs
from han.io import atomic_write_text

RUN_KEYS = ["run", "model", "seed", "code"]


def faithfulness_summary(records: pd.DataFrame) -> pd.DataFrame:
    """One row per run and level: mean τ, mean drop and flip share by ranking and k, median TVD."""
    rows = []
    for keys, group in records.groupby([*RUN_KEYS, "level"], sort=True):
        row = dict(zip([*RUN_KEYS, "level"], keys, strict=True))
        row["docs"] = len(group)
        row["mean units"] = group["units"].mean()
        row["mean p(ŷ)"] = group["p_predicted"].mean()
        row["τ(att, grad)"] = group["tau_grad"].mean()
        row["τ(att, LOO)"] = group["tau_loo"].mean()
        row["perm TVD median"] = group["perm_tvd_median"].median()
        row["perm TVD mean"] = group["perm_tvd_median"].mean()
        row["perm TVD≥0.1 share"] = (group["perm_tvd_max"] >= 0.1).mean()
        for col in sorted(c for c in group if c.startswith(("drop_", "flip_"))):
            values = group[col].dropna()
            if len(values):
                row[col] = values.mean()
        rows.append(row)
    return pd.DataFrame(rows)


def _erasure_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Long form: run, level, k, and drop / flip share for att, grad, rand."""
    rows = []
    for _, r in summary.iterrows():
        ks = sorted({int(c.rsplit("_", 1)[1]) for c in r.index if c.startswith("drop_")
                     and pd.notna(r[c])})
        for k in ks:
            row = {"model": r["model"], "seed": r["seed"], "level": r["level"], "k": k}
            for by in ("att", "grad", "rand"):
                row[f"Δp {by}"] = r.get(f"drop_{by}_{k}", np.nan)
            for by in ("att", "grad", "rand"):
                row[f"flips {by}"] = r.get(f"flip_{by}_{k}", np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def faithfulness_table(records: pd.DataFrame) -> str:
    """Markdown: agreement and permutation per run and level, then erasure per k."""
    summary = faithfulness_summary(records)
    head = summary[[*RUN_KEYS, "level", "docs", "mean units", "mean p(ŷ)", "τ(att, grad)",
                    "τ(att, LOO)", "perm TVD median", "perm TVD mean", "perm TVD≥0.1 share"]]
    text = "Agreement (mean Kendall τ-b over documents) and permutation (median and mean over "
    text += "documents of each document's median TVD over its draws; share of documents where "
    text += "some draw moves the output by a TVD ≥ 0.1):\n\n"
    text += markdown(head)
    if summary["run"].nunique() > 1:
        numeric = [c for c in head.columns[5:]]
        pooled = head.groupby(["model", "level"])[numeric].mean().reset_index()
        pooled.insert(2, "runs", head.groupby(["model", "level"]).size().to_numpy())
        text += "\nMean over runs (seeds) of the rows above:\n\n" + markdown(pooled)
        erasure = _erasure_table(summary)
        pooled = erasure.groupby(["model", "level", "k"]).mean(numeric_only=True).reset_index()
        text += ("\nErasure, mean over runs (seeds) of the per-run rows below:\n\n"
                 + markdown(pooled.drop(columns="seed")))
    text += "\nErasure: mean fall of the predicted class's probability (Δp) and share of flipped "
    text += "decisions when the top-k units by attention, by gradient or at random are removed "
    text += "(documents with more than k units):\n\n"
    return text + markdown(_erasure_table(summary))


def run_row(run_dir: Path) -> dict[str, object]:
    """A run's metrics as one records/runs.csv row."""
    metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    return {"run": Path(run_dir).name, "model": metrics["model"], "seed": metrics["seed"],
            "dataset": metrics["dataset"], "code": metrics.get("code", ""),
            "best_epoch": metrics.get("best_epoch"),
            "val_accuracy": metrics["validation"]["accuracy"],
            "test_accuracy": metrics["test"]["accuracy"],
            "test_macro_f1": metrics["test"]["macro_f1"]}


def uniform_table(runs: pd.DataFrame) -> str:
    """Learned against uniform attention (Wiegreffe & Pinter's baseline), same split."""
    per_run = runs.sort_values(["model", "seed"])[
        ["model", "seed", "code", "val_accuracy", "test_accuracy", "test_macro_f1"]]
    agg = runs.groupby("model")[["val_accuracy", "test_accuracy", "test_macro_f1"]].agg(["mean", "std", "count"])
    agg.columns = [f"{a} {b}" for a, b in agg.columns]
    text = (markdown(per_run, 4) + "\nMean and standard deviation over seeds:\n\n"
            + markdown(agg.reset_index(), 4))
    wide = runs.pivot_table(index="seed", columns="model", values="test_accuracy")
    if {"han", "han_uniform"} <= set(wide.columns):  # same seed, same split: paired by seed
        gap = (wide["han"] - wide["han_uniform"]).dropna()
        text += ("\nLearned minus uniform attention, test accuracy, paired by seed (same split): "
                 + ", ".join(f"seed {s}: {100 * g:+.2f} points" for s, g in gap.items())
                 + f"; mean {100 * gap.mean():+.2f}.\n")
    return text


def rebuild(folder: Path, out: Path | None = None) -> list[Path]:
    """Every table and figure of `folder` from `folder/records/`, written to `out` (default:
    `folder` itself; tests/test_published.py rebuilds into a temporary folder and compares)."""
    records, written = folder / "records", []
    dest = Path(out) if out is not None else folder
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted(records.glob("faithfulness_*.csv.gz"))
    if files:
        frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
        faithfulness_summary(frame).to_csv(dest / "faithfulness.csv", index=False,
                                           float_format="%.4f")
        atomic_write_text(dest / "faithfulness.md", faithfulness_table(frame))
        written += [dest / "faithfulness.md", dest / "faithfulness.csv"]
    if (records / "runs.csv").is_file():
        atomic_write_text(dest / "uniform_baseline.md", uniform_table(pd.read_csv(records / "runs.csv")))
        written.append(dest / "uniform_baseline.md")
    if (records / "word_attention.csv.gz").is_file():
        written += write_outputs(pd.read_csv(records / "word_attention.csv.gz"), dest)
    if not written:
        raise FileNotFoundError(f"{records} holds no faithfulness_*.csv.gz, runs.csv or "
                                "word_attention.csv.gz: run python -m han.analysis.faithfulness / "
                                "han.analysis.word_weights first")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a docs/results/attention_<dataset> folder")
    parser.add_argument("--out", type=Path, default=None, help="write there (default: the folder)")
    args = parser.parse_args(argv)
    for path in rebuild(args.folder, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    from han.cli import entry

    entry(main)()
