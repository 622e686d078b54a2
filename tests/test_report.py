"""Attention report: content, escaping, shading, selection, JSON and Markdown."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from han.explain import DocumentAttention
from han.report import (
    attention_markdown,
    render_report,
    select_documents,
    word_shading,
    write_report,
)

VOID = {"meta", "br", "img", "hr", "input", "link", "wbr", "col", "source"}
OPACITY = re.compile(r"background-color:\s*rgba\(\s*\d+,\s*\d+,\s*\d+,\s*([0-9.]+)\s*\)")


class Page(HTMLParser):
    """Collects sentence rows, word spans (text + opacity) and checks that tags balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.rows = 0
        self.words: list[tuple[str, float]] = []
        self._word: list[str] | None = None
        self._opacity = 0.0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "sent" in classes:
            self.rows += 1
        if tag == "span" and "w" in classes:
            match = OPACITY.search(a.get("style") or "")
            assert match, a
            self._opacity = float(match.group(1))
            self._word = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "span" and self._word is not None:
            self.words.append(("".join(self._word), self._opacity))
            self._word = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._word is not None:
            self._word.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def hier(id_: str, label: str | None = "pos", predicted: str = "pos") -> DocumentAttention:
    return DocumentAttention(
        id=id_,
        sentences=[["the", "food", "was", "great", "."], ["service", "slow"], ["would", "return"]],
        word_attention=[[0.05, 0.3, 0.05, 0.55, 0.05], [0.4, 0.6], [0.5, 0.5]],
        sentence_attention=[0.7, 0.2, 0.1],
        predicted=predicted,
        probabilities={"neg": 0.2, "pos": 0.8},
        label=label,
    )


def flat(id_: str = "flat-1") -> DocumentAttention:
    return DocumentAttention(
        id=id_,
        sentences=[["boring", "movie", "honestly"]],
        word_attention=[[0.7, 0.2, 0.1]],
        sentence_attention=None,
        predicted="neg",
        probabilities={"pos": 0.1, "neg": 0.9},
        label="neg",
    )


@pytest.fixture
def docs() -> list[DocumentAttention]:
    second = hier("doc-2", label="neg", predicted="pos")
    second.sentences = [["terrible", "place"], ["never", "again"]]
    second.word_attention = [[0.9, 0.1], [0.5, 0.5]]
    second.sentence_attention = [0.6, 0.4]
    return [hier("doc-1"), second, flat()]


def test_report_has_every_word_label_and_one_row_per_sentence(docs) -> None:
    page = render_report(docs, "Yelp run", "test split")
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert parsed.rows == sum(len(d.sentences) for d in docs) == 6
    expected = [w for d in docs for s in d.sentences for w in s]
    assert [w for w, _ in parsed.words] == expected
    text = " ".join(parsed.text)
    for d in docs:
        assert d.id in text
        assert f"predicted: {d.predicted}" in text
        assert f"true: {d.label}" in text
    # doc-2 is wrong (neg predicted pos), the others are right.
    assert text.count("✗ wrong") == 1 and text.count("✓ correct") == 2
    assert page.count('class="doc correct"') == 2 and page.count('class="doc wrong"') == 1
    assert "Yelp run" in text and "test split" in text
    # self-contained: nothing to load or run
    assert not {"script", "link", "img", "iframe"} & set(parsed.tags)
    assert "http://" not in page and "https://" not in page


def test_probabilities_are_sorted_descending(docs) -> None:
    page = render_report([docs[0]], "t")
    classes = re.findall(r'<td class="cls">([^<]*)</td>', page)
    assert classes == ["pos", "neg"]


def test_untrusted_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    doc = DocumentAttention(
        id=f"{evil} & co",
        sentences=[[evil, "&", '"quoted"', "it's"]],
        word_attention=[[0.4, 0.3, 0.2, 0.1]],
        sentence_attention=[1.0],
        predicted="<b>pos</b>",
        probabilities={"<b>pos</b>": 0.6, "neg&": 0.4},
        label="neg&",
    )
    page = render_report([doc], title=f"title {evil}", subtitle="a & b")
    assert "<script" not in page.lower()
    assert "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&amp;" in page and "&quot;quoted&quot;" in page and "&#x27;" in page
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert [w for w, _ in parsed.words] == [evil, "&", '"quoted"', "it's"]


def test_shading_uses_sqrt_sentence_times_word_attention() -> None:
    # Highest α_w (0.9) is in the weak sentence; highest sqrt(α_s)·α_w is "alpha" (0.6·sqrt(0.9)).
    doc = DocumentAttention(
        id="s",
        sentences=[["alpha", "beta", "zero"], ["gamma", "delta"]],
        word_attention=[[0.6, 0.4, 0.0], [0.9, 0.1]],
        sentence_attention=[0.9, 0.1],
        predicted="a",
        probabilities={"a": 1.0},
    )
    top = 0.6 * math.sqrt(0.9)
    shading = word_shading(doc)
    assert shading[0][0] == 1.0 and shading[0][2] == 0.0
    assert shading[1][0] == pytest.approx(0.9 * math.sqrt(0.1) / top)
    opacity = dict(parse(render_report([doc], "t")).words)
    assert opacity["alpha"] == 1.0
    assert opacity["zero"] == 0.0
    assert opacity["gamma"] == pytest.approx(0.9 * math.sqrt(0.1) / top, abs=1e-3)
    assert opacity["beta"] == pytest.approx(0.4 / 0.6, abs=1e-3)


def test_flat_shading_is_word_attention_over_its_max() -> None:
    opacity = dict(parse(render_report([flat()], "t")).words)
    assert opacity == pytest.approx(
        {"boring": 1.0, "movie": 0.2 / 0.7, "honestly": 0.1 / 0.7}, abs=1e-3
    )


