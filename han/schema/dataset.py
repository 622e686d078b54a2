"""The `dataset` group's settings: what every dataset shares (`DatasetSettings`: split,
tokenizer, vocabulary rule, duplicates, the L x T / N view) and each reader's settings,
`DATASETS` by `dataset.kind` (a reader of han/data/readers/ registers its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any  # noqa: UP035 - OmegaConf reads Optional[...] annotations

from omegaconf import MISSING

__all__ = [
    "DATASETS", "ArchiveDataset", "BBCDataset", "DatasetSettings", "DedupMode", "IMDBDataset",
    "KeepWords", "NearDuplicates", "ReutersDataset", "Split", "TableDataset", "TangDataset",
    "TokenizerSettings", "VocabSettings", "ZhangDataset",
]


# StrEnum: each member is its own name, so `== "head"` and JSON both work
class KeepWords(StrEnum):
    head = "head"
    tail = "tail"
    head_tail = "head_tail"


class DedupMode(StrEnum):
    off = "off"
    exact = "exact"
    near = "near"


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
