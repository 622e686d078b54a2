"""What a run directory holds beside the model and its checkpoints (docs/ARCHITECTURE.md, "Run
directory"): `predictions.csv` (`write_predictions`), the header of `metrics.json`
(`run_header`: which data, model, seed, fold and commit), `vocab.json` and `data_summary.json`
(`write_data`). A network's run (han/train.py), a linear model's (han/train_linear.py) and
han-evaluate write them the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from han.data.encode import EncodedDocs
from han.data.prepare import PreparedData
from han.data.summary import data_summary
from han.io import atomic_open, atomic_write_text
from han.provenance import code_version

__all__ = ["run_header", "write_data", "write_predictions"]


def write_predictions(path: Path, docs: EncodedDocs, probs: np.ndarray, classes: list[str]) -> None:
    frame = pd.DataFrame(
        {
            "id": docs.ids,
            "label": [classes[i] for i in docs.labels],
            "predicted": [classes[i] for i in probs.argmax(-1)],
        }
    )
    for i, name in enumerate(classes):
        frame[f"prob_{name}"] = probs[:, i]
    with atomic_open(path) as handle:
        frame.to_csv(handle, index=False)


def run_header(cfg: DictConfig, data: PreparedData, family: str) -> dict:
    """The first keys of `metrics.json`: what was run, on what, by which commit."""
    return {
        "dataset": str(cfg.dataset.name),
        "model": str(cfg.model.name),
        "family": family,
        "seed": int(cfg.seed),
        # k-fold cross-validation (null: one split): experiments.compare pools a seed's folds
        "folds": cfg.dataset.folds,
        "fold": cfg.dataset.fold,
        "num_classes": len(data.classes),
        "classes": data.classes,
        "code": code_version(),  # the commit that produced this result
    }


def write_data(data: PreparedData, run_dir: Path, **found: Any) -> None:
    """vocab.json and data_summary.json (plus what the run found, e.g. embedding_coverage)."""
    data.vocabulary.save(run_dir / "vocab.json")
    atomic_write_text(run_dir / "data_summary.json",
                      json.dumps(data_summary(data) | found, indent=1))
