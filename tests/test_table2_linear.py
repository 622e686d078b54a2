"""The linear rows of Table 2 that Tang et al. (2015) ran (majority, svm_unigram, svm_bigram,
svm_avgsg, paragraph_vector), on 120 real BBC articles: each learns, picks its C on validation
without reading test, and writes a complete run directory that `han.predict` reads back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from runs import CONF, csv_run_args

from han.data.prepare import prepare

REPO = Path(__file__).resolve().parents[1]
MODELS = ["majority", "svm_unigram", "svm_bigram", "svm_avgsg", "paragraph_vector"]


def linear_args(csv: Path, cache: Path) -> list[str]:
    # The shrunken networks' sizes (runs.SHRINK) are not keys of a linear model's config.
    return [a for a in csv_run_args(csv, cache) if not a.startswith("model.")]


@pytest.fixture(scope="module")
def cfg_for(bbc_csv, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")

    def make(model: str):
        with initialize_config_dir(str(CONF), version_base="1.3"):
            return compose("train", [*linear_args(bbc_csv, cache), f"model={model}"])
    return make


@pytest.fixture(scope="module")
def data(cfg_for):
    cfg = cfg_for("majority")
    return prepare(cfg.dataset, cfg.paths, int(cfg.seed), 1, False)


def fit(cfg, data, run_dir: Path) -> tuple[dict, object]:
    """A linear run as `han.train` does it (its run directory in `run_dir`), and its model."""
    from han.baselines import MODEL_FILE, LinearBaseline
    from han.train import run_linear

    run_dir.mkdir(parents=True, exist_ok=True)
    metrics = run_linear(cfg, data, run_dir)
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    for file in ["vocab.json", "data_summary.json", "predictions.csv", MODEL_FILE]:
        assert (run_dir / file).is_file(), file
    return metrics, LinearBaseline.load(run_dir / MODEL_FILE)


def test_majority_predicts_the_most_frequent_training_class(cfg_for, data, tmp_path):
    metrics, model = fit(cfg_for("majority"), data, tmp_path)
    train, test = data.splits["train"], data.splits["test"]
    top = np.bincount(train.labels, minlength=len(data.classes)).argmax()
    assert (test.labels == top).mean() == pytest.approx(metrics["test"]["accuracy"])
    probs = model.probabilities(test)
    shares = np.bincount(train.labels, minlength=len(data.classes)) / len(train)
    np.testing.assert_allclose(probs, np.tile(shares, (len(test), 1)), atol=1e-6)
    assert metrics["validation"]["C"] is None and len(metrics["history"]) == 1


@pytest.mark.parametrize("name", MODELS[1:])
def test_each_row_learns_and_picks_C_on_validation_without_reading_test(name, cfg_for, data,
                                                                         tmp_path):
    cfg = cfg_for(name)
    floor, _ = fit(cfg_for("majority"), data, tmp_path / "floor")
    metrics, model = fit(cfg, data, tmp_path)
    # It learns: clearly above the majority floor on validation (3 balanced classes: ~1/3).
    assert metrics["validation"]["accuracy"] >= floor["validation"]["accuracy"] + 0.3, metrics
    # C: one fit per grid value, the best validation macro-F1 kept (a tie: the lower loss).
    history = metrics["history"]
    assert [h["C"] for h in history] == [float(c) for c in cfg.model.C_grid]
    best = max(history, key=lambda h: (h["val_macro_f1"], -h["val_loss"]))
    assert metrics["validation"]["C"] == best["C"] == model.C
    # Test is not read for the choice: other test labels give the same choice and history.
    test = data.splits["test"]
    saved = test.labels.copy()
    try:
        test.labels = np.roll(saved, 1)
        again, _ = fit(cfg, data, tmp_path / "again")
    finally:
        test.labels = saved
    assert again["history"] == history and again["validation"] == metrics["validation"]
    assert again["test"]["accuracy"] != metrics["test"]["accuracy"]
    # The predictions written are the test split's, scored as metrics.json says.
    written = pd.read_csv(tmp_path / "predictions.csv", dtype={"id": str})
    assert list(written["id"]) == list(test.ids)
    assert (written["label"] == written["predicted"]).mean() == pytest.approx(
        metrics["test"]["accuracy"])
    np.testing.assert_allclose(written.filter(like="prob_").sum(axis=1), 1.0, atol=1e-5)


def test_paragraph_vectors_never_train_on_test_documents(cfg_for, data, tmp_path):
    _, model = fit(cfg_for("paragraph_vector"), data, tmp_path)
    pv = model.vectorizer
    train, validation, test = (data.splits[s] for s in ("train", "validation", "test"))
    # Trained on the training documents, and only them: one learnt vector each.
    assert sorted(pv.trained_on) == sorted(map(str, train.ids))
    assert not set(pv.trained_on) & (set(map(str, test.ids)) | set(map(str, validation.ids)))
    doc2vec = pv.models[0]
    assert len(doc2vec.dv) == len(train) and doc2vec.corpus_count == len(train)
    # Inferring test documents changes nothing in the model (words, outputs, document vectors).
    before = [doc2vec.wv.vectors.copy(), doc2vec.syn1neg.copy(), doc2vec.dv.vectors.copy()]
    first = pv.transform_docs(test)
    after = [doc2vec.wv.vectors, doc2vec.syn1neg, doc2vec.dv.vectors]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
    # A document's inferred vector does not depend on what was inferred before it.
    order = np.arange(len(test))[::-1]
    np.testing.assert_allclose(pv.transform_docs(test.select(order)), first[order], atol=1e-6)


def test_average_sg_reuses_the_networks_word2vec_of_the_training_split(cfg_for, data,
                                                                       tmp_path):
    from han.embeddings import embedding_matrix

    cfg = cfg_for("svm_avgsg")
    _, model = fit(cfg, data, tmp_path)
    # The HAN rows' word2vec settings (dim, window, passes, seed, one worker): the same cache.
    han = cfg_for("han").model
    matrix = embedding_matrix(han, data, int(cfg.seed), 1, cfg.paths.cache_dir)
    np.testing.assert_array_equal(model.vectorizer.matrix, matrix)
    cached = list(Path(cfg.paths.cache_dir).glob("word2vec-*.npy"))
    assert len(cached) == 1
    # A document's feature is the mean of its known words' vectors, standardised.
    test = data.splits["test"]
    words = test.tokens[: test.doc_tokens[0]]
    mean = matrix[words[words > 1]].mean(axis=0)
    scaler = model.vectorizer.scaler  # fitted on the training split
    expected = (mean - scaler.mean_) / scaler.scale_
    np.testing.assert_allclose(model.features(test)[0], expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["paragraph_vector"])  # inference in another process
def test_a_run_writes_its_directory_and_predict_gives_its_own_predictions(name, bbc_csv,
                                                                         tmp_path):
    run_dir = tmp_path / name
    train = subprocess.run(
        [sys.executable, "-m", "han.train", *linear_args(bbc_csv, tmp_path / "cache"),
         f"model={name}", f"hydra.run.dir={run_dir}"],
        capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr[-3000:]
    for file in [".hydra/config.yaml", "vocab.json", "data_summary.json", "metrics.json",
                 "predictions.csv", "model.joblib", "train.log", "run.json"]:
        assert (run_dir / file).is_file(), file
    m = json.loads((run_dir / "metrics.json").read_text())
    assert (m["model"], m["family"]) == (name, "linear") and m["validation"]["C"] > 0
    expected = pd.read_csv(run_dir / "predictions.csv", dtype={"id": str}).set_index("id")
    docs = pd.read_csv(bbc_csv, dtype={"id": str}).set_index("id").loc[expected.index]
    docs.reset_index().to_csv(tmp_path / "test_docs.csv", index=False)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, "-m", "han.predict", f"run_dir={run_dir}",
         f"input={tmp_path / 'test_docs.csv'}", f"output={out}"],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    for doc in json.loads(out.read_text()):
        row = expected.loc[doc["id"]]
        assert doc["predicted"] == row["predicted"]
        np.testing.assert_allclose([doc["probabilities"][c] for c in m["classes"]],
                                   [row[f"prob_{c}"] for c in m["classes"]], atol=1e-5)
    report = subprocess.run(
        [sys.executable, "-m", "han.predict", f"run_dir={run_dir}", "report=true"],
        capture_output=True, text=True, timeout=300, env=env)
    assert report.returncode == 2 and "no attention" in report.stderr


def test_a_linear_rows_bad_features_classifier_or_sizes_are_refused_before_any_data_work():
    # Choices are han/schema.py's (refused while composing); ranges han/config.py's.
    from hydra.errors import ConfigCompositionException

    from han.config import ConfigError, validate
    from han.errors import one_line

    with initialize_config_dir(str(CONF), version_base="1.3"):
        for model in MODELS:
            validate(compose("train", [f"model={model}"]), "train")
        for override, expected in (
            ("model.classifier=svn", "model.classifier is 'svn'; it must be one of: logistic, "
                                     "svm, majority"),
            ("model.features=doc2vec", "model.features is 'doc2vec'; it must be one of: tfidf, "
                                       "average_sg, paragraph_vector, none"),
            ("model.pv_modes=[dm,skipgram]", "model.pv_modes is '[dm,skipgram]'; it must be one "
                                             "of: dm, dbow"),
        ):
            with pytest.raises(ConfigCompositionException) as caught:
                compose("train", ["model=paragraph_vector", override])
            assert expected in one_line(caught.value), override
        bad = compose("train", ["model=paragraph_vector", "model.pv_modes=[]",
                                "model.vector_size=0"])
    with pytest.raises(ConfigError) as err:
        validate(bad, "train")
    message = str(err.value)
    assert "model.vector_size is 0; it must be a whole number > 0" in message
    assert "model.pv_modes is []; list one or both of: dm, dbow" in message
