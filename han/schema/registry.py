"""Which dataclass a group's settings follow (`schema_of`), a group's settings typed by it
(`typed`), and every schema stored in Hydra's ConfigStore (`register`, before Hydra composes).
"""

from __future__ import annotations

from typing import Any

from han.schema.dataset import DATASETS, DatasetSettings
from han.schema.job import LOGGERS, PathsSettings, RuntimeSettings, TrainerSettings
from han.schema.model import MODELS, NetworkModel
from han.schema.networks import NETWORKS

__all__ = ["SettingsError", "register", "schema_of", "typed"]


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
        where = schema.__module__.replace(".", "/") + ".py"  # han/schema/model.py, a reader's file
        raise SettingsError(f"{key}: {first}; the settings of {schema.__name__} are in "
                            f"{where}") from None


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
