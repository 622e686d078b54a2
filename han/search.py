"""`han-search hparams_search=<preset> [overrides]`: hyper-parameter search with current Optuna.

A small sweeper on Hydra's compose API (docs/ARCHITECTURE.md, "Optuna"): Hydra composes the
training config with the preset (`conf/hparams_search/`), whose `search` node holds the study
settings and the search space in Hydra's sweep syntax (`interval(a, b)`, `tag(log, ...)`,
`choice(...)`, `a,b,c`, `range(...)`). Optuna's ask/tell drives it: each trial is one
`han.train` run in its own process (fresh TensorFlow state; a crash fails that trial only),
with the trial's values as overrides and `hydra.run.dir=<search dir>/<trial>`; the value told
back is the run's validation macro-F1 of its best epoch (never test). A setting given on the
command line is fixed, not searched. Writes `<search dir>/optimization_results.yaml` (best
params, best value, every trial) and one run directory per trial.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from han.cli import CONFIG_DIR, UsageError, entry, register_settings
from han.extras import require

log = logging.getLogger("han.search")


def distribution(key: str, expression: str):
    """An Optuna distribution from a Hydra sweep expression (`interval`, `choice`, `a,b`, `range`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    override = OverridesParser.create().parse_override(f"{key}={expression}")
    value = override.value()
    if isinstance(value, IntervalSweep):
        log_scale = "log" in value.tags
        if "int" in value.tags:
            return IntDistribution(int(value.start), int(value.end), log=log_scale)
        return FloatDistribution(float(value.start), float(value.end), log=log_scale)
    if isinstance(value, RangeSweep):
        return CategoricalDistribution(list(override.sweep_iterator()))
    if isinstance(value, ChoiceSweep):
        return CategoricalDistribution(list(value.list))
    raise UsageError(f"search.params.{key} is {expression!r}: give interval(a, b), "
                     f"tag(log, interval(a, b)), choice(a, b), a,b or range(a, b)")


def as_override(value: Any) -> str:
    return "null" if value is None else str(value)


def compose_search(overrides: Sequence[str]):
    from hydra import compose, initialize_config_dir

    register_settings()  # before composing, as han.cli.hydra_main does
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides))
    if "search" not in cfg:
        presets = sorted(p.stem for p in (CONFIG_DIR / "hparams_search").glob("*.yaml"))
        raise UsageError(f"no search settings: give hparams_search=<preset> (one of: "
                         f"{', '.join(presets)})")
    return cfg


def run_search(overrides: Sequence[str], out: Path | None = None) -> dict:
    """The search, in `out` (default `<paths.log_dir>/search/<study>_<time>`); returns its results."""
    require(("optuna",), "sweep", "han-search (Optuna)")
    import optuna
    import yaml

    cfg = compose_search(overrides)
    search = cfg.search
    # the trials' own overrides: the command line's, minus the search's (han.train refuses those)
    train_overrides = [o for o in overrides
                       if not o.split("=")[0].lstrip("+~").startswith(("search.", "hparams_search"))]
    fixed = {o.split("=")[0].lstrip("+~") for o in train_overrides}
    space = {k: distribution(k, str(v)) for k, v in search.params.items() if k not in fixed}
    if not space:
        raise UsageError("every search.params setting is fixed on the command line: nothing to search")
    out = Path(out or f"{cfg.paths.log_dir}/search/{search.study_name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}")
    out.mkdir(parents=True, exist_ok=True)
    sampler = optuna.samplers.TPESampler(seed=int(search.seed),
                                         n_startup_trials=int(search.n_startup_trials))
    study = optuna.create_study(study_name=str(search.study_name), storage=search.get("storage"),
                                sampler=sampler, direction=str(search.direction),
                                load_if_exists=True)
    trials, failed = [], 0
    for _ in range(int(search.n_trials)):
        trial = study.ask(space)
        run_dir = out / str(trial.number)
        values = [f"{k}={as_override(v)}" for k, v in trial.params.items()]
        command = [sys.executable, "-m", "han.train", *train_overrides, *values,
                   f"hydra.run.dir={run_dir}"]
        log.info("trial %d: %s", trial.number, " ".join(values))
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        metrics_path = run_dir / "metrics.json"
        if result.returncode == 0 and metrics_path.is_file():
            value = json.loads(metrics_path.read_text())["validation"]["macro_f1"] or 0.0
            study.tell(trial, float(value))
            trials.append({"number": trial.number, "params": trial.params, "value": float(value)})
        else:  # recorded as failed; the search goes on (search.max_failure_rate)
            failed += 1
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
            log.warning("trial %d failed (%s); its directory: %s", trial.number, last, run_dir)
            trials.append({"number": trial.number, "params": trial.params, "failed": last})
            if failed / int(search.n_trials) > float(search.max_failure_rate):
                raise UsageError(f"{failed} trial(s) failed, more than search.max_failure_rate "
                                 f"allows; the last: {last}")
    if not any("value" in t for t in trials):
        raise UsageError(f"no trial completed in {out}; see the trials' error.txt files")
    results = {"name": "optuna", "optuna": optuna.__version__, "direction": str(search.direction),
               "best_params": study.best_params, "best_value": float(study.best_value),
               "objective": "validation macro_f1 of the best epoch", "trials": trials}
    from han.io import atomic_write_text

    atomic_write_text(out / "optimization_results.yaml", yaml.safe_dump(results, sort_keys=False))
    return results | {"dir": str(out)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="hparams_search=<preset> and training overrides")
    parser.add_argument("--dir", type=Path, default=None, help="folder of the search's runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    results = run_search(args.overrides, args.dir)
    print(f"best validation macro-F1 {results['best_value']:.4f} with {results['best_params']}")
    print(f"search directory: {results['dir']}")
    return 0


script = entry(main)

if __name__ == "__main__":
    script()
