"""Caches heal (issue #23): every cache file is checked on read, a damaged one is named in the
log and rebuilt, and the temporary files of killed writes are removed."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parents[1] / "conf"


@pytest.fixture
def cfg(tmp_path, bbc_csv):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=csv", f"dataset.train_path={bbc_csv}",
                                f"paths.cache_dir={tmp_path / 'cache'}", "model.embedding_dim=16",
                                "model.embedding_init=word2vec", "model.word2vec_epochs=2"])
    OmegaConf.resolve(cfg.dataset)
    return cfg


def prepared(cfg):
    from han.data.prepare import prepare

    return prepare(cfg.dataset, cfg.paths, 0, 1, False)


def damage(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_damaged_corpus_cache_is_named_and_rebuilt(cfg, tmp_path, caplog):
    first = prepared(cfg)
    [cache] = (tmp_path / "cache").glob("csv-*.npz")
    whole = cache.read_bytes()
    damage(cache)
    with caplog.at_level(logging.WARNING):
        again = prepared(cfg)
    assert f"cache {cache} is damaged" in caplog.text
    assert cache.read_bytes() == whole
    np.testing.assert_array_equal(again.corpus.tokens, first.corpus.tokens)


def test_a_damaged_word2vec_cache_is_named_and_rebuilt(cfg, tmp_path, caplog):
    from han.embeddings import embedding_matrix

    data = prepared(cfg)
    first = embedding_matrix(cfg.model, data, 0, 1, tmp_path / "cache")
    [cache] = (tmp_path / "cache").glob("word2vec-*.npy")
    for harm in (damage, lambda p: np.save(p, np.zeros((3, 16), np.float32))):
        harm(cache)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            again = embedding_matrix(cfg.model, data, 0, 1, tmp_path / "cache")
        assert f"cache {cache} is damaged" in caplog.text
        np.testing.assert_array_equal(again, first)
        np.testing.assert_array_equal(np.load(cache), first)


def test_leftovers_of_killed_writes_are_removed_and_live_writes_kept(cfg, tmp_path, caplog):
    from han.io import _HOST, remove_stale_tmp

    cache = tmp_path / "cache"
    cache.mkdir()
    killed = cache / f".csv-0123.npz.{_HOST}-{dead_pid()}.abcd1234.tmp"
    live = cache / f".word2vec-1.npy.{_HOST}-{os.getpid()}.efgh5678.tmp"
    foreign = cache / ".notes.tmp"  # not one of ours: left alone
    for path in (killed, live, foreign):
        path.write_bytes(b"partial")
    with caplog.at_level(logging.WARNING):
        prepared(cfg)  # reads the cache folder
    assert not killed.exists() and live.exists() and foreign.exists()
    assert f"removed {killed}" in caplog.text
    assert remove_stale_tmp(cache) == []


def test_an_exception_inside_an_atomic_write_leaves_nothing(tmp_path, monkeypatch):
    from han.io import atomic_write_text

    monkeypatch.setenv("HAN_FAULT", "write:x.json")
    monkeypatch.setenv("HAN_FAULT_ACTION", "raise")
    from han.faults import FaultInjected

    with pytest.raises(FaultInjected):
        atomic_write_text(tmp_path / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []  # an exception (not a kill) cleans up after itself
