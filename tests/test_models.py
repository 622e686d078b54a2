"""The five model variants, built from the real conf/model YAMLs at tiny sizes."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from runs import model_config

from han.models import FlatAttentionNetwork, HierarchicalAttentionNetwork, build_model
from han.paper import build_padded_han

VARIANTS = ["han", "han_avg", "han_max", "han_uniform", "flat", "flat_avg"]
HIERARCHICAL = ["han", "han_avg", "han_max"]
TINY = {"embedding_dim": 8, "gru_units": 4, "attention_dim": 6}
VOCAB = 30


def tiny_model(name: str, num_classes: int = 3, **overrides: Any) -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_model({**model_config(name), **TINY, **overrides}, VOCAB, num_classes)


@functools.cache
def shared_model(name: str) -> keras.Model:
    """One model per variant for the tests that only read it (saves building and tracing)."""
    return tiny_model(name)


def is_flat(name: str) -> bool:
    return model_config(name)["family"] == "flat"


def random_docs(seed: int, docs: int = 3, sentences: int = 3, words: int = 4) -> np.ndarray:
    """Right-padded (docs, sentences, words) ids; every document has at least one sentence."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((docs, sentences, words), dtype="int32")
    for d in range(docs):
        for s in range(rng.integers(1, sentences + 1)):
            n = rng.integers(1, words + 1)
            ids[d, s, :n] = rng.integers(1, VOCAB, n)
    return ids


def inputs_for(name: str, ids: np.ndarray) -> np.ndarray:
    """The flat view of hierarchical ids: a document's words in order, right-padded."""
    if not is_flat(name):
        return ids
    rows = [doc[doc != 0] for doc in ids]
    flat = np.zeros((len(ids), ids.shape[1] * ids.shape[2]), dtype="int32")
    for i, row in enumerate(rows):
        flat[i, : len(row)] = row
    return flat


def pad(x: np.ndarray, *extra: int) -> np.ndarray:
    return np.pad(x, [(0, 0)] + [(0, e) for e in extra])


def test_configs_hold_the_paper_and_tutorial_sizes() -> None:
    for name in HIERARCHICAL:
        cfg = model_config(name)
        assert (cfg["name"], cfg["family"]) == (name, "hierarchical")
        assert (cfg["embedding_dim"], cfg["gru_units"], cfg["attention_dim"]) == (200, 50, 100)
    assert [model_config(n)["pooling"] for n in HIERARCHICAL] == ["attention", "average", "max"]
    for name, pooling in [("flat", "attention"), ("flat_avg", "average")]:
        cfg = model_config(name)
        assert (cfg["name"], cfg["family"], cfg["pooling"]) == (name, "flat", pooling)
        assert (cfg["embedding_dim"], cfg["gru_units"], cfg["attention_dim"]) == (100, 150, 50)
        assert cfg["dropout"] == pytest.approx(0.2)


