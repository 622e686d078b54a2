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

A new model adds one YAML in conf/model/ that names `/schema/model/hierarchical`,
`/schema/model/flat` or `/schema/model/linear` (or a dataclass of its own, registered here with
`MODELS[...]`, when its settings differ). Table 2's networks without attention name their own
(`/schema/model/<network>`, `NETWORKS`), picked by `model.network`. A new dataset reader adds its settings dataclass
to `DATASETS` (docs/ARCHITECTURE.md).

This module imports nothing of `han`: every layer may read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any  # noqa: UP035 - OmegaConf reads Optional[...] annotations

from omegaconf import MISSING

__all__ = [
    "Classifier", "Cluster", "DedupMode", "EmbeddingInit", "Family", "Features", "KeepWords",
    "Monitor", "Optimizer", "PVMode", "Pooling", "Precision", "Strategy", "better",
    "DatasetSettings", "DATASETS", "ArchiveDataset", "BBCDataset", "IMDBDataset", "ReutersDataset",
    "ZhangDataset", "TangDataset", "TableDataset", "NearDuplicates", "Split", "TokenizerSettings", "VocabSettings",
    "ModelSettings", "NetworkModel", "HierarchicalModel", "FlatModel", "LinearModel", "MODELS",
    "Table2Network", "WordNetwork", "CNNWordModel", "CharCNNModel", "LSTMModel", "ConvGRNNModel",
    "LSTMGRNNModel", "NETWORKS",
    "TrainerSettings", "RuntimeSettings", "PathsSettings", "SettingsError", "register",
    "schema_of", "typed", "LoggerSettings", "MlflowLogger", "WandbLogger", "LOGGERS",
]


# ── allowed values (StrEnum: each member is its own name, so `== "adam"` and JSON both work) ──

class Optimizer(StrEnum):
    adam = "adam"
    sgd = "sgd"


class Monitor(StrEnum):
    """The validation metric that picks the best epoch, a linear model's C and a sweep's lever
    set: the one selection rule is `Monitor.score` plus `better`."""

    macro_f1 = "macro_f1"
    accuracy = "accuracy"
    loss = "loss"

    def score(self, metrics: Mapping[str, float], prefix: str = "") -> float:
        """The monitored metric of `metrics` (keys `<prefix>accuracy`, ...), larger is better:
        the loss counts negated; a missing or NaN value is -inf (never chosen)."""
        value = float(metrics.get(f"{prefix}{self.value}", math.nan))
        if math.isnan(value):
            return -math.inf
        return -value if self is Monitor.loss else value


def better(score: float, loss: float, best_score: float, best_loss: float) -> bool:
    """The one selection rule: a higher monitored score (`Monitor.score`), a tie going to the
    lower validation loss. Ties are common on small validation sets (macro-F1 saturates at 1.0
    on 132 news articles); taking the first tied epoch picks an under-trained model. Used by the
    trainer (best epoch), the linear models (C), lever choice (experiments/levers.py) and the
    warning when the bag-of-words model beats a network."""
    loss = math.inf if math.isnan(loss) else loss
    best_loss = math.inf if math.isnan(best_loss) else best_loss
    return (score, -loss) > (best_score, -best_loss)


class Family(StrEnum):
    hierarchical = "hierarchical"
    flat = "flat"
    linear = "linear"


class Pooling(StrEnum):
    attention = "attention"
    average = "average"
    max = "max"


class Features(StrEnum):
    """A linear row's document features (han/baselines.py, han/document_vectors.py)."""

    tfidf = "tfidf"
    average_sg = "average_sg"
    paragraph_vector = "paragraph_vector"
    none = "none"


class Classifier(StrEnum):
    """A linear row's classifier (han/baselines.py)."""

    logistic = "logistic"
    svm = "svm"
    majority = "majority"


class PVMode(StrEnum):
    """Paragraph Vector's training modes (Le & Mikolov 2014), concatenated in the order given."""

    dm = "dm"
    dbow = "dbow"


class EmbeddingInit(StrEnum):
    random = "random"
    word2vec = "word2vec"
    pretrained = "pretrained"


class KeepWords(StrEnum):
    head = "head"
    tail = "tail"
    head_tail = "head_tail"


class DedupMode(StrEnum):
    off = "off"
    exact = "exact"
    near = "near"


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


# ── dataset ──────────────────────────────────────────────────────────────────────────────────

@dataclass
class Split:
    """Fractions of the training documents carved for validation and test when the source has
    no official split (stratified, seeded, by whole groups)."""

    validation: float | None = 0.1
    test: float | None = 0.1


