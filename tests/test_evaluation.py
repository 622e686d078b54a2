"""Metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from han.evaluation import classification_metrics


def test_metrics_match_a_hand_computation():
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 2])
    probs = np.eye(3)[pred] * 0.7 + 0.1
    m = classification_metrics(y, probs, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    # a: P 1/2 R 1/2 F 1/2; b: P 2/3 R 1 F 0.8; c: P 1 R 1/2 F 2/3
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["b"]["support"] == 2
    assert m["loss"] == pytest.approx(-np.mean(np.log([0.8, 0.1, 0.8, 0.8, 0.1, 0.8])))


def test_never_predicted_class_scores_zero_not_nan():
    m = classification_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]), ["a", "b"])
    assert m["per_class"]["b"]["f1"] == 0.0
    assert np.isfinite(m["macro_f1"])


def _numpy_reference(y_true, probabilities, num_classes):
    """The project's metrics before they delegated to scikit-learn (issue #26), kept as the
    reference that the delegation must reproduce exactly."""
    y_pred = probabilities.argmax(-1)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    tp = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(0), matrix.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return float((y_pred == y_true).mean()), float(f1.mean()), precision, recall, f1, support, matrix


@pytest.mark.parametrize("seed", range(5))
def test_scikit_learn_metrics_equal_the_former_numpy_ones(seed):
    # Counts exactly; ratios to the last bit or two (scikit-learn's F1 is 2tp / (2tp + fp + fn),
    # the former 2PR / (P + R)): far below the 4 decimals any result is reported with.
    rng = np.random.default_rng(seed)
    classes = [f"c{i}" for i in range(5)]
    y = rng.integers(0, 4, size=300)  # class c4 never occurs: support 0, recall 0
    probs = rng.dirichlet(np.ones(5), size=300).astype(np.float32)
    probs[:, 3] *= 0.01  # c3 (almost) never predicted: precision 0 by zero_division=0
    m = classification_metrics(y, probs, classes)
    accuracy, macro_f1, precision, recall, f1, support, matrix = _numpy_reference(y, probs, 5)
    assert m["accuracy"] == accuracy and m["macro_f1"] == pytest.approx(macro_f1, rel=1e-12)
    assert m["confusion_matrix"] == matrix.tolist()
    for i, name in enumerate(classes):
        row = m["per_class"][name]
        assert row["support"] == support[i]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx(
            (precision[i], recall[i], f1[i]), rel=1e-12, abs=1e-15)


def test_markdown_table_lists_every_class_and_the_confusion_matrix():
    from han.evaluation import metrics_markdown

    m = classification_metrics(np.array([0, 1, 1]), np.eye(2)[[0, 0, 1]], ["sport", "tech"])
    text = metrics_markdown(m, ["sport", "tech"], "t")
    assert "| sport | 0.5000 | 1.0000 | 0.6667 | 1 |" in text
    assert "| tech | 1 | 1 |" in text  # true tech: one predicted sport, one tech
