"""`python -m han.predict run_dir=<run> input=<file | folder | ->` (`make predict`, `make explain`).

Classifies raw text with a saved run — its config, vocabulary and best model — exactly as the
run saw its own documents: the same tokenizer settings, vocabulary and L×T (or N) view. Writes
JSON with the sentence and word attention aligned with the original words (to `output=`; never
over a file it did not create unless `overwrite=true`). With `report=true` it instead renders an
HTML attention report of the run's test documents (correct and wrong).

It says what it did not read: input that is not text is an error naming the file, a document
longer than the run's view says how much of it was read (`read` in the JSON, a count on stderr),
and input without a document is an error that writes nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from han.baselines import MODEL_FILE, LinearBaseline, is_linear
from han.cli import hydra_main
from han.data.corpus import Corpus
from han.data.encode import EncodedDocs, ViewSettings, encode_corpus, is_flat, view_for_model
from han.data.prepare import tokenizer_settings
from han.data.sources import DataError
from han.data.vocab import Vocabulary
from han.explain import DocumentAttention, document_attention
from han.io import atomic_write_text
from han.report import select_documents, write_report

if TYPE_CHECKING:
    import keras

log = logging.getLogger("han.predict")
TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".json", ".parquet"}
RUN_FILES = (".hydra/config.yaml", "vocab.json", "metrics.json")


def finished_run(run_dir: Path) -> Path:
    """`run_dir` if it holds everything a finished run writes; else an error naming it."""
    run_dir = Path(run_dir)
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if not any((run_dir / name).is_file() for name in ("model.keras", MODEL_FILE)):
        missing.append(f"model.keras (or {MODEL_FILE} for a linear baseline)")
    if missing:
        raise FileNotFoundError(
            f"{run_dir} is not a finished run directory: missing {', '.join(missing)}. "
            f"Give run_dir=<the run directory han-train printed last>."
        )
    return run_dir


class SavedRun:
    """A finished run directory: config, vocabulary, classes and the best model."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = finished_run(run_dir)
        self.cfg = OmegaConf.load(self.dir / ".hydra/config.yaml")
        self.vocabulary = Vocabulary.load(self.dir / "vocab.json")
        self.classes = json.loads((self.dir / "metrics.json").read_text())["classes"]
        self.flat = is_flat(self.cfg.model)
        self.linear = is_linear(self.cfg.model)

    @cached_property
    def model(self) -> keras.Model | LinearBaseline:
        """Loaded on first use: the data stage may fork tokenizer processes, which is only safe
        before TensorFlow starts its threads (`han.train` prepares its data first too)."""
        if self.linear:
            return LinearBaseline.load(self.dir / MODEL_FILE)
        from han.cli import import_tensorflow

        import_tensorflow()  # first use: its start-up noise filtered
        import keras

        import han.models  # noqa: F401 - registers the custom layers and models for loading

        return keras.saving.load_model(self.dir / "model.keras")

    @cached_property
    def view_settings(self) -> ViewSettings:
        """L, T and N as the run resolved them (`data_summary.json`; a null L or T was derived
        from the training split), else from the run's config."""
        summary = self.dir / "data_summary.json"
        if summary.is_file():
            view = json.loads(summary.read_text()).get("view", {})
            if "max_sentences" in view and "max_words" in view:
                return ViewSettings.from_json(view)
        return ViewSettings.resolve(self.cfg.dataset)

    def view(self, docs: EncodedDocs) -> EncodedDocs:
        """The run's L×T (or N-word) view, with the run's own settings."""
        return view_for_model(docs, self.view_settings, self.flat)

    def predict(
        self, documents: pd.DataFrame, batch_size: int = 64, progress: bool = False
    ) -> list[DocumentAttention]:
        """Prediction and attention of raw documents (columns id, text, optional label), read
        as the run read its own: same tokenizer, vocabulary and view."""
        frame = documents.assign(label=documents.get("label", ""), source_split="")
        settings = tokenizer_settings(self.cfg.dataset, self.cfg.paths)
        # One process: forking after TensorFlow has started its threads is unsafe.
        corpus = Corpus.from_documents(frame, settings, workers=1, progress=progress)
        # As in training, a document with no sentence is skipped: the model has nothing to read
        # (and the flat view assumes every document has words).
        empty = corpus.doc_sentences == 0
        if empty.all():
            raise DataError(f"none of the {len(corpus)} input document(s) has a word: nothing "
                            "to predict, nothing written")
        if empty.any():
            log.warning(
                "skipped %d document(s) with no words: %s",
                int(empty.sum()), ", ".join(map(str, corpus.ids[empty])),
            )
            corpus, frame = corpus.select(~empty), frame[~empty]
        everything = np.arange(len(corpus))
        encoded = encode_corpus(corpus, self.vocabulary.lexicon_map(corpus.lexicon), self.classes, everything)
        labels = [str(x) if str(x) else None for x in frame["label"]]
        if self.linear:
            return self._classify_linear(encoded, labels)
        model_view = self.view(encoded)
        identity = np.arange(len(corpus.lexicon), dtype=np.int32)
        word_view = self.view(encode_corpus(corpus, identity, self.classes, everything))
        out = []
        for start in range(0, len(corpus), batch_size):
            batch = everything[start : start + batch_size]
            out += document_attention(
                self.model, model_view, word_view, corpus.lexicon, batch, self.classes,
                self.flat, [labels[i] for i in batch],
            )
        self._mark_truncated(out, corpus)
        return out

    def _mark_truncated(self, docs: list[DocumentAttention], corpus: Corpus) -> None:
        """`doc.read` for every document the view cut: sentences and words read, of how many."""
        words, cut = corpus.doc_tokens, 0
        for i, doc in enumerate(docs):
            words_read = sum(len(s) for s in doc.sentences)
            if words_read >= words[i]:
                continue
            lengths = corpus.sentence_lengths[int(corpus.doc_sentences[:i].sum()):][
                : int(corpus.doc_sentences[i])]
            whole = int((np.cumsum(lengths) <= words_read).sum())  # sentences read to their end
            doc.read = {"sentences": min(len(doc.sentences), whole) if self.flat else
                        min(len(doc.sentences), int(corpus.doc_sentences[i])),
                        "of_sentences": int(corpus.doc_sentences[i]),
                        "words": int(words_read), "of_words": int(words[i])}
            cut += 1
        if cut:
            view = self.view_settings
            size = (f"{view.max_tokens} words" if self.flat
                    else f"{view.max_sentences} sentences x {view.max_words} words")
            log.warning("%d of %d document(s) are longer than the run reads (%s): only their "
                        "first part was read; `read` in the output says how much of each", cut,
                        len(docs), size)

    def _classify_linear(self, docs: EncodedDocs, labels: list[str | None]) -> list[DocumentAttention]:
        """A linear baseline's predictions: it has no attention, so no words are shown."""
        probs = self.model.probabilities(docs)
        return [
            DocumentAttention(
                id=str(doc_id), sentences=[], word_attention=[], sentence_attention=None,
                predicted=str(self.classes[int(p.argmax())]),
                probabilities={c: float(v) for c, v in zip(self.classes, p, strict=True)},
                label=label,
            )
            for doc_id, p, label in zip(docs.ids, probs, labels, strict=True)
        ]


