"""Fault injection for the fault-injection suite (tests/test_faults.py), off unless asked.

``HAN_FAULT=<point>[@<n>]`` kills this process with SIGKILL (as ``kill -9`` would) the n-th time
(default: the first) it reaches a point whose name matches the fnmatch pattern ``<point>``;
``HAN_FAULT_ACTION=raise`` raises `FaultInjected` there instead. The points: ``tokenise`` (after
each chunk of documents), ``write:<file name>`` (inside every atomic write, after the bytes and
before the rename: ``write:corpus-*``, ``write:metrics.json``), ``word2vec``, ``step`` (after each
training step), ``epoch-end`` (after an epoch's checkpoint and state landed) and ``test``
(during the test evaluation). A shared utility: `han/data` may import it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from fnmatch import fnmatchcase

__all__ = ["FaultInjected", "point"]

_hits: Counter[str] = Counter()


class FaultInjected(RuntimeError):
    """Raised at a fault point when HAN_FAULT_ACTION=raise."""


def point(name: str) -> None:
    """A place where a fault may be injected; does nothing unless HAN_FAULT matches `name`."""
    spec = os.environ.get("HAN_FAULT")
    if not spec:
        return
    pattern, _, nth = spec.partition("@")
    if not fnmatchcase(name, pattern):
        return
    _hits[pattern] += 1
    if _hits[pattern] != int(nth or 1):
        return
    if os.environ.get("HAN_FAULT_ACTION") == "raise":
        raise FaultInjected(f"fault injected at {name} (HAN_FAULT={spec})")
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
