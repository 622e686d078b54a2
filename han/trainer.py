"""The training loop: one custom loop for every distribution strategy.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585), so the
loop is ours: `strategy.run` per step, validation after every epoch, the best epoch chosen on
validation only, early stopping, and a checkpoint per epoch from which a killed run resumes.
What is logged where (TensorBoard) is not the loop's business: `callbacks` get every epoch's logs.
Training health is: a non-finite loss, or an epoch's loss `DIVERGED` times its first step's, stops
the run (`TrainingDiverged`) before that epoch is saved, so the last good checkpoint stays.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from han import faults
from han.checkpoints import Checkpoints, TrainState
from han.console import UsageError
from han.data.pipeline import BatchSource
from han.evaluation import classification_metrics
from han.runtime import Runtime
from han.schema import Monitor, typed

log = logging.getLogger(__name__)
# An epoch's mean training loss this many times the first step's is divergence, not noise
# (cross-entropy starts near ln C and a healthy run only goes down from there).
DIVERGED = 5.0
# (tf.distribute.InputContext, first epoch) → the training source of that input pipeline.
TrainInputs = Callable[[Any, int], BatchSource]


class TrainingDiverged(UsageError):
    """The loss became non-finite or far above its start; the last good checkpoint is kept."""


def _diverged(where: str, loss: float, state: TrainState, cfg: Mapping, kept: str) -> TrainingDiverged:
    start = "" if state.start_loss is None else f" (it started at {state.start_loss:.4g})"
    return TrainingDiverged(
        f"training diverged {where}: loss {loss:.4g}{start}; {kept}. Lower "
        f"trainer.learning_rate (now {cfg['learning_rate']}) or set trainer.clipnorm "
        f"(now {cfg['clipnorm']}), in a new run directory or with restart=true"
    )


def probabilities(model, source: BatchSource) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of every document of `source` (B, C), in document order, and its labels."""
    chunks, order = [], []
    for ids, _, index in source():
        chunks.append(model.probabilities(ids).numpy())  # compiled once per model (han.models)
        order.append(index)
    width = chunks[0].shape[1] if chunks else 0
    probs = np.zeros((len(source.docs), width), dtype=np.float32)
    if chunks:
        probs[np.concatenate(order)] = np.concatenate(chunks)
    return probs, source.docs.labels


