"""Attention of a trained model on documents, aligned with their words: `DocumentAttention`.

Produced here (`document_attention`), rendered by `han.report`, written as JSON by `han.predict`.
The model sees vocabulary ids (unknown words are id 1); a reader wants the words as written. So
every view is built twice from the same corpus arrays — once with vocabulary ids, once with
lexicon ids — and the two have the same shape by construction: the attention of position
(l, t) belongs to the word at (l, t) of the lexicon view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from han.data.encode import EncodedDocs


@dataclass
class DocumentAttention:
    """One document's words, attention weights and prediction."""

    id: str
    sentences: list[list[str]]
    word_attention: list[list[float]]
    sentence_attention: list[float] | None
    predicted: str
    probabilities: dict[str, float]
    label: str | None = None
    # Optional, from han.analysis (docs/ATTENTION.md): the prediction without the most attended
    # sentence, and each word's gradient importance |∇_x p_ŷ · x| aligned like word_attention.
    top_sentence_erasure: dict[str, Any] | None = None
    word_gradient: list[list[float]] | None = None
    # When the run's view cut the document: sentences and words read, of how many (han.predict)
    read: dict[str, int] | None = None

    def __post_init__(self) -> None:
        # A shape mismatch would silently shade the wrong words, so fail where the data is built.
        if len(self.word_attention) != len(self.sentences):
            raise ValueError(
                f"{self.id!r}: word_attention has {len(self.word_attention)} rows "
                f"for {len(self.sentences)} sentences"
            )
        for i, (words, att) in enumerate(zip(self.sentences, self.word_attention, strict=True)):
            if len(words) != len(att):
                raise ValueError(
                    f"{self.id!r}: sentence {i} has {len(words)} words "
                    f"but {len(att)} attention weights"
                )
        if self.sentence_attention is not None and len(self.sentence_attention) != len(
            self.sentences
        ):
            raise ValueError(
                f"{self.id!r}: sentence_attention has {len(self.sentence_attention)} "
                f"values for {len(self.sentences)} sentences"
            )

    @property
    def hierarchical(self) -> bool:
        return self.sentence_attention is not None

    def to_json(self) -> dict[str, Any]:
        """Plain dict of built-in types (numpy scalars become floats)."""
        return {
            "id": str(self.id),
            "sentences": [[str(w) for w in s] for s in self.sentences],
            "word_attention": [[float(a) for a in s] for s in self.word_attention],
            "sentence_attention": None
            if self.sentence_attention is None
            else [float(a) for a in self.sentence_attention],
            "predicted": str(self.predicted),
            "probabilities": {str(k): float(v) for k, v in self.probabilities.items()},
            "label": None if self.label is None else str(self.label),
            "top_sentence_erasure": self.top_sentence_erasure,
            "word_gradient": None if self.word_gradient is None
            else [[float(g) for g in s] for s in self.word_gradient],
            "read": self.read,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentAttention:
        """Inverse of `to_json`, e.g. to render the prediction CLI's output later."""
        return cls(
            id=data["id"],
            sentences=data["sentences"],
            word_attention=data["word_attention"],
            sentence_attention=data.get("sentence_attention"),
            predicted=data["predicted"],
            probabilities=data["probabilities"],
            label=data.get("label"),
            top_sentence_erasure=data.get("top_sentence_erasure"),
            word_gradient=data.get("word_gradient"),
            read=data.get("read"),
        )


def explain_batch(model, ids: np.ndarray) -> dict[str, np.ndarray]:
    """`model.explain` as numpy arrays."""
    out = model.explain(ids)
    return {key: np.asarray(value) for key, value in out.items()}


def document_attention(
    model,
    model_view: EncodedDocs,
    word_view: EncodedDocs,
    lexicon: np.ndarray,
    indices: Sequence[int],
    classes: Sequence[str],
    flat: bool,
    labels: Sequence[str | None] | None = None,
    erasure: bool = False,
    gradient: bool = False,
) -> list[DocumentAttention]:
    """Predictions and attention of the documents at `indices`, padding removed.

    Hierarchical models only: `erasure` adds the prediction without each document's most
    attended sentence, `gradient` each word's gradient importance (han/analysis).
    """
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        return []
    ids = model_view.padded(indices, flat)
    words = word_view.padded(indices, flat)
    out = explain_batch(model, ids)
    erased = _top_sentence_erasure(model, ids, out, classes) if erasure and not flat else None
    grads = None
    if gradient and not flat:
        from han.analysis.probe import gradient_importance

        grads = gradient_importance(model, ids)["word"]
    docs = []
    for row, doc in enumerate(indices):
        probs = out["probabilities"][row]
        if flat:
            n = int(model_view.sentence_lengths[model_view.doc_offsets[doc]]) if model_view.doc_sentences[doc] else 0
            sentences = [[str(w) for w in lexicon[words[row, :n]]]] if n else []
            word_attention = [out["word_attention"][row, :n].tolist()] if n else []
            sentence_attention = None
        else:
            start = model_view.doc_offsets[doc]
            lengths = model_view.sentence_lengths[start : start + model_view.doc_sentences[doc]]
            sentences = [[str(w) for w in lexicon[words[row, s, :n]]] for s, n in enumerate(lengths)]
            word_attention = [out["word_attention"][row, s, :n].tolist() for s, n in enumerate(lengths)]
            sentence_attention = out["sentence_attention"][row, : len(lengths)].tolist()
        docs.append(
            DocumentAttention(
                id=str(model_view.ids[doc]),
                sentences=sentences,
                word_attention=word_attention,
                sentence_attention=sentence_attention,
                predicted=str(classes[int(probs.argmax())]),
                probabilities={c: float(p) for c, p in zip(classes, probs, strict=True)},
                label=None if labels is None else labels[row],
                top_sentence_erasure=None if erased is None else erased[row],
                word_gradient=None if grads is None or flat
                else [grads[row, s, :n].tolist() for s, n in enumerate(lengths)],
            )
        )
    return docs


def _top_sentence_erasure(model, ids: np.ndarray, out: dict[str, np.ndarray],
                          classes: Sequence[str]) -> list[dict[str, Any]]:
    """Per document: its most attended sentence removed, the new prediction and whether it flipped.

    The rank among real sentences (0-based, reading order) names the sentence, so it matches the
    report's rows.
    """
    from han.analysis.erasure import remove_sentences

    top = out["sentence_attention"].argmax(-1)  # (B,), a real sentence: padding weighs 0
    drop = np.zeros(ids.shape[:2], dtype=bool)
    drop[np.arange(len(ids)), top] = True
    after = np.asarray(model.probabilities(remove_sentences(ids, drop)))
    real = (ids != 0).any(-1)
    result = []
    for row, probs in enumerate(after):
        before = int(out["probabilities"][row].argmax())
        result.append({
            "sentence": int(real[row, : top[row]].sum()),
            "predicted_after": str(classes[int(probs.argmax())]),
            "p_before": float(out["probabilities"][row, before]),
            "p_after": float(probs[before]),
            "flipped": bool(int(probs.argmax()) != before),
        })
    return result
