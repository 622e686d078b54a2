"""A saved run's test documents, rebuilt as the run saw them, for the attention analyses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from han.data.encode import EncodedDocs
from han.data.sources import DataError

# aclImdb keeps each review's rating in its file name, <id>_<rating>.txt; the reader keeps the
# name in the document id ("test/pos/123_8").
_RATING = re.compile(r"_(\d+)$")


@dataclass
class TestDocs:
    """The test split of a run: model ids, the words as written, labels and provenance."""

    run: Any  # han.predict.SavedRun
    model_view: EncodedDocs
    word_view: EncodedDocs
    lexicon: np.ndarray
    classes: list[str]
    metrics: dict[str, Any]

    def __len__(self) -> int:
        return len(self.model_view.ids)

    @property
    def ids(self) -> np.ndarray:
        return np.asarray([str(i) for i in self.model_view.ids])

    @property
    def labels(self) -> np.ndarray:
        """Class names of the documents, in order."""
        return np.asarray(self.classes)[self.model_view.labels]

    def ratings(self) -> np.ndarray:
        """Each document's rating from its id (IMDB: `<id>_<rating>`), -1 where there is none."""
        found = [_RATING.search(i) for i in self.ids]
        return np.asarray([int(m.group(1)) if m else -1 for m in found], dtype=np.int64)

    def padded(self, indices: np.ndarray) -> np.ndarray:
        """(B, L, T) model ids of the documents at `indices`."""
        return self.model_view.padded(np.asarray(indices, dtype=np.int64), False)

    def words(self, indices: np.ndarray) -> np.ndarray:
        """(B, L, T) lexicon ids (words as written) aligned with `padded(indices)`."""
        return self.word_view.padded(np.asarray(indices, dtype=np.int64), False)

    def provenance(self) -> dict[str, Any]:
        """What names the run in every record: directory, model, seed, dataset, commit."""
        return {
            "run": self.run.dir.name,
            "model": self.metrics.get("model", str(self.run.cfg.model.name)),
            "seed": int(self.metrics.get("seed", self.run.cfg.seed)),
            "dataset": self.metrics.get("dataset", str(self.run.cfg.dataset.name)),
            "code": self.metrics.get("code", ""),
        }


def load_test_docs(run_dir: Path) -> TestDocs:
    """Rebuild a finished run's test split (same seed and settings, from the tokenised cache) and
    check it against the run's predictions.csv, as `make explain` does."""
    from han.data.prepare import prepare
    from han.predict import SavedRun

    run = SavedRun(Path(run_dir))
    if run.linear or run.flat:
        raise DataError(
            f"{run.dir} is a {run.cfg.model.name} run: the attention analyses read word and "
            "sentence attention. Give a run of model=han (or han_uniform)."
        )
    data = prepare(run.cfg.dataset, run.cfg.paths, int(run.cfg.seed), run.cfg.get("workers"),
                   progress=False)
    model_view = data.view("test", False)
    predictions = pd.read_csv(run.dir / "predictions.csv", dtype=str, keep_default_na=False)
    if list(predictions["id"]) != [str(i) for i in model_view.ids]:
        raise DataError(
            f"the test split rebuilt from the run's config no longer matches "
            f"{run.dir / 'predictions.csv'}: the dataset changed since the run was trained"
        )
    return TestDocs(run, model_view, data.lexicon_view("test", False), data.corpus.lexicon,
                    list(data.classes), json.loads((run.dir / "metrics.json").read_text()))


def sample(count: int, size: int, seed: int) -> np.ndarray:
    """`size` of `count` document indices drawn without replacement (seeded), sorted; all when
    size is 0 or at least count. The first `size` of one seeded permutation, so a larger sample
    holds every smaller one (an analysis stopped early has a sample of the same draw)."""
    if size <= 0 or size >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).permutation(count)[:size])
