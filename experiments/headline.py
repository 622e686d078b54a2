"""The headline of a comparison: one row per dataset, one column per model, the best baseline
picked on validation, and each network's difference from it with its paired bootstrap p.

`experiments.compare` writes it at the top of `comparison.md`; the README's results table is it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

ORDER = ("tfidf_lr", "ngram_tfidf_lr", "flat", "flat_avg", "han_avg", "han_max", "han")


def model_order(models: Iterable[str]) -> list[str]:
    """Baselines first, then flat, then the hierarchical models (ORDER); others after, sorted."""
    present = set(models)
    return [m for m in ORDER if m in present] + sorted(present - set(ORDER))


def _cell(row: pd.Series) -> str:
    mean, std, n = row["test_accuracy_mean"], row["test_accuracy_std"], int(row["n_runs"])
    spread = "" if math.isnan(std) else f" ± {100 * std:.2f}"
    return f"{100 * mean:.2f}{spread} ({n})"


def headline(table: pd.DataFrame) -> str:
    """Test accuracy (%) mean ± sd (runs) per dataset and model, and HAN − best baseline."""
    models = model_order(table["model"])
    has_baseline = "baseline" in table and table["baseline"].notna().any()
    header = ["dataset", *models]
    if has_baseline:
        header += ["best baseline (validation)"] + [f"{m} − baseline (p)" for m in models
                                                    if m in ("flat", "han")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset, group in table.groupby("dataset", sort=True):
        rows = group.set_index("model")
        cells = [str(dataset)] + [_cell(rows.loc[m]) if m in rows.index else "—" for m in models]
        if has_baseline:
            best = rows["baseline"].dropna()
            cells.append(str(best.iloc[0]) if len(best) else "none")
            for m in (m for m in models if m in ("flat", "han")):
                if m not in rows.index or pd.isna(rows.loc[m].get("bl_delta_accuracy")):
                    cells.append("n/a")
                    continue
                r = rows.loc[m]
                cells.append(f"{100 * r['bl_delta_accuracy']:+.2f} ({r['bl_p_bootstrap']:.2g})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