@dataclass
class TokenizerSettings:
    language: str = "english"           # NLTK punkt_tab's language
    lowercase: bool = True
    max_chars: int = 1_000_000          # longer documents are cut (and counted)
    drop_punctuation: bool = False      # the flat tutorial's preprocessing
    pretokenized: str | None = None  # sss: Tang et al.'s <sssss>-separated sentences


@dataclass
class VocabSettings:
    min_count: int = 6                  # the paper keeps words seen more than 5 times in train
    max_size: int | None = None


@dataclass
class NearDuplicates:
    jaccard: float = 0.5                # Jaccard of word-shingle sets that joins two documents
    shingle: int = 5                    # words per shingle


@dataclass
class DatasetSettings:
    """What every dataset shares; each conf/dataset/*.yaml names its kind's subclass (`DATASETS`)
    and sets only what is its own. Every value can be overridden per run:
    `python -m han.train dataset.vocab.min_count=2`.

    Carved splits (`split`) apply to sources without an official validation or test split; an
    official split is kept as it is. Duplicates (`dedup`, han/data/dedup.py) are found before the
    splits are drawn, so no test or validation document has a twin in train: off | exact (the same
    words once lower-cased) | near (exact, plus a Jaccard of word 5-gram sets of at least
    `near_duplicates.jaccard`; on BBC News 0.5 still joins an article re-edited, distinct articles
    on one story stay below it). `max_train_docs` samples train after validation is carved.
    The hierarchical view is L x T (`max_sentences` x `max_words`; null: the training split's
    p99, docs/DATA.md); the flat view N words (`max_tokens`, `keep_words`: head | tail |
    head_tail). `folds`=K cuts a corpus without an official test split into K stratified, seeded
    folds and `fold`=i tests on fold i; validation comes from the other K-1 folds:
    `python -m han.train -m dataset.folds=10 'dataset.fold=range(10)'`.
    """

    name: str = MISSING                 # results and caches are keyed by it
    kind: str = MISSING                 # the reader: a key of DATASETS
    split: Split = field(default_factory=Split)
    tokenizer: TokenizerSettings = field(default_factory=TokenizerSettings)
    vocab: VocabSettings = field(default_factory=VocabSettings)
    dedup: DedupMode = DedupMode.near
    near_duplicates: NearDuplicates = field(default_factory=NearDuplicates)
    max_train_docs: int | None = None
    max_sentences: int | None = None  # L; null: the training split's p99
    max_words: int | None = None      # T; null: the training split's p99
    wrap_long_sentences: bool = True     # a longer sentence continues on the next row
    max_tokens: int = 250                # N of the flat view
    keep_words: KeepWords = KeepWords.head
    folds: int | None = None
    fold: int | None = None


@dataclass
class ArchiveDataset(DatasetSettings):
    """A dataset read from one downloaded archive (or the offline mirror's copy)."""

    url: str | None = None
    filename: str | None = None      # null: the URL's last part
    sha256: str | None = None        # upstream's, checked after a download; null: unchecked


@dataclass
class BBCDataset(ArchiveDataset):
    classes: list[str] | None = None  # null: every class of the archive


@dataclass
class IMDBDataset(ArchiveDataset):
    pass


@dataclass
class ReutersDataset(ArchiveDataset):
    subset: str = "r8"                  # r8 | r52 (ModApte)
    expected_sizes: dict[str, Any] | None = None


@dataclass
class ZhangDataset(ArchiveDataset):
    url: str = MISSING                  # each of Zhang et al.'s corpora has its own archive
    columns: list[str] = field(default_factory=lambda: ["text"])
    expected_sizes: dict[str, Any] | None = None  # {train: .., test: ..}: checked
    paper_documents: int | None = None


@dataclass
class TangDataset(DatasetSettings):
    url: str | None = None
    sha256: str | None = None
    files: dict[str, str] = MISSING     # {train, validation, test}: the .ss files' names
    expected_sizes: dict[str, Any] | None = None
    paper_documents: int | None = None


@dataclass
class TableDataset(DatasetSettings):
    """The user's own CSV / TSV / JSON lines / Parquet files (han/data/tables.py)."""

    train_path: str = MISSING
    validation_path: str | None = None
    test_path: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    id_column: str | None = None
    group_column: str | None = None
    format: str | None = None        # null: from the extension
    separator: str | None = None     # null: from the format


DATASETS: dict[str, type[DatasetSettings]] = {
    "bbc": BBCDataset, "imdb": IMDBDataset, "reuters": ReutersDataset, "zhang": ZhangDataset,
    "tang": TangDataset, "table": TableDataset}


# ── model ────────────────────────────────────────────────────────────────────────────────────

@dataclass
class ModelSettings:
    """What every model has: `model=` picks one (conf/model/<name>.yaml)."""

    name: str = MISSING
    family: Family = MISSING


