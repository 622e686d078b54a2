"""A dataset's ranges and rules across its settings (split fractions, folds, a table's files),
which its schema's types cannot say."""

from __future__ import annotations

from collections.abc import Mapping

from omegaconf import OmegaConf

from han.config.rules import (
    apply_rules,
    integer,
    is_int,
    is_number,
    number,
    one_of,
    separator,
    sha256,
    show,
    text,
)

__all__ = ["TABLE_FORMATS", "check_dataset", "check_folds"]

TABLE_FORMATS = ("csv", "tsv", "tab", "jsonl", "json", "ndjson", "parquet", "pq")


def check_dataset(cfg: Mapping, errors: list[str]) -> None:
    from han.data.readers import READERS as DATASETS

    apply_rules(errors, cfg, "dataset", {
        "name": text,
        "kind": one_of(tuple(DATASETS)),
        # null: derived from the training split's length percentiles
        "max_sentences": integer(1, nullable=True),
        "max_words": integer(1, nullable=True),
        "max_tokens": integer(1),
        "max_train_docs": integer(1, nullable=True),
        "sha256": sha256,
        "format": one_of(TABLE_FORMATS, nullable=True),
        "separator": separator,
    })
    check_folds(cfg, errors)
    near = cfg.get("near_duplicates")
    if isinstance(near, Mapping):
        apply_rules(errors, near, "dataset.near_duplicates",
                    {"jaccard": number(0, 1, low_open=True), "shingle": integer(1)})
    vocab = cfg.get("vocab")
    if isinstance(vocab, Mapping):
        apply_rules(errors, vocab, "dataset.vocab",
                    {"min_count": integer(1), "max_size": integer(3, nullable=True)})
    tokenizer = cfg.get("tokenizer")
    if isinstance(tokenizer, Mapping):
        apply_rules(errors, tokenizer, "dataset.tokenizer",
                    {"language": text, "max_chars": integer(1)})
    split = cfg.get("split")
    if isinstance(split, Mapping):
        apply_rules(errors, split, "dataset.split", {
            "validation": number(0, 1, high_open=True, nullable=True),
            "test": number(0, 1, high_open=True, nullable=True),
        })
        parts = [split.get(k) for k in ("validation", "test")]
        if all(is_number(p) for p in parts if p is not None) and sum(p or 0 for p in parts) >= 1:
            errors.append(f"dataset.split takes {sum(p or 0 for p in parts)} of the training "
                          "documents for validation and test; together they must be below 1")
    if (cfg.get("kind") == "table" and "train_path" in cfg
            and not OmegaConf.is_missing(cfg, "train_path") and not cfg.get("train_path")):
        errors.append("dataset.train_path is not set; give your training file: "
                      "dataset.train_path=/path/to/train.csv")


def check_folds(cfg: Mapping, errors: list[str]) -> None:
    """`dataset.folds` (null or K >= 2) and `dataset.fold` (the test fold, 0..K-1)."""
    folds, fold = cfg.get("folds"), cfg.get("fold")
    if folds is not None and (not is_int(folds) or folds < 2):
        errors.append(f"dataset.folds is {show(folds)}; it must be null (one train/test split) "
                      "or a whole number >= 2 (k-fold cross-validation, e.g. dataset.folds=10)")
    elif folds is None and fold is not None:
        errors.append(f"dataset.fold is {show(fold)} but dataset.folds is null; set "
                      "dataset.folds=K for k-fold cross-validation, or dataset.fold=null")
    elif folds is not None and (not is_int(fold) or not 0 <= fold < folds):
        errors.append(f"dataset.fold is {show(fold)}; with dataset.folds={folds} it must be one "
                      f"of 0..{folds - 1} (the test fold); sweep them: "
                      f"dataset.fold=range({folds})")
