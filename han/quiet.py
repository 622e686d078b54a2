"""TensorFlow, quietly: its C++ start-up noise filtered (shared by every entry point via
`han.cli`, which re-exports these names)."""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["quiet_tensorflow_logs", "filter_tf_lines", "import_tensorflow"]

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
