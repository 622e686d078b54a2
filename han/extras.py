"""Features that live in extras (pyproject.toml): asking for one without it names the extra.

`pip install han-attention` brings what training, prediction and evaluation need; the Optuna
search (han-search) and the Slurm / submitit launchers (`[sweep]`, `[slurm]`), Parquet tables (`[parquet]`)
and the MLflow / W&B trackers (`[mlflow]`, `[wandb]`, han/trackers.py) are extras.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence

from han.console import UsageError

DISTRIBUTION = "han-attention"

# A command-line override that asks for a feature -> (the modules it needs, the extra, what).
OVERRIDES = (
    (re.compile(r"^\+*hydra/launcher=(han_)?submitit"),
     ("submitit", "hydra_plugins.hydra_submitit_launcher"), "slurm", "the submitit launchers"),
)


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken one
        return False


def require(modules: Sequence[str], extra: str, feature: str) -> None:
    """Raise `UsageError` naming `pip install 'han-attention[<extra>]'` if a module is missing."""
    missing = [m for m in modules if not installed(m)]
    if missing:
        raise UsageError(f"{feature} needs {', '.join(missing)}: pip install "
                         f"'{DISTRIBUTION}[{extra}]' (a checkout's make setup installs every extra)")


def check_overrides(args: Sequence[str]) -> None:
    """Before Hydra composes anything: the extras the command line asks for are installed, and a
    search preset goes to the command that runs searches."""
    for arg in args:
        if arg.lstrip("+").startswith("hparams_search="):
            preset = arg.split("=", 1)[1]
            raise UsageError(f"{arg} is a hyper-parameter search: run it with han-search "
                             f"hparams_search={preset} (python -m han.search in a checkout)")
        for pattern, modules, extra, feature in OVERRIDES:
            if pattern.match(arg):
                require(modules, extra, f"{arg.split('=')[0]}={arg.split('=', 1)[1]} ({feature})")


def require_parquet() -> None:
    require(("pyarrow",), "parquet", "reading a .parquet table")
