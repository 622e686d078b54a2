"""k-fold cross-validation (issue #12): folds disjoint, covering, stratified and seeded; the test
fold never enters train or validation; clear errors for a misused dataset.folds."""

from __future__ import annotations

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from runs import CONF

from han.config import ConfigError, validate
from han.data.sources import DataError
from han.data.splits import assign_folds, assign_splits

FRACTIONS = {"validation": 0.1, "test": 0.1}


def _corpus(n_a: int = 53, n_b: int = 31, n_c: int = 17) -> tuple[np.ndarray, np.ndarray]:
    labels = np.array(["a"] * n_a + ["b"] * n_b + ["c"] * n_c, dtype=object)
    return labels, np.array([""] * len(labels), dtype=object)


@pytest.mark.parametrize("folds", [2, 3, 10])
def test_folds_are_disjoint_cover_every_document_once_and_are_stratified(folds: int) -> None:
    labels, source = _corpus()
    splits = [assign_splits(labels, source, FRACTIONS, 7, folds=folds, fold=f)
              for f in range(folds)]
    tested = np.sum([s == "test" for s in splits], axis=0)
    assert (tested == 1).all()  # every document tested exactly once over the K fold jobs
    fold_of = assign_folds(labels, folds, 7)
    for f, split in enumerate(splits):
        assert ((split == "test") == (fold_of == f)).all()
        # No test-fold document in train or validation; validation comes from the other folds.
        assert not np.any((fold_of == f) & np.isin(split, ["train", "validation"]))
        assert (split == "validation").sum() > 0 and set(split) == {"train", "validation", "test"}
    for label in ("a", "b", "c"):  # stratified: per class, fold counts differ by at most one
        counts = np.bincount(fold_of[labels == label], minlength=folds)
        assert counts.max() - counts.min() <= 1, (label, counts)
    sizes = np.bincount(fold_of, minlength=folds)
    assert sizes.max() - sizes.min() <= 1


def test_folds_are_seeded() -> None:
    labels, _ = _corpus()
    first = assign_folds(labels, 5, seed=3)
    assert (first == assign_folds(labels, 5, seed=3)).all()
    assert (first != assign_folds(labels, 5, seed=4)).any()
    # The validation carve is seeded too: a fold job is reproducible as a whole.
    source = np.array([""] * len(labels), dtype=object)
    one = assign_splits(labels, source, FRACTIONS, 3, folds=5, fold=2)
    assert (one == assign_splits(labels, source, FRACTIONS, 3, folds=5, fold=2)).all()


def test_grouped_folds_keep_groups_whole_and_near_stratified() -> None:
    rng = np.random.default_rng(0)
    labels, groups = [], []
    for g in range(90):
        main = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2])
        for _ in range(int(rng.integers(1, 6))):
            labels.append(main)
            groups.append(f"g{g}")
    labels_, groups_ = np.array(labels, dtype=object), np.array(groups, dtype=object)
    source = np.array([""] * len(labels_), dtype=object)
    fold_of = assign_folds(labels_, 4, 1, groups_)
    for group in set(groups_):
        assert len(set(fold_of[groups_ == group])) == 1
    for label in ("a", "b", "c"):
        counts = np.bincount(fold_of[labels_ == label], minlength=4)
        assert counts.max() - counts.min() <= 5, (label, counts)  # within one group's size
    for f in range(4):
        split = assign_splits(labels_, source, FRACTIONS, 1, groups_, folds=4, fold=f)
        assert ((split == "test") == (fold_of == f)).all()
        for group in set(groups_):  # validation takes whole groups from the training folds
            assert len(set(split[groups_ == group])) == 1


def test_a_source_with_an_official_test_split_refuses_folds() -> None:
    labels, source = _corpus()
    source[:10] = "test"
    with pytest.raises(DataError, match="official test split.*dataset.folds=null"):
        assign_splits(labels, source, FRACTIONS, 0, folds=5, fold=0)


def test_bad_folds_are_reported_with_the_allowed_values() -> None:
    labels, source = _corpus()
    with pytest.raises(DataError, match="one of 0..4"):
        assign_splits(labels, source, FRACTIONS, 0, folds=5, fold=5)
    with initialize_config_dir(str(CONF), version_base="1.3"):
        validate(compose("train", ["dataset.folds=10", "dataset.fold=9"]))
        for overrides, expected in (
            (["dataset.folds=10", "dataset.fold=10"], "it must be one of 0..9"),
            (["dataset.folds=1", "dataset.fold=0"], "a whole number >= 2"),
            (["dataset.fold=0"], "dataset.folds is null"),
            (["dataset.folds=3"], "dataset.fold is None; with dataset.folds=3"),
        ):
            with pytest.raises(ConfigError, match=expected):
                validate(compose("train", overrides))