# A text with more than this share of control or undecodable characters is not text.
NOT_TEXT = 0.05


def text_of(raw: bytes, where: str) -> str:
    """The decoded text of a file (or stdin); `DataError` naming it when it is not text
    (binary, or mostly bytes no text encoding gives)."""
    from han.data.sources import decode_text

    text, _ = decode_text(raw)
    if text:
        odd = sum(1 for ch in text if (ch == "\ufffd" or unicodedata.category(ch) == "Cc")
                  and ch not in "\t\n\r\f")
        if odd > NOT_TEXT * len(text):
            raise DataError(f"{where} is not text: {odd} of its {len(text)} characters are control "
                            "or undecodable bytes (a binary file?); give text files (UTF-8, "
                            "UTF-16 with a byte-order mark, cp1252)")
    return text


def read_inputs(source: str, text_column: str = "text") -> pd.DataFrame:
    """Documents from a text file (one document), a table, a folder of .txt files, or stdin
    (one document per line). `DataError` when there is none, or a file is not text."""
    frame = _read_inputs(source, text_column)
    if frame.empty:
        raise DataError(f"input={source} holds no document (it is empty): nothing to predict, "
                        "nothing written")
    return frame


def _read_inputs(source: str, text_column: str) -> pd.DataFrame:
    if source == "-":
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        lines = [line for line in text_of(raw, "stdin").splitlines() if line.strip()]
        return pd.DataFrame({"id": [f"stdin-{i}" for i in range(len(lines))], "text": lines})
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"no .txt files in {path}: put one document per .txt file there")
        return pd.DataFrame(
            {"id": [f.name for f in files], "text": [text_of(f.read_bytes(), str(f)) for f in files]}
        )
    if not path.exists():
        raise FileNotFoundError(f"input={source}: no such file or folder")
    if path.suffix.lower() in TABLE_SUFFIXES:
        from han.data.tables import read_table

        table = read_table(path)
        if text_column not in table:
            raise DataError(f"{path} has no column {text_column!r} (columns: {list(table)}); "
                            f"set text_column=<name>")
        ids = table["id"] if "id" in table else [f"{path.stem}-{i}" for i in range(len(table))]
        frame = pd.DataFrame({"id": ids, "text": table[text_column].fillna("").astype(str)})
        if "label" in table:  # shown as the true label in the output, never used to predict
            frame["label"] = table["label"].fillna("").astype(str)
        return frame
    return pd.DataFrame({"id": [path.name], "text": [text_of(path.read_bytes(), str(path))]})


