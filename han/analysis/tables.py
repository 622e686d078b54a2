"""The pipe tables every attention analysis writes (han.analysis.summary, .word_weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table; floats with `digits` decimals, NaN as an em dash."""
    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            if np.isnan(value):
                return "—"
            small = value != 0 and abs(value) < 10 ** -digits  # not shown as a misleading 0.000
            return f"{value:.1e}" if small else f"{value:.{digits}f}"
        return str(value)
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"
