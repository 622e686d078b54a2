"""What every command shares: where the configs are, one way to fail, a quiet TensorFlow.

One way to fail: an expected error (bad data, a missing file or model, a bad option) prints one
line on stderr, ``error: <what and what to do>``, and exits with status 2; anything else is a
bug and prints its traceback (status 1). ``HAN_DEBUG=1`` (or Hydra's ``HYDRA_FULL_ERROR=1``)
shows the traceback of expected errors too. In a multirun every job still writes its traceback
to ``error.txt`` in its directory and the sweep goes on; the sweep's exit reports the first
failed job in the same way.

Entry points: ``han.train`` / ``han-train``, ``han.data`` / ``han-data``, ``han.predict`` /
``han-predict``, ``han.evaluate`` / ``han-evaluate`` (Hydra, through `hydra_main`),
``experiments.compare`` / ``han-compare`` (installed as ``han.experiments.compare``),
``han.export`` and ``han.search`` / ``han-search`` (argparse, through `run_cli`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from han.console import (  # re-exported: they live low
    CONFIG_DIR,
    UsageError,
    progress_disable,
)
from han.errors import expected_errors, one_line  # one_line re-exported
from han.quiet import filter_tf_lines, import_tensorflow, quiet_tensorflow_logs  # re-exported
from han.rundir import write_hydra_files  # re-exported

__all__ = [
    "CONFIG_DIR", "UsageError", "hydra_main", "register_settings", "run_cli", "import_tensorflow", "progress_disable",
    "filter_tf_lines", "quiet_tensorflow_logs",
    "one_line",
]

EXIT_USAGE = 2




_USER_DEBUG: bool | None = None  # the user's choice, read before Hydra's switch is set here


def _debug() -> bool:
    if _USER_DEBUG is not None:
        return _USER_DEBUG
    return any(os.environ.get(name, "") not in ("", "0") for name in ("HAN_DEBUG", "HYDRA_FULL_ERROR"))


def _fail(err: BaseException) -> None:
    """Report an error as the module doc says and exit; re-raise when debugging."""
    if isinstance(err, expected_errors()) and not _debug():
        sys.stderr.write(f"error: {one_line(err)}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_USAGE) from None
    raise err


# ── Hydra entry points ───────────────────────────────────────────────────────────────────────

def register_settings() -> None:
    """The typed settings in Hydra's ConfigStore, every reader's included; call before
    composing (`hydra_main` does; han.search and the tests compose themselves)."""
    import han.data.readers  # noqa: F401 - every reader's settings join the schema
    from han.schema import register

    register()  # idempotent (han/schema/registry.py)


def hydra_main(config_name: str, task: str, error_file: bool = False,
               guard: Callable[..., Any] | None = None) -> Callable:
    """`@hydra.main` with the project's configs, validation and error handling.

    The task function gets a validated config (`han.config.validate(cfg, task, overrides)`,
    which also refuses settings the config does not define) before it does anything. With
    `error_file`, a job that raises writes its traceback to ``error.txt`` in its output directory
    (a sweep's reader finds it there), and `.hydra/` is written there (Hydra's output_subdir is
    null). `guard(cfg, run_dir, validate, multirun)` (han.train: `han.rundir.claim`) validates
    and takes the run directory itself; a value it returns is the job's result, and the task
    function does not run. Called with a config, the returned function runs the task directly
    (as Hydra's own decorator does).
    """
    import hydra

    register_settings()

    def decorate(task_function: Callable[[Any], Any]) -> Callable[..., Any]:
        @functools.wraps(task_function)
        def job(cfg: Any) -> Any:
            from han.config import validate

            try:
                run_dir, overrides, multirun = _job_context()
                check = functools.partial(validate, cfg, task, overrides)
                if guard is not None and run_dir is not None:
                    done = guard(cfg, run_dir, check, multirun)
                    if done is not None:
                        return done
                else:
                    if error_file and run_dir is not None:
                        write_hydra_files(run_dir, cfg)
                    check()
                return task_function(cfg)
            except Exception as err:
                if _record_job_failure(err, error_file):
                    raise  # a multirun job: the sweep goes on, and reports it at its end
                _fail(err)  # a single run: one line and exit 2 here, before Hydra prints more

        hydra_entry = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR),
                                 config_name=config_name)(job)

        @functools.wraps(task_function)
        def main(cfg_passthrough: Any = None) -> Any:
            if cfg_passthrough is not None:
                return hydra_entry(cfg_passthrough)
            quiet_tensorflow_logs()
            # Hydra prints a sanitised traceback for every exception unless HYDRA_FULL_ERROR is
            # set, in which case it re-raises: so set it, and decide here what the user sees.
            global _USER_DEBUG
            _USER_DEBUG, previous = _debug(), os.environ.get("HYDRA_FULL_ERROR")
            os.environ["HYDRA_FULL_ERROR"] = "1"
            try:
                from han.extras import check_overrides

                check_overrides(sys.argv[1:])  # a feature in a missing extra: name the extra
                with _without_hydra_job_line():
                    return hydra_entry()
            except Exception as err:
                _fail(err)
            finally:
                _USER_DEBUG = None
                if previous is None:
                    os.environ.pop("HYDRA_FULL_ERROR", None)
                else:
                    os.environ["HYDRA_FULL_ERROR"] = previous

        main.task_function = task_function  # type: ignore[attr-defined]
        return main

    return decorate


class _StderrWithoutJobLine:
    """sys.stderr minus Hydra's "Error executing job with overrides" line: our error line
    names the job and its overrides itself."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith("Error executing job with overrides:"):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _without_hydra_job_line():
    stream = sys.stderr
    sys.stderr = _StderrWithoutJobLine(stream)
    try:
        yield
    finally:
        sys.stderr = stream


def _job_context() -> tuple[Path | None, list[str], bool]:
    """(the job's output directory, its command-line overrides, whether it is a multirun job);
    (None, [], False) outside Hydra."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra_cfg = HydraConfig.get()
    except Exception:  # noqa: BLE001 - not under Hydra (a test calling the task directly)
        return None, [], False
    return (Path(hydra_cfg.runtime.output_dir), [str(o) for o in hydra_cfg.overrides.task],
            hydra_cfg.mode == RunMode.MULTIRUN)


def _record_job_failure(err: BaseException, error_file: bool) -> bool:
    """error.txt in the job's directory; in a multirun, name the job in the error and return
    True (the error must go back to Hydra so that the sweep goes on)."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra_cfg = HydraConfig.get()
    except Exception:  # not under Hydra (a test calling the task directly)
        return False
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if error_file and not getattr(err, "keep_run_dir", False):
        from han.io import atomic_write_text

        with contextlib.suppress(OSError):  # an unwritable folder must not hide the error
            atomic_write_text(run_dir / "error.txt", traceback.format_exc())
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return False
    overrides = " ".join(hydra_cfg.overrides.task)
    with contextlib.suppress(AttributeError):  # some exceptions take no attributes
        err.han_job = f"job {hydra_cfg.job.num} [{overrides}] in {run_dir}"  # type: ignore[attr-defined]
    return True


# ── argparse entry points ────────────────────────────────────────────────────────────────────

def run_cli(main: Callable[..., int | None], *args: Any) -> int:
    """Run an argparse-style `main`, reporting expected errors as one line (exit status 2)."""
    quiet_tensorflow_logs()
    try:
        return int(main(*args) or 0)
    except Exception as err:
        _fail(err)
        raise  # unreachable: _fail exits or re-raises


def entry(main: Callable[..., int | None]) -> Callable[[], None]:
    """A console-script wrapper for an argparse `main`: `sys.exit(run_cli(main))`."""

    @functools.wraps(main)
    def script() -> None:
        sys.exit(run_cli(main))

    return script

