"""`python -m han.train` (`make train`): data → model → training → one test evaluation → run dir.

Everything a result needs to be trusted lands in the Hydra run directory: the resolved config
(`.hydra/`), the vocabulary, the best model, TensorBoard logs, the test predictions and
`metrics.json` (written last: a run is finished when it is there). Starting again with the same
`hydra.run.dir` and the same settings resumes a killed run; other settings are refused before
anything is read or written (`han.rundir`), and a finished run is not run again.
"""

from __future__ import annotations

import functools
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig, OmegaConf

from han import faults, rundir
from han.baselines import is_linear
from han.cli import hydra_main
from han.data.encode import is_flat
from han.data.pipeline import BatchSource
from han.data.prepare import PreparedData, prepare
from han.io import atomic_write_text
from han.provenance import code_version
from han.run_files import run_header, write_data, write_predictions
from han.table2.settings import max_chars, reads_characters
from han.train_linear import compare_with_baseline, run_baseline_beside, run_linear
from han.trainer import Trainer, probabilities

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger("han.train")


def build_inputs(
    data: PreparedData,
    cfg: DictConfig,
    split: str,
    input_context: tf.distribute.InputContext | None = None,
    epoch: int = 0,
) -> BatchSource:
    """The batches of one split in the model's view, built once and never reconfigured.

    Training batches are shuffled and `trainer.batch_size` large (the global batch: under a
    strategy each input pipeline gets its `input_context`, hence its per-replica share and its
    shard); evaluation reads every document in `trainer.eval_batch_size` batches.
    """
    flat, train = is_flat(cfg.model), split == "train"
    docs = data.char_view(split) if reads_characters(cfg.model) else data.view(split, flat)
    return BatchSource.for_pipeline(
        docs,
        int(cfg.trainer.batch_size if train else cfg.trainer.eval_batch_size),
        input_context,
        flat=flat,
        shuffle=train,
        bucket=bool(cfg.trainer.bucket),
        seed=int(cfg.seed),
        epoch=epoch,
    )


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """One run: data → model → Trainer → test once → run directory; returns `metrics.json`."""
    # ---- data, before TensorFlow starts its threads (the tokenizer may fork workers) ----------
    from han.trackers import check_installed, make_tracker, uses_tensorboard

    check_installed(cfg)  # a missing tracker package fails now, not after the data work
    run_dir.mkdir(parents=True, exist_ok=True)
    data = prepare(cfg.dataset, cfg.paths, int(cfg.seed), cfg.workers, bool(cfg.progress),
                   max_chars(cfg.model) if reads_characters(cfg.model) else None)
    rundir.check_data(run_dir, _data_digest(data))  # a resume on other data is refused here
    if is_linear(cfg.model):
        return run_linear(cfg, data, run_dir)
    from han import runtime as runtime_lib

    runtime = runtime_lib.configure(cfg.runtime, int(cfg.seed))  # imports TensorFlow, quietly
    chief = runtime.is_chief
    from han.embeddings import initial_embedding

    # The baseline fits beside word2vec, on the other core: both are deterministic and share
    # nothing, and gensim's loop and scikit-learn's solver release the GIL.
    with ThreadPoolExecutor(1, thread_name_prefix="baseline") as beside:
        fitting = (beside.submit(run_baseline_beside, cfg, data, run_dir)
                   if chief and cfg.baseline else None)
        # (V, E) or None (Keras' random init); pretrained vectors: their coverage, recorded here
        matrix, coverage = initial_embedding(cfg.model, data, int(cfg.seed),
                                             int(cfg.workers or 1), cfg.paths.cache_dir)
        if chief:
            write_data(data, run_dir, **({"embedding_coverage": coverage} if coverage else {}))
        baseline = fitting.result() if fitting else None  # its exception, if any, is raised here
    validation = build_inputs(data, cfg, "validation")

    # ---- the model, built under the strategy ---------------------------------------------------
    from han.models import build_model
    from han.monitoring import TensorBoardLogger
    from han.optimizers import make_optimizer

    with runtime.strategy.scope():
        model = build_model(cfg.model, len(data.vocabulary), len(data.classes), matrix)
        optimizer = make_optimizer(cfg.trainer)
        optimizer.build(model.trainable_variables)

    # ---- training: every epoch scored on validation, the best one kept -------------------------
    # The chief alone writes TensorBoard; the loop only calls back with each epoch's logs.
    # logger=tensorboard (default) | mlflow | wandb (han/trackers.py)
    tensorboard = (TensorBoardLogger(run_dir / "tensorboard", model, data, validation, cfg)
                   if chief and uses_tensorboard(cfg) else None)
    tracker = make_tracker(cfg, run_dir) if chief else None
    trainer = Trainer(model, optimizer, runtime, cfg.trainer, run_dir, data.classes, bool(cfg.progress),
                      callbacks=[logger.on_epoch_end for logger in (tensorboard, tracker) if logger])
    state = trainer.fit(functools.partial(build_inputs, data, cfg, "train"), validation)

    # ---- test: read once, here, with the weights validation chose ------------------------------
    from han.evaluation import classification_metrics

    trainer.load_best(state)
    best = state.history[state.best_epoch - 1] if state.best_epoch > 0 else {}
    test_source = build_inputs(data, cfg, "test")
    faults.point("test")
    test_probs, test_labels = probabilities(model, test_source)  # (N_test, C), (N_test,)
    test = classification_metrics(test_labels, test_probs, data.classes)
    metrics = run_header(cfg, data, str(cfg.model.family)) | {
        "test": test,
        "validation": {
            "accuracy": best.get("val_accuracy"),
            "macro_f1": best.get("val_macro_f1"),
            "loss": best.get("val_loss"),
            "best_epoch": state.best_epoch,
        },
        "train": {
            "epochs": state.next_epoch,
            "seconds": round(state.train_seconds, 2),
            "docs_per_second": round(state.train_docs / max(state.train_seconds, 1e-9), 2),
            "stopped_early": state.stopped_early,
        },
        "history": state.history,
    }
    if state.best_epoch == state.next_epoch and not state.stopped_early:
        # Validation was still improving when training ended.
        metrics["train"]["more_epochs_may_help"] = True
        log.warning("the best validation epoch is the last one (%d of %d): more epochs may help "
                    "(trainer.epochs=%d)", state.best_epoch, state.next_epoch,
                    2 * state.next_epoch)
    if baseline:
        metrics["baseline"] = baseline
    if cfg.get("paper_test_accuracy") is not None:  # the paper_* presets: distance to the paper
        metrics["paper_test_accuracy"] = float(cfg.paper_test_accuracy)
        log.info("test accuracy %.4f; the paper reports %.4f", test["accuracy"],
                 metrics["paper_test_accuracy"])
    if chief:
        write_predictions(run_dir / "predictions.csv", test_source.docs, test_probs, data.classes)
        model.save(run_dir / "model.keras")
        for logger in (tensorboard, tracker):
            if logger:
                logger.finish(metrics)
        # Last: a run directory with metrics.json is a finished run (han.rundir).
        atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=1))
    log.info(
        "test accuracy %.4f, macro-F1 %.4f (best epoch %d of %d on validation %s)",
        test["accuracy"], test["macro_f1"], state.best_epoch, state.next_epoch, cfg.trainer.monitor,
    )
    compare_with_baseline(metrics, str(cfg.trainer.monitor))
    return metrics


