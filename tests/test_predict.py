"""`python -m han.predict` end to end: raw text in, the run's own predictions and attention out.

One tiny real HAN run and one flat run (real BBC articles, shrunken models) are trained once for
the module; every test then uses them as a user would: text files, a CSV, stdin, the HTML report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from runs import bbc_sample, csv_run_args, train_command

from han.data.sources import DataError
from han.report import select_documents

REPO = Path(__file__).resolve().parents[1]
CLASSES = ["entertainment", "politics", "sport"]
# One line, so that it is the same document in a .txt file and on stdin. Its made-up words are
# out of the vocabulary (checked below): they must come back as written, not as <unk>.
MADE_UP = "The Glorpish minister praised the Snorfwizzle budget. Fans cheered the team!"
MADE_UP_SENTENCES = [
    ["the", "glorpish", "minister", "praised", "the", "snorfwizzle", "budget", "."],
    ["fans", "cheered", "the", "team", "!"],
]
EVIL = "<script>alert(1)</script>"


# ── fixtures: two tiny runs and their test documents ─────────────────────────────────────────

@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("predict")


@pytest.fixture(scope="module")
def bbc(work, mirror_dir) -> pd.DataFrame:
    """40 real BBC articles per class, as a user's CSV (written to work/bbc.csv)."""
    small = bbc_sample(mirror_dir)
    small.to_csv(work / "bbc.csv", index=False)
    return small.set_index("id")


