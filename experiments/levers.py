"""Lever choice in `experiments.compare`: one run per model, seed and fold, chosen on validation.

A sweep may train a model several ways on the same split: `experiment=levers_compare` runs
every network under each lever set of `conf/levers/`, an Optuna search runs trials. Where one
(dataset, model, seed, fold) has several jobs, `choose_levers` keeps the one whose *validation*
score is best — its `trainer.monitor`, a tie going to the lower validation loss, the rule that
picks a network's epoch and a baseline's C — so each model gets the same chance at the levers
and the test fold never enters the choice (in k-fold sweeps, validation is carved from the
training folds). A job's variant is its overrides minus those naming the slot and those every
job of the model shares.
"""

from __future__ import annotations

import math

import pandas as pd

from han.console import UsageError
from han.schema import Monitor, better

# Overrides that name the slot (or the whole sweep), not the variant.
SLOT_KEYS = ("seed", "model", "dataset", "dataset.fold", "dataset.folds", "experiment")
DEFAULTS = "(defaults)"


def variant(overrides: str | None, shared: frozenset[str] = frozenset()) -> str:
    """`levers=plain model.gru_units=25`: the overrides that set how the model was trained."""
    kept = sorted(o for o in str(overrides or "").split()
                  if o.split("=", 1)[0].lstrip("+~") not in SLOT_KEYS and o not in shared)
    return " ".join(kept) or DEFAULTS


def _variants(runs: pd.DataFrame) -> pd.Series:
    """Each job's variant, leaving out the overrides all jobs of its (dataset, model) share."""
    out = pd.Series(DEFAULTS, index=runs.index, dtype=object)
    for _, group in runs.groupby(["dataset", "model"]):
        sets = [frozenset(str(o or "").split()) for o in group["overrides"]]
        shared = frozenset.intersection(*sets)
        out[group.index] = [variant(o, shared) for o in group["overrides"]]
    return out


def _monitor(row: pd.Series) -> Monitor:
    """The job's own `trainer.monitor`. Every row carries it: `runs.collect_runs` reads it from
    the job's saved config (the schema's default for a job without one, `runs.DEFAULT_MONITOR`)
    and a records file has the column; a row without one is an error, never a guess."""
    value = row.get("monitor")
    if value is None or pd.isna(value) or str(value) not in set(Monitor):
        raise UsageError(f"job {row.get('job')}: its monitor is {value!r}, not one of "
                         f"{', '.join(Monitor)}; give the records' jobs.csv the trainer.monitor "
                         "the job was trained with, or compare its sweep directory instead")
    return Monitor(str(value))


def _best(group: pd.DataFrame) -> int:
    """The job validation chooses: the selection rule of every choice (`han.schema.better`:
    the job's monitored score, a tie to the lower loss), then the variant's name so it is
    stable."""
    best: tuple[int, float, float] | None = None
    for i in sorted(group.index, key=lambda i: str(group.loc[i, "variant"])):
        row = group.loc[i]
        score = _monitor(row).score(row, prefix="val_")
        loss = float(row["val_loss"]) if not pd.isna(row["val_loss"]) else math.inf
        if best is None or better(score, loss, best[1], best[2]):
            best = (i, score, loss)
    assert best is not None
    return best[0]


def choose_levers(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """`runs` with one job per (dataset, model, seed, fold), the choices made, and notes.

    The choices table has one row per (dataset, model, variant) that was offered where there
    was a choice: how many of the model's slots chose it. Without any slot that has several
    jobs, `runs` comes back unchanged and the choices table is empty.
    """
    columns = ["dataset", "model", "variant", "chosen", "slots"]
    if runs.empty:
        return runs, pd.DataFrame(columns=columns), []
    runs = runs.assign(variant=_variants(runs))
    slot = ["dataset", "model", "seed", "fold"]
    keyed = runs.assign(fold=runs["fold"].fillna(-1))
    sizes = keyed.groupby(slot, dropna=False)["job"].transform("size")
    if int(sizes.max()) < 2:
        return runs, pd.DataFrame(columns=columns), []
    keep, rows = [], []
    for (dataset, model), per_model in keyed.groupby(["dataset", "model"], sort=True):
        offered = sorted(set(per_model["variant"]))
        chosen: dict[str, int] = dict.fromkeys(offered, 0)
        slots = 0
        for _, group in per_model.groupby(["seed", "fold"], sort=True):
            best = _best(group)
            keep.append(best)
            chosen[group.loc[best, "variant"]] += 1
            slots += 1
        if len(offered) > 1 and per_model["family"].iloc[0] != "linear":  # linear: no levers
            rows += [[dataset, model, v, chosen[v], slots] for v in offered]
    notes = []
    if rows:
        notes.append("Lever choice: where a model had several jobs for one seed and fold, the "
                     "one with the best validation score (trainer.monitor, ties to the lower "
                     "validation loss) is its run; the table 'Levers chosen on validation' "
                     "counts the choices.")
    return runs.loc[sorted(keep)].reset_index(drop=True), pd.DataFrame(rows, columns=columns), notes


def choices_markdown(choices: pd.DataFrame) -> str:
    """Per model, how often validation chose each lever set, as a markdown table."""
    lines = ["| dataset | model | lever set | chosen (of slots) |", "|---|---|---|---|"]
    for r in choices.itertuples():
        lines.append(f"| {r.dataset} | {r.model} | `{r.variant}` | {r.chosen} of {r.slots} |")
    return "\n".join(lines)
