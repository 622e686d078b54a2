"""Classification metrics: accuracy, macro-F1, per-class scores and the confusion matrix from
scikit-learn; the loss is the project's own (see `log_loss`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# scikit-learn is imported inside the functions: han.train and han.predict import this module
# at start-up, and importing sklearn there would slow every command, failed ones included.


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes (every class, even when absent)."""
    from sklearn import metrics as skm

    labels = np.arange(num_classes)
    if not len(y_true):
        return np.zeros((num_classes, num_classes), dtype=np.int64)
    return skm.confusion_matrix(np.asarray(y_true), np.asarray(y_pred), labels=labels).astype(np.int64)


def log_loss(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log-probability of the true class, clipped at 1e-7.

    Not `sklearn.metrics.log_loss`: that one renormalises each row and clips at the dtype's
    machine epsilon, so float32 softmax outputs would give other numbers than every run recorded
    so far (and than the loss the training loop reports).
    """
    picked = probabilities[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0)))) if len(y_true) else float("nan")


def classification_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]
) -> dict:
    """Accuracy, macro-F1, loss, per-class precision/recall/F1/support and the confusion matrix.

    A class never predicted has precision 0 (and F1 0): scikit-learn's zero_division=0. Macro-F1
    is the mean over every class of the run, present in `y_true` or not.
    """
    from sklearn import metrics as skm

    y_true = np.asarray(y_true)
    y_pred = probabilities.argmax(-1)
    labels = np.arange(len(classes))
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    if len(y_true):
        precision, recall, f1, support = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=None, zero_division=0)
        accuracy = float(skm.accuracy_score(y_true, y_pred))
    else:
        precision = recall = f1 = np.zeros(len(classes))
        support, accuracy = np.zeros(len(classes), dtype=np.int64), float("nan")
    return {
        "accuracy": accuracy,
        "macro_f1": float(np.mean(f1)),
        "loss": log_loss(y_true, probabilities),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(classes)
        },
        "confusion_matrix": matrix.tolist(),
    }


def metrics_markdown(metrics: dict, classes: Sequence[str], title: str) -> str:
    """The per-class table and the confusion matrix of `classification_metrics`, as Markdown."""
    lines = [f"# {title}", "",
             f"accuracy {metrics['accuracy']:.4f} · macro-F1 {metrics['macro_f1']:.4f} · "
             f"loss {metrics['loss']:.4f}", "",
             "| class | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    for name in classes:
        row = metrics["per_class"][name]
        lines.append(f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | "
                     f"{row['f1']:.4f} | {row['support']} |")
    lines += ["", "Confusion matrix (rows: true class, columns: predicted)", "",
              "| true \\ predicted | " + " | ".join(classes) + " |",
              "| --- |" + " ---: |" * len(classes)]
    for name, row in zip(classes, metrics["confusion_matrix"], strict=True):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"
