"""The bag-of-words baseline fitted beside every network run, once per split.

`baseline: true` fits the TF-IDF logistic regression (han/baselines.py) on the run's own split.
That fit is a pure function of the split's documents (ids, labels, vocabulary ids), the
classes, the baseline's settings, the monitor that picks its C, and scikit-learn's version
(lbfgs is deterministic), so it is cached under `paths.cache_dir` by a hash of exactly those:
the jobs of a sweep on one split (models, levers) fit it once, and a re-run fits it no more.
An entry is two files, the test predictions (`baseline-<key>.csv`) and then the result
(`baseline-<key>.json`, written last, so a result is never without its predictions); each
written atomically. A damaged entry is logged by name and fitted again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from han.io import atomic_open, atomic_write_text, remove_stale_tmp

log = logging.getLogger(__name__)

# Bump when what the baseline computes changes for the same inputs (its code, not its settings,
# which are part of the key).
VERSION = 1
_RESULT_KEYS = {"model", "validation", "test", "seconds"}


def key(splits: Mapping, classes: list[str], settings: Mapping, monitor: str) -> str:
    """Hash of everything the fitted baseline and its test predictions depend on."""
    import sklearn

    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(splits):
        docs = splits[name]
        digest.update(f"\0{name}\0".encode())
        for array in (docs.tokens, docs.sentence_lengths, docs.doc_sentences, docs.labels):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update("\n".join(map(str, docs.ids)).encode())
    meta = {"classes": list(classes), "settings": dict(settings), "monitor": monitor,
            "sklearn": sklearn.__version__, "version": VERSION}
    digest.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _paths(cache_dir: Path | str, name: str) -> tuple[Path, Path]:
    folder = Path(cache_dir)
    return folder / f"baseline-{name}.json", folder / f"baseline-{name}.csv"


def load(cache_dir: Path | str, name: str, predictions: Path) -> dict | None:
    """The cached result, its test predictions copied to `predictions`; None when absent or
    damaged (a damaged entry is deleted, to be fitted again)."""
    result_path, csv_path = _paths(cache_dir, name)
    remove_stale_tmp(cache_dir)  # leftovers of writes that were killed
    if not result_path.exists():
        return None
    try:
        result = json.loads(result_path.read_text())
        if not isinstance(result, dict) or not set(result) >= _RESULT_KEYS:
            raise ValueError(f"holds no baseline result (keys {sorted(result)})")
        data = csv_path.read_bytes()
        if not data.startswith(b"id,label,predicted"):
            raise ValueError(f"{csv_path.name} holds no predictions")
    except (OSError, ValueError) as err:
        log.warning("cache %s is damaged (%s: %s); fitting the baseline again", result_path,
                    type(err).__name__, err)
        result_path.unlink(missing_ok=True)
        csv_path.unlink(missing_ok=True)
        return None
    with atomic_open(predictions, "wb") as handle:
        handle.write(data)
    return result


def save(cache_dir: Path | str, name: str, result: dict, predictions: Path) -> None:
    """Caches `result` and the predictions file the fit wrote (predictions first)."""
    result_path, csv_path = _paths(cache_dir, name)
    try:
        with atomic_open(csv_path, "wb") as handle:
            handle.write(predictions.read_bytes())
        atomic_write_text(result_path, json.dumps(result, indent=1))
    except PermissionError as err:  # a read-only cache costs a refit next time, nothing more
        log.warning("could not cache the baseline in %s (%s)", cache_dir, err.strerror)
