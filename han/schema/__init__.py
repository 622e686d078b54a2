"""Typed settings: the one home of each setting's type, default and allowed values (issue #24).

One dataclass per config group, registered in Hydra's ConfigStore under ``schema/<group>``;
each group's YAML files name their schema first in their defaults list and set values only::

    # conf/model/han.yaml
    defaults:
      - /schema/model/hierarchical@_here_
      - _self_
    name: han
    ...

Hydra then merges the YAML onto the dataclass while it composes, so a key the schema does not
define (`model.dropuot=0.1`, `+model.foo=1` too) or a value of the wrong type or choice
(`trainer.optimizer=adamw`) fails at once, before any data work, with one line naming the key
(`han.cli`). Ranges and rules across settings, which types cannot say, are `han.config`'s.
Consumers receive their group (`cfg.dataset`, `cfg.trainer`, ...), a typed node, never the whole
config.

One module per seam, each name importable from `han.schema`:

- `dataset.py`: what every dataset shares and each reader's settings (`DATASETS`);
- `model.py`: the attention networks' and the linear rows' settings (`MODELS`, by family);
- `networks.py`: Table 2's networks without attention (`NETWORKS`, by `model.network`);
- `job.py`: the trainer, runtime, paths and logger groups (`LOGGERS`);
- `selection.py`: the one selection rule, `Monitor.score` and `better`;
- `registry.py`: `schema_of`, `typed` and `register` (the ConfigStore, before Hydra composes).

A new model adds one YAML in conf/model/ that names `/schema/model/hierarchical`,
`/schema/model/flat` or `/schema/model/linear` (or a dataclass of its own in `model.py`,
registered with `MODELS[...]`, when its settings differ). Table 2's networks without attention
name their own (`/schema/model/<network>`, `NETWORKS`), picked by `model.network`. A new dataset
reader adds its settings dataclass to `DATASETS` (docs/ARCHITECTURE.md).

This package imports nothing of `han` outside itself: every layer may read it.
"""

from han.schema.dataset import (
    DATASETS,
    ArchiveDataset,
    BBCDataset,
    DatasetSettings,
    DedupMode,
    IMDBDataset,
    KeepWords,
    NearDuplicates,
    ReutersDataset,
    Split,
    TableDataset,
    TangDataset,
    TokenizerSettings,
    VocabSettings,
    ZhangDataset,
)
from han.schema.job import (
    LOGGERS,
    Cluster,
    LoggerSettings,
    MlflowLogger,
    Optimizer,
    PathsSettings,
    Precision,
    RuntimeSettings,
    Strategy,
    TrainerSettings,
    WandbLogger,
)
from han.schema.model import (
    MODELS,
    Classifier,
    EmbeddingInit,
    Family,
    Features,
    FlatModel,
    HierarchicalModel,
    LinearModel,
    ModelSettings,
    NetworkModel,
    Pooling,
    PVMode,
)
from han.schema.networks import (
    NETWORKS,
    CharCNNModel,
    CNNWordModel,
    ConvGRNNModel,
    LSTMGRNNModel,
    LSTMModel,
    Table2Network,
    WordNetwork,
)
from han.schema.registry import SettingsError, register, schema_of, typed
from han.schema.selection import Monitor, better

__all__ = [
    "Classifier", "Cluster", "DedupMode", "EmbeddingInit", "Family", "Features", "KeepWords",
    "Monitor", "Optimizer", "PVMode", "Pooling", "Precision", "Strategy", "better",
    "DatasetSettings", "DATASETS", "ArchiveDataset", "BBCDataset", "IMDBDataset", "ReutersDataset",
    "ZhangDataset", "TangDataset", "TableDataset", "NearDuplicates", "Split", "TokenizerSettings",
    "VocabSettings",
    "ModelSettings", "NetworkModel", "HierarchicalModel", "FlatModel", "LinearModel", "MODELS",
    "Table2Network", "WordNetwork", "CNNWordModel", "CharCNNModel", "LSTMModel", "ConvGRNNModel",
    "LSTMGRNNModel", "NETWORKS",
    "TrainerSettings", "RuntimeSettings", "PathsSettings", "SettingsError", "register",
    "schema_of", "typed", "LoggerSettings", "MlflowLogger", "WandbLogger", "LOGGERS",
]
