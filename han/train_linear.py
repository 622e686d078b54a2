"""The linear side of `han.train`: a `model.family: linear` run (Table 2's linear rows, `run_linear`)
and the bag-of-words baseline fitted beside every network (`baseline: true`,
`run_baseline_beside`, `compare_with_baseline`), both through `fit_linear`: features and a
linear classifier on train (han/baselines.py), C chosen on validation, test read once.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from han.baselines import BAG_OF_WORDS, MODEL_FILE, fit_baseline
from han.data.prepare import PreparedData
from han.io import atomic_write_text
from han.run_files import run_header, write_data, write_predictions
from han.schema import Monitor, typed

__all__ = ["compare_with_baseline", "fit_linear", "run_baseline_beside", "run_linear"]

log = logging.getLogger("han.train")  # han.train's own lines, as they were before this split


def fit_linear(
    model_cfg, data: PreparedData, monitor: str, run_dir: Path, prefix: str = "",
    seed: int = 0, cache_dir: Path | str | None = None,
) -> tuple[dict, object]:
    """Fit a linear model (han.baselines) on train, C chosen on validation; test read once, here.

    Writes `<prefix>predictions.csv` and returns the metrics (without the run header) and the
    fitted model.
    """
    import time

    from han.document_vectors import make_featurizer
    from han.evaluation import classification_metrics

    start = time.perf_counter()
    model_cfg = typed("model", model_cfg)  # the bag-of-words baseline comes as a mapping
    train, validation, test = (data.splits[s] for s in ("train", "validation", "test"))

    def word2vec(settings: dict):  # AverageSG: the networks' word2vec of the training split
        from han.embeddings import embedding_matrix

        return embedding_matrix(settings, data, seed, 1, cache_dir)

    featurizer = make_featurizer(model_cfg, word2vec, seed)
    model, history = fit_baseline(model_cfg, train, validation, data.classes, monitor,
                                  featurizer, seed)
    seconds = time.perf_counter() - start
    best = next(h for h in history if h["C"] == model.C)
    test_probs = model.probabilities(test)
    write_predictions(run_dir / f"{prefix}predictions.csv", test, test_probs, data.classes)
    metrics = {
        "test": classification_metrics(test.labels, test_probs, data.classes),
        "validation": {
            "accuracy": best["val_accuracy"],
            "macro_f1": best["val_macro_f1"],
            "loss": best["val_loss"],
            "best_epoch": 0,  # no epochs: C is what validation chose
            "C": model.C,
        },
        "train": {
            "epochs": 0,
            "seconds": round(seconds, 2),
            "docs_per_second": round(len(train) / max(seconds, 1e-9), 2),
            "stopped_early": False,
        },
        "history": history,
    }
    return metrics, model


def run_linear(cfg: DictConfig, data: PreparedData, run_dir: Path) -> dict:
    """A `model.family: linear` run: the same run directory as a network's."""
    from han.trackers import make_tracker

    tracker = make_tracker(cfg, run_dir)  # MLflow / W&B: the config now, the metrics at the end
    write_data(data, run_dir)
    fitted, model = fit_linear(cfg.model, data, str(cfg.trainer.monitor), run_dir,
                               seed=int(cfg.seed), cache_dir=cfg.paths.cache_dir)
    metrics = run_header(cfg, data, "linear") | fitted
    model.save(run_dir / MODEL_FILE)
    if tracker:
        tracker.finish(metrics)
    # Last: a run directory with metrics.json is a finished run (han.rundir).
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=1))
    test = metrics["test"]
    log.info("test accuracy %.4f, macro-F1 %.4f (C=%s chosen on validation %s)",
             test["accuracy"], test["macro_f1"], "none" if model.C is None else f"{model.C:g}",
             cfg.trainer.monitor)
    return metrics


def run_baseline_beside(cfg: DictConfig, data: PreparedData, run_dir: Path) -> dict:
    """The bag-of-words baseline on the network's own split (`baseline: true`).

    Seconds to fit, and the first thing a user should compare the network with: its validation
    and test scores go into `metrics.json["baseline"]`, its test predictions into
    `baseline_predictions.csv` (so `experiments.compare` can test the network against it).
    Fitted once per split: the result is cached by the split's documents and the baseline's
    settings (han/baseline_cache.py), so the other jobs of a sweep on this split read it.
    """
    from han import baseline_cache

    monitor = str(cfg.trainer.monitor)
    predictions = run_dir / "baseline_predictions.csv"
    # keyed by every setting the fit reads (the schema's defaults included), so a changed default
    # is a new entry, not a stale one
    settings = OmegaConf.to_container(typed("model", BAG_OF_WORDS), enum_to_str=True)
    key = baseline_cache.key(data.splits, data.classes, settings, monitor)
    result = baseline_cache.load(cfg.paths.cache_dir, key, predictions)
    source = "from the cache"
    if result is None:
        source = "fitted"
        fitted, _ = fit_linear(BAG_OF_WORDS, data, monitor, run_dir, "baseline_")
        result = {
            "model": BAG_OF_WORDS["name"],
            "validation": fitted["validation"],
            "test": {k: fitted["test"][k] for k in ("accuracy", "macro_f1", "loss")},
            "seconds": fitted["train"]["seconds"],
        }
        baseline_cache.save(cfg.paths.cache_dir, key, result, predictions)
    val = result["validation"]
    log.info("bag-of-words baseline (%s, C=%g, %s): validation accuracy %.4f, macro-F1 %.4f",
             BAG_OF_WORDS["name"], val["C"], source, val["accuracy"], val["macro_f1"])
    return result


def compare_with_baseline(metrics: dict, monitor: str) -> None:
    """Log the network beside its baseline, and warn when the baseline wins on validation."""
    baseline, val = metrics.get("baseline"), metrics["validation"]
    if not baseline or val.get("accuracy") is None:
        return
    key = Monitor(monitor)
    ours, theirs = val[key], baseline["validation"][key]
    log.info("validation %s: %s %.4f, bag-of-words baseline %.4f",
             key, metrics["model"], ours, theirs)
    # the selection rule on the monitored score alone: an equal score is no win for either
    if key.score(baseline["validation"]) > key.score(val):
        log.warning(
            "the bag-of-words TF-IDF baseline beats %s on validation %s (%.4f vs %.4f): the "
            "network is not earning its cost on this corpus. Try model.embedding_init=word2vec, "
            "model.dropout, model.word_dropout or dataset.vocab.min_count, or report the baseline.",
            metrics["model"], key, theirs, ours,
        )
