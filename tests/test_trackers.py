"""Trackers and extras without a run: what they log, and the one line a missing extra gives."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from han import extras, trackers
from han.cli import UsageError


def test_final_metrics_are_the_numbers_of_metrics_json():
    metrics = {"test": {"accuracy": 0.9, "macro_f1": 0.8, "loss": 0.3,
                        "per_class": {"sport": {"f1": 0.95, "support": 10}},
                        "confusion_matrix": [[1]]},
               "validation": {"accuracy": 0.85, "macro_f1": None, "best_epoch": 3},
               "train": {"epochs": 4, "stopped_early": False}}
    out = trackers.final_metrics(metrics)
    assert out == {"test.accuracy": 0.9, "test.macro_f1": 0.8, "test.loss": 0.3,
                   "validation.accuracy": 0.85, "validation.best_epoch": 3.0,
                   "train.epochs": 4.0, "test.f1.sport": 0.95}


def test_params_are_the_flattened_config():
    assert trackers.flatten({"model": {"name": "han", "dims": [1, 2]}, "seed": 0}) == {
        "model.name": "han", "model.dims": "[1, 2]", "seed": 0}


def test_an_unknown_logger_is_named():
    cfg = OmegaConf.create({"logger": {"name": "neptune"}})
    with pytest.raises(UsageError, match="logger.name is 'neptune'; choose logger=tensorboard"):
        trackers.make_tracker(cfg, ".")


def test_a_tracker_without_its_package_names_the_extra(monkeypatch):
    import importlib

    real = importlib.import_module

    def without_wandb(name, *args):
        if name == "wandb":
            raise ImportError("No module named 'wandb'")
        return real(name, *args)

    monkeypatch.setattr(trackers.importlib, "import_module", without_wandb)
    cfg = OmegaConf.create({"logger": {"name": "wandb"}})
    with pytest.raises(UsageError, match=r"pip install 'han-attention\[wandb\]'"):
        trackers.check_installed(cfg)


def test_features_in_missing_extras_name_the_extra(monkeypatch):
    monkeypatch.setattr(extras, "installed", lambda module: False)
    with pytest.raises(UsageError, match=r"pip install 'han-attention\[parquet\]'"):
        extras.require_parquet()
    with pytest.raises(UsageError, match=r"hydra/launcher=han_submitit_slurm .*'han-attention\[slurm\]'"):
        extras.check_overrides(["model=flat", "hydra/launcher=han_submitit_slurm"])
    extras.check_overrides(["model=flat", "hydra/launcher=han_joblib"])  # a default dependency


def test_a_parquet_table_without_pyarrow_fails_in_one_line(monkeypatch, tmp_path):
    from han.data.tables import read_table

    path = tmp_path / "docs.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setattr(extras, "installed", lambda module: module != "pyarrow")
    with pytest.raises(UsageError, match=r"reading a \.parquet table needs pyarrow"):
        read_table(path)
