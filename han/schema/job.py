"""The settings of a job beside its data and model: how it trains (`trainer`), where it runs
(`runtime`), where it reads and writes (`paths`) and what records it (`logger`, `LOGGERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omegaconf import MISSING

from han.schema.selection import Monitor

__all__ = [
    "LOGGERS", "Cluster", "LoggerSettings", "MlflowLogger", "Optimizer", "PathsSettings",
    "Precision", "RuntimeSettings", "Strategy", "TrainerSettings", "WandbLogger",
]


# StrEnum: each member is its own name, so `== "adam"` and JSON both work
class Optimizer(StrEnum):
    adam = "adam"
    sgd = "sgd"


class Strategy(StrEnum):
    default = "default"
    mirrored = "mirrored"
    multi_worker = "multi_worker"


class Cluster(StrEnum):
    tf_config = "tf_config"
    slurm = "slurm"


class Precision(StrEnum):
    float32 = "float32"
    mixed_float16 = "mixed_float16"
    mixed_bfloat16 = "mixed_bfloat16"


@dataclass
class TrainerSettings:
    """How to train (conf/trainer/default.yaml documents each setting)."""

    epochs: int = 10
    batch_size: int = 64               # the paper's; the global batch under a distribution strategy
    optimizer: Optimizer = Optimizer.adam  # the paper: SGD with momentum 0.9 (trainer=paper)
    learning_rate: float = 0.001
    momentum: float = 0.9              # sgd only
    clipnorm: float | None = 5.0    # global gradient-norm clipping; null = off
    monitor: Monitor = Monitor.macro_f1  # picks the best epoch; a tie: the lower validation loss
    patience: int = 3                  # early stop after this many epochs without a better monitor; 0 = off
    bucket: bool = True                # batch documents of similar length together (the paper)
    eval_batch_size: int = 512         # speed only; 512 measured fastest on CPU


@dataclass
class RuntimeSettings:
    """Devices, precision, distribution (conf/runtime/cpu.yaml documents each setting)."""

    strategy: Strategy = Strategy.default
    cluster: Cluster = Cluster.tf_config  # multi_worker only: TF_CONFIG env | slurm
    devices: list[int] | None = None   # GPU indices to make visible; null = all
    memory_growth: bool = True         # allocate GPU memory as needed (only when GPUs exist)
    logical_cpus: int = 0              # split the CPU into N logical devices (tests of mirrored)
    precision: Precision = Precision.float32
    jit_compile: bool = False          # XLA; recompiles for every new batch shape
    deterministic: bool = True         # same seed, same numbers (on one machine)


@dataclass
class PathsSettings:
    """Where things are (conf/paths/default.yaml sets each)."""

    root_dir: str = MISSING
    data_dir: str = MISSING
    cache_dir: str = MISSING
    mirror: str | None = None
    nltk_data: str | None = None
    log_dir: str = MISSING
    output_dir: str | None = None


@dataclass
class LoggerSettings:
    """The experiment tracker (conf/logger/, han/trackers.py); tensorboard has no settings."""

    name: str = MISSING


@dataclass
class MlflowLogger(LoggerSettings):
    tracking_uri: str | None = None
    experiment: str = "han"
    run_name: str | None = None


@dataclass
class WandbLogger(LoggerSettings):
    project: str = "han"
    entity: str | None = None
    mode: str = "offline"
    run_name: str | None = None


LOGGERS: dict[str, type[LoggerSettings]] = {
    "tensorboard": LoggerSettings, "mlflow": MlflowLogger, "wandb": WandbLogger}
