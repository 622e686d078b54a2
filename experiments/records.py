"""The committed records behind a published table: enough to rebuild it byte for byte.

`python -m experiments.compare <sweep> --publish docs/results/<name>` writes, beside the table:

- `jobs.csv`: one row per job (dataset, model, seed, fold, commit, overrides, the epoch or C that
  validation chose, validation and test metrics, speed); job names are relative to the sweep;
- `predictions.csv.gz`: every job's test predictions (`job`, `id`, `label`, `predicted`), which
  the paired tests need;
- `failed.csv`: the jobs that wrote no metrics.json, with their overrides;
- `meta.json`: the table's title and the commands that produced the sweep.

`python -m experiments.compare docs/results/<name>` reads them back (`read_records`) and writes
the same comparison.md, .csv and .png; tests/test_published.py checks that it does.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pandas as pd

from han.io import atomic_open, atomic_write_text

from .runs import RUN_COLUMNS, FailedJob, Predictions, has_predictions

JOBS, PREDICTIONS, FAILED, META = "jobs.csv", "predictions.csv.gz", "failed.csv", "meta.json"
JOB_COLUMNS = [c for c in RUN_COLUMNS if c != "predictions"]


def is_records(path: Path) -> bool:
    return (Path(path) / JOBS).is_file()


def write_records(runs: pd.DataFrame, failed: list[FailedJob], out: Path, meta: dict) -> None:
    """The runs table (before any choice or pooling) and its predictions, as files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = runs[JOB_COLUMNS].sort_values("job", kind="stable")
    atomic_write_text(out / JOBS, jobs.to_csv(index=False))
    frames = [r.predictions.read().assign(job=r.job)[["job", "id", "label", "predicted"]]
              for r in runs.sort_values("job", kind="stable").itertuples()
              if has_predictions(r.predictions)]
    predictions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["job", "id", "label", "predicted"])
    # mtime=0: the same rows give the same bytes, so a rebuilt record diffs clean.
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(predictions.to_csv(index=False).encode())
    with atomic_open(out / PREDICTIONS, "wb") as handle:
        handle.write(buffer.getvalue())
    failed_rows = pd.DataFrame([{"job": f.job, "overrides": " ".join(f.overrides),
                                 "reason": f.reason} for f in failed],
                               columns=["job", "overrides", "reason"])
    atomic_write_text(out / FAILED, failed_rows.to_csv(index=False))
    atomic_write_text(out / META, json.dumps(meta, indent=1, sort_keys=True) + "\n")


def read_records(path: Path) -> tuple[pd.DataFrame, list[FailedJob], dict]:
    """The runs table, failed jobs and meta that `write_records` wrote."""
    path = Path(path)
    jobs = pd.read_csv(path / JOBS, dtype={"job": str, "overrides": str, "code": str,
                                           "dataset": str, "model": str, "family": str})
    jobs["overrides"] = jobs["overrides"].fillna("")
    predictions = pd.read_csv(path / PREDICTIONS, dtype=str, keep_default_na=False)
    by_job = {job: frame.drop(columns="job").reset_index(drop=True)
              for job, frame in predictions.groupby("job", sort=False)}
    jobs["predictions"] = [Predictions(frame=by_job[j]) if j in by_job else None
                           for j in jobs["job"]]
    failed_path = path / FAILED
    failed = []
    if failed_path.is_file():
        rows = pd.read_csv(failed_path, dtype=str, keep_default_na=False)
        failed = [FailedJob(job=r.job, overrides=r.overrides.split(), reason=r.reason)
                  for r in rows.itertuples()]
    meta = json.loads((path / META).read_text()) if (path / META).is_file() else {}
    return jobs[RUN_COLUMNS], failed, meta