def writable_output(path: Path, overwrite: bool) -> Path:
    """`path`, unless a file is already there and `overwrite` was not asked for."""
    if path.is_dir():
        raise IsADirectoryError(f"output={path} is a folder; give a file name, e.g. "
                                f"output={path / 'predict.json'}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"output={path} exists and was not written by this command; give "
                              "another output= or overwrite=true to replace it")
    return path


def report_test_split(run: SavedRun, num_docs: int, seed: int, output: Path | None = None,
                      erasure: bool = True, gradient: bool = False) -> Path:
    """HTML report of `num_docs` test documents, half of them misclassified when possible; with
    `erasure`, whether removing each one's most attended sentence flips it; with `gradient`,
    gradient-importance shading beside the attention (docs/ATTENTION.md)."""
    from han.data.prepare import prepare

    if run.linear:
        raise DataError(
            f"{run.dir} is a linear baseline ({run.cfg.model.name}): it has no attention to show. "
            "Use han-predict run_dir=... input=... for its predictions, or give a network's run."
        )
    # The same seed and settings rebuild the run's test split (from the tokenised cache).
    data = prepare(run.cfg.dataset, run.cfg.paths, int(run.cfg.seed), run.cfg.get("workers"),
                   progress=False)
    model_view = data.view("test", run.flat)
    word_view = data.lexicon_view("test", run.flat)
    predictions = pd.read_csv(run.dir / "predictions.csv", dtype=str, keep_default_na=False)
    # Rows of predictions.csv are the test split's documents in order; if the data changed
    # since training, the report would pair documents with other documents' predictions.
    if list(predictions["id"]) != [str(i) for i in model_view.ids]:
        raise DataError(
            f"the test split rebuilt from the run's config no longer matches "
            f"{run.dir / 'predictions.csv'}: the dataset changed since the run was trained"
        )
    chosen = select_documents(
        list(predictions["label"]), list(predictions["predicted"]), num_docs, seed
    )
    labels = [data.classes[i] for i in model_view.labels[chosen]]
    docs = document_attention(
        run.model, model_view, word_view, data.corpus.lexicon, chosen, data.classes, run.flat, labels,
        erasure=erasure, gradient=gradient,
    )
    metrics = json.loads((run.dir / "metrics.json").read_text())
    subtitle = (
        f"{metrics['model']} on {metrics['dataset']}, seed {metrics['seed']}: test accuracy "
        f"{metrics['test']['accuracy']:.4f}, macro-F1 {metrics['test']['macro_f1']:.4f}. "
        f"{len(docs)} test documents, correct and misclassified."
    )
    path = output or run.dir / "report.html"
    return write_report(docs, path, f"Attention — {run.dir.name}", subtitle)


@hydra_main(config_name="predict", task="predict")
def main(cfg: DictConfig) -> None:
    output = Path(cfg.output) if cfg.output else None
    overwrite = bool(cfg.overwrite)  # conf/predict.yaml defines every key (strict settings)
    if cfg.report:
        run = SavedRun(Path(cfg.run_dir))
        path = writable_output(output or run.dir / "report.html", overwrite)
        path = report_test_split(run, int(cfg.num_docs), int(cfg.seed), path,
                                 bool(cfg.report_erasure), bool(cfg.report_gradient))
        print(f"report written to {path}")
        return
    run = SavedRun(Path(cfg.run_dir))
    if output is not None:
        writable_output(output, overwrite)  # checked before any work
    documents = read_inputs(str(cfg.input), str(cfg.text_column))  # before the model loads
    results = run.predict(documents, int(cfg.batch_size))
    for doc in results:
        probs = " ".join(f"{c}={p:.4f}" for c, p in doc.probabilities.items())
        read = "" if doc.read is None else (
            f"\tread {doc.read['sentences']} of {doc.read['of_sentences']} sentences, "
            f"{doc.read['words']} of {doc.read['of_words']} words")
        print(f"{doc.id}\t{doc.predicted}\t{probs}{read}")
    if output is None:
        log.info("attention not saved: give output=<file>.json to keep it")
        return
    text = json.dumps([d.to_json() for d in results], ensure_ascii=False, indent=1)
    atomic_write_text(writable_output(output, overwrite), text)  # no reader sees half a file
    print(f"attention written to {output}")


if __name__ == "__main__":
    main()
