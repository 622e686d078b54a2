"""The corpus cache written chunk by chunk and read memory-mapped (han/data/corpus_file.py)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from han.data import corpus_file
from han.data.corpus import Corpus, cached_corpus, write_documents
from han.data.tokenize import TokenizerSettings


@pytest.fixture(scope="module")
def documents(bbc_csv):
    frame = pd.read_csv(bbc_csv, dtype=str, keep_default_na=False)
    return frame.assign(source_split="", group="")[["id", "text", "label", "source_split",
                                                     "group"]]


@pytest.fixture(scope="module")
def settings(nltk_data_dir):
    return TokenizerSettings(nltk_data=str(nltk_data_dir))


@pytest.mark.parametrize("workers", [1, 2])
def test_streamed_cache_equals_the_in_memory_one_byte_for_byte(documents, settings, tmp_path,
                                                                workers):
    whole = Corpus.from_documents(documents, settings, workers=1, progress=False)
    whole.save(tmp_path / "whole.npz")
    # 120 real articles in chunks of 16: the lexicon grows across chunks and worker processes.
    write_documents(tmp_path / "streamed.npz", documents, settings, workers, progress=False,
                    chunk_size=16)
    assert (tmp_path / "streamed.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.npz", "whole.npz"], \
        "no scratch file is left behind"

    loaded = Corpus.load(tmp_path / "streamed.npz")
    for name in ("tokens", "sentence_lengths", "doc_sentences"):
        array = getattr(loaded, name)
        assert isinstance(array.base, np.memmap) and not array.flags.writeable, name
        np.testing.assert_array_equal(array, getattr(whole, name))
    for name in ("ids", "labels", "source_split", "groups", "lexicon"):
        assert getattr(loaded, name).tolist() == getattr(whole, name).tolist()
    assert loaded.sentences(7) == whole.sentences(7)
    selected = loaded.select(np.array([5, 2, 9]))  # a selection is an ordinary array
    np.testing.assert_array_equal(selected.tokens, whole.select(np.array([5, 2, 9])).tokens)


def test_a_format_1_cache_is_rebuilt_with_a_line_that_says_so(documents, settings, tmp_path,
                                                               caplog):
    corpus = Corpus.from_documents(documents, settings, workers=1, progress=False)
    path = tmp_path / "bbc-0123.npz"
    # Format 1: the same members written by np.savez, no `format` member.
    old = {name: getattr(corpus, name) for name in corpus_file.ARRAYS}
    for name in ("ids", "labels", "source_split", "groups", "lexicon"):
        old[name] = np.frombuffer(json.dumps(getattr(corpus, name).tolist(),
                                                          ensure_ascii=False).encode(), np.uint8)
    np.savez(path, counts=np.zeros(2, np.int64), **old)
    built = []

    def build(target):
        built.append(target)
        corpus.save(target)

    with caplog.at_level(logging.INFO, logger="han"):
        loaded, where, cached = cached_corpus(tmp_path, "bbc", "0123", build)
    assert built == [path] and not cached and where == path
    assert "is of format 1" in caplog.text and "rebuilding it" in caplog.text
    np.testing.assert_array_equal(loaded.tokens, corpus.tokens)
    _, _, cached = cached_corpus(tmp_path, "bbc", "0123", build)
    assert cached and len(built) == 1
