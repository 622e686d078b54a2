"""What `make bench` and `make profile` share: the data, the compiled steps, the timing.

Timing runs a model's training steps (Adam, one tf.function for every batch shape) and its
evaluation over the same batches every model of a run sees. Besides wall-clock docs/s it records
docs per CPU-second of this process, which a busy machine disturbs far less.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from han.cli import import_tensorflow
from han.data.encode import EncodedDocs
from han.data.pipeline import BatchSource
from han.data.prepare import prepare
from han.evaluation import classification_metrics

log = logging.getLogger("benchmarks")

Batches = Callable[[], Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def set_threads(threads: int | None) -> None:
    """TensorFlow's intra- and inter-op threads (None: its default, one per core)."""
    if threads:
        tf = import_tensorflow()
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))


@dataclass
class BenchData:
    """The first `bench.num_docs` training and `bench.eval_docs` validation documents."""

    train: EncodedDocs
    evaluate: EncodedDocs
    classes: list[str]
    vocab_size: int
    flat: bool

    def sources(self, cfg: DictConfig, bucket: bool | None = None) -> tuple[BatchSource, ...]:
        bucket = bool(cfg.trainer.bucket) if bucket is None else bucket
        return (
            BatchSource(self.train, int(cfg.trainer.batch_size), flat=self.flat, shuffle=True,
                        bucket=bucket, seed=int(cfg.seed)),
            BatchSource(self.evaluate, int(cfg.bench.eval_batch_size or cfg.trainer.eval_batch_size),
                        flat=self.flat, bucket=True),
        )


def load(cfg: DictConfig, flat: bool, max_tokens: int | None = None) -> BenchData:
    """IMDB (or the configured dataset) at the bench's L × T grid, or flat at N words."""
    bench = cfg.bench
    view = {"max_sentences": bench.grid_sentences, "max_words": bench.grid_words}
    if max_tokens:
        view["max_tokens"] = int(max_tokens)
    data = prepare(OmegaConf.merge(cfg.dataset, view), cfg.paths, int(cfg.seed), cfg.workers,
                   progress=False)
    # After the tokenizer's forks; as `make train` does, without its CUDA probing on a CPU host.
    import_tensorflow()
    train_docs = data.view("train", flat)
    validation = data.view("validation", flat)
    n = min(int(bench.num_docs), len(train_docs))
    m = min(int(bench.eval_docs), len(validation))
    # IMDB's files are ordered by class: "the first N" means the first N of a seeded shuffle.
    rng = np.random.default_rng(int(cfg.seed))
    train = train_docs.select(np.sort(rng.permutation(len(train_docs))[:n]))
    evaluate = validation.select(np.sort(rng.permutation(len(validation))[:m]))
    return BenchData(train, evaluate, list(data.classes), len(data.vocabulary), flat)


def fixed_grid(source: BatchSource, shape: tuple[int, ...]) -> Batches:
    """Pads every batch to the full grid (L×T, or N), as a padded port's input pipeline does."""

    def batches():
        for ids, labels, index in source():
            grid = np.zeros((len(ids), *shape), np.int32)
            grid[(slice(None), *(slice(0, n) for n in ids.shape[1:]))] = ids
            yield grid, labels, index

    return batches


def make_adam(kind: str = "keras") -> Any:
    """Adam(1e-3): Keras' own (what a port uses) or the library's fused one (han/optimizers.py)."""
    import keras

    from han.optimizers import FusedAdam

    if kind not in ("keras", "fused"):
        raise ValueError(f"bench.optimizer must be keras or fused, got {kind!r}")
    return FusedAdam(1e-3) if kind == "fused" else keras.optimizers.Adam(1e-3)


def compile_steps(model: Any, rank: int, shape: tuple[int, ...] | None = None,
                  optimizer: str = "keras") -> tuple[Any, Any]:
    """(train_step(ids, labels) -> loss, forward(ids) -> probabilities) as tf.functions."""
    import keras
    import tensorflow as tf

    optimizer = make_adam(optimizer)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    # Shapes vary from batch to batch: one trace for all of them, never a retrace mid-run.
    ids_spec = tf.TensorSpec((None, *shape) if shape else (None,) * rank, tf.int32)

    @tf.function(input_signature=[ids_spec, tf.TensorSpec((None,), tf.int32)])
    def train_step(ids, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(ids, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    forward = tf.function(lambda ids: model(ids, training=False), input_signature=[ids_spec])
    return train_step, forward


def measure(
    model: Any,
    train: Batches,
    evaluate: Batches,
    evaluate_docs: EncodedDocs,
    classes: list[str],
    epochs: int,
    rank: int,
    shape: tuple[int, ...] | None = None,
    optimizer: str = "keras",
    eval_repeats: int = 1,
) -> dict[str, float]:
    """Docs/s (wall and CPU) of training and evaluation, and accuracy after `epochs`."""
    import tensorflow as tf

    train_step, forward = compile_steps(model, rank, shape, optimizer)
    ids, labels, _ = next(iter(train()))  # one warm-up batch so tracing is not timed
    train_step(tf.constant(ids), tf.constant(labels))
    forward(tf.constant(ids))
    seen, start, cpu = 0, time.perf_counter(), time.process_time()
    for _ in range(epochs):
        for ids, labels, _ in train():
            train_step(tf.constant(ids), tf.constant(labels))
            seen += len(labels)
    train_seconds, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    # Evaluation passes are short (a second or less), so one pass measures the machine's
    # hiccups as much as the model: the median of `eval_repeats` passes, every model alike.
    probs = np.zeros((len(evaluate_docs), len(classes)), np.float32)
    passes = []
    for _ in range(max(1, eval_repeats)):
        start, cpu = time.perf_counter(), time.process_time()
        for ids, _, index in evaluate():
            probs[index] = forward(tf.constant(ids)).numpy()
        passes.append((time.perf_counter() - start, time.process_time() - cpu))
    eval_seconds, eval_cpu = (float(np.median(column)) for column in zip(*passes, strict=True))
    accuracy = classification_metrics(evaluate_docs.labels, probs, classes)["accuracy"]
    return {
        "train_docs_per_second": round(seen / train_seconds, 1),
        "eval_docs_per_second": round(len(evaluate_docs) / eval_seconds, 1),
        "train_docs_per_cpu_second": round(seen / train_cpu, 1),
        "eval_docs_per_cpu_second": round(len(evaluate_docs) / eval_cpu, 1),
        "accuracy": round(accuracy, 4),
    }
