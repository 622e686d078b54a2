"""TensorBoard, the one writer of `<run>/tensorboard/`: train and validation scalars, weight and
attention histograms, attention as text every epoch, and one hparams entry at the end.

The training loop knows nothing of it: `train.py` gives `on_epoch_end` to the `Trainer` it builds (`callbacks=`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from han.data.pipeline import BatchSource
from han.data.prepare import PreparedData
from han.explain import document_attention
from han.report import attention_markdown

# A few fixed validation documents, shown every epoch so attention can be watched sharpening.
SHOWN_DOCUMENTS = 3


class TensorBoardLogger:
    """Writes `<log_dir>/train` (the loop's running loss and accuracy) and `<log_dir>/validation`."""

    def __init__(
        self, log_dir: Path, model, data: PreparedData, validation: BatchSource, cfg: DictConfig
    ) -> None:
        import tensorflow as tf

        self.model, self.cfg = model, cfg
        self.flat = validation.flat
        self.view = validation.docs  # the validation documents exactly as the model reads them
        self.words = data.lexicon_view("validation", self.flat)
        self.lexicon = data.corpus.lexicon
        self.classes = data.classes
        self.shown = np.arange(min(SHOWN_DOCUMENTS, len(self.view)))
        self.labels = [self.classes[i] for i in self.view.labels[self.shown]]
        self.train_writer = tf.summary.create_file_writer(str(log_dir / "train"))
        self.writer = tf.summary.create_file_writer(str(log_dir / "validation"))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        import tensorflow as tf

        with self.train_writer.as_default(step=epoch):
            tf.summary.scalar("epoch/loss", logs["loss"])
            tf.summary.scalar("epoch/accuracy", logs["accuracy"])
            tf.summary.scalar("epoch/docs_per_second", logs["docs_per_second"])
        self.train_writer.flush()
        if not getattr(self.model, "has_attention", True):  # Table 2's networks: scalars only
            self._scalars(epoch, logs)
            return
        docs = document_attention(
            self.model, self.view, self.words, self.lexicon, self.shown, self.classes,
            self.flat, self.labels,
        )
        self._scalars(epoch, logs)
        with self.writer.as_default(step=epoch):
            words = np.concatenate([np.concatenate(d.word_attention) for d in docs if d.sentences] or [np.zeros(0)])
            tf.summary.histogram("attention/word", words)
            if not self.flat:
                sentences = np.concatenate([d.sentence_attention for d in docs if d.sentence_attention] or [np.zeros(0)])
                tf.summary.histogram("attention/sentence", sentences)
            text = "\n\n---\n\n".join(attention_markdown(d) for d in docs)
            tf.summary.text("attention/validation_documents", text)
        self.writer.flush()

    def _scalars(self, epoch: int, logs: dict) -> None:
        """Validation scores and weight histograms (every model has them)."""
        import tensorflow as tf

        with self.writer.as_default(step=epoch):
            tf.summary.scalar("epoch/loss", logs["val_loss"])
            tf.summary.scalar("epoch/accuracy", logs["val_accuracy"])
            tf.summary.scalar("epoch/macro_f1", logs["val_macro_f1"])
            for variable in self.model.trainable_variables:
                tf.summary.histogram(f"weights/{variable.path}", variable.numpy())
        self.writer.flush()

    def finish(self, metrics: dict) -> None:
        """One hparams-dashboard entry (the run's settings and final metrics); closes the files."""
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        params = {}
        for group in ("model", "trainer", "dataset"):
            for key, value in self.cfg[group].items():
                if isinstance(value, bool | int | float | str):
                    params[f"{group}.{key}"] = value
        params["seed"] = int(self.cfg.seed)
        with self.writer.as_default(step=metrics["train"]["epochs"]):
            hp.hparams(params)
            tf.summary.scalar("hparams/test_accuracy", metrics["test"]["accuracy"])
            tf.summary.scalar("hparams/test_macro_f1", metrics["test"]["macro_f1"])
            tf.summary.scalar("hparams/validation_macro_f1", metrics["validation"]["macro_f1"] or 0.0)
        self.writer.flush()
        self.train_writer.close()
        self.writer.close()