@dataclass
class NetworkModel(ModelSettings):
    """The attention networks' settings (hierarchical and flat)."""

    pooling: Pooling = Pooling.attention
    embedding_dim: Any = 200          # a whole number, or from_file (a pretrained file's size)
    gru_units: int = 50               # per direction
    attention_dim: int = 100          # size of u_it / u_i and of the context vectors
    dropout: float = 0.0              # on the document vector, before the classifier
    embedding_dropout: float = 0.0    # on the word embeddings
    word_dropout: float = 0.0         # training only: a real word becomes the unknown id
    embedding_init: EmbeddingInit = EmbeddingInit.word2vec
    word2vec_window: int = 5
    word2vec_epochs: int | None = None  # null: ~10M tokens
    embedding_path: str | None = None   # embedding_init=pretrained: the vectors' file
    embedding_binary: bool | None = None  # null: from the name (.bin / .bin.gz)


@dataclass
class HierarchicalModel(NetworkModel):
    family: Family = Family.hierarchical
    sentence_dropout: float = 0.0     # on the sentence vectors, before the sentence GRU
    word_chunks: int = 1              # length-sorted groups of sentences read apart (speed only)


@dataclass
class FlatModel(NetworkModel):
    family: Family = Family.flat


@dataclass
class LinearModel(ModelSettings):
    """Table 2's linear rows: document features + a linear classifier, C chosen on validation
    (han/baselines.py). The defaults are TF-IDF + logistic regression (`model=tfidf_lr`); the
    word2vec settings are AverageSG's (`features: average_sg`), the pv_* Paragraph Vector's."""

    family: Family = Family.linear
    features: Features = Features.tfidf
    classifier: Classifier = Classifier.logistic
    ngram_range: list[int] = field(default_factory=lambda: [1, 1])
    max_features: int | None = 50000
    sublinear_tf: bool = True
    min_df: int = 1
    C_grid: list[float] = field(default_factory=lambda: [1.0, 10.0, 100.0, 1000.0, 10000.0])
    max_iter: int = 1000
    embedding_dim: int = 200          # average_sg: the skip-gram vectors' size
    word2vec_window: int = 5
    word2vec_epochs: int | None = None  # null: ~10M tokens (han/embeddings.py)
    pv_modes: list[PVMode] = field(default_factory=lambda: [PVMode.dm])
    vector_size: int = 100            # per mode
    pv_window: int = 10
    pv_epochs: int = 20               # training passes, and inference steps per document
    pv_min_count: int = 1
    pv_negative: int = 5
    pv_infer_train: bool = True       # fit the classifier on inferred training vectors
    # A lever set (conf/levers/) sets these for every model of a sweep; a linear model has no
    # such lever and ignores them.
    embedding_init: EmbeddingInit | None = None
    dropout: float | None = None
    word_dropout: float | None = None


MODELS: dict[str, type[ModelSettings]] = {
    "hierarchical": HierarchicalModel, "flat": FlatModel, "linear": LinearModel}


# ── Table 2's networks without attention (han/table2/; references and departures: their YAML
# headers and docs/TABLE2_NETWORKS.md). `model.network` picks the dataclass, not the family. ──

@dataclass
class Table2Network(ModelSettings):
    """What every network of Table 2 without attention has: `network` names the architecture
    (han/table2/build.py), `dropout` its one dropout (none in Tang et al.'s or the LSTM's)."""

    network: str = MISSING
    dropout: float = 0.0


@dataclass
class WordNetwork(Table2Network):
    """A Table 2 network over word ids: its embeddings start as the attention networks' do
    (han/embeddings.py: word2vec of the training split, random, or a pretrained file)."""

    embedding_dim: int = 300
    embedding_init: EmbeddingInit = EmbeddingInit.word2vec
    word2vec_window: int = 5
    word2vec_epochs: int | None = None  # null: ~10M tokens
    embedding_path: str | None = None
    embedding_binary: bool | None = None


@dataclass
class CNNWordModel(WordNetwork):
    """CNN-word (Kim 2014): `filters` maps per width of `filter_widths` words, max over time."""

    family: Family = Family.flat
    network: str = "cnn_word"
    filter_widths: list[int] = field(default_factory=lambda: [3, 4, 5])
    filters: int = 100
    dropout: float = 0.5                # on the concatenated max-pooled features


@dataclass
class CharCNNModel(Table2Network):
    """CNN-char (Zhang et al. 2015, small): one-hot characters in a frame of `max_chars`."""

    family: Family = Family.flat
    network: str = "cnn_char"
    max_chars: int = 1014               # the frame l0; a longer document's rest is not read
    conv_filters: int = 256
    hidden_units: int = 1024
    dropout: float = 0.5                # between the fully connected layers
    init_stddev: float = 0.05
    embedding_init: EmbeddingInit = EmbeddingInit.random  # characters: no word embeddings