def train(work: Path, name: str, *overrides: str) -> Path:
    run_dir = work / name
    result = subprocess.run(
        train_command(run_dir, work / "bbc.csv", *overrides), capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


@pytest.fixture(scope="module")
def han_run(work, bbc) -> Path:
    # A larger learning rate, so that two epochs give clearly non-uniform probabilities.
    return train(work, "han", "trainer.epochs=2", "trainer.learning_rate=0.01")


@pytest.fixture(scope="module")
def flat_run(work, bbc) -> Path:
    # SHRINK's sizes and batch size still win over the flat model's own settings.
    return train(work, "flat", "model=flat", "trainer.epochs=1", "trainer.learning_rate=0.01",
                 "dataset.max_tokens=80")


@pytest.fixture(scope="module")
def linear_run(work, bbc) -> Path:
    run_dir = work / "tfidf"
    # SHRINK's network sizes are not keys of a linear model's config.
    args = [a for a in csv_run_args(work / "bbc.csv", work / "cache") if not a.startswith("model.")]
    result = subprocess.run(
        [sys.executable, "-m", "han.train", *args, f"hydra.run.dir={run_dir}", "model=tfidf_lr"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def predictions(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "predictions.csv", dtype={"id": str}).set_index("id")


def predict(run_dir: Path, *args: str, cwd: Path, stdin: str | None = None,
            ok: bool = True) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, from another folder (PYTHONPATH picks this checkout)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "han.predict", f"run_dir={run_dir}", *args], input=stdin,
        capture_output=True, text=True, timeout=300, cwd=cwd, env=env,
    )
    if ok:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def folder_output(work, han_run, bbc) -> dict[str, dict]:
    """`input=<folder>`: the test documents of the HAN run as .txt files, plus MADE_UP."""
    folder = work / "texts"
    folder.mkdir()
    for i, doc_id in enumerate(predictions(han_run).index):
        (folder / f"{i:03d}.txt").write_text(bbc.loc[doc_id, "text"], encoding="utf-8")
    (folder / "made_up.txt").write_text(MADE_UP, encoding="utf-8")
    result = predict(han_run, f"input={folder}", f"output={work / 'texts.json'}", cwd=work)
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"attention written to {work / 'texts.json'}"
    assert len(lines) == len(predictions(han_run)) + 2  # a line per document, then the path
    assert not (work / "predict.log").exists()  # nothing left in the working directory
    out = {d["id"]: d for d in json.loads((work / "texts.json").read_text())}
    test_ids = list(predictions(han_run).index)
    return {"made_up": out["made_up.txt"]} | {
        test_ids[i]: out[f"{i:03d}.txt"] for i in range(len(test_ids))
    }


def probabilities(doc: dict) -> list[float]:
    return [doc["probabilities"][c] for c in CLASSES]


def run_probabilities(table: pd.DataFrame, doc_id: str) -> np.ndarray:
    """A document's row of predictions.csv, in CLASSES order."""
    return table.loc[doc_id, [f"prob_{c}" for c in CLASSES]].to_numpy(float)


# ── 1. raw text gives exactly the run's own predictions ──────────────────────────────────────

def test_text_files_give_the_runs_test_predictions(han_run, folder_output):
    expected = predictions(han_run)
    # The model is trained enough that a 1e-5 tolerance means something.
    assert np.ptp(expected.filter(like="prob_").to_numpy(), axis=1).min() > 1e-3
    for doc_id, row in expected.iterrows():
        doc = folder_output[doc_id]
        np.testing.assert_allclose(probabilities(doc), run_probabilities(expected, doc_id),
                                   atol=1e-5, err_msg=doc_id)
        assert doc["predicted"] == row["predicted"] and doc["label"] is None


def test_a_csv_gives_the_runs_test_predictions_with_ids_and_true_labels(work, han_run, bbc):
    expected = predictions(han_run)
    table = bbc.loc[expected.index].reset_index()[["id", "text", "label"]]
    table.to_csv(work / "test.csv", index=False)
    result = predict(han_run, f"input={work / 'test.csv'}", f"output={work / 'test.json'}",
                     cwd=work)
    assert f"attention written to {work / 'test.json'}" in result.stdout
    out = json.loads((work / "test.json").read_text())
    assert [d["id"] for d in out] == list(expected.index)
    for doc in out:
        row = expected.loc[doc["id"]]
        np.testing.assert_allclose(probabilities(doc), run_probabilities(expected, doc["id"]),
                                   atol=1e-5, err_msg=doc["id"])
        assert doc["label"] == row["label"] and doc["predicted"] == row["predicted"]
        assert f"{doc['id']}\t{doc['predicted']}\t" in result.stdout


# ── 2. the JSON: sentences aligned with attention, words as written ──────────────────────────

def test_attention_json_is_aligned_and_normalised(han_run, folder_output, bbc):
    from han.data.tokenize import DocumentTokenizer, TokenizerSettings

    tokenizer = DocumentTokenizer(TokenizerSettings(nltk_data=os.environ.get("NLTK_DATA")))
    # The run's L x T: dataset=csv derives them from the training split (null in its config).
    view = json.loads((han_run / "data_summary.json").read_text())["view"]
    max_sentences, max_words = int(view["max_sentences"]), int(view["max_words"])
    for doc_id, doc in folder_output.items():
        sentences, word_att, sent_att = doc["sentences"], doc["word_attention"], doc["sentence_attention"]
        assert 0 < len(sentences) <= max_sentences
        assert len(word_att) == len(sentences) == len(sent_att)
        assert sum(sent_att) == pytest.approx(1.0, abs=1e-5) and min(sent_att) > 0
        for words, att in zip(sentences, word_att, strict=True):
            assert 0 < len(words) <= max_words and len(att) == len(words)
            assert sum(att) == pytest.approx(1.0, abs=1e-5) and min(att) > 0
        # The words are the document's own tokens, in order (cut only at L sentences).
        text = MADE_UP if doc_id == "made_up" else bbc.loc[doc_id, "text"]
        shown = [w for s in sentences for w in s]
        assert shown == [w for s in tokenizer(text)[0] for w in s][: len(shown)]
        assert "<unk>" not in shown


def test_out_of_vocabulary_words_appear_as_written(han_run, folder_output):
    vocabulary = set(json.loads((han_run / "vocab.json").read_text())["words"])
    assert {"glorpish", "snorfwizzle"}.isdisjoint(vocabulary) and "minister" in vocabulary
    assert folder_output["made_up"]["sentences"] == MADE_UP_SENTENCES


# ── 3. stdin, one document per line ──────────────────────────────────────────────────────────

def test_stdin_reads_one_document_per_line(work, han_run, folder_output):
    second = "Sport is great. The striker scored twice."
    result = predict(han_run, "input=-", f"output={work / 'stdin.json'}", cwd=work,
                     stdin=f"{MADE_UP}\n\n{second}\n")
    out = json.loads((work / "stdin.json").read_text())
    assert [d["id"] for d in out] == ["stdin-0", "stdin-1"]  # the blank line is no document
    assert out[0]["sentences"] == MADE_UP_SENTENCES
    assert out[1]["sentences"] == [["sport", "is", "great", "."],
                                   ["the", "striker", "scored", "twice", "."]]
    np.testing.assert_allclose(probabilities(out[0]), probabilities(folder_output["made_up"]),
                               atol=1e-6)
    assert result.stdout.startswith(f"stdin-0\t{out[0]['predicted']}\t")


# ── 4. the HTML report of a run's test documents ─────────────────────────────────────────────

class ReportPage(HTMLParser):
    """Per document section: id, badges, and the words of each sentence row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.docs: list[dict] = []
        self.tags: set[str] = set()
        self._capture: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        classes = (dict(attrs).get("class") or "").split()
        if tag == "section" and "doc" in classes:
            self.docs.append({"class": classes, "id": "", "badges": [], "rows": [], "flat": []})
        elif "docid" in classes:
            self._capture = []
            self.docs[-1]["id"] = self._capture
        elif "badge" in classes:
            self._capture = []
            self.docs[-1]["badges"].append(self._capture)
        elif "sent" in classes:
            self.docs[-1]["rows"].append([])
            self.docs[-1]["flat"].append("flat" in classes)
        elif tag == "span" and "w" in classes:
            self._capture = []
            self.docs[-1]["rows"][-1].append(self._capture)

    def handle_endtag(self, tag: str) -> None:
        self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture.append(data)


def parse_report(path: Path) -> ReportPage:
    page = ReportPage()
    page.feed(path.read_text(encoding="utf-8"))
    for doc in page.docs:
        doc["id"] = "".join(doc["id"])
        doc["badges"] = ["".join(b) for b in doc["badges"]]
        doc["rows"] = [["".join(w) for w in row] for row in doc["rows"]]
    return page


def shown_documents(run_dir: Path, num_docs: int) -> pd.DataFrame:
    """The test documents the report must show (the selection of han.report, seed 0)."""
    table = predictions(run_dir)
    chosen = select_documents(list(table["label"]), list(table["predicted"]), num_docs, 0)
    return table.iloc[chosen]


def test_report_shows_correct_and_wrong_test_documents(work, han_run, folder_output):
    result = predict(han_run, "report=true", "num_docs=6", cwd=work)
    assert result.stdout.strip().endswith(f"report written to {han_run / 'report.html'}")
    page = parse_report(han_run / "report.html")
    expected = shown_documents(han_run, 6)
    assert [d["id"] for d in page.docs] == list(expected.index)
    if expected["label"].eq(expected["predicted"]).any() and expected["label"].ne(expected["predicted"]).any():
        kinds = {d["class"][1] for d in page.docs}
        assert kinds == {"correct", "wrong"}
    for doc in page.docs:
        row = expected.loc[doc["id"]]
        assert f"predicted: {row['predicted']}" in doc["badges"]
        assert any(b.startswith(f"true: {row['label']} ") for b in doc["badges"])
        assert ("correct" in doc["class"]) == (row["label"] == row["predicted"])
        # The report (from the run's cached corpus) and predict (from raw text) agree word for word.
        assert doc["rows"] == folder_output[doc["id"]]["sentences"]
        assert not any(doc["flat"])
    assert not {"script", "img", "iframe", "link"} & page.tags


@pytest.mark.slow  # ~30 s; the default report test is test_report_shows_correct_and_wrong_test_documents
def test_report_adds_top_sentence_erasure_and_gradient_on_request(work, han_run, folder_output):
    out = work / "gradient.html"
    predict(han_run, "report=true", "num_docs=3", "report_gradient=true", f"output={out}", cwd=work)
    text = out.read_text(encoding="utf-8")
    page = parse_report(out)
    assert text.count("Removing the most attended sentence (#") == len(page.docs) == 3
    for doc in page.docs:  # each sentence row: its words shaded by attention, then by gradient
        assert doc["rows"] == [words * 2 for words in folder_output[doc["id"]]["sentences"]]


def test_flat_report_has_one_level(work, flat_run):
    predict(flat_run, "report=true", "num_docs=4", f"output={work / 'flat.html'}", cwd=work)
    html = (work / "flat.html").read_text(encoding="utf-8")
    page = parse_report(work / "flat.html")
    assert [d["id"] for d in page.docs] == list(shown_documents(flat_run, 4).index)
    for doc in page.docs:
        assert doc["flat"] == [True] and len(doc["rows"][0]) == 80  # first N = 80 words
    assert 'class="satt"' not in html and "Words (flat)" in html and "Sentences:" not in html


# ── the Python API: flat runs, empty documents, escaping ─────────────────────────────────────

def test_flat_run_gives_its_own_predictions_and_skips_empty_documents(flat_run, bbc):
    from han.predict import SavedRun

    expected = predictions(flat_run)
    ids = list(expected.index)
    # An empty document before the others: it is skipped, the rest are not shifted.
    frame = pd.DataFrame({"id": ["empty", *ids], "text": ["  \n ", *bbc.loc[ids, "text"]]})
    docs = SavedRun(flat_run).predict(frame)
    assert [d.id for d in docs] == ids
    for doc in docs:
        np.testing.assert_allclose(list(doc.probabilities.values()),
                                   run_probabilities(expected, doc.id), atol=1e-5)
        assert doc.sentence_attention is None and len(doc.sentences) == 1
        assert len(doc.sentences[0]) == len(doc.word_attention[0]) == 80
        assert sum(doc.word_attention[0]) == pytest.approx(1.0, abs=1e-5)


def test_untrusted_text_is_escaped_in_the_report(han_run):
    from han.predict import SavedRun
    from han.report import render_report

    frame = pd.DataFrame({"id": [f"{EVIL}&1"],
                          "text": [f"Rock & roll {EVIL} won the vote. <b>Bold</b> claims &amp; more."]})
    docs = SavedRun(han_run).predict(frame)
    html = render_report(docs, f"run {EVIL}", "a & b")
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;1" in html  # the id, as written
    page = ReportPage()
    page.feed(html)
    words = [w for row in page.docs[0]["rows"] for w in ("".join(x) for x in row)]
    assert "&" in words and "<" in words and "script" in words
    assert not {"script", "b"} & page.tags
    assert page.docs[0]["rows"] and "".join(page.docs[0]["id"]) == f"{EVIL}&1"


# ── 6. bad input ─────────────────────────────────────────────────────────────────────────────

def test_bad_run_dir_and_missing_input_name_the_path(work, han_run):
    not_a_run = work / "not_a_run"
    not_a_run.mkdir()
    (not_a_run / "vocab.json").write_text("{}")  # a run killed before it finished
    result = predict(not_a_run, "input=-", cwd=work, stdin="text\n", ok=False)
    assert result.returncode != 0
    assert f"{not_a_run} is not a finished run directory: missing .hydra/config.yaml" in result.stderr
    assert "model.keras" in result.stderr and "vocab.json" not in result.stderr.split("missing")[1]

    missing = work / "no_such_folder" / "doc.txt"
    result = predict(han_run, f"input={missing}", cwd=work, ok=False)
    assert result.returncode != 0 and f"input={missing}: no such file or folder" in result.stderr


def test_read_inputs_errors_name_the_path(work):
    from han.predict import read_inputs

    empty = work / "no_txt"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=f"no .txt files in {empty}"):
        read_inputs(str(empty))
    table = work / "headlines.csv"
    pd.DataFrame({"headline": ["a"]}).to_csv(table, index=False)
    with pytest.raises(DataError, match=rf"{table} has no column 'text'.*headline"):
        read_inputs(str(table))
    assert read_inputs(str(table), "headline")["text"].tolist() == ["a"]


# ── 7. prediction tells the truth (issue #23) ────────────────────────────────────────────────

@pytest.mark.slow  # ~1 minute of han-predict runs; test_empty_input_is_an_error_and_changes_nothing
# is the default suite's guard that a refused prediction writes nothing
def test_prediction_writes_only_where_told_and_never_over_a_file_it_did_not_create(work, han_run):
    doc = work / "one.txt"
    doc.write_text(MADE_UP, encoding="utf-8")
    before = sorted(p.name for p in han_run.iterdir())
    result = predict(han_run, f"input={doc}", cwd=work)
    assert result.stdout.startswith("one.txt\t") and "attention written" not in result.stdout
    assert sorted(p.name for p in han_run.iterdir()) == before  # nothing in the run directory
    theirs = work / "theirs.json"
    theirs.write_text("mine")
    refused = predict(han_run, f"input={doc}", f"output={theirs}", cwd=work, ok=False)
    assert refused.returncode == 2 and f"output={theirs} exists" in refused.stderr
    assert "overwrite=true" in refused.stderr and theirs.read_text() == "mine"
    predict(han_run, f"input={doc}", f"output={theirs}", "overwrite=true", cwd=work)
    assert json.loads(theirs.read_text())[0]["id"] == "one.txt"


def test_input_that_is_not_text_is_an_error_naming_the_file(work, han_run):
    noise = work / "noise.txt"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    result = predict(han_run, f"input={noise}", cwd=work, ok=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {noise} is not text")
    assert noise.name not in result.stdout  # no label was given to it


def test_empty_input_is_an_error_and_changes_nothing(work, han_run):
    out = work / "kept.json"
    out.write_text("[1]")
    empty = work / "empty.txt"
    empty.write_text("")
    for args, stdin in (([f"input={empty}"], None), (["input=-"], "\n  \n"),
                        ([f"input={work / 'blank.txt'}"], None)):
        (work / "blank.txt").write_text("   \n\t\n")
        result = predict(han_run, *args, f"output={out}", "overwrite=true", cwd=work,
                         stdin=stdin, ok=False)
        assert result.returncode == 2, result.stderr
        assert "nothing to predict, nothing written" in result.stderr
        assert out.read_text() == "[1]"


@pytest.mark.slow  # ~45 s; the truncation counts themselves are unit-tested in tests/test_encode.py
def test_every_truncated_document_says_how_much_was_read(work, han_run, bbc):
    view = json.loads((han_run / "data_summary.json").read_text())["view"]
    long_text = " ".join(bbc["text"].iloc[:40])  # 40 articles as one document
    table = work / "long.csv"
    pd.DataFrame({"id": ["long", "short"], "text": [long_text, MADE_UP]}).to_csv(table, index=False)
    result = predict(han_run, f"input={table}", f"output={work / 'long.json'}", cwd=work)
    out = {d["id"]: d for d in json.loads((work / "long.json").read_text())}
    read = out["long"]["read"]
    assert out["short"]["read"] is None
    assert read["sentences"] == len(out["long"]["sentences"]) <= view["max_sentences"]
    assert read["of_sentences"] > 10 * view["max_sentences"]
    assert read["words"] == sum(map(len, out["long"]["sentences"])) < read["of_words"]
    assert (f"\tread {read['sentences']} of {read['of_sentences']} sentences, {read['words']} "
            f"of {read['of_words']} words") in result.stdout
    assert "1 of 2 document(s) are longer than the run reads" in result.stderr


# ── TensorBoard: attention every epoch ───────────────────────────────────────────────────────

def tensorboard_events(run_dir: Path) -> dict[str, dict[int, object]]:
    """tag → step → value (tensor as numpy) of the validation writer."""
    import tensorflow as tf
    from tensorflow.compat.v1.train import summary_iterator

    events: dict[str, dict[int, object]] = {}
    files = sorted((run_dir / "tensorboard" / "validation").glob("events.out.tfevents.*"))
    assert files
    for path in files:
        for event in summary_iterator(str(path)):
            for value in event.summary.value:
                events.setdefault(value.tag, {})[event.step] = tf.make_ndarray(value.tensor)
    return events


def test_tensorboard_has_attention_text_and_histograms_every_epoch(han_run, flat_run):
    events = tensorboard_events(han_run)
    for tag in ("attention/word", "attention/sentence", "attention/validation_documents"):
        assert sorted(events.get(tag, {})) == [1, 2], tag
    for step in (1, 2):
        text = events["attention/validation_documents"][step].item().decode()
        assert text.count(" · predicted: **") == 3 and "true:" in text and "- `" in text
        for tag in ("attention/word", "attention/sentence"):
            buckets = events[tag][step]  # (k, 3): left edge, right edge, count
            assert buckets.ndim == 2 and buckets[:, 2].sum() > 0
            assert buckets[:, 0].min() >= 0 and buckets[:, 1].max() <= 1
    flat = tensorboard_events(flat_run)
    assert sorted(flat["attention/word"]) == [1] and "attention/sentence" not in flat
    assert "predicted:" in flat["attention/validation_documents"][1].item().decode()


# ── serving: make export, and the documented client that does not import han ────────────────

def _documented_client(tmp_path: Path) -> Path:
    """The python block of docs/SERVING.md, as a file."""
    doc = (REPO / "docs" / "SERVING.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "client.py"
    # `han` made unimportable: the client must need nothing of this package.
    path.write_text("import sys\nsys.modules['han'] = None\n" + code)
    return path


def _export_and_documents(run_dir: Path, bbc: pd.DataFrame, tmp_path: Path):
    from han.export import export_run

    export = export_run(run_dir, tmp_path / "export")  # what `make export RUN=...` runs
    assert (export / "saved_model" / "saved_model.pb").is_file()
    # the guide travels with the export: an installed copy has no docs/ folder to point at
    assert (export / "SERVING.md").read_text() == (REPO / "docs" / "SERVING.md").read_text()
    table = predictions(run_dir)
    ids = list(table.index[:6])
    files = []
    for i, doc_id in enumerate(ids):
        files.append(tmp_path / f"doc{i}.txt")
        files[-1].write_text(bbc.loc[doc_id, "text"], encoding="utf-8")
    return export, table, ids, files


@pytest.mark.slow  # ~45 s; test_the_documented_client_reads_flat_exports_too is the default guard
def test_export_and_the_documented_client_give_the_runs_probabilities(han_run, bbc, tmp_path):
    export, table, ids, files = _export_and_documents(han_run, bbc, tmp_path)
    settings = json.loads((export / "tokenizer.json").read_text())
    assert settings["classes"] == CLASSES and settings["view"] == "hierarchical"
    client = _documented_client(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    served = subprocess.run([sys.executable, str(client), str(export), *map(str, files)],
                            capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert served.returncode == 0, served.stderr[-3000:]
    lines = served.stdout.strip().splitlines()
    assert len(lines) == len(ids)
    for line, doc_id in zip(lines, ids, strict=True):
        _, predicted, scores = line.split("\t")
        probs = dict(item.split("=") for item in scores.split())
        got = np.array([float(probs[c]) for c in CLASSES])
        np.testing.assert_allclose(got, run_probabilities(table, doc_id), atol=1e-5)
        assert predicted == table.loc[doc_id, "predicted"]


def test_the_documented_client_reads_flat_exports_too(flat_run, bbc, tmp_path, monkeypatch):
    # In this process (TensorFlow is loaded already); the test above shows the client needs no han.
    export, table, ids, files = _export_and_documents(flat_run, bbc, tmp_path)
    assert json.loads((export / "tokenizer.json").read_text())["view"] == "flat"
    code = _documented_client(tmp_path).read_text().replace("sys.modules['han'] = None", "")
    monkeypatch.setattr(sys, "argv", ["client.py", str(export)])
    namespace = {"__name__": "client"}
    exec(compile(code, "client.py", "exec"), namespace)
    got = namespace["classify"]([f.read_text(encoding="utf-8") for f in files])
    want = np.stack([run_probabilities(table, doc_id) for doc_id in ids])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_export_of_a_missing_run_fails_in_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-m", "han.export", str(tmp_path / "nope")],
                            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'nope'} is not a finished run directory: missing ")


def test_a_linear_baseline_run_saves_loads_and_predicts_like_a_network(work, linear_run, bbc):
    m = json.loads((linear_run / "metrics.json").read_text())
    assert (m["model"], m["family"]) == ("tfidf_lr", "linear")
    # C was chosen on validation by the rule that picks a network's epoch.
    best = max(m["history"], key=lambda h: (h["val_macro_f1"], -h["val_loss"]))
    assert m["validation"]["C"] == best["C"] and len(m["history"]) == 5
    assert not (linear_run / "model.keras").exists() and (linear_run / "model.joblib").is_file()
    expected = predictions(linear_run)
    assert (expected["label"] == expected["predicted"]).mean() == pytest.approx(m["test"]["accuracy"])
    table = bbc.loc[expected.index].reset_index()[["id", "text", "label"]]
    table.to_csv(work / "linear_test.csv", index=False)
    result = predict(linear_run, f"input={work / 'linear_test.csv'}",
                     f"output={work / 'linear.json'}", cwd=work)
    out = json.loads((work / "linear.json").read_text())
    assert [d["id"] for d in out] == list(expected.index)
    for doc in out:
        np.testing.assert_allclose(probabilities(doc), run_probabilities(expected, doc["id"]),
                                   atol=1e-6, err_msg=doc["id"])
        assert doc["sentences"] == [] and doc["sentence_attention"] is None
        assert f"{doc['id']}\t{doc['predicted']}\t" in result.stdout
    report = predict(linear_run, "report=true", cwd=work, ok=False)
    assert report.returncode != 0 and "no attention" in report.stderr
