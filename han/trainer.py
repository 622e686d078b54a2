"""The training loop: one custom loop for every distribution strategy.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585), so the
loop is ours: `strategy.run` per step, validation after every epoch, the best epoch chosen on
validation only, early stopping, and a checkpoint per epoch from which a killed run resumes.
What is logged where (TensorBoard) is not the loop's business: `callbacks` get every epoch's logs.
Training health is: a non-finite loss, or an epoch's loss `DIVERGED` times its first step's, stops
the run (`TrainingDiverged`) before that epoch is saved, so the last good checkpoint stays.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from han import faults
from han.console import UsageError
from han.data.pipeline import BatchSource
from han.evaluation import classification_metrics
from han.io import atomic_open, atomic_write_text
from han.runtime import Runtime
from han.schema import Monitor, better, typed

log = logging.getLogger(__name__)
STATE_FILE = "state.json"
# An epoch's mean training loss this many times the first step's is divergence, not noise
# (cross-entropy starts near ln C and a healthy run only goes down from there).
DIVERGED = 5.0
# (tf.distribute.InputContext, first epoch) → the training source of that input pipeline.
TrainInputs = Callable[[Any, int], BatchSource]


@dataclass
class TrainState:
    """What a resumed run needs besides the weights; written after the checkpoint it names."""

    next_epoch: int = 0
    best_epoch: int = -1
    best_score: float = -np.inf
    best_loss: float = np.inf  # breaks ties in the monitored score
    best_weights: str | None = None
    epochs_without_improvement: int = 0
    checkpoint: str | None = None
    train_seconds: float = 0.0
    train_docs: int = 0
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    start_loss: float | None = None  # the run's first step's loss: the health reference

    def improves(self, score: float, loss: float) -> bool:
        """Whether an epoch beats the best so far: a higher score, or the same and a lower loss.

        Ties are common on small validation sets (macro-F1 saturates at 1.0 on 132 news
        articles); taking the first tied epoch picks an under-trained model and stops too early.
        """
        return better(score, loss, self.best_score, self.best_loss)


class TrainingDiverged(UsageError):
    """The loss became non-finite or far above its start; the last good checkpoint is kept."""


def _diverged(where: str, loss: float, state: TrainState, cfg: Mapping, kept: str) -> TrainingDiverged:
    start = "" if state.start_loss is None else f" (it started at {state.start_loss:.4g})"
    return TrainingDiverged(
        f"training diverged {where}: loss {loss:.4g}{start}; {kept}. Lower "
        f"trainer.learning_rate (now {cfg['learning_rate']}) or set trainer.clipnorm "
        f"(now {cfg['clipnorm']}), in a new run directory or with restart=true"
    )


def make_optimizer(cfg: Mapping):
    """Adam (default) or SGD with momentum 0.9 (the paper), with optional gradient clipping.

    Keras' optimizers with each variable's update fused into one kernel (han/optimizers.py).
    """
    import keras

    from han.optimizers import FusedAdam, FusedSGD

    cfg = typed("trainer", cfg)
    name = str(cfg.optimizer)
    kwargs = {"learning_rate": float(cfg.learning_rate)}
    if cfg.clipnorm:
        kwargs["global_clipnorm"] = float(cfg.clipnorm)
    if name == "adam":
        optimizer = FusedAdam(**kwargs)
    elif name == "sgd":
        optimizer = FusedSGD(momentum=float(cfg.momentum), **kwargs)
    else:
        raise ValueError(f"trainer.optimizer must be adam or sgd, got {name!r}")
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer


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
        self.checkpoint_dir = self.run_dir / sub
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.monitor = Monitor(self.cfg.monitor)
        self.callbacks: tuple[Callable[[int, dict], None], ...] = tuple(callbacks)
        self._step = None

    # ---- checkpoints -------------------------------------------------------------------
    def _variables(self) -> list:
        return list(self.model.variables) + list(self.optimizer.variables)

    def _save_variables(self, name: str) -> str:
        with atomic_open(self.checkpoint_dir / name, "wb") as handle:
            np.savez(handle, *[np.asarray(v.numpy()) for v in self._variables()])
        return name

    def _load_variables(self, name: str) -> None:
        with np.load(self.checkpoint_dir / name) as data:
            values = [data[f"arr_{i}"] for i in range(len(data.files))]
        variables = self._variables()
        if len(values) != len(variables):
            raise RuntimeError(
                f"checkpoint {self.checkpoint_dir / name} holds {len(values)} arrays but the model "
                f"and optimizer have {len(variables)}: it belongs to another configuration. "
                f"Start a new run directory or delete {self.checkpoint_dir}."
            )
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)

    def _save_state(self, state: TrainState) -> None:
        atomic_write_text(self.checkpoint_dir / STATE_FILE, json.dumps(asdict(state), indent=1))

    def restore(self) -> TrainState:
        """The state of the last completed epoch, or a fresh one."""
        path = self.checkpoint_dir / STATE_FILE
        if not path.exists():
            return TrainState()
        state = TrainState(**json.loads(path.read_text()))
        if state.checkpoint:
            self._load_variables(state.checkpoint)
        log.info("resuming after epoch %d (best epoch %d)", state.next_epoch, state.best_epoch)
        return state

    def _prune(self, state: TrainState) -> None:
        keep = {state.checkpoint, state.best_weights, STATE_FILE}
        for path in self.checkpoint_dir.glob("*.npz"):
            if path.name not in keep:
                path.unlink(missing_ok=True)

    def _kept(self, state: TrainState) -> str:
        if not state.checkpoint:
            return "no epoch completed, so there is no checkpoint to keep"
        return (f"the last good checkpoint (epoch {state.next_epoch}) is kept in "
                f"{self.checkpoint_dir}")

    def load_best(self, state: TrainState) -> None:
        if state.best_weights:
            self._load_variables(state.best_weights)

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
        state = self.restore()
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
                                    self.cfg, self._kept(state))
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
                                self._kept(state))
            score = self.monitor.score(val)
            state.history.append(logs)
            state.next_epoch = epoch + 1
            if state.improves(score, val["loss"]):
                state.best_score, state.best_epoch = float(score), epoch + 1
                state.best_loss = float(val["loss"])
                state.best_weights = self._save_variables(f"best-epoch{epoch + 1}.npz")
                state.epochs_without_improvement = 0
            else:
                state.epochs_without_improvement += 1
            state.checkpoint = self._save_variables(f"epoch{epoch + 1}.npz")
            state.stopped_early = bool(patience) and state.epochs_without_improvement >= patience
            self._save_state(state)  # last: a kill before this resumes from the previous epoch
            self._prune(state)
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
