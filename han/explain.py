"""Attention of a trained model on documents, aligned with their words.

The model sees vocabulary ids (unknown words are id 1); a reader wants the words as written. So
every view is built twice from the same corpus arrays — once with vocabulary ids, once with
lexicon ids — and the two have the same shape by construction: the attention of position
(l, t) belongs to the word at (l, t) of the lexicon view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from han.data.encode import EncodedDocs
from han.report import DocumentAttention


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
) -> list[DocumentAttention]:
    """Predictions and attention of the documents at `indices`, padding removed."""
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        return []
    ids = model_view.padded(indices, flat)
    words = word_view.padded(indices, flat)
    out = explain_batch(model, ids)
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
            )
        )
    return docs
