"""Real-data runs on the offline mirror: minutes each, so `make test-slow` runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from han.data.prepare import prepare

CONF = Path(__file__).resolve().parents[1] / "conf"
pytestmark = pytest.mark.slow


def test_imdb_prepares_all_50000_reviews_with_the_official_test_set(tmp_path):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=imdb", f"paths.cache_dir={tmp_path}", "progress=false"])
    data = prepare(cfg.dataset, cfg.paths, seed=0, progress=False)
    sizes = {name: len(part) for name, part in data.splits.items()}
    # The official test set is never changed; train loses the copies of test reviews.
    removed = data.counts["duplicates"]["removed"]
    assert sizes["test"] == 25000 and sizes["train"] + sizes["validation"] == 25000 - removed
    # Validation is 10% of train in whole films, give or take one film's reviews.
    assert 2400 <= sizes["validation"] <= 2600
    groups, split_of = data.corpus.groups, data.split_of
    assert set(groups[split_of == "validation"]).isdisjoint(groups[split_of == "train"])
    assert data.classes == ["neg", "pos"]
    assert "<br" not in set(data.corpus.lexicon) and "br" not in data.vocabulary.index
    # Official test reviews stay test: every test id comes from the archive's test folder.
    assert all(i.startswith("test/") for i in data.splits["test"].ids)
    assert 20_000 < len(data.vocabulary) < 40_000


def test_news_han_with_defaults_reaches_98_percent(tmp_path):
    run_dir = tmp_path / "news"
    result = subprocess.run(
        [sys.executable, "-m", "han.train", "dataset=news", "model=han", "progress=false",
         f"hydra.run.dir={run_dir}"],
        capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["classes"] == ["entertainment", "politics", "sport"]
    assert metrics["test"]["accuracy"] >= 0.97
    assert sum(map(sum, metrics["test"]["confusion_matrix"])) == 124