@pytest.mark.parametrize("name", VARIANTS)
def test_output_shapes_and_attention_at_every_level(name: str) -> None:
    model = shared_model(name)
    ids = inputs_for(name, random_docs(0, docs=4))
    out = {k: v.numpy() for k, v in model.explain(ids).items()}
    assert out["probabilities"].shape == (4, 3) and out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(model(ids).numpy(), out["probabilities"], atol=1e-6)

    words = out["word_attention"]
    assert words.shape == ids.shape
    assert np.all(words[ids == 0] == 0.0)
    if is_flat(name):
        assert set(out) == {"probabilities", "word_attention"}
        np.testing.assert_allclose(words.sum(axis=1), 1.0, atol=1e-6)
        return
    real = (ids != 0).any(axis=-1)
    np.testing.assert_allclose(words.sum(axis=-1)[real], 1.0, atol=1e-6)
    sentences = out["sentence_attention"]
    assert sentences.shape == real.shape
    assert np.all(sentences[~real] == 0.0)
    np.testing.assert_allclose(sentences.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("name", VARIANTS)
def test_padding_and_batch_mates_change_nothing(name: str) -> None:
    model = shared_model(name)
    ids = random_docs(1)
    others = random_docs(2, docs=2, sentences=5, words=6)
    if is_flat(name):
        base, others = inputs_for(name, ids), inputs_for(name, others)
        bigger = np.concatenate([pad(base, others.shape[1] - base.shape[1]), others])
    else:
        base = ids
        bigger = np.concatenate([pad(ids, 2, 2), others])  # extra sentence rows and word columns
    expected = model.explain(base)
    got = model.explain(bigger)
    np.testing.assert_allclose(got["probabilities"][:3], expected["probabilities"], atol=1e-5)
    crop = tuple(slice(0, n) for n in base.shape)
    np.testing.assert_allclose(got["word_attention"][crop], expected["word_attention"], atol=1e-5)
    if not is_flat(name):
        np.testing.assert_allclose(
            got["sentence_attention"][:3, :3], expected["sentence_attention"], atol=1e-5
        )


@pytest.mark.parametrize("name", HIERARCHICAL)
def test_an_empty_sentence_slot_in_the_middle_is_skipped(name: str) -> None:
    model = shared_model(name)
    ids = random_docs(3, docs=2, sentences=3)
    ids[:, :3, 0] = 5  # three real sentences each
    holed = np.insert(ids, 1, 0, axis=1)  # slot 1 empty, the rest shifted down
    expected, got = model.explain(ids), model.explain(holed)
    np.testing.assert_allclose(got["probabilities"], expected["probabilities"], atol=1e-5)
    np.testing.assert_allclose(
        got["sentence_attention"].numpy()[:, [0, 2, 3]], expected["sentence_attention"], atol=1e-5
    )
    assert np.all(got["sentence_attention"].numpy()[:, 1] == 0.0)
    assert np.all(got["word_attention"].numpy()[:, 1] == 0.0)


def test_only_real_sentences_are_encoded_on_a_left_aligned_grid(monkeypatch) -> None:
    model = tiny_model("han")
    ids = random_docs(11, docs=3, sentences=4, words=5)
    ids[0, :3, 0] = 7
    ids[0, 1] = 0  # a hole between two real sentences
    seen: dict[str, Any] = {}
    word_call, sentence_call = model.word_encoder.encode_real, model.sentence_encoder.call

    def word_spy(word_ids, training=None):
        seen.setdefault("word_ids", []).append(word_ids.numpy())
        return word_call(word_ids, training)

    def sentence_spy(inputs, mask=None, training=None):
        seen["mask"] = mask.numpy()
        return sentence_call(inputs, mask=mask, training=training)

    monkeypatch.setattr(model.word_encoder, "encode_real", word_spy)
    monkeypatch.setattr(model.sentence_encoder, "call", sentence_spy)
    model(ids)
    real = (ids != 0).any(axis=-1)
    # Packed: the word encoder saw exactly the real sentences (in length-sorted groups, each
    # trimmed to its longest sentence) and no empty row.
    width = ids.shape[2]
    rows = np.concatenate([np.pad(c, [(0, 0), (0, width - c.shape[1])]) for c in seen["word_ids"]])
    assert (rows != 0).any(axis=1).all()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, ids[real]))
    # cuDNN only accepts right-padded masks: the hole must be closed up.
    counts = real.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(seen["mask"], np.arange(ids.shape[1]) < counts)


@pytest.mark.parametrize("name", VARIANTS)
def test_empty_documents_give_finite_predictions(name: str) -> None:
    model = shared_model(name)
    ids = inputs_for(name, random_docs(4))
    ids[1] = 0
    for batch in (ids, np.zeros_like(ids)):  # one empty document; a batch of only empty ones
        out = {k: v.numpy() for k, v in model.explain(batch).items()}
        assert np.isfinite(out["probabilities"]).all()
        assert all(np.all(v[1] == 0.0) for k, v in out.items() if k != "probabilities")


def labelled_batch(name: str) -> tuple[np.ndarray, np.ndarray]:
    """8 random documents with arbitrary labels: only memorising them gives 100% accuracy."""
    rng = np.random.default_rng(5)
    ids = rng.integers(1, VOCAB, (8, 3, 4)).astype("int32")
    ids[:, :, 3] = 0
    ids[::3, 2] = 0
    return inputs_for(name, ids), np.arange(8) % 3


