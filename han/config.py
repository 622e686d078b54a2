"""What types cannot say, checked in one place before any data work: ranges and rules across
settings.

Types, defaults and allowed values are the schema's (han/schema/): Hydra refuses
`trainer.epochs=ten` or `trainer.optimizer=adamw` while it composes. `validate(cfg, task)` is
called by every entry point (see `han.cli`) right after: `trainer.batch_size=0` or validation and
test fractions that add up to 1 are reported at once, instead of after minutes of tokenising, all
together in one `ConfigError`. The top-level settings (seed, workers, ...) and predict's have no
schema yet and keep their type checks here. A key the config does not define is an error (the
schema's, and `han.settings`' for `+key=value`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

__all__ = ["ConfigError", "validate"]

TABLE_FORMATS = ("csv", "tsv", "tab", "jsonl", "json", "ndjson", "parquet", "pq")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class ConfigError(ValueError):
    """One or more settings are invalid; the message names each and what it may be."""


# ── checks ───────────────────────────────────────────────────────────────────────────────────

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if isinstance(value, DictConfig | ListConfig):
        value = OmegaConf.to_container(value)
    return repr(value)


def integer(minimum: int = 0, nullable: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not _is_int(value) or value < minimum:
            what = "a whole number" + (f" >= {minimum}" if minimum != 1 else " > 0")
            return what + (" or null" if nullable else "")
        return None
    return check


def integer_or(word: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value == word or (_is_int(value) and value >= 1):
            return None
        return f"a whole number > 0 or {word}"
    return check


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False, nullable: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        bad = not _is_number(value)
        if not bad and low is not None:
            bad = value <= low if low_open else value < low
        if not bad and high is not None:
            bad = value >= high if high_open else value > high
        if value is None and nullable:
            return None
        if bad:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
            rule = " and ".join(x for x in (lo, hi) if x)
            return f"a number{(' ' + rule) if rule else ''}" + (" or null" if nullable else "")
        return None
    return check


def one_of(choices: Sequence[str], nullable: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if str(value) not in choices or not isinstance(value, str):
            return "one of: " + ", ".join(choices) + (" (or null)" if nullable else "")
        return None
    return check


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "a non-empty string"


def sha256(value: Any) -> str | None:
    ok = value is None or (isinstance(value, str) and _SHA256.match(value))
    return None if ok else "null or 64 hexadecimal digits (the archive's sha256)"


def separator(value: Any) -> str | None:
    from han.data.tables import SEPARATORS

    if value is None or (isinstance(value, str) and (len(value) == 1 or value in SEPARATORS)):
        return None
    return "null, one character or one of " + ", ".join(SEPARATORS)


def int_list(value: Any) -> str | None:
    if value is None or (isinstance(value, Sequence | ListConfig) and not isinstance(value, str)
                         and all(_is_int(v) and v >= 0 for v in value)):
        return None
    return "null or a list of GPU indices, e.g. [0,1]"


def widths(value: Any) -> str | None:
    if (isinstance(value, Sequence | ListConfig) and not isinstance(value, str) and len(value)
            and all(_is_int(v) and v >= 1 for v in value)):
        return None
    return "a non-empty list of filter widths in words, e.g. [3,4,5]"


def _check(errors: list[str], cfg: Mapping, prefix: str,
           rules: Mapping[str, Callable[[Any], str | None]]) -> None:
    """Check each key of `rules` that `cfg` holds (the schema's groups hold every key)."""
    for key, rule in rules.items():
        if key not in cfg or (isinstance(cfg, DictConfig) and OmegaConf.is_missing(cfg, key)):
            continue  # absent: a group without schema; ???: reported once by validate()
        value = cfg[key]
        problem = rule(value)
        if problem:
            name = f"{prefix}.{key}" if prefix else key
            errors.append(f"{name} is {_show(value)}; it must be {problem}")


# ── groups ───────────────────────────────────────────────────────────────────────────────────

def check_trainer(cfg: Mapping, errors: list[str]) -> None:
    _check(errors, cfg, "trainer", {
        "epochs": integer(1),
        "batch_size": integer(1),
        "eval_batch_size": integer(1),
        "learning_rate": number(0, low_open=True),
        "momentum": number(0, 1),
        "clipnorm": number(0, low_open=True, nullable=True),
        "patience": integer(0),
    })


def check_model(cfg: Mapping, errors: list[str]) -> None:
    from han.schema import MODELS

    family = cfg.get("family")
    schema = OmegaConf.get_type(cfg) if isinstance(cfg, DictConfig) else None
    if family in MODELS and schema is not None and schema is not MODELS[family] \
            and issubclass(schema, tuple(MODELS.values())):
        errors.append(f"model.family is {str(family)!r} but model.name={cfg.get('name')} is a "
                      f"{schema.__name__}; choose a {family} model with model=<name> instead")
    if cfg.get("network") is not None:  # Table 2's networks without attention (han/table2/)
        check_network(cfg, errors)
        return
    if family == "linear":  # Table 2's linear rows; features and classifier are typed choices
        _check(errors, cfg, "model", {
            "max_iter": integer(1), "min_df": integer(1), "embedding_dim": integer(1),
            "word2vec_window": integer(1), "word2vec_epochs": integer(1, nullable=True),
            "vector_size": integer(1), "pv_window": integer(1), "pv_epochs": integer(1),
            "pv_min_count": integer(1), "pv_negative": integer(0)})
        if "pv_modes" in cfg and not list(cfg.pv_modes):
            errors.append("model.pv_modes is []; list one or both of: dm, dbow")
        return
    _check(errors, cfg, "model", {
        "embedding_dim": integer_or("from_file"),  # from_file: a pretrained file's size
        "gru_units": integer(1),
        "attention_dim": integer(1),
        "word_chunks": integer(1),
        "dropout": number(0, 1, high_open=True),
        "embedding_dropout": number(0, 1, high_open=True),
        "sentence_dropout": number(0, 1, high_open=True),
        "word_dropout": number(0, 1, high_open=True),
        "word2vec_window": integer(1),
        "word2vec_epochs": integer(1, nullable=True),  # null: sized to the corpus
    })


def check_network(cfg: Mapping, errors: list[str]) -> None:
    """A Table 2 network's sizes; its view (family) and input are the architecture's."""
    from han.schema import NETWORKS

    network = str(cfg.get("network"))
    if network not in NETWORKS:
        errors.append(f"model.network is {network!r}; it must be one of: " + ", ".join(NETWORKS))
        return
    fields = NETWORKS[network].__dataclass_fields__
    if str(cfg.get("family")) != str(fields["family"].default):
        errors.append(f"model.family is {str(cfg.get('family'))!r} but model.network={network} "
                      f"reads the {fields['family'].default} view; leave model.family as "
                      f"conf/model/{network}.yaml sets it")
    if network == "cnn_char" and str(cfg.get("embedding_init")) != "random":
        errors.append(f"model.embedding_init is {str(cfg.get('embedding_init'))!r} but "
                      "model=cnn_char reads one-hot characters, not word embeddings; leave it "
                      "random")
    _check(errors, cfg, "model", {
        "dropout": number(0, 1, high_open=True),
        "embedding_dim": integer(1), "filter_widths": widths, "filters": integer(1),
        "lstm_units": integer(1), "gru_units": integer(1), "conv_filters": integer(1),
        "hidden_units": integer(1), "max_chars": integer(1),
        "init_stddev": number(0, low_open=True),
        "word2vec_window": integer(1), "word2vec_epochs": integer(1, nullable=True),
    })


def check_dataset(cfg: Mapping, errors: list[str]) -> None:
    from han.data.readers import READERS as DATASETS

    _check(errors, cfg, "dataset", {
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
        _check(errors, near, "dataset.near_duplicates",
               {"jaccard": number(0, 1, low_open=True), "shingle": integer(1)})
    vocab = cfg.get("vocab")
    if isinstance(vocab, Mapping):
        _check(errors, vocab, "dataset.vocab",
               {"min_count": integer(1), "max_size": integer(3, nullable=True)})
    tokenizer = cfg.get("tokenizer")
    if isinstance(tokenizer, Mapping):
        _check(errors, tokenizer, "dataset.tokenizer", {"language": text, "max_chars": integer(1)})
    split = cfg.get("split")
    if isinstance(split, Mapping):
        _check(errors, split, "dataset.split", {
            "validation": number(0, 1, high_open=True, nullable=True),
            "test": number(0, 1, high_open=True, nullable=True),
        })
        parts = [split.get(k) for k in ("validation", "test")]
        if all(_is_number(p) for p in parts if p is not None) and sum(p or 0 for p in parts) >= 1:
            errors.append(f"dataset.split takes {sum(p or 0 for p in parts)} of the training "
                          "documents for validation and test; together they must be below 1")
    if (cfg.get("kind") == "table" and "train_path" in cfg
            and not OmegaConf.is_missing(cfg, "train_path") and not cfg.get("train_path")):
        errors.append("dataset.train_path is not set; give your training file: "
                      "dataset.train_path=/path/to/train.csv")


def check_folds(cfg: Mapping, errors: list[str]) -> None:
    """`dataset.folds` (null or K >= 2) and `dataset.fold` (the test fold, 0..K-1)."""
    folds, fold = cfg.get("folds"), cfg.get("fold")
    if folds is not None and (not _is_int(folds) or folds < 2):
        errors.append(f"dataset.folds is {_show(folds)}; it must be null (one train/test split) "
                      "or a whole number >= 2 (k-fold cross-validation, e.g. dataset.folds=10)")
    elif folds is None and fold is not None:
        errors.append(f"dataset.fold is {_show(fold)} but dataset.folds is null; set "
                      "dataset.folds=K for k-fold cross-validation, or dataset.fold=null")
    elif folds is not None and (not _is_int(fold) or not 0 <= fold < folds):
        errors.append(f"dataset.fold is {_show(fold)}; with dataset.folds={folds} it must be one "
                      f"of 0..{folds - 1} (the test fold); sweep them: "
                      f"dataset.fold=range({folds})")


def check_runtime(cfg: Mapping, errors: list[str]) -> None:
    _check(errors, cfg, "runtime", {"devices": int_list, "logical_cpus": integer(0)})


def check_top(cfg: Mapping, errors: list[str]) -> None:
    _check(errors, cfg, "", {
        "seed": integer(0), "workers": integer(1, nullable=True), "progress": boolean,
        "restart": boolean,
    })


def check_predict(cfg: Mapping, errors: list[str]) -> None:
    _check(errors, cfg, "", {
        "batch_size": integer(1), "num_docs": integer(1), "report": boolean, "seed": integer(0),
        "text_column": text, "overwrite": boolean,
    })
    if not cfg.get("report") and cfg.get("input") is None:
        errors.append("input is not set; give input=<file | folder | -> (- reads stdin, one "
                      "document per line), or report=true for a report of the run's test split")


# ── entry ────────────────────────────────────────────────────────────────────────────────────

def _missing(cfg: DictConfig) -> list[str]:
    """Mandatory values (`???`) still unset, outside the hydra node (nothing is resolved)."""
    found: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        elif node == "???":
            found.append(prefix[:-1])

    walk(OmegaConf.to_container(cfg, resolve=False), "")
    return [key for key in found if key != "hydra" and not key.startswith("hydra.")]


def validate(cfg: DictConfig, task: str = "train", overrides: Sequence[str] = ()) -> None:
    """Raise `ConfigError` listing every invalid setting of `cfg` (task: train | data | predict)
    and every setting the command line added that the config does not define."""
    from han.settings import check_overrides

    errors: list[str] = []
    check_overrides(cfg, overrides, errors)
    for key in _missing(cfg):
        errors.append(f"{key} is not set (???); give it on the command line: {key}=<value>")
    if task == "predict":
        check_predict(cfg, errors)
    else:
        check_top(cfg, errors)
        groups = {"dataset": check_dataset}
        if task == "train":
            groups |= {"trainer": check_trainer, "model": check_model, "runtime": check_runtime}
        for group, check in groups.items():
            node = cfg.get(group)
            if isinstance(node, Mapping):
                check(node, errors)
    errors = list(dict.fromkeys(errors))
    if errors:
        raise ConfigError("; ".join(errors))
