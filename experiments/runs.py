"""A sweep directory as a table of runs: one row per Hydra job with a readable metrics.json,
the jobs that failed, and the baselines that network runs fitted beside themselves."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from han.schema import TrainerSettings

BASELINE_MODELS = ("tfidf_lr", "ngram_tfidf_lr")  # runs written before metrics.json had "family"
# A job without a saved config was trained with the schema's trainer.monitor (its one home).
DEFAULT_MONITOR = str(TrainerSettings.monitor)
# From the job's data_summary.json["duplicates"] (han.data.dedup.report); NaN for older runs.
DUPLICATE_KEYS = {"dup_groups": "groups", "dup_exact_groups": "exact_groups",
                  "dup_in_groups": "documents_in_groups", "dup_removed": "removed",
                  "dup_test_twins_kept": "official_test_twins_kept",
                  "dup_conflicting": "conflicting_label_groups"}
DUPLICATE_COLUMNS = ["dedup", *DUPLICATE_KEYS, "docs_kept"]
RUN_COLUMNS = ["job", "dataset", "model", "family", "seed", "num_classes", "test_accuracy", "test_macro_f1",
               "test_loss", "val_accuracy", "val_macro_f1", "val_loss", "best_epoch", "train_epochs",
               "train_seconds", "docs_per_second", "predictions", "overrides", "folds", "fold",
               "monitor", "code", "C", *DUPLICATE_COLUMNS]


@dataclass(frozen=True)
class Predictions:
    """A run's test predictions (`id`, `label`, `predicted`): a file, or rows already read
    (committed records, pooled k-fold runs). One cell of the runs table, never NaN-like."""

    path: Path | None = None
    frame: pd.DataFrame | None = field(default=None, compare=False)

    def read(self) -> pd.DataFrame:
        if self.frame is not None:
            return self.frame
        # Ids and class names are strings by contract; stop pandas turning "007" into 7.
        frame = pd.read_csv(self.path, usecols=["id", "label", "predicted"], dtype=str)
        return frame.drop_duplicates("id")


def has_predictions(value: object) -> bool:
    return isinstance(value, Predictions)


@dataclass
class FailedJob:
    """A job directory without a usable metrics.json; `job` is relative to the sweep."""

    job: str
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
        "job": job,  # relative to the sweep: no machine path reaches a published file
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
        "val_loss": math.nan if m["validation"].get("loss") is None else float(m["validation"]["loss"]),
        "best_epoch": int(m["validation"]["best_epoch"]),
        "train_epochs": int(m["train"]["epochs"]),
        "train_seconds": float(m["train"]["seconds"]),
        "docs_per_second": float(m["train"]["docs_per_second"]),
        "predictions": Predictions(predictions) if predictions.is_file() else None,
        "C": (m["validation"].get("C")),  # linear models: the C validation chose
        "overrides": overrides,
        "folds": m.get("folds"), "fold": m.get("fold"),  # k-fold jobs (experiments.folds)
        "monitor": DEFAULT_MONITOR,
        "code": str(m.get("code") or "unrecorded"),  # the commit (han.provenance)
    }


def _monitor(job: Path) -> str:
    """The job's `trainer.monitor` (what picked its epoch or C), from Hydra's saved config."""
    try:
        cfg = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
        return str(cfg["trainer"]["monitor"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return DEFAULT_MONITOR


def _duplicates(job: Path) -> dict[str, object]:
    """What deduplication did to the job's corpus (data_summary.json), or NaNs."""
    try:
        summary = json.loads((job / "data_summary.json").read_text())
        dup = summary["duplicates"]
        kept = sum(int(row["total"]) for row in summary["documents"].values())
    except (OSError, ValueError, KeyError, TypeError):
        return dict.fromkeys(DUPLICATE_COLUMNS, math.nan)
    return ({"dedup": str(dup.get("mode"))} | {c: dup.get(k, math.nan)
                                                for c, k in DUPLICATE_KEYS.items()}
            | {"docs_kept": kept})


def _run_row(job: Path, sweep: Path) -> dict[str, object]:
    m = json.loads((job / "metrics.json").read_text())
    return _row(m, job.relative_to(sweep).as_posix() or ".", job / "predictions.csv",
                " ".join(_read_overrides(job))) | {"monitor": _monitor(job)} | _duplicates(job)


def collect_runs(sweep_dir: str | Path) -> tuple[pd.DataFrame, list[FailedJob]]:
    """One row per job with a readable metrics.json, plus the jobs that have none."""
    sweep = Path(sweep_dir)
    # A job is any directory with Hydra's .hydra/ or a metrics.json; failed jobs only have the former.
    jobs = {p.parent for p in sweep.rglob(".hydra") if p.is_dir()}
    jobs |= {p.parent for p in sweep.rglob("metrics.json")}
    rows, failed = [], []
    for job in sorted(jobs, key=_natural_key):
        name = job.relative_to(sweep).as_posix() or "."
        if not (job / "metrics.json").is_file():
            failed.append(FailedJob(name, _read_overrides(job)))
            continue
        try:
            rows.append(_run_row(job, sweep))
        except (OSError, ValueError, KeyError, TypeError) as exc:  # half-written or old schema
            failed.append(FailedJob(name, _read_overrides(job), f"unreadable metrics.json: {exc!r}"))
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
        # its C was chosen by the job's own trainer.monitor (han/train_linear.py)
        rows.append(_row(fitted, label, predictions, "") | {"monitor": _monitor(job)}
                    | _duplicates(job))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
