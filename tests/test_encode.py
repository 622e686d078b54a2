"""Vocabulary, encoding, the L×T and flat views, and padded batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from han.data.corpus import Corpus
from han.data.encode import ViewSettings, encode_corpus, view_for_model
from han.data.pipeline import BatchSource, batch_plan
from han.data.tokenize import TokenizerSettings
from han.data.vocab import Vocabulary


def make_corpus(texts: list[str], labels: list[str]) -> Corpus:
    frame = pd.DataFrame(
        {"id": [f"d{i}" for i in range(len(texts))], "text": texts, "label": labels,
         "source_split": ""}
    )
    return Corpus.from_documents(frame, TokenizerSettings(), workers=1, progress=False)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return make_corpus(
        [
            "The cat sat. The cat ran away quickly today.",
            "A dog barked.",
            "The cat and the dog. They played. It rained. The end.",
        ],
        ["pets", "pets", "story"],
    )


def test_vocabulary_counts_min_count_and_max_size(corpus):
    counts = np.bincount(corpus.tokens, minlength=len(corpus.lexicon))
    vocab = Vocabulary.from_counts(corpus.lexicon, counts, min_count=2)
    assert vocab.words[:2] == ["<pad>", "<unk>"]
    # "the" (5) and "." (6) are the most frequent; ties break alphabetically.
    assert vocab.words[2:5] == [".", "the", "cat"]
    assert all(counts[list(corpus.lexicon).index(w)] >= 2 for w in vocab.words[2:])
    capped = Vocabulary.from_counts(corpus.lexicon, counts, min_count=1, max_size=4)
    assert len(capped) == 4
    assert capped.encode(["the", "zebra"]).tolist() == [3, 1]


def test_vocabulary_json_round_trip(tmp_path, corpus):
    counts = np.bincount(corpus.tokens, minlength=len(corpus.lexicon))
    vocab = Vocabulary.from_counts(corpus.lexicon, counts)
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json").words == vocab.words


def test_encode_shapes_lengths_and_labels(corpus):
    counts = np.bincount(corpus.tokens, minlength=len(corpus.lexicon))
    vocab = Vocabulary.from_counts(corpus.lexicon, counts, min_count=2)
    docs = encode_corpus(corpus, vocab.lexicon_map(corpus.lexicon), ["pets", "story"],
                         np.array([2, 0]))
    assert docs.labels.tolist() == [1, 0]
    assert docs.doc_sentences.tolist() == [4, 2]
    assert docs.sentence_lengths.tolist() == [6, 3, 3, 3, 4, 7]
    batch = docs.padded(np.array([0, 1]))
    assert batch.shape == (2, 4, 7)
    # True lengths survive padding: the non-zero ids of each row are the sentence's words.
    assert ((batch != 0).sum(-1) == [[6, 3, 3, 3], [4, 7, 0, 0]]).all()
    assert (batch[1, 1] != 0).all()
    assert batch[1, 0, 1] == vocab.index["cat"]
    assert batch[1, 0, 0] == vocab.index["the"]
    assert (docs.tokens >= 1).all(), "0 is padding only"


def test_hierarchical_view_truncates_and_wraps(corpus):
    docs = encode_corpus(corpus, np.arange(len(corpus.lexicon), dtype=np.int32) + 2,
                         ["pets", "story"], np.arange(3))
    cut = docs.hierarchical(max_sentences=2, max_words=4, wrap=False)
    assert cut.doc_sentences.tolist() == [2, 1, 2]
    assert cut.sentence_lengths.max() == 4
    assert cut.stats.sentences_truncated == 2 and cut.stats.docs_truncated == 1
    wrapped = docs.hierarchical(max_sentences=10, max_words=4, wrap=True)
    # "The cat ran away quickly today ." (7 words) becomes 4 + 3: no word is lost.
    assert wrapped.doc_sentences.tolist() == [3, 1, 5]
    assert len(wrapped.tokens) == len(docs.tokens)
    assert wrapped.stats.sentences_wrapped == 2 and wrapped.stats.words_dropped == 0


def test_flat_view_keeps_first_n_words(corpus):
    docs = encode_corpus(corpus, np.arange(len(corpus.lexicon), dtype=np.int32) + 2,
                         ["pets", "story"], np.arange(3))
    flat = docs.flat(5)
    assert flat.sentence_lengths.tolist() == [5, 4, 5]
    batch = flat.padded(np.arange(3), flat=True)
    assert batch.shape == (3, 5)
    np.testing.assert_array_equal(batch[0], docs.tokens[:5])
    assert flat.stats.docs_truncated == 2


def test_flat_view_keep_words_setting(corpus):
    docs = encode_corpus(corpus, np.arange(len(corpus.lexicon), dtype=np.int32) + 2,
                         ["pets", "story"], np.arange(3))
    cfg = {"max_tokens": 5, "keep_words": "tail", "max_sentences": 3, "max_words": 4}
    tail = view_for_model(docs, ViewSettings.resolve(cfg), flat=True)
    first = docs.doc_tokens[0]
    np.testing.assert_array_equal(tail.padded(np.arange(1), flat=True)[0],
                                  docs.tokens[first - 5:first])
    assert tail.stats.docs_truncated == 2
    with pytest.raises(ValueError, match="dataset.keep_words"):
        ViewSettings.resolve({**cfg, "keep_words": "middle"})


def test_batch_plan_is_seeded_complete_and_bucketed():
    docs = make_corpus([("Word. " * (i % 9 + 1)) for i in range(100)], ["a"] * 100)
    enc = encode_corpus(docs, np.arange(len(docs.lexicon), dtype=np.int32) + 2, ["a"],
                        np.arange(100))
    plan = batch_plan(enc, 8, shuffle=True, bucket=True, seed=3, epoch=0)
    assert sorted(np.concatenate(plan).tolist()) == list(range(100))
    again = batch_plan(enc, 8, shuffle=True, bucket=True, seed=3, epoch=0)
    assert all((a == b).all() for a, b in zip(plan, again, strict=True))
    other = batch_plan(enc, 8, shuffle=True, bucket=True, seed=3, epoch=1)
    assert any((a != b).any() for a, b in zip(plan, other, strict=False))
    # Bucketing: within a batch the sentence counts are close.
    spread = np.mean([np.ptp(enc.doc_sentences[b]) for b in plan])
    unbucketed = batch_plan(enc, 8, shuffle=True, bucket=False, seed=3, epoch=0)
    assert spread < np.mean([np.ptp(enc.doc_sentences[b]) for b in unbucketed])


def test_batch_source_dataset_yields_every_document_once_per_epoch(corpus):
    docs = encode_corpus(corpus, np.arange(len(corpus.lexicon), dtype=np.int32) + 2,
                         ["pets", "story"], np.arange(3))
    source = BatchSource(docs.hierarchical(10, 50), batch_size=2, shuffle=True, seed=1)
    ds = source.dataset()
    for _ in range(2):
        seen = []
        for ids, labels, index in ds:
            assert ids.dtype.name == "int32" and ids.shape.rank == 3
            np.testing.assert_array_equal(labels.numpy(), docs.labels[index.numpy()])
            seen += index.numpy().tolist()
        assert sorted(seen) == [0, 1, 2]
    assert source.epoch == 2


def test_shards_split_the_plan_evenly(corpus):
    docs = make_corpus([f"Doc {i}." for i in range(11)], ["a"] * 11)
    enc = encode_corpus(docs, np.arange(len(docs.lexicon), dtype=np.int32) + 2, ["a"],
                        np.arange(11))
    shards = [BatchSource(enc, 2, shard_index=i, num_shards=2).plan(0) for i in range(2)]
    assert len(shards[0]) == len(shards[1]) == 3
    assert not set(np.concatenate(shards[0])) & set(np.concatenate(shards[1]))


def test_a_source_built_for_an_input_pipeline_reads_its_share_and_its_shard():
    import tensorflow as tf

    docs = make_corpus([f"Doc {i}." for i in range(40)], ["a"] * 40)
    enc = encode_corpus(docs, np.arange(len(docs.lexicon), dtype=np.int32) + 2, ["a"],
                        np.arange(40))
    # 2 workers with 2 replicas each: a global batch of 8 is 2 per replica.
    contexts = [tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=i,
                                           num_replicas_in_sync=4) for i in range(2)]
    sources = [BatchSource.for_pipeline(enc, 8, ctx, shuffle=True, seed=5, epoch=3)
               for ctx in contexts]
    for i, source in enumerate(sources):
        assert (source.batch_size, source.shard_index, source.num_shards) == (2, i, 2)
        assert source.steps_multiple == 2 and source.epoch == 3 and source.seed == 5
        assert len(source) % 2 == 0  # a step takes one batch per replica of the pipeline
    plans = [np.concatenate(source.plan(3)) for source in sources]
    assert not set(plans[0]) & set(plans[1])
    alone = BatchSource.for_pipeline(enc, 8, None, shuffle=True, seed=5)
    assert (alone.batch_size, alone.num_shards, alone.steps_multiple) == (8, 1, 1)


def test_flat_view_of_an_empty_document_does_not_shift_the_others():
    corpus = make_corpus(["One two.", "", "Three four five."], ["a", "a", "a"])
    docs = encode_corpus(corpus, np.arange(len(corpus.lexicon), dtype=np.int32) + 2, ["a"],
                         np.arange(3))
    flat = docs.flat(10)
    batch = flat.padded(np.arange(3), flat=True)
    assert (batch[1] == 0).all()
    np.testing.assert_array_equal(batch[2, :4], docs.tokens[3:7])


def test_null_max_sentences_and_words_come_from_train_p99():
    # 100 documents: sentence lengths 1..10 words, 1..20 sentences per document.
    texts = [" ".join(["w."] * (i % 20 + 1)) + " " + "x " * (i % 10) + "end." for i in range(100)]
    docs = encode_corpus(make_corpus(texts, ["a"] * 100), np.arange(5000, dtype=np.int32) + 2,
                         ["a"], np.arange(100))
    view = ViewSettings.resolve({"max_sentences": None, "max_words": None, "max_tokens": 50}, docs)
    assert view.derived == ("max_sentences", "max_words")
    assert view.max_words == int(np.ceil(np.percentile(docs.sentence_lengths, 99)))
    # L counts sentences after wrapping at T, so 99% of documents keep every sentence.
    cut = docs.hierarchical(view.max_sentences, view.max_words)
    assert cut.stats.docs_truncated <= 1
    assert docs.hierarchical(view.max_sentences - 1, view.max_words).stats.docs_truncated > 1
    fixed = ViewSettings.resolve({"max_sentences": 7, "max_words": 3, "max_tokens": 50}, docs)
    assert (fixed.max_sentences, fixed.max_words, fixed.derived) == (7, 3, ())
    with pytest.raises(ValueError, match="dataset.max_sentences"):
        ViewSettings.resolve({"max_sentences": None, "max_words": 3, "max_tokens": 50})
