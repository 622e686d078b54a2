"""`make bench ARGS="model=han bench.num_docs=2048"`: training and evaluation speed on IMDB.

Trains the configured model on the first `bench.num_docs` IMDB training reviews (the paper's
sizes, batch 64) and, in the same process and on the same documents, a padded reference HAN
that runs the word encoder over every one of the L×T grid's sentence slots, the way most public
ports do. Both use the same L and T. The last printed line is one JSON object.
"""

from __future__ import annotations

import json
import logging
import resource
import time

import numpy as np
from omegaconf import DictConfig, OmegaConf

from han.cli import hydra_main
from han.data.encode import is_flat
from han.data.pipeline import BatchSource
from han.data.prepare import prepare
from han.evaluation import classification_metrics

log = logging.getLogger("benchmarks.bench")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fixed_grid(source: BatchSource, max_sentences: int, max_words: int):
    """Pads every batch to the full L×T grid, as a padded port's input pipeline does."""

    def batches():
        for ids, labels, index in source():
            grid = np.zeros((len(ids), max_sentences, max_words), np.int32)
            grid[:, : ids.shape[1], : ids.shape[2]] = ids
            yield grid, labels, index

    return batches


def measure(
    model,
    train: BatchSource,
    evaluate: BatchSource,
    epochs: int,
    classes: list[str],
    batches=None,
    shape: tuple[int | None, ...] | None = None,
) -> dict:
    """Docs/s of training (Adam, per-batch steps) and of evaluation, plus accuracy."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    # Shapes vary from batch to batch: one trace for all of them, never a retrace mid-run.
    ids_spec = tf.TensorSpec(shape or (None,) * (2 if train.flat else 3), tf.int32)

    @tf.function(input_signature=[ids_spec, tf.TensorSpec((None,), tf.int32)])
    def step(ids, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(ids, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    forward = tf.function(lambda ids: model(ids, training=False), input_signature=[ids_spec])
    train_batches = batches(train) if batches else train
    eval_batches = batches(evaluate) if batches else evaluate
    # One warm-up batch so tracing is not timed.
    ids, labels, _ = next(iter(train_batches()))
    step(tf.constant(ids), tf.constant(labels))
    forward(tf.constant(ids))
    seen, start = 0, time.perf_counter()
    for _ in range(epochs):
        for ids, labels, _ in train_batches():
            step(tf.constant(ids), tf.constant(labels))
            seen += len(labels)
    train_seconds = time.perf_counter() - start
    probs = np.zeros((len(evaluate.docs), len(classes)), np.float32)
    start = time.perf_counter()
    for ids, _, index in eval_batches():
        probs[index] = forward(tf.constant(ids)).numpy()
    eval_seconds = time.perf_counter() - start
    accuracy = classification_metrics(evaluate.docs.labels, probs, classes)["accuracy"]
    return {
        "train_docs_per_second": round(seen / train_seconds, 1),
        "eval_docs_per_second": round(len(evaluate.docs) / eval_seconds, 1),
        "accuracy": round(accuracy, 4),
    }


@hydra_main(config_name="bench", task="train")
def main(cfg: DictConfig) -> dict:
    import keras

    from benchmarks.padded_reference import build_padded_han
    from han.models import build_model

    bench = cfg.bench
    dataset = OmegaConf.merge(
        cfg.dataset, {"max_sentences": bench.max_sentences, "max_words": bench.max_words}
    )
    data = prepare(dataset, cfg.paths, int(cfg.seed), cfg.workers, progress=False)
    flat = is_flat(cfg.model)
    train_docs = data.view("train", flat)
    n = min(int(bench.num_docs), len(train_docs))
    # IMDB's files are ordered by class: "the first N" means the first N of a seeded shuffle.
    rng = np.random.default_rng(int(cfg.seed))
    train_view = train_docs.select(np.sort(rng.permutation(len(train_docs))[:n]))
    validation = data.view("validation", flat)
    m = min(int(bench.eval_docs), len(validation))
    eval_view = validation.select(np.sort(rng.permutation(len(validation))[:m]))
    real = float((train_view.padded(np.arange(n), flat) != 0).sum())
    grid = n * bench.max_sentences * bench.max_words
    log.info("real words fill %.1f%% of the padded L×T grid", 100 * real / grid)

    def sources():
        return (
            BatchSource(train_view, int(cfg.trainer.batch_size), flat=flat, shuffle=True,
                        bucket=bool(cfg.trainer.bucket), seed=int(cfg.seed)),
            BatchSource(eval_view, int(cfg.trainer.eval_batch_size), flat=flat, bucket=True),
        )

    keras.utils.set_random_seed(int(cfg.seed))
    model = build_model(cfg.model, len(data.vocabulary), len(data.classes))
    ours = measure(model, *sources(), int(bench.epochs), data.classes)
    result = {"model": str(cfg.model.name), "num_docs": n, **ours, "peak_rss_mb": round(peak_rss_mb(), 1)}
    if bench.padded and not flat:
        # TimeDistributed is how ports write it (in Keras 3 it runs the word level once per
        # sentence slot); the reshape variant folds the slots into the batch, as Keras 2 did.
        for key, time_distributed in (("padded", True), ("padded_reshape", False)):
            keras.utils.set_random_seed(int(cfg.seed))
            padded = build_padded_han(
                len(data.vocabulary), len(data.classes), int(bench.max_sentences),
                int(bench.max_words), embedding_dim=int(cfg.model.embedding_dim),
                gru_units=int(cfg.model.gru_units), attention_dim=int(cfg.model.attention_dim),
                time_distributed=time_distributed,
            )
            train, evaluate = sources()
            train.bucket = False  # a padded port shuffles without bucketing
            theirs = measure(
                padded, train, evaluate, int(bench.epochs), data.classes,
                batches=lambda s: fixed_grid(s, int(bench.max_sentences), int(bench.max_words)),
                shape=(None, int(bench.max_sentences), int(bench.max_words)),
            )
            result |= {
                f"{key}_train_docs_per_second": theirs["train_docs_per_second"],
                f"{key}_eval_docs_per_second": theirs["eval_docs_per_second"],
                f"{key}_accuracy": theirs["accuracy"],
                f"{key}_speedup": round(
                    ours["train_docs_per_second"] / theirs["train_docs_per_second"], 2
                ),
            }
        result["grid_fill"] = round(real / grid, 3)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
