"""`python -m han.train` (`make train`): data → model → training → one test evaluation → run dir.

Everything a result needs to be trusted lands in the Hydra run directory: the resolved config
(`.hydra/`), the vocabulary, the best model, TensorBoard logs, the test predictions and
`metrics.json`. Starting again with the same `hydra.run.dir` resumes a killed run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from han.cli import hydra_main
from han.data.encode import is_flat
from han.data.pipeline import BatchSource
from han.data.prepare import PreparedData, prepare
from han.data.summary import summarize
from han.io import atomic_open, atomic_write_text
from han.training import Trainer, make_optimizer, predict

log = logging.getLogger("han.train")


def sources(data: PreparedData, cfg: DictConfig) -> dict[str, BatchSource]:
    flat = is_flat(cfg.model)
    out = {}
    for split in ("train", "validation", "test"):
        train = split == "train"
        out[split] = BatchSource(
            data.view(split, cfg.dataset, flat),
            batch_size=int(cfg.trainer.batch_size if train else cfg.trainer.eval_batch_size),
            flat=flat,
            shuffle=train,
            bucket=bool(cfg.trainer.bucket),
            seed=int(cfg.seed),
        )
    return out


def write_predictions(path: Path, source: BatchSource, probs: np.ndarray, classes: list[str]) -> None:
    frame = pd.DataFrame(
        {
            "id": source.docs.ids,
            "label": [classes[i] for i in source.docs.labels],
            "predicted": [classes[i] for i in probs.argmax(-1)],
        }
    )
    for i, name in enumerate(classes):
        frame[f"prob_{name}"] = probs[:, i]
    with atomic_open(path) as handle:
        frame.to_csv(handle, index=False)


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """One training run; returns the metrics written to `metrics.json`."""
    from han import runtime as runtime_lib

    run_dir.mkdir(parents=True, exist_ok=True)
    data = prepare(cfg.dataset, cfg.paths, int(cfg.seed), cfg.workers, bool(cfg.progress))
    runtime = runtime_lib.configure(cfg.runtime, int(cfg.seed))
    chief = runtime.is_chief
    if chief:
        data.vocabulary.save(run_dir / "vocab.json")
        atomic_write_text(run_dir / "data_summary.json", json.dumps(summarize(data, cfg.dataset), indent=1))
    split_sources = sources(data, cfg)

    from han.embeddings import embedding_matrix
    from han.models import build_model
    from han.monitoring import TensorBoardLogger

    matrix = embedding_matrix(cfg.model, data, int(cfg.seed), int(cfg.workers or 1))
    with runtime.strategy.scope():
        model = build_model(cfg.model, len(data.vocabulary), len(data.classes), matrix)
        optimizer = make_optimizer(cfg.trainer)
        optimizer.build(model.trainable_variables)

    trainer = Trainer(model, optimizer, runtime, cfg.trainer, run_dir, data.classes, bool(cfg.progress))
    tensorboard = TensorBoardLogger(run_dir / "tensorboard", model, data, cfg) if chief else None
    if tensorboard:
        trainer.callbacks.append(tensorboard.on_epoch_end)
    state = trainer.fit(split_sources["train"], split_sources["validation"])

    # Model selection happened on validation; the test split is read once, here.
    trainer.load_best(state)
    from han.evaluation import classification_metrics

    best = state.history[state.best_epoch - 1] if state.best_epoch > 0 else {}
    test_probs, test_labels = predict(model, split_sources["test"])
    test = classification_metrics(test_labels, test_probs, data.classes)
    metrics = {
        "dataset": str(cfg.dataset.name),
        "model": str(cfg.model.name),
        "seed": int(cfg.seed),
        "num_classes": len(data.classes),
        "classes": data.classes,
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
    if chief:
        write_predictions(run_dir / "predictions.csv", split_sources["test"], test_probs, data.classes)
        model.save(run_dir / "model.keras")
        atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=1))
        if tensorboard:
            tensorboard.finish(metrics)
    log.info(
        "test accuracy %.4f, macro-F1 %.4f (best epoch %d of %d on validation %s)",
        test["accuracy"], test["macro_f1"], state.best_epoch, state.next_epoch, cfg.trainer.monitor,
    )
    return metrics


# The config is validated first; a failed job's traceback lands in its error.txt (Hydra keeps
# it out of its log; a sweep's reader finds it there); expected errors print one line (han.cli).
@hydra_main(config_name="train", task="train", error_file=True)
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
