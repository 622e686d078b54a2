"""The one narrow adapter from a Table 2 network's typed settings to its constructor's arguments.

Each network's settings, their types and defaults are its dataclass in han/schema/networks.py
(`NETWORKS`, picked by `model.network`); its YAML sets values only. Pure Python: `han.predict`
and `han.monitoring` ask `has_attention` / `reads_characters` without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from han.schema import typed

# network -> the settings its constructor takes (beyond name; han/table2/build.py).
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "cnn_word": ("embedding_dim", "filter_widths", "filters", "dropout"),
    "cnn_char": ("max_chars", "conv_filters", "hidden_units", "dropout", "init_stddev"),
    "lstm": ("embedding_dim", "lstm_units", "dropout"),
    "conv_grnn": ("embedding_dim", "filter_widths", "filters", "gru_units", "dropout"),
    "lstm_grnn": ("embedding_dim", "lstm_units", "gru_units", "dropout"),
}


def network_of(model_cfg: Mapping) -> str | None:
    """The Table 2 network a model config names (`model.network`), or None for the HAN family."""
    network = model_cfg.get("network")
    return None if network is None else str(network)


def has_attention(model_cfg: Mapping) -> bool:
    """Whether a model explains itself with attention (no Table 2 network does)."""
    return network_of(model_cfg) is None and str(model_cfg.get("family")) != "linear"


def reads_characters(model_cfg: Mapping) -> bool:
    """Whether a model reads the character view (cnn_char) rather than word ids."""
    return network_of(model_cfg) == "cnn_char"


def max_chars(model_cfg: Mapping) -> int:
    """The character frame of a character model (Zhang et al.'s l0 = 1014)."""
    return int(typed("model", model_cfg).max_chars)


def network_settings(model_cfg: Mapping) -> tuple[str, str, dict[str, Any]]:
    """(network, model name, its constructor's keyword arguments) from a model config, typed by
    its schema (`SettingsError` naming a key it does not define)."""
    settings = typed("model", model_cfg)
    network = str(settings.network)
    kwargs = {key: settings[key] for key in ARGUMENTS[network]}
    if "filter_widths" in kwargs:
        kwargs["filter_widths"] = [int(w) for w in kwargs["filter_widths"]]
    return network, str(settings.name), kwargs
