"""`build_network`: a Table 2 network from its `conf/model/<network>.yaml` (imports TensorFlow)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from han.data.chars import ALPHABET_SIZE
from han.table2.flat import CharCNN, MeanLSTM, WordCNN
from han.table2.grnn import GatedRecurrentNetwork
from han.table2.settings import network_settings


def build_network(model_cfg: Mapping, vocab_size: int, num_classes: int,
                  embedding_matrix: np.ndarray | None = None) -> Any:
    """The Table 2 network `model.network` names, built for ids of any shape."""
    network, name, settings = network_settings(model_cfg)
    if embedding_matrix is not None:
        embedding_matrix = np.asarray(embedding_matrix, dtype="float32")
    common = {"num_classes": num_classes, "dropout": settings.pop("dropout"), "name": name}
    words = {"vocab_size": vocab_size, "embedding_dim": settings.pop("embedding_dim", 0),
             "embedding_matrix": embedding_matrix}
    if network == "cnn_word":
        model = WordCNN(**settings, **words, **common)
    elif network == "lstm":
        model = MeanLSTM(**settings, **words, **common)
    elif network == "cnn_char":
        model = CharCNN(alphabet_size=ALPHABET_SIZE, **settings, **common)
    else:
        model = GatedRecurrentNetwork("cnn" if network == "conv_grnn" else "lstm",
                                      **settings, **words, **common)
    model.build((None,) * model.input_rank)
    return model
