"""Table 2's networks without attention (han/table2/; references and departures: their YAML
headers and docs/TABLE2_NETWORKS.md): one dataclass each, `NETWORKS` by `model.network`, which
picks the dataclass, not the family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from han.schema.model import EmbeddingInit, Family, ModelSettings

__all__ = [
    "NETWORKS", "CNNWordModel", "CharCNNModel", "ConvGRNNModel", "LSTMGRNNModel", "LSTMModel",
    "Table2Network", "WordNetwork",
]


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