def test_zero_and_nan_attention_render_as_zero() -> None:
    doc = DocumentAttention("z", [["a", "b"]], [[0.0, float("nan")]], [0.0], "x", {"x": 1.0})
    assert word_shading(doc) == [[0.0, 0.0]]
    page = render_report([doc], "t")
    assert "nan" not in page.lower()
    assert [o for _, o in parse(page).words] == [0.0, 0.0]


def test_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="sentence 0"):
        DocumentAttention("m", [["a", "b"]], [[1.0]], [1.0], "x", {"x": 1.0})
    with pytest.raises(ValueError, match="sentence_attention"):
        DocumentAttention("m", [["a"]], [[1.0]], [0.5, 0.5], "x", {"x": 1.0})


def test_write_report_is_atomic_and_overwrites(tmp_path, docs) -> None:
    path = tmp_path / "sub" / "report.html"
    assert write_report(docs, path, "first") == path
    write_report(docs[:1], path, "second")
    assert path.read_text(encoding="utf-8") == render_report(docs[:1], "second")
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp files left


def test_select_documents_balances_correct_and_wrong() -> None:
    labels = ["a"] * 20
    predicted = ["a"] * 12 + ["b"] * 8  # 0..11 correct, 12..19 wrong
    chosen = select_documents(labels, predicted, 6, seed=3)
    assert chosen == sorted(chosen) and len(set(chosen)) == 6
    assert sum(i < 12 for i in chosen) == 3 and sum(i >= 12 for i in chosen) == 3
    assert select_documents(labels, predicted, 6, seed=3) == chosen
    assert len({tuple(select_documents(labels, predicted, 6, seed=s)) for s in range(6)}) > 1


def test_select_documents_fills_from_the_other_group() -> None:
    labels = ["a"] * 10
    assert select_documents(labels, labels, 4) == sorted(select_documents(labels, labels, 4))
    assert len(select_documents(labels, labels, 4)) == 4  # all correct
    one_wrong = ["a"] * 9 + ["b"]
    chosen = select_documents(labels, one_wrong, 6, seed=1)
    assert len(chosen) == 6 and 9 in chosen
    assert select_documents(labels, one_wrong, 50) == list(range(10))
    assert select_documents(labels, one_wrong, 0) == []
    with pytest.raises(ValueError):
        select_documents(labels, one_wrong[:-1], 3)


def test_to_json_round_trips(docs) -> None:
    for doc in docs:
        assert DocumentAttention.from_json(json.loads(json.dumps(doc.to_json()))) == doc
    # model outputs arrive as numpy scalars, which json cannot serialise by itself
    np_doc = DocumentAttention(
        "np",
        [["a", "b"]],
        [list(np.array([0.25, 0.75], dtype=np.float32))],
        list(np.array([1.0], dtype=np.float32)),
        "x",
        {"x": np.float32(0.5), "y": np.float64(0.5)},
    )
    back = json.loads(json.dumps(np_doc.to_json()))
    assert back["word_attention"] == [[0.25, 0.75]]
    assert back["probabilities"] == {"x": 0.5, "y": 0.5}
    assert back["sentence_attention"] == [1.0] and back["label"] is None


def test_attention_markdown_escapes_and_bolds_top_words() -> None:
    doc = DocumentAttention(
        id="md_1",
        sentences=[["*star*", "snake_case", "plain"], ["<b>x</b>", "ok"]],
        word_attention=[[0.7, 0.2, 0.1], [0.3, 0.7]],
        sentence_attention=[0.75, 0.25],
        predicted="pos",
        probabilities={"pos": 0.9, "neg": 0.1},
        label="neg",
    )
    md = attention_markdown(doc, top_k=1)
    assert r"**\*star\***" in md and r"snake\_case" in md and "**snake" not in md
    assert "**ok**" in md and "&lt;b&gt;" in md and "<b>" not in md
    assert "75.0%" in md and "25.0%" in md and "md\\_1" in md and "✗" in md
    markdown = pytest.importorskip("markdown")  # TensorBoard renders text with Python-Markdown
    rendered = markdown.markdown(md)
    assert "<strong>*star*</strong>" in rendered and "snake_case" in rendered
    assert "<em>" not in rendered and "<b>" not in rendered


def test_attention_markdown_flat_has_no_percentages() -> None:
    md = attention_markdown(flat(), top_k=2)
    assert "**boring** **movie** honestly" in md and "`" not in md


def test_erasure_line_and_gradient_column_are_shown_when_present() -> None:
    doc = hier("doc-g")
    doc.top_sentence_erasure = {"sentence": 0, "predicted_after": "neg", "p_before": 0.8,
                                "p_after": 0.3, "flipped": True}
    doc.word_gradient = [[0.0, 0.2, 0.0, 0.4, 0.0], [0.1, 0.0], [0.0, 0.0]]
    page = render_report([doc, hier("doc-plain")], "t")
    parsed = parse(page)
    assert not parsed.errors
    assert "Removing the most attended sentence (#1) flips it to" in page
    assert page.count('class="sent grad"') == 3  # only the document that has gradients
    # Each of doc-g's words twice (attention, then gradient), the gradient ones scaled by 0.4.
    grad = [float(x) for x in re.findall(r"rgba\(22, 163, 74,([0-9.]+)\)", page)]
    assert grad == pytest.approx([0, 0.5, 0, 1, 0, 0.25, 0, 0, 0])
    back = DocumentAttention.from_json(json.loads(json.dumps(doc.to_json())))
    assert back == doc
    kept = hier("doc-k")
    kept.top_sentence_erasure = {**doc.top_sentence_erasure, "flipped": False, "predicted_after": "pos"}
    assert "keeps the prediction: p(pos) 0.800 → 0.300" in render_report([kept], "t")
