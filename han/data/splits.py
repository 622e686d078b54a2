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
    paper's 80/10/10; for IMDB, validation 0.1 takes 10% of the official train set.
    """
    split = np.where(np.isin(source_split, SPLITS), source_split, "train").astype(object)
    carve = [s for s in ("validation", "test") if not np.any(split == s) and fractions.get(s)]
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(split == "train")
    for label in sorted(set(labels[pool])):
        members = pool[labels[pool] == label]
        needed = 1 + len(carve)
        if len(members) < needed:
            raise DataError(
                f"class '{label}' has {len(members)} training document(s); carving "
                f"{', '.join(carve)} out of train needs at least {needed} per class. Add "
                f"documents, drop the class (dataset.classes), or give the split as a file "
                f"(dataset.validation_path / dataset.test_path)."
            )
        members = rng.permutation(members)
        start = 0
        for name in carve:
            count = min(max(1, round(len(members) * fractions[name])), len(members) - start - 1)
            split[members[start : start + count]] = name
            start += count
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
    """The classes, sorted, from the training split; at least two, or a DataError."""
    classes = sorted(set(labels[split == "train"]))
    if len(classes) < 2:
        found = f"only the class {classes[0]!r}" if classes else "no labelled documents"
        raise DataError(
            f"the training data has {found}; a classifier needs at least two classes. Check "
            f"the label column (dataset.label_column) and its values, or dataset.classes."
        )
    return classes
