"""Attention rendered for people: self-contained HTML reports and Markdown for TensorBoard.

Renders the `DocumentAttention`s that `han.explain` produces, after Figures 5 and 6 of Yang et
al. (2016): sentences are tinted by sentence attention α_s and words by sqrt(α_s)·α_w, so that
words inside unimportant sentences fade. Flat (single-level) models shade words by α_w alone.
Pure Python: the documents hold lists of floats, not tensors. Colours, CSS and the legend are
`han.report_style`.
"""

from __future__ import annotations

import html
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path

from han.explain import DocumentAttention
from han.io import atomic_write_text
from han.report_style import CSS, GRAD_RGB, SENT_RGB, WORD_RGB, legend

__all__ = [
    "attention_markdown",
    "render_report",
    "select_documents",
    "word_shading",
    "write_report",
]


def _clean(x: float) -> float:
    """Attention as a finite non-negative float (NaN/inf would poison the per-document max)."""
    x = float(x)
    return x if math.isfinite(x) and x > 0 else 0.0


def word_shading(doc: DocumentAttention) -> list[list[float]]:
    """Per-word opacity in [0, 1]: sqrt(α_s)·α_w (flat: α_w), divided by the document's maximum."""
    if doc.sentence_attention is None:
        scale = [1.0] * len(doc.sentences)
    else:
        scale = [math.sqrt(_clean(a)) for a in doc.sentence_attention]
    raw = [[s * _clean(a) for a in row] for s, row in zip(scale, doc.word_attention, strict=True)]
    top = max((w for row in raw for w in row), default=0.0)
    if top <= 0:
        return [[0.0] * len(row) for row in raw]
    return [[w / top for w in row] for row in raw]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# Tokenised text has spaces before punctuation and clitics; gluing them back reads naturally.
_GLUE = re.compile(r"^(?:[.,;:!?%)\]}]+|'s|'re|'ve|'ll|'d|'m|n't)$", re.IGNORECASE)



def gradient_shading(doc: DocumentAttention) -> list[list[float]]:
    """Per-word opacity in [0, 1]: gradient importance divided by the document's maximum."""
    raw = [[_clean(g) for g in row] for row in doc.word_gradient or []]
    top = max((g for row in raw for g in row), default=0.0)
    return [[g / top if top > 0 else 0.0 for g in row] for row in raw]


def _erasure(doc: DocumentAttention) -> str:
    """One line: does removing the most attended sentence change the prediction?"""
    e = doc.top_sentence_erasure
    if not e:
        return ""
    change = (f"flips it to <b>{_esc(e['predicted_after'])}</b>" if e["flipped"]
              else "keeps the prediction")
    return (f'<div class="erasure">Removing the most attended sentence (#{int(e["sentence"]) + 1}) '
            f"{change}: p({_esc(doc.predicted)}) {float(e['p_before']):.3f} → "
            f"{float(e['p_after']):.3f}</div>")


def _probabilities(doc: DocumentAttention) -> str:
    rows = []
    for cls, p in sorted(doc.probabilities.items(), key=lambda kv: (-float(kv[1]), str(kv[0]))):
        p = float(p)
        pct = min(max(p, 0.0), 1.0) * 100
        pred = ' class="pred"' if str(cls) == str(doc.predicted) else ""
        rows.append(
            f'<tr{pred}><td class="cls">{_esc(cls)}</td>'
            f'<td><div class="pbar"><div style="width:{pct:.1f}%"></div></div></td>'
            f"<td>{p:.3f}</td></tr>"
        )
    return f'<table class="probs">{"".join(rows)}</table>'


def _words(words: list[str], att: list[float], shade: list[float], scale: float | None,
           rgb: str = WORD_RGB, tip_name: str = "α_w") -> str:
    """Word spans; `scale` is sqrt(α_s) for hierarchical models, None for flat ones."""
    if not words:
        return '<span class="empty">(no words)</span>'
    out = []
    for i, (word, a, o) in enumerate(zip(words, att, shade, strict=True)):
        sep = "" if i == 0 or _GLUE.match(str(word)) else " "
        tip = f"{tip_name} {_clean(a):.4g}"
        if scale is not None and tip_name == "α_w":
            tip += f" · √α_s·α_w {scale * _clean(a):.4f}"
        out.append(
            f'{sep}<span class="w" style="background-color:rgba({rgb},{o:.3f})" '
            f'title="{tip}">{_esc(word)}</span>'
        )
    return "".join(out)


