"""The one narrow adapter from a `conf/model/<network>.yaml` to a Table 2 network's arguments.

Each network's settings live in one small YAML per model; this is the only code that reads
them, so moving them into a typed dataclass later changes this file and nothing else. Pure
Python: `han.predict` and `han.monitoring` ask `has_attention` / `reads_characters` without
importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# network -> the settings it reads (beyond name, network, family) and their types.
NETWORKS: dict[str, dict[str, type]] = {
    "cnn_word": {"embedding_dim": int, "filter_widths": list, "filters": int, "dropout": float},
    "cnn_char": {"max_chars": int, "conv_filters": int, "hidden_units": int, "dropout": float,
                 "init_stddev": float},
    "lstm": {"embedding_dim": int, "lstm_units": int, "dropout": float},
    "conv_grnn": {"embedding_dim": int, "filter_widths": list, "filters": int,
                  "gru_units": int, "dropout": float},
    "lstm_grnn": {"embedding_dim": int, "lstm_units": int, "gru_units": int, "dropout": float},
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
    return int(model_cfg["max_chars"])


def network_settings(model_cfg: Mapping) -> tuple[str, dict[str, Any]]:
    """(network, its constructor's keyword arguments) from a model config; `ValueError`
    naming the setting when one is missing or has the wrong type."""
    network = network_of(model_cfg)
    if network not in NETWORKS:
        raise ValueError(f"model.network must be one of {sorted(NETWORKS)}, got {network!r}")
    kwargs: dict[str, Any] = {}
    for key, kind in NETWORKS[network].items():
        if key not in model_cfg:
            raise ValueError(f"model.{key} is missing: model={network} sets it")
        value = model_cfg[key]
        try:
            kwargs[key] = [int(v) for v in value] if kind is list else kind(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"model.{key}={value!r} is not a {kind.__name__}") from err
    return network, kwargs
