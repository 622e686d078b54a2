"""Stratified, seeded train / validation / test splits.

Official splits are kept (IMDB's 25k test set stays the test set); missing ones are carved out of
train, per class, with the run's seed, so the same seed always gives the same documents.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from han.data.sources import DataError

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")


def assign_splits(
    labels: np.ndarray,
    source_split: np.ndarray,
    fractions: Mapping[str, float],
    seed: int,
) -> np.ndarray:
    """The split of every document.

    `fractions` gives, for validation and test, the share carved out of the pool of documents
    without an official split (documents whose source split is `train` or empty) when the
    source has none of that split. For BBC News (no official split) 0.1 and 0.1 give the
    paper's 80/10/10; for IMDB, validation 0.1 takes 10% of the official train set. A class
    with too few training documents to give every carved split one stays in train (logged).
    """
    split = np.where(np.isin(source_split, SPLITS), source_split, "train").astype(object)
    carve = [s for s in ("validation", "test") if not np.any(split == s) and fractions.get(s)]
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(split == "train")
    too_few = []
    for label in sorted(set(labels[pool])):
        members = pool[labels[pool] == label]
        if carve and len(members) < 1 + len(carve):
            # Train needs the class more than a carved split does (R52's platinum has one
            # training story): it stays whole in train and the carved splits go without it.
            too_few.append(f"{label} ({len(members)})")
            continue
        members = rng.permutation(members)
        start = 0
        for name in carve:
            count = min(max(1, round(len(members) * fractions[name])), len(members) - start - 1)
            split[members[start : start + count]] = name
            start += count
    if too_few:
        log.warning(
            "class(es) with too few training documents to carve %s: %s; they stay in train "
            "and %s has none of them", " and ".join(carve), ", ".join(too_few),
            " / ".join(carve),
        )
    check_labels(labels, split)
    return split


def check_labels(labels: np.ndarray, split: np.ndarray) -> None:
    """Every class seen in validation or test must be in train: the model cannot predict it."""
    known = set(labels[split == "train"])
    for name in ("validation", "test"):
        unknown = sorted(set(labels[split == name]) - known)
        if unknown:
            raise DataError(
                f"the {name} split has label(s) {unknown} that the training split lacks; a "
                f"model cannot learn them. Fix the labels in the {name} file "
                f"(dataset.{name}_path) or add training documents of those classes."
            )


def class_names(labels: np.ndarray, split: np.ndarray) -> list[str]:
    """The classes, sorted, from the training split."""
    return sorted(set(labels[split == "train"]))