def _data_digest(data: PreparedData) -> str:
    """The data a run reads: every document's id, label, split and words."""
    corpus = data.corpus
    return rundir.data_digest(
        [corpus.tokens, corpus.sentence_lengths, corpus.doc_sentences],
        [corpus.ids, corpus.labels, data.split_of, corpus.lexicon],
    )


def _claim(cfg: DictConfig, run_dir: Path, validate, multirun: bool) -> float | None:
    """The run directory checked before any data work (han.rundir); a finished run's result."""
    finished = rundir.claim(cfg, run_dir, code_version(), validate, multirun)
    if finished is None:
        return None
    return float(finished.get("validation", {}).get("macro_f1") or 0.0)


# The config is validated first and the run directory checked (han.rundir); a failed job's
# traceback lands in its error.txt (Hydra keeps it out of its log; a sweep's reader finds it
# there); expected errors print one line (han.cli).
@hydra_main(config_name="train", task="train", error_file=True, guard=_claim)
def main(cfg: DictConfig) -> float:
    from hydra.core.hydra_config import HydraConfig

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    log.info("config:\n%s", OmegaConf.to_yaml(cfg))
    metrics = run(cfg, run_dir)
    print(f"run directory: {run_dir}")
    # The value a sweeper optimises: validation only, never test.
    return float(metrics["validation"]["macro_f1"] or 0.0)


if __name__ == "__main__":
    main()
