"""The paper's linear baselines: TF-IDF features + multinomial logistic regression.

Yang et al. (2016), Table 2, compare HAN with Zhang et al.'s (2015) "BoW TFIDF" and "ngrams
TFIDF" rows: a document's word (or word n-gram) counts, TF-IDF weighted, fed to a multinomial
logistic regression. `model=tfidf_lr` and `model=ngram_tfidf_lr` are those models, run by the same
`han.train` as the networks: the same tokenised corpus, vocabulary (words seen at least
`dataset.vocab.min_count` times in train; the unknown id is left out like padding) and splits,
and the inverse regularisation strength C chosen on validation only, by the rule that picks a
network's best epoch (`trainer.monitor`, a tie going to the lower validation loss).

A baseline reads the whole document: no L×T or N cut, as in the paper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from han.data import ragged
from han.data.encode import EncodedDocs
from han.data.vocab import Vocabulary
from han.evaluation import classification_metrics
from han.io import atomic_open
from han.schema import Monitor, better, typed

log = logging.getLogger(__name__)

FAMILY = "linear"
MODEL_FILE = "model.joblib"
# The bag-of-words baseline every network run fits beside itself (`baseline: true`): the
# defaults of LinearModel (han/schema.py), which conf/model/tfidf_lr.yaml keeps.
BAG_OF_WORDS = {"name": "tfidf_lr", "family": FAMILY}


def is_linear(model_cfg: Mapping) -> bool:
    return str(model_cfg.get("family")) == FAMILY


def as_text(docs: EncodedDocs) -> list[str]:
    """Each document's vocabulary ids, unknown ones left out, as one space-separated string.

    Ids rather than words: the features are then exactly the vocabulary the networks read.
    """
    known = docs.tokens > Vocabulary.unk_id
    words = docs.tokens.astype(str)
    doc_of_token = ragged.segment_ids(docs.doc_tokens)
    bounds = np.searchsorted(doc_of_token[known], np.arange(len(docs) + 1))
    kept = words[known]
    return [" ".join(kept[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclass
class LinearBaseline:
    """A fitted TF-IDF vectorizer and logistic regression, with the C that validation chose."""

    vectorizer: object
    classifier: object
    num_classes: int
    C: float
    name: str = "tfidf_lr"

    def probabilities(self, docs: EncodedDocs) -> np.ndarray:
        """Class probabilities (len(docs), num_classes), columns in the run's class order."""
        return _probabilities(self.classifier, self.vectorizer.transform(as_text(docs)),
                              self.num_classes)

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


def _probabilities(classifier, features, num_classes: int) -> np.ndarray:
    """(documents, num_classes) float32, columns in the run's class order."""
    probs = np.zeros((features.shape[0], num_classes), dtype=np.float32)
    probs[:, classifier.classes_] = classifier.predict_proba(features)
    return probs


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
) -> tuple[LinearBaseline, list[dict]]:
    """Fit one model per C of `cfg.C_grid` on train; keep the best on validation.

    Returns the chosen model and the selection table (one row per C with its validation
    scores), which `metrics.json` records as the run's history.
    """
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    cfg = typed("model", cfg)
    vectorizer = _vectorizer(cfg)
    x_train = vectorizer.fit_transform(as_text(train))  # IDF from the training split only
    x_val = vectorizer.transform(as_text(validation))
    best, best_key, history = None, None, []
    for C in (float(c) for c in cfg.C_grid):
        classifier = LogisticRegression(C=C, max_iter=int(cfg.max_iter))
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
        "%s: C=%g chosen on validation (%d features, %.1f s)",
        best.name, best.C, len(vectorizer.vocabulary_), time.perf_counter() - start,
    )
    return best, history
