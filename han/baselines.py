"""The paper's linear rows: document features + a linear classifier, C chosen on validation.

Yang et al. (2016), Table 2, compare HAN with Zhang et al.'s (2015) "BoW TFIDF" and "ngrams
TFIDF" rows: a document's word (or word n-gram) counts, TF-IDF weighted, fed to a multinomial
logistic regression (`model=tfidf_lr`, `model=ngram_tfidf_lr`), and with Tang et al.'s (2015)
rows: Majority, linear SVMs on unigrams, bigrams or averaged skip-gram vectors, and Paragraph
Vector (`model=majority`, `svm_unigram`, `svm_bigram`, `svm_avgsg`, `paragraph_vector`;
docs/TABLE2.md). `model.features` picks the features (`tfidf` here; the dense ones in
`han.document_vectors`), `model.classifier` the classifier: `logistic` (multinomial logistic
regression), `svm` (scikit-learn's LinearSVC, one-vs-rest, squared hinge loss as LIBLINEAR's
default) or `majority` (the training split's class shares, whatever the document).

All run through the same `han.train` as the networks: the same tokenised corpus, vocabulary
(words seen at least `dataset.vocab.min_count` times in train; the unknown id is left out like
padding) and splits, and the inverse regularisation strength C chosen on validation only, by the
rule that picks a network's best epoch (`trainer.monitor`, a tie going to the lower validation
loss). An SVM has no probabilities: its class scores go through a softmax, so its "loss" is a
tie-breaker and a rough confidence, not a calibrated one.

A baseline reads the whole document: no L×T or N cut, as in the paper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

from han.data.encode import EncodedDocs
from han.document_vectors import doc_words
from han.evaluation import classification_metrics
from han.io import atomic_open
from han.schema import Classifier, LinearModel, Monitor, better, typed

log = logging.getLogger(__name__)

FAMILY = "linear"
MODEL_FILE = "model.joblib"
# The bag-of-words baseline every network run fits beside itself (`baseline: true`): the
# defaults of LinearModel (han/schema/model.py), which conf/model/tfidf_lr.yaml keeps.
BAG_OF_WORDS = {"name": "tfidf_lr", "family": FAMILY}


def is_linear(model_cfg: Mapping) -> bool:
    return str(model_cfg.get("family")) == FAMILY


def as_text(docs: EncodedDocs) -> list[str]:
    """Each document's vocabulary ids, unknown ones left out, as one space-separated string.

    Ids rather than words: the features are then exactly the vocabulary the networks read.
    """
    return [" ".join(words) for words in doc_words(docs)]


@dataclass
class LinearBaseline:
    """A fitted featurizer (a TF-IDF vectorizer or one of `han.document_vectors`) and linear
    classifier, with the C that validation chose (None for Majority: nothing to choose)."""

    vectorizer: object
    classifier: object
    num_classes: int
    C: float | None
    name: str = "tfidf_lr"

    def features(self, docs: EncodedDocs):
        return features(self.vectorizer, docs)

    def probabilities(self, docs: EncodedDocs) -> np.ndarray:
        """Class probabilities (len(docs), num_classes), columns in the run's class order."""
        return _probabilities(self.classifier, self.features(docs), self.num_classes)

    def save(self, path: Path) -> None:
        import joblib

        with atomic_open(path, "wb") as handle:
            joblib.dump(self, handle)

    @classmethod
    def load(cls, path: Path) -> LinearBaseline:
        import joblib

        loaded = joblib.load(path)
        if not isinstance(loaded, cls):
            raise TypeError(f"{path} does not hold a LinearBaseline")
        return loaded


def features(vectorizer, docs: EncodedDocs):
    """A featurizer's matrix of `docs`: TF-IDF reads the ids as text, the others the ids."""
    if hasattr(vectorizer, "transform_docs"):
        return vectorizer.transform_docs(docs)
    return vectorizer.transform(as_text(docs))


def _probabilities(classifier, features, num_classes: int) -> np.ndarray:
    """(documents, num_classes) float32, columns in the run's class order; classes the training
    split lacks get 0. An SVM's scores go through a softmax (binary: a sigmoid)."""
    probs = np.zeros((features.shape[0], num_classes), dtype=np.float32)
    if hasattr(classifier, "predict_proba"):
        probs[:, classifier.classes_] = classifier.predict_proba(features)
        return probs
    scores = np.asarray(classifier.decision_function(features), dtype=np.float64)
    if scores.ndim == 1:  # two classes: the score of the second against the first
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    probs[:, classifier.classes_] = softmax(scores, axis=1)
    return probs


def _classifier(cfg: LinearModel, C: float | None, seed: int):
    if cfg.classifier == Classifier.majority:
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior")  # predicts the most frequent training class
    if cfg.classifier == Classifier.svm:
        from sklearn.svm import LinearSVC

        return LinearSVC(C=C, max_iter=int(cfg.max_iter), random_state=seed)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=int(cfg.max_iter))


def _vectorizer(cfg: Mapping):
    from sklearn.feature_extraction.text import TfidfVectorizer

    low, high = (int(n) for n in cfg.ngram_range)
    return TfidfVectorizer(
        token_pattern=r"\S+",  # the text is vocabulary ids separated by spaces
        lowercase=False,
        ngram_range=(low, high),
        max_features=cfg.max_features and int(cfg.max_features),
        min_df=int(cfg.min_df),
        sublinear_tf=bool(cfg.sublinear_tf),
        dtype=np.float32,
    )


def fit_baseline(
    cfg: Mapping,
    train: EncodedDocs,
    validation: EncodedDocs,
    classes: Sequence[str],
    monitor: str = "macro_f1",
    featurizer: object | None = None,
    seed: int = 0,
) -> tuple[LinearBaseline, list[dict]]:
    """Fit one model per C of `cfg.C_grid` on train; keep the best on validation.

    `featurizer` (han.document_vectors) replaces the TF-IDF vectorizer; it is fitted on the
    training split only. Returns the chosen model and the selection table (one row per C with
    its validation scores), which `metrics.json` records as the run's history.
    """
    start = time.perf_counter()
    cfg = typed("model", cfg)
    vectorizer = featurizer if featurizer is not None else _vectorizer(cfg)
    if featurizer is not None:
        x_train = featurizer.fit_transform(train)
    else:
        x_train = vectorizer.fit_transform(as_text(train))  # IDF from the training split only
    x_val = features(vectorizer, validation)
    best, best_key, history = None, None, []
    grid = [None] if cfg.classifier == Classifier.majority else [float(c) for c in cfg.C_grid]
    for C in grid:
        classifier = _classifier(cfg, C, seed)
        classifier.fit(x_train, train.labels)
        model = LinearBaseline(vectorizer, classifier, len(classes), C, str(cfg.name))
        probs = _probabilities(classifier, x_val, len(classes))
        val = classification_metrics(validation.labels, probs, list(classes))
        score = Monitor(monitor).score(val)
        history.append({"C": C, "val_loss": val["loss"], "val_accuracy": val["accuracy"],
                        "val_macro_f1": val["macro_f1"]})
        if best_key is None or better(score, val["loss"], *best_key):
            best, best_key = model, (score, val["loss"])
    log.info(
        "%s: C=%s chosen on validation (%d features, %.1f s)",
        best.name, "none" if best.C is None else f"{best.C:g}", x_train.shape[1],
        time.perf_counter() - start,
    )
    return best, history