@pytest.mark.parametrize("name", VARIANTS)
def test_every_weight_learns_and_a_tiny_batch_is_overfitted(name: str) -> None:
    model = tiny_model(name)
    ids, labels = labelled_batch(name)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(ids, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    norms = {
        v.path: float(tf.norm(tf.convert_to_tensor(g)))
        for v, g in zip(model.trainable_variables, gradients, strict=True)
    }
    assert all(n > 0 for n in norms.values()), norms
    levels = ["word_encoder", "classifier"]
    levels += [] if is_flat(name) else ["sentence_encoder"]
    if model_config(name)["pooling"] == "attention":
        levels += ["word_attention"] + ([] if is_flat(name) else ["sentence_attention"])
    for level in levels:
        assert any(f"/{level}/" in path for path in norms), (level, list(norms))

    optimizer = keras.optimizers.Adam(0.03)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    x, y = tf.constant(ids), tf.constant(labels)
    for _ in range(30):  # at most 300 steps; a few dozen are enough
        for _ in range(10):
            step(x, y)
        if np.all(np.argmax(model(ids).numpy(), axis=1) == labels):
            break
    np.testing.assert_array_equal(np.argmax(model(ids).numpy(), axis=1), labels)


@pytest.mark.parametrize("name", VARIANTS)
def test_keras_file_round_trip(name: str, tmp_path: Path) -> None:
    model = shared_model(name)
    ids = inputs_for(name, random_docs(6))
    path = tmp_path / "model.keras"
    model.save(path)
    revived = keras.saving.load_model(path)
    assert type(revived) is type(model) and revived.get_config() == model.get_config()
    expected, got = model.explain(ids), revived.explain(ids)
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(got[key].numpy(), expected[key].numpy())


def test_saved_weights_keep_the_pre_fused_gru_layout(tmp_path: Path) -> None:
    """The BiGRUs' weights (names, shapes, order) are those of two stock Keras GRUs, as before
    the fused loop of issue #16, so `.keras` files saved by earlier versions load."""
    model = tiny_model("han")
    model.save(tmp_path / "model.keras")
    revived = keras.saving.load_model(tmp_path / "model.keras")
    gru = [
        (f"han/{level}/bigru/{direction}_gru/gru_cell/{name}", shape)
        for level, width in (("word_encoder", 8), ("sentence_encoder", 8))
        for direction in ("forward", "backward")
        for name, shape in (("kernel", (width, 12)), ("recurrent_kernel", (4, 12)),
                            ("bias", (2, 12)))
    ]
    for m in (model, revived):
        layout = [(w.path, tuple(w.shape)) for w in m.weights if "/bigru/" in w.path]
        assert layout == gru


@pytest.mark.parametrize("name", ["han", "flat"])
def test_saved_model_export_serves_the_same_predictions(name: str, tmp_path: Path) -> None:
    model = shared_model(name)
    model.export(tmp_path / "export", verbose=False)
    served = tf.saved_model.load(str(tmp_path / "export"))
    for seed, shape in [(7, (3, 3, 4)), (8, (2, 5, 6))]:  # any batch, sentence and word count
        ids = inputs_for(name, random_docs(seed, *shape))
        np.testing.assert_allclose(served.serve(tf.constant(ids)), model(ids), atol=1e-6)


@pytest.mark.parametrize("name", VARIANTS)
def test_mixed_precision_gives_finite_float32_probabilities(name: str, mixed_precision) -> None:
    model = tiny_model(name)
    assert model.word_encoder.rnn.compute_dtype == "float16"
    ids = inputs_for(name, random_docs(9))
    out = model.explain(ids)
    assert all(v.dtype == tf.float32 for v in out.values())
    assert all(np.isfinite(v.numpy()).all() for v in out.values())
    np.testing.assert_allclose(out["probabilities"].numpy().sum(axis=1), 1.0, atol=1e-5)


def test_embedding_matrix_initialises_the_embedding() -> None:
    cfg = {**model_config("han"), **TINY}
    matrix = np.random.default_rng(0).normal(size=(VOCAB, 8)).astype("float32")
    model = build_model(cfg, VOCAB, 2, embedding_matrix=matrix)
    np.testing.assert_array_equal(model.word_encoder.embedding.embeddings.numpy(), matrix)
    assert model(random_docs(0)).shape == (3, 2)
    with pytest.raises(ValueError, match=r"model\.embedding_dim"):
        build_model(cfg, VOCAB, 2, embedding_matrix=matrix[:, :5])


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="family"):
        build_model({**model_config("han"), "family": "deep"}, VOCAB, 2)
    with pytest.raises(ValueError, match="pooling"):
        build_model({**model_config("flat"), **TINY, "pooling": "sum"}, VOCAB, 2)
    assert isinstance(tiny_model("han"), HierarchicalAttentionNetwork)
    assert isinstance(tiny_model("flat"), FlatAttentionNetwork)


