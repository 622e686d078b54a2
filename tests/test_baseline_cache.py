"""The bag-of-words baseline beside a network run is fitted once per split, then read back."""

from __future__ import annotations

import logging

from hydra import compose, initialize_config_dir
from runs import CONF

from han.data.prepare import prepare
from han.train import run_baseline_beside


def _setup(bbc_csv, cache, seed):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=csv", f"dataset.train_path={bbc_csv}",
                                "dataset.id_column=id", "dataset.vocab.min_count=2",
                                f"paths.cache_dir={cache}", f"seed={seed}"])
    return cfg, prepare(cfg.dataset, cfg.paths, seed=seed, workers=1, progress=False)


def test_second_run_on_a_split_reads_the_fitted_baseline_and_its_predictions(
        bbc_csv, tmp_path, caplog):
    cache = tmp_path / "cache"
    cfg, data = _setup(bbc_csv, cache, seed=0)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    with caplog.at_level(logging.INFO, logger="han"):
        fitted = run_baseline_beside(cfg, data, first)
        assert "C=" in caplog.text and "fitted)" in caplog.text
        caplog.clear()
        cached = run_baseline_beside(cfg, data, second)
        assert "from the cache" in caplog.text and "chosen on validation" not in caplog.text
    assert cached == fitted
    assert ((second / "baseline_predictions.csv").read_bytes()
            == (first / "baseline_predictions.csv").read_bytes())

    # Another seed draws another split: its own entry, fitted on its own documents.
    cfg1, data1 = _setup(bbc_csv, cache, seed=1)
    other = tmp_path / "c"
    other.mkdir()
    with caplog.at_level(logging.INFO, logger="han"):
        caplog.clear()
        run_baseline_beside(cfg1, data1, other)
        assert "fitted)" in caplog.text
    assert len(list(cache.glob("baseline-*.json"))) == 2


def test_a_damaged_baseline_cache_is_named_and_fitted_again_and_the_monitor_keys_it(bbc_csv, tmp_path, caplog):
    cache = tmp_path / "cache"
    cfg, data = _setup(bbc_csv, cache, seed=0)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    fitted = run_baseline_beside(cfg, data, run_dir)
    (entry,) = cache.glob("baseline-*.json")
    entry.write_text('{"model": "tfidf_lr"')  # cut short by a full disk, say
    with caplog.at_level(logging.WARNING, logger="han"):
        again = run_baseline_beside(cfg, data, run_dir)
    assert f"cache {entry} is damaged" in caplog.text
    assert again["validation"] == fitted["validation"] and again["test"] == fitted["test"]
    assert entry.exists(), "the refit is cached again"

    cfg.trainer.monitor = "accuracy"  # the rule that picks C is part of the key
    run_baseline_beside(cfg, data, run_dir)
    assert len(list(cache.glob("baseline-*.json"))) == 2

