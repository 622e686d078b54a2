"""What types cannot say, checked in one place before any data work: ranges and rules across
settings.

Types, defaults and allowed values are the schema's (han/schema/): Hydra refuses
`trainer.epochs=ten` or `trainer.optimizer=adamw` while it composes. `validate(cfg, task)` is
called by every entry point (see `han.cli`) right after: `trainer.batch_size=0` or validation and
test fractions that add up to 1 are reported at once, instead of after minutes of tokenising, all
together in one `ConfigError`. The top-level settings (seed, workers, ...) and predict's have no
schema yet and keep their type checks here. A key the config does not define is an error (the
schema's, and `han.settings`' for `+key=value`).

The checks live by group: `han.config.dataset`, `han.config.model`; this module holds the
others (trainer, runtime, the top-level and predict's settings) and `validate`, the entry;
`han.config.rules` is their vocabulary (`integer(1)`, `number(0, 1)`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from han.config.dataset import TABLE_FORMATS, check_dataset, check_folds
from han.config.model import check_model, check_network
from han.config.rules import apply_rules, boolean, int_list, integer, number, text

__all__ = [
    "TABLE_FORMATS", "ConfigError", "check_dataset", "check_folds", "check_model", "check_network",
    "check_predict", "check_runtime", "check_top", "check_trainer", "validate",
]


class ConfigError(ValueError):
    """One or more settings are invalid; the message names each and what it may be."""


# ── groups ───────────────────────────────────────────────────────────────────────────────────

def check_trainer(cfg: Mapping, errors: list[str]) -> None:
    apply_rules(errors, cfg, "trainer", {
        "epochs": integer(1),
        "batch_size": integer(1),
        "eval_batch_size": integer(1),
        "learning_rate": number(0, low_open=True),
        "momentum": number(0, 1),
        "clipnorm": number(0, low_open=True, nullable=True),
        "patience": integer(0),
    })


def check_runtime(cfg: Mapping, errors: list[str]) -> None:
    apply_rules(errors, cfg, "runtime", {"devices": int_list, "logical_cpus": integer(0)})


def check_top(cfg: Mapping, errors: list[str]) -> None:
    apply_rules(errors, cfg, "", {
        "seed": integer(0), "workers": integer(1, nullable=True), "progress": boolean,
        "restart": boolean,
    })


def check_predict(cfg: Mapping, errors: list[str]) -> None:
    apply_rules(errors, cfg, "", {
        "batch_size": integer(1), "num_docs": integer(1), "report": boolean, "seed": integer(0),
        "text_column": text, "overwrite": boolean,
    })
    if not cfg.get("report") and cfg.get("input") is None:
        errors.append("input is not set; give input=<file | folder | -> (- reads stdin, one "
                      "document per line), or report=true for a report of the run's test split")


# ── entry ────────────────────────────────────────────────────────────────────────────────────

def _missing(cfg: DictConfig) -> list[str]:
    """Mandatory values (`???`) still unset, outside the hydra node (nothing is resolved)."""
    found: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        elif node == "???":
            found.append(prefix[:-1])

    walk(OmegaConf.to_container(cfg, resolve=False), "")
    return [key for key in found if key != "hydra" and not key.startswith("hydra.")]


def validate(cfg: DictConfig, task: str = "train", overrides: Sequence[str] = ()) -> None:
    """Raise `ConfigError` listing every invalid setting of `cfg` (task: train | data | predict)
    and every setting the command line added that the config does not define."""
    from han.settings import check_overrides

    errors: list[str] = []
    check_overrides(cfg, overrides, errors)
    for key in _missing(cfg):
        errors.append(f"{key} is not set (???); give it on the command line: {key}=<value>")
    if task == "predict":
        check_predict(cfg, errors)
    else:
        check_top(cfg, errors)
        groups = {"dataset": check_dataset}
        if task == "train":
            groups |= {"trainer": check_trainer, "model": check_model, "runtime": check_runtime}
        for group, check_group in groups.items():
            node = cfg.get(group)
            if isinstance(node, Mapping):
                check_group(node, errors)
    errors = list(dict.fromkeys(errors))
    if errors:
        raise ConfigError("; ".join(errors))
