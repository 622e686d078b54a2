"""Duplicate documents: found on the real BBC copy, kept out of every other split, and the MinHash
candidates confirmed against brute-force Jaccard."""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from han.data import dedup
from han.data.prepare import load_corpus, prepare
from han.data.sources import dataset_files, read_documents

CONF = Path(__file__).resolve().parents[1] / "conf"


def _cfg(tmp_path_factory, *overrides: str):
    cache = tmp_path_factory.getbasetemp() / "dedup-cache"
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("train", [*overrides, f"paths.cache_dir={cache}", "progress=false"])


def _normalised_texts(cfg) -> dict[str, str]:
    """Raw article text by id, lower-cased with whitespace collapsed: an independent check."""
    files = dataset_files(cfg.dataset, Path(cfg.paths.data_dir), cfg.paths.get("mirror"))
    documents, _ = read_documents(cfg.dataset, files)
    return {str(i): re.sub(r"\s+", " ", str(t).lower()).strip()
            for i, t in zip(documents["id"], documents["text"], strict=True)}


def test_bbc_copy_has_its_78_exact_duplicate_pairs_each_within_one_class(tmp_path_factory):
    cfg = _cfg(tmp_path_factory, "dataset=news5")
    corpus, _ = load_corpus(cfg.dataset, cfg.paths, progress=False)
    found = dedup.find_duplicates(corpus.lexicon, corpus.tokens, corpus.doc_tokens,
                                  dedup.DedupSettings(mode="exact"))
    assert found.num_groups == 78 and (found.group >= 0).sum() == 156
    for g in range(found.num_groups):
        assert len(set(corpus.labels[found.group == g])) == 1
    # The same 78 groups as the raw text, lower-cased and with whitespace collapsed.
    texts = _normalised_texts(cfg)
    by_text: dict[str, list[str]] = {}
    for doc_id, text in texts.items():
        by_text.setdefault(text, []).append(doc_id)
    raw_groups = {frozenset(ids) for ids in by_text.values() if len(ids) > 1}
    ours = {frozenset(corpus.ids[found.group == g]) for g in range(found.num_groups)}
    assert ours == raw_groups


@pytest.mark.parametrize("extra", [[], ["dataset.folds=10", "dataset.fold=3"]])
def test_prepared_bbc_splits_have_no_twin_across_splits(tmp_path_factory, extra):
    cfg = _cfg(tmp_path_factory, "dataset=news5", *extra)
    data = prepare(cfg.dataset, cfg.paths, seed=1, progress=False)
    report = data.counts["duplicates"]
    assert report["mode"] == "near" and report["exact_groups"] == 78
    assert report["groups"] > 78  # re-edited copies ("e-mails" / "e mails") join them
    assert report["removed"] == 2223 - len(data.corpus)
    texts = _normalised_texts(cfg)
    train = {texts[i] for i in data.splits["train"].ids}
    for split in ("validation", "test"):
        assert not any(texts[i] in train for i in data.splits[split].ids), split
    # Near twins too: no shingle set in validation or test is within the threshold of train's.
    corpus = data.corpus
    found = dedup.find_duplicates(corpus.lexicon, corpus.tokens, corpus.doc_tokens,
                                  dedup.DedupSettings(mode="near"))
    assert found.num_groups == 0


def test_dedup_off_keeps_every_article_and_says_so(tmp_path_factory):
    cfg = _cfg(tmp_path_factory, "dataset=news5", "dataset.dedup=off")
    data = prepare(cfg.dataset, cfg.paths, seed=0, progress=False)
    assert len(data.corpus) == 2223
    assert data.counts["duplicates"]["removed"] == 0 and data.counts["duplicates"]["mode"] == "off"


def test_official_test_members_all_stay_and_validation_is_preferred_over_train():
    # Groups: 0 = {train, test, test}, 1 = {train, validation, train}, 2 = {train, train}.
    group = np.array([0, 0, 0, 1, 1, 1, 2, 2, -1])
    split = np.array(["train", "test", "test", "train", "validation", "", "", "train", "train"],
                     dtype=object)
    keep = dedup.keep_mask(dedup.Duplicates(group), split)
    assert keep.tolist() == [False, True, True, False, True, False, True, False, True]
    labels = np.array(list("aabccdeef"), dtype=object)
    report = dedup.report(dedup.Duplicates(group), keep, labels, split,
                          np.arange(9).astype(str), "exact")
    assert report["removed_by_source_split"] == {"train": 4, "validation": 0, "test": 0}
    assert report["official_test_twins_kept"] == 1
    assert report["conflicting_label_groups"] == 2  # groups 0 (a/b) and 1 (c/d)


def test_minhash_candidates_find_every_pair_above_the_threshold_on_real_articles(
        tmp_path_factory):
    cfg = _cfg(tmp_path_factory, "dataset=news5")
    corpus, _ = load_corpus(cfg.dataset, cfg.paths, progress=False)
    tech = np.flatnonzero(corpus.labels == "tech")[:250]  # holds many near-duplicate pairs
    part = corpus.select(tech)
    words = dedup.folded_tokens(part.lexicon, part.tokens)
    hashes, counts = dedup.shingles(words, part.doc_tokens, 5)
    # In chunks of ~1,000 words (bounded memory on a large corpus), the same hashes.
    chunked, chunk_counts = dedup.shingles(words, part.doc_tokens, 5, chunk=1000)
    assert len(part.tokens) > 20_000
    np.testing.assert_array_equal(chunked, hashes)
    np.testing.assert_array_equal(chunk_counts, counts)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    sets = [set(hashes[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    truth = {(a, b) for a, b in combinations(range(len(sets)), 2)
             if len(sets[a] & sets[b]) / len(sets[a] | sets[b]) >= 0.5}
    assert len(truth) >= 5
    found = dedup.find_duplicates(part.lexicon, part.tokens, part.doc_tokens,
                                  dedup.DedupSettings(mode="near"))
    for a, b in truth:
        assert found.group[a] >= 0 and found.group[a] == found.group[b]
    # Every grouped document has a partner at or above the threshold: no false pair.
    partners = {d for pair in truth for d in pair}  # exact twins are in truth too (Jaccard 1)
    assert set(np.flatnonzero(found.group >= 0)) == partners


def test_shingles_of_a_short_document_are_the_whole_document():
    tokens = np.array([3, 4, 5, 6, 7, 8, 3, 4])
    hashes, counts = dedup.shingles(tokens, np.array([6, 2]), 5)
    assert counts.tolist() == [2, 1]
    # The same words in the same order give the same shingle; another order does not.
    again, _ = dedup.shingles(np.array([3, 4, 5, 6, 7]), np.array([5]), 5)
    assert hashes[0] == again[0]
    swapped, _ = dedup.shingles(np.array([4, 3, 5, 6, 7]), np.array([5]), 5)
    assert swapped[0] != hashes[0]


def test_make_data_on_news_reports_its_duplicate_groups(tmp_path):
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "han.data", "dataset=news", "task_name=data", "progress=false",
         f"paths.cache_dir={tmp_path / 'cache'}", f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("duplicates"))
    # BBC 3-class: the 36 exact pairs of politics, sport and entertainment, and re-edited copies.
    assert "dataset.dedup=near" in line and "(36 exact)" in line
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    dup = summary["duplicates"]
    assert dup["exact_groups"] == 36 and dup["groups"] > 36
    kept = sum(row["total"] for row in summary["documents"].values())
    assert kept == 1313 - dup["removed"]  # politics 417 + sport 510 + entertainment 386
