"""Shared by the end-to-end tests: a small CSV of real BBC articles and a shrunken run."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from han.data.sources import dataset_files, read_documents

CONF = Path(__file__).resolve().parents[1] / "conf"


@functools.cache
def model_config(name: str) -> dict[str, Any]:
    """conf/model/<name>.yaml composed as the `model` group (defaults lists resolved)."""
    with initialize_config_dir(config_dir=str(CONF), version_base=None):
        cfg = compose(overrides=[f"+model={name}"])
    return OmegaConf.to_container(cfg.model, resolve=True)


CLASSES = ["politics", "sport", "entertainment"]
# A model small enough that a run over 120 real articles takes seconds.
SHRINK = [
    "model.embedding_dim=16",
    "model.gru_units=8",
    "model.attention_dim=8",
    "trainer.batch_size=16",
    "trainer.eval_batch_size=64",
    "trainer.patience=0",
    "progress=false",
    "workers=1",
]


def bbc_sample(mirror_dir: Path, per_class: int = 40) -> pd.DataFrame:
    """The first `per_class` real BBC articles of each of the three news classes."""
    cfg = {"kind": "bbc", "filename": "bbc-fulltext.zip", "url": "unused", "classes": CLASSES}
    docs, _ = read_documents(cfg, dataset_files(cfg, mirror_dir, mirror_dir))
    return docs.groupby("label", group_keys=False).head(per_class)[["id", "text", "label"]]


def csv_run_args(csv: Path, cache_dir: Path) -> list[str]:
    """Overrides that point `han.train` at a user CSV, shrunken."""
    return [
        "dataset=csv", f"dataset.train_path={csv}", "dataset.id_column=id",
        "dataset.vocab.min_count=2", f"paths.cache_dir={cache_dir}", *SHRINK,
    ]


def train_command(run_dir: Path, csv: Path, *overrides: str) -> list[str]:
    return [
        sys.executable, "-m", "han.train", *csv_run_args(csv, run_dir.parent / "cache"),
        f"hydra.run.dir={run_dir}", *overrides,
    ]