class Trainer:
    """Fits a model built under `runtime.strategy.scope()` with its optimizer."""

    def __init__(
        self,
        model,
        optimizer,
        runtime: Runtime,
        cfg: Mapping,
        run_dir: Path,
        classes: list[str],
        progress: bool = True,
        callbacks: Sequence[Callable[[int, dict], None]] = (),
    ) -> None:
        """`callbacks(epoch, logs)` run after each epoch (e.g. the TensorBoard writer); they are
        given here, once, and the loop never changes them."""
        self.model, self.optimizer, self.runtime = model, optimizer, runtime
        self.cfg, self.classes, self.progress = typed("trainer", cfg), classes, progress
        self.run_dir = Path(run_dir)
        # Non-chief workers write their copies where nobody reads them.
        sub = "checkpoints" if runtime.is_chief else f"checkpoints-worker{runtime.worker_index}"
        self.checkpoints = Checkpoints(
            self.run_dir / sub, lambda: list(model.variables) + list(optimizer.variables)
        )
        self.monitor = Monitor(self.cfg.monitor)
        self.callbacks: tuple[Callable[[int, dict], None], ...] = tuple(callbacks)
        self._step = None

    def load_best(self, state: TrainState) -> None:
        """The best epoch's weights into the model (the last epoch's stay if none was best)."""
        if state.best_weights:
            self.checkpoints.load(state.best_weights)

    # ---- one step ----------------------------------------------------------------------
    def _build_step(self, element_spec):
        import keras
        import tensorflow as tf

        model, optimizer, strategy = self.model, self.optimizer, self.runtime.strategy
        scaled = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)

        def gradients(ids, labels, count):
            with tf.GradientTape() as tape:
                probs = model(ids, training=True)
                losses = keras.losses.sparse_categorical_crossentropy(labels, probs)
                # Summed over the replica's examples / examples in the global step: the
                # all-reduce (sum) of the replicas' gradients is then the global mean.
                loss = tf.reduce_sum(losses) / count
                target = optimizer.scale_loss(loss) if scaled else loss
            grads = tape.gradient(target, model.trainable_variables)
            correct = tf.reduce_sum(
                tf.cast(tf.equal(tf.argmax(probs, -1, output_type=tf.int32), labels), tf.float32)
            )
            return grads, loss, correct

        gradients = tf.function(gradients, jit_compile=self.runtime.jit_compile)

        def replica_step(ids, labels):
            local = tf.cast(tf.shape(labels)[0], tf.float32)
            count = tf.distribute.get_replica_context().all_reduce("sum", local)
            grads, loss, correct = gradients(ids, labels, count)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss * count, correct, local

        def step(batch):
            ids, labels, _ = batch
            results = strategy.run(replica_step, args=(ids, labels))
            # loss * count of a replica is the sum of its examples' losses (over the
            # global count), so the sums over replicas are totals for the step.
            return tuple(strategy.reduce("sum", value, axis=None) for value in results)

        return tf.function(step, input_signature=[element_spec])

    # ---- the loop ----------------------------------------------------------------------
    def fit(self, train_inputs: TrainInputs, validation: BatchSource) -> TrainState:
        """Train from the last completed epoch (or the first) to `epochs` or an early stop.

        `train_inputs(input_context, first_epoch)` builds the training source of one input
        pipeline (`han.train.build_inputs`): the strategy calls it once per pipeline.
        """
        strategy = self.runtime.strategy
        state = self.checkpoints.restore()
        epochs = int(self.cfg.epochs)
        patience = int(self.cfg.patience)
        built: list[BatchSource] = []

        def dataset_fn(ctx):
            built.append(train_inputs(ctx, state.next_epoch))
            return built[-1].dataset()

        dist = strategy.distribute_datasets_from_function(dataset_fn)
        train = built[0]  # this worker's pipeline: the strategies here build one per worker
        step = self._build_step(dist.element_spec)
        if state.stopped_early or state.next_epoch >= epochs:
            return state
        for epoch in range(state.next_epoch, epochs):
            steps = len(train) // train.steps_multiple  # a step takes a batch per replica
            start = time.perf_counter()
            loss_sum = correct = seen = 0.0
            bar = _progress(steps, f"epoch {epoch + 1}/{epochs}", self.progress)
            for batch in dist:
                loss, hits, count = step(batch)
                batch_loss = float(loss) / max(float(count), 1.0)
                if not np.isfinite(batch_loss):
                    raise _diverged(f"in epoch {epoch + 1}, step {bar.n + 1}", batch_loss, state,
                                    self.cfg, self.checkpoints.kept(state))
                if state.start_loss is None:
                    state.start_loss = batch_loss
                loss_sum += float(loss)
                correct += float(hits)
                seen += float(count)
                faults.point("step")
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / max(seen, 1):.4f}", acc=f"{correct / max(seen, 1):.4f}")
            bar.close()
            seconds = time.perf_counter() - start
            state.train_seconds += seconds
            state.train_docs += int(seen)
            probs, labels = probabilities(self.model, validation)
            val = classification_metrics(labels, probs, self.classes)
            logs = {
                "epoch": epoch + 1,
                "loss": loss_sum / max(seen, 1),
                "accuracy": correct / max(seen, 1),
                "val_loss": val["loss"],
                "val_accuracy": val["accuracy"],
                "val_macro_f1": val["macro_f1"],
                "seconds": seconds,
                "docs_per_second": seen / max(seconds, 1e-9),
            }
            log.info(
                "epoch %d: loss %.4f acc %.4f | val loss %.4f acc %.4f macro-F1 %.4f | %.0f docs/s",
                epoch + 1, logs["loss"], logs["accuracy"], val["loss"], val["accuracy"],
                val["macro_f1"], logs["docs_per_second"],
            )
            if state.start_loss and logs["loss"] > DIVERGED * state.start_loss:
                raise _diverged(f"in epoch {epoch + 1}", logs["loss"], state, self.cfg,
                                self.checkpoints.kept(state))
            score = self.monitor.score(val)
            state.history.append(logs)
            state.next_epoch = epoch + 1
            if state.improves(score, val["loss"]):
                state.best_score, state.best_epoch = float(score), epoch + 1
                state.best_loss = float(val["loss"])
                state.best_weights = self.checkpoints.save(f"best-epoch{epoch + 1}.npz")
                state.epochs_without_improvement = 0
            else:
                state.epochs_without_improvement += 1
            state.checkpoint = self.checkpoints.save(f"epoch{epoch + 1}.npz")
            state.stopped_early = bool(patience) and state.epochs_without_improvement >= patience
            # Last: a kill before this resumes from the previous epoch.
            self.checkpoints.commit(state)
            faults.point("epoch-end")
            for callback in self.callbacks:
                callback(epoch + 1, logs)
            if state.stopped_early:
                log.info("early stop: no better validation %s for %d epochs", self.monitor, patience)
                break
        return state


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    from han.console import progress_disable

    # Only on a terminal; the log gets one line per epoch.
    return tqdm(total=total, desc=desc, unit="batch", disable=progress_disable(enabled), leave=False)
