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
