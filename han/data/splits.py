"""Stratified, seeded train / validation / test splits.

Official splits are kept (IMDB's 25k test set stays the test set); missing ones are carved out of
train, per class, with the run's seed, so the same seed always gives the same documents.
With `dataset.folds=K` a corpus without an official test split is cut into K stratified folds
instead; fold `dataset.fold` is the test split (k-fold cross-validation, `assign_folds`).
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
    groups: np.ndarray | None = None,
    folds: int | None = None,
    fold: int | None = None,
) -> np.ndarray:
    """The split of every document.

    With `folds` (K >= 2) the pool is cut into K folds (`assign_folds`): fold `fold` is the
    test split, validation is carved from the other K - 1 folds as below, train is the rest.

    `fractions` gives, for validation and test, the share carved out of the pool of documents
    without an official split (documents whose source split is `train` or empty) when the
    source has none of that split. For BBC News (no official split) 0.1 and 0.1 give the
    paper's 80/10/10; for IMDB, validation 0.1 takes 10% of the official train set. A class
    with too few training documents to give every carved split one stays in train (logged).

    With `groups` (one str per document, "" = none) the carved splits take whole groups, so
    that validation shares no film (say) with train, as an official test set would not.
    """
    split = np.where(np.isin(source_split, SPLITS), source_split, "train").astype(object)
    if folds is not None:
        return _fold_splits(labels, split, fractions, seed, groups, int(folds), fold)
    carve = [s for s in ("validation", "test") if not np.any(split == s) and fractions.get(s)]
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(split == "train")
    if not carve or len(pool) == 0:
        check_labels(labels, split)
        return split
    # Per class, how many documents each carved split should get, as the stratified split
    # would carve them; classes too small to carve stay whole in train.
    classes = sorted(set(labels[pool]))
    class_of = np.searchsorted(np.array(classes, dtype=object), labels[pool])
    sizes = np.bincount(class_of, minlength=len(classes))
    targets = {name: np.zeros(len(classes), dtype=np.int64) for name in carve}
    too_few = []
    for c, size in enumerate(sizes):
        if size < 1 + len(carve):
            # Train needs the class more than a carved split does (R52's platinum has one
            # training story): it stays whole in train and the carved splits go without it.
            too_few.append(f"{classes[c]} ({size})")
            continue
        start = 0
        for name in carve:
            targets[name][c] = min(max(1, round(size * fractions[name])), size - start - 1)
            start += targets[name][c]
    if too_few:
        log.warning(
            "class(es) with too few training documents to carve %s: %s; they stay in train "
            "and %s has none of them", " and ".join(carve), ", ".join(too_few),
            " / ".join(carve),
        )
    pool_groups = None if groups is None else np.asarray(groups, dtype=object)[pool]
    if pool_groups is None or not any(pool_groups):
        _carve_documents(split, pool, class_of, targets, carve, rng)
    else:
        _carve_groups(split, pool, class_of, pool_groups, targets, carve, rng)
    check_labels(labels, split)
    return split


def _fold_splits(labels: np.ndarray, split: np.ndarray, fractions: Mapping[str, float],
                 seed: int, groups: np.ndarray | None, folds: int, fold: int | None) -> np.ndarray:
    """Test = fold `fold` of the pool; validation carved from the rest, never from the test fold."""
    if folds < 2:
        raise DataError(f"dataset.folds is {folds}; k-fold cross-validation needs at least 2 "
                        "folds: set dataset.folds=10 (say), or null for one train/test split")
    if fold is None or not 0 <= int(fold) < folds:
        raise DataError(f"dataset.fold is {fold}; with dataset.folds={folds} it must be one of "
                        f"0..{folds - 1} (the test fold), e.g. dataset.fold=0,1,...")
    official = int(np.sum(split == "test"))
    if official:
        raise DataError(f"dataset.folds={folds}, but this source has an official test split "
                        f"({official} documents); k-fold is for corpora without an official test "
                        "split: set dataset.folds=null")
    # The official validation split, if any, joins the pool: each fold's validation must come
    # from that fold's own training part.
    pool = np.arange(len(split))
    fold_of = assign_folds(labels[pool], folds, seed,
                           None if groups is None else np.asarray(groups, dtype=object)[pool])
    out = split.copy()
    out[pool] = "train"
    out[pool[fold_of == int(fold)]] = "test"
    # The same carving as without folds, over the K - 1 training folds only (test is taken).
    return assign_splits(labels, out, {"validation": fractions.get("validation") or 0.0}, seed,
                         groups)


def assign_folds(labels: np.ndarray, folds: int, seed: int,
                 groups: np.ndarray | None = None) -> np.ndarray:
    """The fold (0..K-1) of every document: stratified by label, seeded, whole groups.

    Without groups, each class's documents are dealt round-robin in a seeded order, continuing
    the count across classes, so per class the folds differ by at most one document and fold
    sizes by at most one. With groups ("" = a group of its own), whole groups are dealt, each to
    the fold with the fewest documents of the group's majority class (then the smallest fold):
    as close to stratified as the groups allow. Every fold job of a seed gets the same folds.
    """
    labels = np.asarray(labels, dtype=object)
    # A stream of its own, so folds never shift the validation carve that follows.
    rng = np.random.default_rng([seed, 12])
    classes, class_of = np.unique(labels.astype(str), return_inverse=True)
    fold_of = np.empty(len(labels), dtype=np.int64)
    if groups is None or not any(groups):
        position = 0
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(class_of == c))
            fold_of[members] = (position + np.arange(len(members))) % folds
            position += len(members)
        return fold_of
    keys = np.array([g if g else f"\0{i}" for i, g in enumerate(groups)], dtype=object)
    names, group_of = np.unique(keys, return_inverse=True)
    counts = np.zeros((len(names), len(classes)), dtype=np.int64)
    np.add.at(counts, (group_of, class_of), 1)
    majority = counts.argmax(axis=1)
    per_fold = np.zeros((folds, len(classes)), dtype=np.int64)
    chosen = np.empty(len(names), dtype=np.int64)
    # Large groups first (they are the hard ones to balance), ties in seeded order.
    order = rng.permutation(len(names))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    for g in order:
        f = int(np.lexsort((per_fold.sum(axis=1), per_fold[:, majority[g]]))[0])
        chosen[g] = f
        per_fold[f] += counts[g]
    fold_of[:] = chosen[group_of]
    return fold_of


def _carve_documents(split: np.ndarray, pool: np.ndarray, class_of: np.ndarray,
                     targets: dict[str, np.ndarray], carve: list[str],
                     rng: np.random.Generator) -> None:
    """Stratified: per class, a seeded permutation cut into the carved splits' counts."""
    for c in range(len(targets[carve[0]])):
        if not any(targets[name][c] for name in carve):
            continue
        members = rng.permutation(pool[class_of == c])
        start = 0
        for name in carve:
            count = targets[name][c]
            split[members[start : start + count]] = name
            start += count


