"""Which errors are the user's, and each as the one line the commands print (han/cli.py).

An expected error (bad data, a missing file or model, a bad option) is shown as
``error: <what and what to do>``; Hydra's multi-line messages are folded into that line, and its
override errors are rewritten in the form han.config uses (``k is 'v'; it must be ...``).
"""

from __future__ import annotations

import re

from han.console import UsageError


def expected_errors() -> tuple[type[BaseException], ...]:
    """The error types that are the user's to fix: one line and exit 2, not a traceback."""
    from hydra.errors import (
        ConfigCompositionException,
        MissingConfigException,
        OverrideParseException,
    )
    from omegaconf.errors import MissingMandatoryValue

    from han.config import ConfigError
    from han.data.download import DatasetUnavailableError
    from han.data.sources import DataError
    from han.data.tokenize import NLTKModelMissing

    return (UsageError, ConfigError, DataError, DatasetUnavailableError, NLTKModelMissing,
            FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError,
            PermissionError,
            ConfigCompositionException, MissingConfigException, OverrideParseException,
            MissingMandatoryValue)


def _unknown_override(err: BaseException) -> str | None:
    """Hydra's "Could not override 'k'. To append to your config use +k=v" as our own line:
    a key the config does not define is an error (han.config), never a hint to add it."""
    match = re.match(r"Could not override '([^']+)'", str(err))
    parent = getattr(err.__cause__, "parent_node", None)
    if match is None or parent is None:
        return None
    from han.settings import defined_keys, unknown_setting

    try:
        valid = defined_keys(parent._get_root())
    except Exception:  # noqa: BLE001 - no suggestions rather than no message
        valid = []
    return unknown_setting(match.group(1), valid)


_KINDS = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false"}


def _bad_value(err: BaseException) -> str | None:
    """Hydra's "Error merging override k=v" (the schema refused the value, han/schema/) as
    `k is 'v'; it must be ...`, the form han.config uses for ranges."""
    match = re.match(r"Error merging override ([^=]+)=(.*)", str(err).strip())
    if match is None or err.__cause__ is None:
        return None
    key, value = match.group(1).lstrip("+"), match.group(2)
    cause = str(err.__cause__).strip().splitlines()[0]
    choices = re.match(r"Invalid value '.*', expected one of \[(.*)\]", cause)
    if choices:
        return f"{key} is {value!r}; it must be one of: {choices.group(1)}"
    kind = re.match(r"Value '.*' of type '.*' could not be converted to (\w+)", cause)
    if kind and kind.group(1) in _KINDS:
        return f"{key} is {value!r}; it must be {_KINDS[kind.group(1)]}"
    return f"{key} is {value!r}: {cause}"


def one_line(err: BaseException) -> str:
    """The error as one line: Hydra's multi-line messages folded, its search path dropped."""
    rewritten = _unknown_override(err) or _bad_value(err)
    message = rewritten or str(err)
    if isinstance(err, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError) \
            and err.filename and str(err.filename) not in message:
        message = f"{message}: {err.filename}"
    if isinstance(err, PermissionError) and "permission denied" in message.lower() \
            and "set " not in message:
        message += (" — make it readable/writable for you, or point the setting that names it "
                    "(dataset.*_path, paths.cache_dir, paths.log_dir, hydra.run.dir, output) "
                    "elsewhere")
    message = message.split("Config search path:")[0]
    lines = [line.strip() for line in message.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("full_key:", "object_type"))]
    out: list[str] = []
    options: list[str] | None = None
    for line in lines:
        if options is not None:
            options.append(line)
        elif line.startswith("Available options in"):
            out.append(line)
            options = []
        else:
            out.append(line)
    if options is not None:
        out[-1] += " " + ", ".join(options)
    cause = err.__cause__
    if cause is not None and type(err).__module__.startswith("hydra") and str(cause) \
            and not rewritten:
        first = str(cause).strip().splitlines()[0]
        if first not in " ".join(out):
            out.append(f"({first})")
    text = " ".join(out)
    job = getattr(err, "han_job", None)
    if job:
        text = f"{job}: {text}"
    return re.sub(r"\s+", " ", text).strip() or type(err).__name__