@dataclass
class LSTMModel(WordNetwork):
    """LSTM (Zhang et al. 2015): the mean of the LSTM's outputs over the real words."""

    family: Family = Family.flat
    network: str = "lstm"
    lstm_units: int = 512


@dataclass
class ConvGRNNModel(WordNetwork):
    """Conv-GRNN (Tang et al. 2015): CNN sentence vectors, a bidirectional GRU over them."""

    family: Family = Family.hierarchical
    network: str = "conv_grnn"
    embedding_dim: int = 200
    filter_widths: list[int] = field(default_factory=lambda: [1, 2, 3])
    filters: int = 100                  # per width; the widths' vectors are averaged
    gru_units: int = 50                 # per direction


@dataclass
class LSTMGRNNModel(WordNetwork):
    """LSTM-GRNN (Tang et al. 2015): LSTM sentence vectors, a bidirectional GRU over them."""

    family: Family = Family.hierarchical
    network: str = "lstm_grnn"
    embedding_dim: int = 200
    lstm_units: int = 100
    gru_units: int = 50                 # per direction


NETWORKS: dict[str, type[Table2Network]] = {
    "cnn_word": CNNWordModel, "cnn_char": CharCNNModel, "lstm": LSTMModel,
    "conv_grnn": ConvGRNNModel, "lstm_grnn": LSTMGRNNModel}


# ── trainer, runtime, paths ──────────────────────────────────────────────────────────────────

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


class SettingsError(ValueError):
    """Settings that do not fit their schema (a saved run's config, a hand-made mapping)."""


_GROUPS: dict[str, type] = {
    "trainer": TrainerSettings, "runtime": RuntimeSettings, "paths": PathsSettings}


def schema_of(group: str, node: Any) -> type:
    """The dataclass a group's settings follow: a dataset's by its kind, a model's by family."""
    if group == "dataset":
        kind = node.get("kind")
        if kind is None:  # no reader named: what every dataset shares (a view, a tokenizer)
            return DatasetSettings
        if kind not in DATASETS:
            raise SettingsError(f"dataset.kind is {kind!r}; set it to one of: "
                                + ", ".join(DATASETS))
        return DATASETS[kind]
    if group == "model":
        network = node.get("network")
        if network is not None:  # a Table 2 network: its own settings, whatever its view
            if str(network) not in NETWORKS:
                raise SettingsError(f"model.network is {network!r}; set it to one of: "
                                    + ", ".join(NETWORKS))
            return NETWORKS[str(network)]
        if node.get("family") is None:  # no family named: what every network shares
            return NetworkModel
        family = str(node.get("family"))
        if family not in MODELS:
            raise SettingsError(f"model.family is {family!r}; set it to one of: "
                                + ", ".join(MODELS))
        return MODELS[family]
    return _GROUPS[group]


def typed(group: str, node: Any) -> Any:
    """A group's settings as its schema's typed node: `node` itself when Hydra already typed it
    (every composed config), else `node` (a saved run's config, a mapping) over the schema's
    defaults; a key the schema does not define is a `SettingsError` naming it."""
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    schema = schema_of(group, node)
    if isinstance(node, DictConfig) and issubclass(OmegaConf.get_type(node) or dict, schema):
        return node
    if "defaults" in node:  # a group's YAML file read as it is: its defaults list names the schema
        node = {k: v for k, v in node.items() if k != "defaults"} if not isinstance(
            node, DictConfig) else OmegaConf.masked_copy(node, [k for k in node if k != "defaults"])
    try:
        return OmegaConf.merge(OmegaConf.structured(schema), node)
    except OmegaConfBaseException as err:
        first = str(err).strip().splitlines()[0]
        key = f"{group}.{err.full_key}" if getattr(err, "full_key", None) else group
        raise SettingsError(f"{key}: {first}; the settings of {schema.__name__} are in "
                            "han/schema.py") from None


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


def register() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent); call before composing."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for family, schema in MODELS.items():
        store.store(group="schema/model", name=family, node=schema)
    for network, schema in NETWORKS.items():
        store.store(group="schema/model", name=network, node=schema)
    for kind, schema in DATASETS.items():
        store.store(group="schema/dataset", name=kind, node=schema)
    for name, schema in LOGGERS.items():
        store.store(group="schema/logger", name=name, node=schema)
    store.store(group="schema", name="trainer", node=TrainerSettings)
    store.store(group="schema", name="runtime", node=RuntimeSettings)
    store.store(group="schema", name="paths", node=PathsSettings)