def _carve_groups(split: np.ndarray, pool: np.ndarray, class_of: np.ndarray,
                  pool_groups: np.ndarray, targets: dict[str, np.ndarray], carve: list[str],
                  rng: np.random.Generator) -> None:
    """Whole groups, as close to stratified as groups allow.

    Groups are visited in a seeded order; a group goes to the first carved split whose count
    of the group's majority class is still below its target, unless that would leave train
    without a class it had. A group of mixed classes counts all its documents, so class
    proportions hold on average; a carved split may overshoot a target by part of one group.
    A document without a group ("") is a group of its own.
    """
    keys = np.array([g if g else f"\0{i}" for i, g in zip(pool, pool_groups, strict=True)],
                    dtype=object)
    names, group_of = np.unique(keys, return_inverse=True)  # sorted: the seed alone decides
    counts = np.zeros((len(names), len(targets[carve[0]])), dtype=np.int64)
    np.add.at(counts, (group_of, class_of), 1)
    majority = counts.argmax(axis=1)  # ties go to the first class in sorted order
    in_train = counts.sum(axis=0)
    taken = {name: np.zeros_like(in_train) for name in carve}
    chosen = np.full(len(names), "train", dtype=object)
    for g in rng.permutation(len(names)):
        left = in_train - counts[g]
        if np.any((left < 1) & (counts[g] > 0)):
            continue
        for name in carve:
            if taken[name][majority[g]] < targets[name][majority[g]]:
                chosen[g] = name
                taken[name] += counts[g]
                in_train = left
                break
    split[pool] = chosen[group_of]
    log.info("split by %d groups: train keeps %d", len(names), int((chosen == "train").sum()))
    for name in carve:
        log.info("%s: %d documents in %d groups (targets %d)", name, int(taken[name].sum()),
                 int((chosen == name).sum()), int(targets[name].sum()))


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


def subsample_train(labels: np.ndarray, split: np.ndarray, max_docs: int | None,
                    seed: int) -> np.ndarray:
    """At most `max_docs` training documents, stratified and seeded; the rest leave every split.

    `dataset.max_train_docs`: a laptop-sized sample of a million-document training split.
    Validation and test are untouched (they were carved before this), so scores stay
    comparable. Each class keeps its share (largest remainders first) and at least one document,
    which may add up to one document per class that rounding would have left out.
    """
    train = np.flatnonzero(split == "train")
    if max_docs is None or int(max_docs) >= len(train):
        return split
    max_docs = int(max_docs)
    if max_docs < 1:
        raise DataError(f"dataset.max_train_docs is {max_docs}; set it to a positive number of "
                        "training documents, or null for all of them")
    classes, class_of = np.unique(labels[train].astype(str), return_inverse=True)
    sizes = np.bincount(class_of)
    if max_docs < len(classes):
        raise DataError(f"dataset.max_train_docs={max_docs} cannot hold one document of each of "
                        f"the {len(classes)} classes; set it to at least {len(classes)}")
    exact = sizes * max_docs / len(train)
    quota = np.maximum(1, np.floor(exact).astype(np.int64))
    for c in np.argsort(-(exact - np.floor(exact)), kind="stable"):
        if quota.sum() >= max_docs:
            break
        if quota[c] < sizes[c]:
            quota[c] += 1
    # A stream of its own, so the sample never shifts the carved validation split.
    rng = np.random.default_rng([seed, 15])
    keep = np.concatenate([rng.permutation(train[class_of == c])[:quota[c]]
                           for c in range(len(classes))])
    out = split.copy()
    out[train] = "unused"
    out[keep] = "train"
    log.info("dataset.max_train_docs: training on %d of %d documents (stratified, seed %d)",
             len(keep), len(train), seed)
    return out
