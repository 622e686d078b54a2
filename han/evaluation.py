"""Classification metrics in numpy: accuracy, macro-F1, per-class scores, confusion matrix, loss."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def log_loss(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    picked = probabilities[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0)))) if len(y_true) else float("nan")


def classification_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]
) -> dict:
    """Accuracy, macro-F1, loss, per-class precision/recall/F1/support and the confusion matrix.

    A class never predicted has precision 0 (and F1 0), as in scikit-learn's zero_division=0.
    """
    y_true = np.asarray(y_true)
    y_pred = probabilities.argmax(-1)
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    tp = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(0), matrix.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan"),
        "macro_f1": float(f1.mean()),
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