def _paper_model_with_weights_of(model: keras.Model, time_distributed: bool) -> keras.Model:
    """`han.paper`'s padded HAN (the specification) carrying `model`'s weights."""
    reference = build_padded_han(VOCAB, 3, 4, 5, 8, 4, 6, time_distributed=time_distributed)
    word_level = reference.get_layer("time_distributed").layer if time_distributed else reference
    word_level.get_layer("embedding").set_weights(model.word_encoder.embedding.get_weights())
    word_level.get_layer("word_bigru").set_weights(model.word_encoder.rnn.get_weights())
    reference.get_layer("sentence_bigru").set_weights(model.sentence_encoder.rnn.get_weights())
    for mine, theirs in ((word_level.get_layer("word_attention"), model.word_attention),
                         (reference.get_layer("sentence_attention"), model.sentence_attention)):
        mine.set_weights([theirs.projection.kernel.numpy(), theirs.projection.bias.numpy(),
                          theirs.context.numpy()])
    reference.get_layer("classifier").set_weights(model.classifier.get_weights())
    return reference


def _holey_docs() -> np.ndarray:
    ids = random_docs(10, docs=3, sentences=4, words=5)
    ids[0, :3, 0] = 7
    ids[0, 1] = 0  # a hole, as well as trailing empty slots
    return ids


@pytest.mark.parametrize("time_distributed", [True, False], ids=["time_distributed", "reshape"])
def test_the_packed_model_computes_the_papers_specification(time_distributed: bool) -> None:
    # han/paper.py uses stock masked Bidirectional(GRU) layers and attention written as eqs.
    # 5-10: equal outputs also show that the mask-free packed BiGRU computes a masked one.
    model = tiny_model("han")
    ids = _holey_docs()
    probabilities = _paper_model_with_weights_of(model, time_distributed)(ids).numpy()
    assert probabilities.shape == (3, 3)
    np.testing.assert_allclose(probabilities, model(ids).numpy(), atol=1e-5)


def test_the_packed_models_gradients_are_the_specifications() -> None:
    model = tiny_model("han")
    reference = _paper_model_with_weights_of(model, time_distributed=False)
    ids = _holey_docs()
    labels = np.array([0, 2, 1])

    def gradients(net: keras.Model, variables: list) -> list[np.ndarray]:
        with tf.GradientTape() as tape:
            probabilities = net(ids, training=False)
            loss = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, variables)]

    word_level = reference
    pairs = [  # (the packed model's variable, the specification's)
        (model.word_encoder.embedding.embeddings, word_level.get_layer("embedding").embeddings),
        (model.word_attention.context, word_level.get_layer("word_attention").context),
        (model.word_attention.projection.kernel, word_level.get_layer("word_attention").kernel),
        (model.sentence_attention.context, reference.get_layer("sentence_attention").context),
        (model.classifier.kernel, reference.get_layer("classifier").kernel),
        *zip(model.word_encoder.rnn.trainable_weights,
             word_level.get_layer("word_bigru").trainable_weights, strict=True),
        *zip(model.sentence_encoder.rnn.trainable_weights,
             reference.get_layer("sentence_bigru").trainable_weights, strict=True),
    ]
    ours = gradients(model, [a for a, _ in pairs])
    theirs = gradients(reference, [b for _, b in pairs])
    for (variable, _), mine, spec in zip(pairs, ours, theirs, strict=True):
        assert np.abs(spec).max() > 0, variable.path  # a gradient that could differ
        np.testing.assert_allclose(mine, spec, atol=1e-5, err_msg=variable.path)
