"""The vocabulary of han.config's checks: each rule takes a value and returns what it must be
(None when it is fine); `apply_rules` applies a group's rules and collects one line per problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

__all__ = [
    "apply_rules", "boolean", "int_list", "integer", "integer_or", "is_int", "is_number", "number",
    "one_of", "separator", "sha256", "show", "text", "widths",
]

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def show(value: Any) -> str:
    if isinstance(value, DictConfig | ListConfig):
        value = OmegaConf.to_container(value)
    return repr(value)


def integer(minimum: int = 0, nullable: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not is_int(value) or value < minimum:
            what = "a whole number" + (f" >= {minimum}" if minimum != 1 else " > 0")
            return what + (" or null" if nullable else "")
        return None
    return check


def integer_or(word: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value == word or (is_int(value) and value >= 1):
            return None
        return f"a whole number > 0 or {word}"
    return check


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False, nullable: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        bad = not is_number(value)
        if not bad and low is not None:
            bad = value <= low if low_open else value < low
        if not bad and high is not None:
            bad = value >= high if high_open else value > high
        if value is None and nullable:
            return None
        if bad:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
            rule = " and ".join(x for x in (lo, hi) if x)
            return f"a number{(' ' + rule) if rule else ''}" + (" or null" if nullable else "")
        return None
    return check


def one_of(choices: Sequence[str], nullable: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if str(value) not in choices or not isinstance(value, str):
            return "one of: " + ", ".join(choices) + (" (or null)" if nullable else "")
        return None
    return check


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "a non-empty string"


def sha256(value: Any) -> str | None:
    ok = value is None or (isinstance(value, str) and _SHA256.match(value))
    return None if ok else "null or 64 hexadecimal digits (the archive's sha256)"


def separator(value: Any) -> str | None:
    from han.data.tables import SEPARATORS

    if value is None or (isinstance(value, str) and (len(value) == 1 or value in SEPARATORS)):
        return None
    return "null, one character or one of " + ", ".join(SEPARATORS)


def int_list(value: Any) -> str | None:
    if value is None or (isinstance(value, Sequence | ListConfig) and not isinstance(value, str)
                         and all(is_int(v) and v >= 0 for v in value)):
        return None
    return "null or a list of GPU indices, e.g. [0,1]"


def widths(value: Any) -> str | None:
    if (isinstance(value, Sequence | ListConfig) and not isinstance(value, str) and len(value)
            and all(is_int(v) and v >= 1 for v in value)):
        return None
    return "a non-empty list of filter widths in words, e.g. [3,4,5]"


def apply_rules(errors: list[str], cfg: Mapping, prefix: str,
                rules: Mapping[str, Callable[[Any], str | None]]) -> None:
    """Check each key of `rules` that `cfg` holds (the schema's groups hold every key)."""
    for key, rule in rules.items():
        if key not in cfg or (isinstance(cfg, DictConfig) and OmegaConf.is_missing(cfg, key)):
            continue  # absent: a group without schema; ???: reported once by validate()
        value = cfg[key]
        problem = rule(value)
        if problem:
            name = f"{prefix}.{key}" if prefix else key
            errors.append(f"{name} is {show(value)}; it must be {problem}")
