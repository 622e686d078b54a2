"""The `model` group's settings: what every model has (`ModelSettings`), the attention
networks' (`HierarchicalModel`, `FlatModel`) and Table 2's linear rows (`LinearModel`), `MODELS`
by `model.family`. Table 2's networks without attention are han/schema/networks.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any  # noqa: UP035 - OmegaConf reads Optional[...] annotations

from omegaconf import MISSING

__all__ = [
    "MODELS", "Classifier", "EmbeddingInit", "Family", "Features", "FlatModel",
    "HierarchicalModel", "LinearModel", "ModelSettings", "NetworkModel", "PVMode", "Pooling",
]


# StrEnum: each member is its own name, so `== "attention"` and JSON both work
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
