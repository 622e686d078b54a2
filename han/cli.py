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
import re
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_DIR", "UsageError", "hydra_main", "run_cli", "import_tensorflow", "progress_disable",
    "one_line",
]

EXIT_USAGE = 2


def _config_dir(here: Path | None = None) -> Path:
    """The configs: inside the installed package (a wheel ships them as ``han/conf``), else the
    repository's top-level ``conf/`` (a clone, an editable install, ``python -m``)."""
    here = here or Path(__file__).resolve().parent
    packaged = here / "conf"
    return packaged if (packaged / "train.yaml").is_file() else here.parent / "conf"


CONFIG_DIR = _config_dir()


class UsageError(Exception):
    """An expected failure that is none of the project's own error types."""


def _expected() -> tuple[type[BaseException], ...]:
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
            FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
            ConfigCompositionException, MissingConfigException, OverrideParseException,
            MissingMandatoryValue)


_USER_DEBUG: bool | None = None  # the user's choice, read before Hydra's switch is set here


def _debug() -> bool:
    if _USER_DEBUG is not None:
        return _USER_DEBUG
    return any(os.environ.get(name, "") not in ("", "0") for name in ("HAN_DEBUG", "HYDRA_FULL_ERROR"))


def one_line(err: BaseException) -> str:
    """The error as one line: Hydra's multi-line messages folded, its search path dropped."""
    message = str(err)
    if isinstance(err, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError) \
            and err.filename and str(err.filename) not in message:
        message = f"{message}: {err.filename}"
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
    if cause is not None and type(err).__module__.startswith("hydra") and str(cause):
        first = str(cause).strip().splitlines()[0]
        if first not in " ".join(out):
            out.append(f"({first})")
    text = " ".join(out)
    job = getattr(err, "han_job", None)
    if job:
        text = f"{job}: {text}"
    return re.sub(r"\s+", " ", text).strip() or type(err).__name__


def _fail(err: BaseException) -> None:
    """Report an error as the module doc says and exit; re-raise when debugging."""
    if isinstance(err, _expected()) and not _debug():
        sys.stderr.write(f"error: {one_line(err)}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_USAGE) from None
    raise err


# ── Hydra entry points ───────────────────────────────────────────────────────────────────────

def hydra_main(config_name: str, task: str, error_file: bool = False) -> Callable:
    """`@hydra.main` with the project's configs, validation and error handling.

    The task function gets a validated config (`han.config.validate(cfg, task)`) before it does
    anything. With `error_file`, a job that raises writes its traceback to ``error.txt`` in its
    output directory (a sweep's reader finds it there). Called with a config, the returned
    function runs the task directly (as Hydra's own decorator does).
    """
    import hydra

    def decorate(task_function: Callable[[Any], Any]) -> Callable[..., Any]:
        @functools.wraps(task_function)
        def job(cfg: Any) -> Any:
            from han.config import validate

            try:
                validate(cfg, task)
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
    if error_file:
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


# ── quiet by default ─────────────────────────────────────────────────────────────────────────

_TF_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
# C++ log lines: severity letter, date, time, thread, file:line]
_GLOG = re.compile(r"^([IWEF])\d{4} ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def quiet_tensorflow_logs() -> None:
    """TensorFlow's C++ logging at warnings and above, unless the user chose a level."""
    os.environ.setdefault(_TF_LEVEL, "1")


def _min_level() -> int:
    try:
        return int(os.environ.get(_TF_LEVEL, "1"))
    except ValueError:
        return 1


def filter_tf_lines(lines: list[str], has_gpu: bool, min_level: int) -> list[str]:
    """What is worth showing of TensorFlow's start-up output.

    Drops lines below `min_level` (TensorFlow writes its start-up messages before its logging
    reads TF_CPP_MIN_LOG_LEVEL), the banner saying so, and, without a GPU, the CUDA probing
    (``failed call to cuInit``): on a CPU-only machine that is expected, not a failure.
    """
    kept: list[str] = []
    keep = True
    for line in lines:
        match = _GLOG.match(line)
        if match:
            keep = _SEVERITY[match.group(1)] >= min_level
            if not has_gpu and ("cuInit" in line or "cuda" in line.lower()):
                keep = False
        elif line.startswith("WARNING: All log messages before absl::InitializeLog()"):
            keep = min_level == 0
        # other lines continue the previous message and share its fate
        if keep:
            kept.append(line)
    return kept


def import_tensorflow():
    """Import TensorFlow and probe for GPUs with its start-up noise filtered (`filter_tf_lines`).

    TensorFlow writes those lines to file descriptor 2 from C++, so they are captured there.
    Call it where TensorFlow is first needed: importing it before the tokenizer forks its
    workers would be unsafe. Returns the module.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    quiet_tensorflow_logs()
    sys.stderr.flush()
    saved = os.dup(2)
    has_gpu: bool | None = None
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            has_gpu = bool(tf.config.list_physical_devices("GPU"))
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines()
            # A failed import shows everything it wrote.
            shown = lines if has_gpu is None else filter_tf_lines(lines, has_gpu, _min_level())
            if shown:
                sys.stderr.write("\n".join(shown) + "\n")
    return tf


def progress_disable(progress: bool) -> bool | None:
    """tqdm's `disable`: bars only on a terminal (None = tqdm's automatic mode), never if off."""
    return None if progress else True
