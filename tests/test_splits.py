"""assign_splits: official splits kept, carved splits stratified and seeded."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from han.data.splits import assign_splits

FRACTIONS = {"validation": 0.1, "test": 0.1}


def test_class_too_small_to_carve_stays_in_train(caplog: pytest.LogCaptureFixture) -> None:
    # R52's platinum: one training story, two test stories.
    labels = np.array(["earn"] * 30 + ["platinum"] + ["earn", "platinum", "platinum"], dtype=object)
    source = np.array(["train"] * 31 + ["test"] * 3, dtype=object)
    with caplog.at_level(logging.WARNING, logger="han.data.splits"):
        split = assign_splits(labels, source, FRACTIONS, seed=0)
    assert split[30] == "train"
    assert list(split[31:]) == ["test"] * 3  # the official test split is kept
    assert (split[:30] == "validation").sum() == 3
    assert "platinum (1)" in caplog.text


def test_stratified_and_seeded_without_groups() -> None:
    labels = np.array(["a"] * 50 + ["b"] * 30, dtype=object)
    source = np.array([""] * 80, dtype=object)
    first = assign_splits(labels, source, FRACTIONS, seed=3)
    assert list(first) == list(assign_splits(labels, source, FRACTIONS, seed=3))
    assert list(first) != list(assign_splits(labels, source, FRACTIONS, seed=4))
    for name, per_class in (("validation", (5, 3)), ("test", (5, 3))):
        assert ((first == name) & (labels == "a")).sum() == per_class[0]
        assert ((first == name) & (labels == "b")).sum() == per_class[1]
