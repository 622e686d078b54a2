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


def fmt(value: object, digits: int = 4) -> str:
    """A float to `digits` places, anything else as it is; None or NaN: n/a."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_p(value: object) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"


def percent(value: object, sign: bool = False) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{100 * value:+.2f}" if sign else f"{100 * value:.2f}"


def interval(low: object, high: object, sign: bool = False) -> str:
    """[low, high] in percent, or n/a."""
    if low is None or pd.isna(low):
        return "n/a"
    return f"[{percent(low, sign)}, {percent(high, sign)}]"


def difference(r: dict, prefix: str = "") -> str:
    """"+0.76 [-0.21, +1.70], p 0.049 (Holm 0.29)": a paired test's cell."""
    if pd.isna(r.get(f"{prefix}delta_accuracy")):
        return "n/a"
    return (f"{percent(r[f'{prefix}delta_accuracy'], True)} "
            f"{interval(r[f'{prefix}delta_ci_low'], r[f'{prefix}delta_ci_high'], True)}, "
            f"p {fmt_p(r[f'{prefix}p'])} (Holm {fmt_p(r[f'{prefix}p_holm'])})")


def accuracy_cell(row: pd.Series) -> str:
    """Pooled test accuracy [95% interval] (runs), or mean ± sd where there are no predictions."""
    n = int(row["n_runs"])
    if pd.isna(row.get("test_accuracy_pooled")):
        std = row["test_accuracy_std"]
        spread = "" if pd.isna(std) else f" ± {100 * std:.2f}"
        return f"{100 * row['test_accuracy_mean']:.2f}{spread} ({n})"
    return (f"{100 * row['test_accuracy_pooled']:.2f} "
            f"{interval(row['test_accuracy_ci_low'], row['test_accuracy_ci_high'])} ({n})")


def headline(table: pd.DataFrame, reference: str = "flat") -> str:
    """Per dataset: each model's test accuracy (%), the best baseline (validation), and the
    paired differences that answer the question: flat and HAN against the best baseline, HAN
    against the comparison's reference (flat by default), each with its interval, p and
    Holm-adjusted p."""
    models = model_order(table["model"])
    has_baseline = "baseline" in table and table["baseline"].notna().any()
    networks = [m for m in models if m in ("flat", "han")]
    header = ["dataset", *models]
    if has_baseline:
        header += ["best baseline (validation)"] + [f"{m} − baseline" for m in networks]
    if reference != "han" and {reference, "han"} <= set(models) and "p" in table:
        header.append(f"han − {reference}")  # the table's p columns pair with the reference
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset, group in table.groupby("dataset", sort=True):
        rows = group.set_index("model")
        cells = [str(dataset)] + [accuracy_cell(rows.loc[m]) if m in rows.index else "—" for m in models]
        if has_baseline:
            best = rows["baseline"].dropna()
            cells.append(str(best.iloc[0]) if len(best) else "none")
            cells += [difference(rows.loc[m].to_dict(), "bl_") if m in rows.index else "n/a"
                      for m in networks]
        if len(header) > len(cells):
            cells.append(difference(rows.loc["han"].to_dict()) if "han" in rows.index else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
