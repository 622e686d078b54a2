"""Which settings exist: the one place that decides it (strict settings, issue #23).

A key the config files do not define is an error, so a typo never trains silently with the
default: `check_overrides` refuses `+key=value` on the command line (Hydra refuses a plain
`key=value` itself, and `han.cli` rewrites its message, which advises `+`, with
`unknown_setting`). Only Hydra's own settings (`hydra.*`, `hydra/launcher=...`) may be added
with `+`. The valid keys are those of the composed config (`defined_keys`), whose groups follow
their schema (han/schema/): Hydra itself refuses a key a schema does not define, and these
functions name the nearest valid ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from omegaconf import DictConfig

__all__ = ["defined_keys", "unknown_setting", "check_overrides"]


def defined_keys(cfg: Any) -> list[str]:
    """Every setting of a composed config, as dotted keys (the hydra node left out)."""
    keys: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        for key in node:
            name = f"{prefix}{key}"
            keys.append(name)
            value = node._get_node(key) if isinstance(node, DictConfig) else node[key]
            if isinstance(value, DictConfig | Mapping):
                walk(value, name + ".")

    walk(cfg, "")
    return [k for k in keys if k != "hydra" and not k.startswith("hydra.")]


def _nearest(key: str, valid: Sequence[str], n: int = 3) -> list[str]:
    """The settings `key` most likely meant: in its group (or the nearest group's), those whose
    last part it abbreviates (`lr`: learning_rate), starts, or nearly spells."""
    leaves = [k for k in valid if not any(other.startswith(k + ".") for other in valid)]
    group, _, leaf = key.rpartition(".")
    groups = sorted({k.rpartition(".")[0] for k in leaves})
    if group not in groups:
        group = next(iter(difflib.get_close_matches(group, groups, n=1, cutoff=0.6)), group)
    scored = []
    for candidate in leaves:
        c_group, _, c_leaf = candidate.rpartition(".")
        initials = "".join(part[:1] for part in c_leaf.split("_"))
        ratio = difflib.SequenceMatcher(None, leaf, c_leaf).ratio()
        score = (3 if leaf == initials else 2 if c_leaf.startswith(leaf) or leaf.startswith(c_leaf)
                 else ratio if ratio >= 0.6 else 0.0)
        if score and c_group == group:
            scored.append((score + 1, candidate))
        elif ratio >= 0.8:  # the same word in another group
            scored.append((ratio, candidate))
    return [c for _, c in sorted(scored, key=lambda x: -x[0])[:n]]


def unknown_setting(key: str, valid: Iterable[str]) -> str:
    """The error for a setting the config does not define, with the nearest valid keys."""
    near = _nearest(key, list(valid))
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    return (f"{key} is not a setting of this config; {hint}--cfg job on the command line lists "
            "every setting (only Hydra's own hydra.* settings may be added with +)")


def _override_key(override: str) -> tuple[str, str]:
    """(the + prefix, the key) of a command-line override such as `+trainer.lr=1`."""
    head = override.split("=", 1)[0].strip()
    prefix = "++" if head.startswith("++") else "+" if head.startswith("+") else ""
    return prefix, head[len(prefix):].split("@", 1)[0]


def check_overrides(cfg: Any, overrides: Sequence[str], errors: list[str]) -> None:
    """`+key=value` adds a setting nothing reads: an error unless it is Hydra's own."""
    added = []
    for override in overrides:
        prefix, key = _override_key(str(override))
        if prefix and key and not key.startswith(("hydra.", "hydra/")) and key != "hydra":
            added.append((prefix, key))
    if not added:
        return
    keys = [k for k in defined_keys(cfg) if k not in {key for _, key in added}]
    for prefix, key in added:
        if "/" in key:  # a config group: +group=option
            errors.append(f"{prefix}{key} adds a config group this command does not have; "
                          "choose a group's option without +, e.g. model=flat")
        else:
            errors.append(unknown_setting(key, keys))
