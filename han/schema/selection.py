"""The one selection rule (issue #24): `Monitor.score` plus `better` choose the best epoch, a
linear model's C, a sweep's lever set and a dataset's best baseline."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

__all__ = ["Monitor", "better"]


class Monitor(StrEnum):
    """The validation metric that picks the best epoch, a linear model's C and a sweep's lever
    set: the one selection rule is `Monitor.score` plus `better`. (StrEnum: each member is its
    own name, so `== "macro_f1"` and JSON both work.)"""

    macro_f1 = "macro_f1"
    accuracy = "accuracy"
    loss = "loss"

    def score(self, metrics: Mapping[str, float], prefix: str = "") -> float:
        """The monitored metric of `metrics` (keys `<prefix>accuracy`, ...), larger is better:
        the loss counts negated; a missing or NaN value is -inf (never chosen)."""
        value = float(metrics.get(f"{prefix}{self.value}", math.nan))
        if math.isnan(value):
            return -math.inf
        return -value if self is Monitor.loss else value


def better(score: float, loss: float, best_score: float, best_loss: float) -> bool:
    """The one selection rule: a higher monitored score (`Monitor.score`), a tie going to the
    lower validation loss. Ties are common on small validation sets (macro-F1 saturates at 1.0
    on 132 news articles); taking the first tied epoch picks an under-trained model. Used by the
    trainer (best epoch), the linear models (C), lever choice (experiments/levers.py) and the
    warning when the bag-of-words model beats a network."""
    loss = math.inf if math.isnan(loss) else loss
    best_loss = math.inf if math.isnan(best_loss) else best_loss
    return (score, -loss) > (best_score, -best_loss)
