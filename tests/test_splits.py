"""assign_splits: official splits kept, carved splits stratified and seeded."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from runs import CONF

from han.data.prepare import prepare
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


def _grouped(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """600 documents in 120 groups of 1-9, mostly one class per group (users, films)."""
    rng = np.random.default_rng(seed)
    labels, groups = [], []
    for g in range(120):
        main = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2])
        for _ in range(int(rng.integers(1, 10))):
            labels.append(main if rng.random() < 0.8 else rng.choice(["a", "b", "c"]))
            groups.append(f"g{g}")
    return np.array(labels, dtype=object), np.array(groups, dtype=object)


def test_groups_are_never_split_and_classes_keep_their_share(
    caplog: pytest.LogCaptureFixture,
) -> None:
    labels, groups = _grouped()
    source = np.array([""] * len(labels), dtype=object)
    with caplog.at_level(logging.INFO, logger="han.data.splits"):
        split = assign_splits(labels, source, FRACTIONS, seed=0, groups=groups)
    for group in set(groups):
        assert len(set(split[groups == group])) == 1, group
    for name in ("validation", "test"):
        part = split == name
        assert 0.07 < part.mean() < 0.14  # about 10% each, give or take a group
        for label in ("a", "b", "c"):  # each class's share of the carved split ~ its share
            share = (labels[part] == label).mean()
            assert abs(share - (labels == label).mean()) < 0.1, (name, label, share)
        assert f"{name}: {part.sum()} documents in {len(set(groups[part]))} groups" in caplog.text
    assert set(labels[split == "train"]) == {"a", "b", "c"}


def test_grouped_split_is_seeded() -> None:
    labels, groups = _grouped()
    source = np.array([""] * len(labels), dtype=object)
    first = assign_splits(labels, source, FRACTIONS, seed=5, groups=groups)
    assert (first == assign_splits(labels, source, FRACTIONS, seed=5, groups=groups)).all()
    assert (first != assign_splits(labels, source, FRACTIONS, seed=6, groups=groups)).any()
    # The groups' order in the input does not matter, only the seed does.
    order = np.random.default_rng(1).permutation(len(labels))
    shuffled = assign_splits(labels[order], source, FRACTIONS, seed=5, groups=groups[order])
    assert (shuffled == first[order]).all()


def test_train_keeps_a_class_that_lives_in_one_group() -> None:
    labels = np.array(["a"] * 40 + ["rare"] * 5, dtype=object)
    groups = np.array([f"g{i // 2}" for i in range(40)] + ["only"] * 5, dtype=object)
    source = np.array(["train"] * 45, dtype=object)
    for seed in range(5):
        split = assign_splits(labels, source, {"validation": 0.2}, seed=seed, groups=groups)
        assert (split[labels == "rare"] == "train").all()
        assert (split == "validation").sum() == 8  # 20% of a's 40, in groups of 2


def test_blank_groups_are_documents_of_their_own() -> None:
    labels = np.array(["a", "b"] * 50, dtype=object)
    groups = np.array([""] * 50 + [f"g{i // 10}" for i in range(50)], dtype=object)
    source = np.array([""] * 100, dtype=object)
    split = assign_splits(labels, source, FRACTIONS, seed=0, groups=groups)
    for group in set(groups[50:]):
        assert len(set(split[groups == group])) == 1
    assert len(set(split[:50])) == 3  # singletons land anywhere


def test_prepare_splits_a_users_table_by_its_group_column(
    bbc_csv: Path, tmp_path: Path
) -> None:
    # 120 real articles; a "source" column puts 4 consecutive articles of a class in a group.
    frame = pd.read_csv(bbc_csv)
    frame["source"] = [f"s{i // 4}" for i in range(len(frame))]
    path = tmp_path / "grouped.csv"
    frame.to_csv(path, index=False)
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=csv", f"dataset.train_path={path}",
                                "dataset.id_column=id", "dataset.group_column=source",
                                f"paths.cache_dir={tmp_path / 'cache'}"])
    for _ in range(2):  # built, then from the cache: the groups survive it
        data = prepare(cfg.dataset, cfg.paths, seed=0, workers=1, progress=False)
        group_of = dict(zip(frame["id"], frame["source"], strict=True))
        assert [group_of[i] for i in data.corpus.ids] == list(data.corpus.groups)
        for group in set(data.corpus.groups):
            assert len(set(data.split_of[data.corpus.groups == group])) == 1
        # One of the 120 real articles is a copy of another (dataset.dedup): train has 95.
        assert data.counts["duplicates"]["removed"] == 1
        assert {name: len(part) for name, part in data.splits.items()} == {
            "train": 95, "validation": 12, "test": 12}
    assert len(list((tmp_path / "cache").iterdir())) == 1
