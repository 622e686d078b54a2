"""Experiment trackers (`logger=` config group): TensorBoard (han/monitoring.py), MLflow, W&B.

A tracker is a Trainer callback like TensorBoard's: `on_epoch_end(epoch, logs)` gets each epoch's
train and validation metrics, `finish(metrics)` the final `metrics.json`. It logs the run's whole
resolved config as parameters when it starts. MLflow and W&B are extras: asking for one that is
not installed names the extra to install.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from omegaconf import DictConfig

from han.console import UsageError

EXTRAS = {"mlflow": ("mlflow", "han-attention[mlflow]"), "wandb": ("wandb", "han-attention[wandb]")}


def need(name: str):
    """Import an optional tracker's package, or fail naming the extra that brings it."""
    module, extra = EXTRAS[name]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise UsageError(f"logger={name} needs the {module} package: pip install '{extra}' "
                         f"(or choose logger=tensorboard)") from err


def flatten(data: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists become their text."""
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        else:
            out[name] = value if isinstance(value, bool | int | float | str) or value is None else str(value)
    return out


def final_metrics(metrics: dict) -> dict[str, float]:
    """The numbers of `metrics.json` a tracker charts: test, validation, train and baseline
    scalars, and the per-class F1 (`test.f1.<class>`)."""
    out = {}
    for section in ("test", "validation", "train", "baseline"):
        for key, value in flatten(metrics.get(section) or {}, f"{section}.").items():
            if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
                out[key] = float(value)
    for name, row in (metrics.get("test", {}).get("per_class") or {}).items():
        out[f"test.f1.{name}"] = float(row["f1"])
    return {k: v for k, v in out.items() if ".per_class." not in k}


class MLflowTracker:
    def __init__(self, cfg: DictConfig, run_dir: Path, params: dict) -> None:
        mlflow = need("mlflow")
        uri = cfg.logger.get("tracking_uri")
        if uri is None:
            store = Path(str(cfg.paths.log_dir)).expanduser().resolve() / "mlruns"
            uri = store.as_uri()
        if str(uri).startswith("file:"):
            # MLflow 3 keeps its file store in maintenance mode and refuses it unless asked; a
            # server-less local store is the point here (a database store needs SQLAlchemy 2,
            # which the [sweep] extra's optuna 2 excludes).
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.mlflow, self.uri = mlflow, str(uri)
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_experiment(str(cfg.logger.experiment))
        self.run = mlflow.start_run(run_name=str(cfg.logger.get("run_name") or run_dir.name))
        self.run_dir = run_dir
        # MLflow caps a parameter's value at 6000 characters
        mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})
        mlflow.set_tag("run_dir", str(run_dir))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        numbers = {k: float(v) for k, v in logs.items() if isinstance(v, int | float) and v == v}
        self.mlflow.log_metrics(numbers, step=epoch)

    def finish(self, metrics: dict) -> None:
        self.mlflow.log_metrics(final_metrics(metrics))
        self.mlflow.set_tag("code", str(metrics.get("code")))
        if (self.run_dir / "metrics.json").is_file():
            self.mlflow.log_artifact(str(self.run_dir / "metrics.json"))
        self.mlflow.end_run()


class WandbTracker:
    def __init__(self, cfg: DictConfig, run_dir: Path, params: dict) -> None:
        wandb = need("wandb")
        self.run = wandb.init(
            project=str(cfg.logger.project), entity=cfg.logger.get("entity"),
            mode=str(cfg.logger.mode), dir=str(run_dir), config=params,
            name=str(cfg.logger.get("run_name") or run_dir.name), reinit=True,
        )

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.run.log({k: v for k, v in logs.items() if isinstance(v, int | float)}, step=epoch)

    def finish(self, metrics: dict) -> None:
        self.run.summary.update(final_metrics(metrics))
        self.run.finish()


TRACKERS = {"mlflow": MLflowTracker, "wandb": WandbTracker}
NAMES = ("tensorboard", *TRACKERS)


def logger_name(cfg: DictConfig) -> str:
    """The tracker `cfg.logger` names. A run saved before the logger group existed has none and
    wrote TensorBoard (#26), so a record without it reads as tensorboard."""
    return str((cfg.get("logger") or {}).get("name", "tensorboard"))


def make_tracker(cfg: DictConfig, run_dir: Path) -> MLflowTracker | WandbTracker | None:
    """The tracker `cfg.logger` names; None for TensorBoard (han/monitoring.py writes it)."""
    name = logger_name(cfg)
    if name not in NAMES:
        raise UsageError(f"logger.name is {name!r}; choose logger={' | logger='.join(NAMES)}")
    if name == "tensorboard":
        return None
    from han.runconfig import resolved_config

    params = flatten({k: v for k, v in resolved_config(cfg).items() if k != "logger"})
    return TRACKERS[name](cfg, Path(run_dir), params)


def check_installed(cfg: DictConfig) -> None:
    """Fail before any work when `cfg.logger` names a tracker whose package is missing."""
    name = logger_name(cfg)
    if name in EXTRAS:
        need(name)


def uses_tensorboard(cfg: DictConfig) -> bool:
    return logger_name(cfg) == "tensorboard"
