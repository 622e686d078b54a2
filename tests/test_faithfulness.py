"""The attention analyses on tiny models whose answers are known by construction."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from han.analysis.erasure import (
    leave_one_out,
    probabilities,
    remove_sentences,
    remove_top,
    remove_words,
    tvd,
)
from han.analysis.faithfulness import chunk_records
from han.analysis.probe import gradient_importance, permute_real, probe, word_leave_one_out
from han.analysis.summary import faithfulness_table, rebuild, run_row
from han.analysis.word_weights import occurrences, write_outputs
from tests.test_models import VOCAB, random_docs, tiny_model

KEY = 7  # the one word the forced model reads


def forced_model():
    """A HAN that attends to word KEY only and predicts class 1 iff a document contains it.

    Every embedding is 0 but KEY's, so every GRU state is 0 except at KEY and (decaying by half
    a step) after it; the attention projections and context vectors are scaled so that KEY's
    state outscores every other by e^40; the classifier says 1 for the KEY signal, 0 for zeros.
    """
    model = tiny_model("han", num_classes=2)
    emb = np.zeros((VOCAB, 8), np.float32)
    emb[KEY] = 0.1  # small: tanh must not saturate, or the gradient at KEY would be 0 too
    model.word_encoder.embedding.embeddings.assign(emb)
    for rnn in (model.word_encoder.rnn, model.sentence_encoder.rnn):
        for gru in (rnn.forward_gru, rnn.backward_gru):
            kernel = np.zeros(gru.cell.kernel.shape, np.float32)
            kernel[:, 8:] = 1.0  # candidate block only: h̃ = tanh(Σx), z = r = ½
            gru.cell.kernel.assign(kernel)
            gru.cell.recurrent_kernel.assign(np.zeros(gru.cell.recurrent_kernel.shape, np.float32))
            gru.cell.bias.assign(np.zeros(gru.cell.bias.shape, np.float32))
    for att in (model.word_attention, model.sentence_attention):
        att.projection.kernel.assign(np.full(att.projection.kernel.shape, 0.5, np.float32))
        att.projection.bias.assign(np.zeros(att.projection.bias.shape, np.float32))
        att.context.assign(np.full(att.context.shape, 40.0, np.float32))
    kernel = np.zeros(model.classifier.kernel.shape, np.float32)
    kernel[:, 0], kernel[:, 1] = -1.0, 1.0  # unsaturated (p ≈ 0.9), so gradients are not 0
    model.classifier.kernel.assign(kernel)
    model.classifier.bias.assign(np.array([0.5, -0.5], np.float32))
    return model


def key_docs(seed: int, docs: int = 6) -> np.ndarray:
    """(docs, 4, 6) ids without KEY, then one KEY in one sentence of 6 words of each document."""
    ids = random_docs(seed, docs=docs, sentences=4, words=6)
    ids[ids == KEY] = KEY + 1
    rng = np.random.default_rng(seed)
    for d in range(docs):
        s = rng.integers(0, 4)
        ids[d, s] = np.where(ids[d, s] == 0, rng.integers(1, KEY, 6), ids[d, s])
        ids[d, s, rng.integers(0, 6)] = KEY
    return ids


@pytest.mark.parametrize("name", ["han", "han_uniform"])
def test_probe_computes_what_explain_computes(name: str) -> None:
    model = tiny_model(name)
    ids = random_docs(4, docs=5, sentences=4, words=6)
    expected = {k: np.asarray(v) for k, v in model.explain(ids).items()}
    got = {k: np.asarray(v) for k, v in probe(model, ids).items()}
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], atol=1e-6, err_msg=key)


def test_han_uniform_attention_is_exactly_one_over_n_and_zero_on_padding() -> None:
    ids = random_docs(5, docs=4, sentences=4, words=6)
    out = {k: np.asarray(v) for k, v in tiny_model("han_uniform").explain(ids).items()}
    words = (ids != 0).sum(-1, keepdims=True)
    sentences = (ids != 0).any(-1).sum(-1, keepdims=True)
    np.testing.assert_array_equal(out["word_attention"],
                                  np.where(ids != 0, 1.0 / np.maximum(words, 1), 0.0).astype(np.float32))
    np.testing.assert_array_equal(out["sentence_attention"],
                                  np.where((ids != 0).any(-1), 1.0 / sentences, 0.0).astype(np.float32))


def test_permutation_moves_weights_among_real_positions_only() -> None:
    mask = tf.constant([[True, True, True, False], [True, False, False, False]])
    weights = tf.constant([[0.5, 0.3, 0.2, 0.0], [1.0, 0.0, 0.0, 0.0]])
    for seed in range(5):
        out = permute_real(seed)(weights, mask).numpy()
        assert np.all(out[:, 3] == 0) and np.all(out[1] == [1, 0, 0, 0])
        assert sorted(out[0, :3]) == pytest.approx([0.2, 0.3, 0.5])
    draws = {tuple(permute_real(s)(weights, mask).numpy()[0]) for s in range(20)}
    assert len(draws) > 1  # it does shuffle


def test_gradient_importance_is_the_derivative_of_the_predicted_probability() -> None:
    model = tiny_model("han", num_classes=3)
    ids = random_docs(6, docs=2, sentences=3, words=4)
    grads = gradient_importance(model, ids)
    y = grads["probabilities"].argmax(-1)
    eps = 1e-2
    for d, s, t in np.argwhere(ids != 0)[:6]:
        scale = np.ones(ids.shape, np.float32)
        scale[d, s, t] = 1 + eps
        up = probe(model, ids, word_scale=scale)["probabilities"].numpy()[d, y[d]]
        scale[d, s, t] = 1 - eps
        down = probe(model, ids, word_scale=scale)["probabilities"].numpy()[d, y[d]]
        assert grads["word"][d, s, t] == pytest.approx(abs(up - down) / (2 * eps), rel=0.05, abs=1e-6)
    assert np.all(grads["word"][ids == 0] == 0)


def test_removing_words_and_sentences_gives_shorter_real_documents() -> None:
    ids = np.array([[5, 6, 7, 0], [8, 9, 0, 0]])
    np.testing.assert_array_equal(remove_words(ids, ids == 6), [[5, 7, 0, 0], [8, 9, 0, 0]])
    np.testing.assert_array_equal(remove_sentences(ids, np.array([True, False])), [[0] * 4, [8, 9, 0, 0]])
    variants, units = leave_one_out(ids, "word")
    assert len(variants) == 5 and units.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]]
    np.testing.assert_array_equal(variants[3], [[5, 6, 7, 0], [9, 0, 0, 0]])
    scores = np.array([[0.1, 0.9, 0.5, 0.99], [0.2, 0.3, 0.0, 0.0]])  # padding's score ignored
    np.testing.assert_array_equal(remove_top(ids, scores, 2, "word"), [[5, 0, 0, 0], [8, 9, 0, 0]])
    assert tvd(np.array([1.0, 0.0]), np.array([0.25, 0.75])) == pytest.approx(0.75)


def test_word_leave_one_out_equals_running_every_erased_document() -> None:
    model = tiny_model("han")
    ids = random_docs(11, docs=4, sentences=4, words=5)
    ids[0, 1] = 0  # an empty slot between real sentences
    ids[0, 2, 1:] = 0  # a one-word sentence: removing its word removes the sentence
    for doc in ids:
        variants, _ = leave_one_out(doc, "word")
        np.testing.assert_allclose(word_leave_one_out(model, doc, batch_size=3),
                                   probabilities(model, variants), atol=1e-5)


def test_forced_attention_shows_full_erasure_sensitivity_to_its_word() -> None:
    model = forced_model()
    ids = key_docs(0)
    out = {k: np.asarray(v) for k, v in model.explain(ids).items()}
    assert np.all(out["probabilities"].argmax(-1) == 1)
    np.testing.assert_allclose(out["word_attention"][ids == KEY], 1.0, atol=1e-6)
    records = pd.DataFrame(chunk_records(model, ids, np.arange(len(ids)), permutations=10))
    for level in ("word", "sentence"):
        rec = records[records["level"] == level]
        # The top unit by attention, and by gradient, is KEY (or its sentence): removing it
        # flips every decision.
        assert rec["flip_att_1"].eq(1).all() and rec["flip_grad_1"].eq(1).all(), level
        assert rec["drop_att_1"].min() > 0.5
        assert rec["tau_loo"].gt(0).all() and rec["tau_grad"].gt(0).all()
        # Shuffling moves KEY's weight onto a state holding at most half of its signal (the GRU
        # halves it each step away from KEY): some draw of each document changes the output.
        assert rec["perm_tvd_max"].min() > 0.1
    word = records[records["level"] == "word"]
    assert word["flip_rand_1"].mean() < 0.5  # a random word is rarely KEY


def test_uniform_attention_is_permutation_invariant_by_construction() -> None:
    model = tiny_model("han_uniform")
    ids = random_docs(7, docs=4, sentences=4, words=6)
    records = pd.DataFrame(chunk_records(model, ids, np.arange(len(ids)), permutations=5))
    np.testing.assert_allclose(records["perm_tvd_max"], 0.0, atol=1e-6)
    assert records.loc[records["level"] == "sentence", "tau_grad"].isna().all()  # α_i all equal
    assert "Erasure" in faithfulness_table(records.assign(run="r", model="han_uniform", seed=0, code="c"))


def test_word_weights_find_each_occurrence_and_rebuild_from_records(tmp_path: Path) -> None:
    model = forced_model()
    ids = key_docs(1, docs=4)
    lexicon = np.array([f"w{i}" for i in range(VOCAB)], dtype=object)
    lexicon[KEY] = "Good"
    class Docs(SimpleNamespace):  # what occurrences reads of han.analysis.runs.TestDocs
        def __len__(self) -> int:
            return len(ids)

    docs = Docs(
        lexicon=lexicon, classes=["neg", "pos"], ids=np.array([f"test/pos/{i}_{7 + i}" for i in range(4)]),
        labels=np.array(["pos"] * 4), ratings=lambda: np.array([7, 8, 9, 10]), run=SimpleNamespace(model=model),
        padded=lambda idx: ids[idx], words=lambda idx: ids[idx],
        provenance=lambda: {"run": "r0", "model": "han", "seed": 0, "dataset": "toy", "code": "c"},
    )
    frame = occurrences(docs, ["good", "absent"], batch_size=3)
    assert len(occurrences(docs, ["good"], chosen=np.array([1, 3]))) == 2
    assert len(frame) == 4 and set(frame["word"]) == {"good"}
    np.testing.assert_allclose(frame["alpha_word"], 1.0, atol=1e-6)  # forced attention
    assert sorted(frame["rating"]) == [7, 8, 9, 10]
    (tmp_path / "records").mkdir()
    frame.to_csv(tmp_path / "records" / "word_attention.csv.gz", index=False)
    written = rebuild(tmp_path)
    assert (tmp_path / "word_attention_good.png").stat().st_size > 1000
    table = (tmp_path / "word_attention.md").read_text()
    assert "| good | han | 0 | rating 10 | 1 | 1 | 1.000" in table
    assert set(written) >= set(write_outputs(frame, tmp_path))


def test_run_rows_and_uniform_table_come_from_metrics(tmp_path: Path) -> None:
    import json

    rows = []
    for name, acc in [("han", 0.9), ("han_uniform", 0.8)]:
        run = tmp_path / name
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps({
            "model": name, "seed": 0, "dataset": "news", "code": "abc", "best_epoch": 3,
            "validation": {"accuracy": acc}, "test": {"accuracy": acc, "macro_f1": acc}}))
        rows.append(run_row(run))
    (tmp_path / "records").mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / "records" / "runs.csv", index=False)
    rebuild(tmp_path)
    text = (tmp_path / "uniform_baseline.md").read_text()
    assert "| han_uniform | 0 | abc | 0.8000 |" in text
    assert "seed 0: +10.00 points" in text


def test_imdb_ratings_are_read_from_the_document_ids() -> None:
    from han.analysis.runs import TestDocs, sample

    view = SimpleNamespace(ids=np.array(["test/pos/12_8", "test/neg/3_1", "bbc/sport/001"]))
    docs = TestDocs(run=None, model_view=view, word_view=view, lexicon=np.array([]),
                    classes=[], metrics={})
    assert docs.ratings().tolist() == [8, 1, -1]
    assert sample(10, 0, 0).tolist() == list(range(10))
    drawn = sample(100, 7, 3)
    assert len(set(drawn)) == 7 and drawn.tolist() == sorted(drawn) == sample(100, 7, 3).tolist()


def test_report_erasure_removes_the_top_sentence_and_sees_the_flip() -> None:
    from han.explain import _top_sentence_erasure, explain_batch

    model = forced_model()
    ids = key_docs(2, docs=4)
    out = explain_batch(model, ids)
    result = _top_sentence_erasure(model, ids, out, ["neg", "pos"])
    slot = (ids == KEY).any(-1).argmax(-1)  # the sentence slot holding KEY
    real = (ids != 0).any(-1)
    # Named by its rank among the real sentences (empty slots before it are not shown).
    assert [r["sentence"] for r in result] == [int(real[d, :s].sum()) for d, s in enumerate(slot)]
    assert all(r["flipped"] and r["predicted_after"] == "neg" for r in result)
    assert all(r["p_after"] < 0.5 < r["p_before"] for r in result)