def _document(doc: DocumentAttention) -> str:
    status, verdict = "", ""
    if doc.label is not None:
        ok = str(doc.label) == str(doc.predicted)
        status = " correct" if ok else " wrong"
        verdict = (
            f'<span class="badge {"ok" if ok else "bad"}">true: {_esc(doc.label)} '
            f"{'✓ correct' if ok else '✗ wrong'}</span>"
        )
    head = (
        f'<div class="head"><div class="meta"><div class="docid">{_esc(doc.id)}</div>'
        f'<span class="badge">predicted: {_esc(doc.predicted)}</span>{verdict}{_erasure(doc)}</div>'
        f"{_probabilities(doc)}</div>"
    )
    shading = word_shading(doc)
    grads = doc.word_gradient
    grad_shading = gradient_shading(doc) if grads is not None else None
    rows = []
    if doc.sentence_attention is None:
        for words, att, shade in zip(doc.sentences, doc.word_attention, shading, strict=True):
            rows.append(
                f'<div class="sent flat"><div class="words">'
                f"{_words(words, att, shade, None)}</div></div>"
            )
    else:
        s_att = [_clean(a) for a in doc.sentence_attention]
        s_max = max(s_att, default=0.0) or 1.0
        for i, (words, att, shade, a_s) in enumerate(
            zip(doc.sentences, doc.word_attention, shading, s_att, strict=True)
        ):
            rel = a_s / s_max
            beside = "" if grad_shading is None else (
                f'<div class="words">{_words(words, grads[i], grad_shading[i], None, GRAD_RGB, "|∇x p·x|")}</div>')
            rows.append(
                f'<div class="sent{" grad" if beside else ""}" '
                f'style="border-left-color:rgba({SENT_RGB},{rel:.3f})">'
                f'<div class="satt">{a_s * 100:.1f}%<div class="sbar">'
                f'<div style="width:{rel * 100:.1f}%"></div></div></div>'
                f'<div class="words">{_words(words, att, shade, math.sqrt(a_s))}</div>{beside}'
                "</div>"
            )
    if not rows:
        rows.append('<div class="sent flat"><span class="empty">(empty document)</span></div>')
    return f'<section class="doc{status}">{head}<div class="body">{"".join(rows)}</div></section>'


def render_report(documents: Sequence[DocumentAttention], title: str, subtitle: str = "") -> str:
    """One self-contained HTML page (inline CSS, no scripts) showing each document's attention."""
    labelled = [d for d in documents if d.label is not None]
    correct = sum(str(d.label) == str(d.predicted) for d in labelled)
    summary = f"{len(documents)} document{'s' if len(documents) != 1 else ''}"
    if labelled:
        summary += f" · {correct} correct · {len(labelled) - correct} wrong"
    has_h = any(d.hierarchical for d in documents)
    has_f = any(not d.hierarchical for d in documents)
    has_g = any(d.word_gradient is not None for d in documents)
    body = "".join(_document(d) for d in documents) or '<p class="empty">No documents.</p>'
    sub = f'<p class="subtitle">{_esc(subtitle)}</p>' if subtitle else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main><h1>{_esc(title)}</h1>{sub}"
        f'<p class="summary">{summary}</p>{legend(has_h, has_f or not documents, has_g)}{body}'
        "</main></body></html>\n"
    )


def write_report(
    documents: Sequence[DocumentAttention], path: Path, title: str, subtitle: str = ""
) -> Path:
    """Render and write atomically, so a reader never sees a half-written page."""
    path = Path(path)
    atomic_write_text(path, render_report(documents, title, subtitle))
    return path


def select_documents(
    labels: Sequence[str], predicted: Sequence[str], n: int, seed: int = 0
) -> list[int]:
    """Up to n indices, half correct and half wrong when possible, sorted ascending."""
    if len(labels) != len(predicted):
        raise ValueError(f"{len(labels)} labels but {len(predicted)} predictions")
    if n <= 0:
        return []
    right = [i for i, (y, p) in enumerate(zip(labels, predicted, strict=True)) if y == p]
    wrong = [i for i, (y, p) in enumerate(zip(labels, predicted, strict=True)) if y != p]
    n_wrong = min(len(wrong), n // 2)
    n_right = min(len(right), n - n_wrong)
    n_wrong = min(len(wrong), n - n_right)  # top up with errors if correct ones ran short
    rng = random.Random(seed)
    return sorted(rng.sample(right, n_right) + rng.sample(wrong, n_wrong))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def _md(text: object) -> str:
    """Escape Markdown syntax, then HTML (TensorBoard's Markdown passes raw HTML through)."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(text)), quote=False)


def attention_markdown(doc: DocumentAttention, top_k: int = 5) -> str:
    """Compact Markdown for TensorBoard's text dashboard: sentences with α_s, top-k words bold."""
    verdict = ""
    if doc.label is not None:
        ok = str(doc.label) == str(doc.predicted)
        verdict = f" · true: {_md(doc.label)} {'✓' if ok else '✗'}"
    p = float(doc.probabilities.get(doc.predicted, float("nan")))
    lines = [f"**{_md(doc.id)}** · predicted: **{_md(doc.predicted)}** ({p:.1%}){verdict}", ""]
    for i, (words, att) in enumerate(zip(doc.sentences, doc.word_attention, strict=True)):
        ranked = sorted(range(len(words)), key=lambda j: (-_clean(att[j]), j))
        top = {j for j in ranked[: max(top_k, 0)] if _clean(att[j]) > 0}
        text = " ".join(f"**{_md(w)}**" if j in top else _md(w) for j, w in enumerate(words))
        if doc.sentence_attention is None:
            lines.append(f"- {text}")
        else:
            lines.append(f"- `{_clean(doc.sentence_attention[i]):.1%}` {text}")
    return "\n".join(lines) + "\n"
