"""`python -m han.predict run_dir=<run> input=<file | folder | ->` (`make predict`, `make explain`).

Classifies raw text with a saved run — its config, vocabulary and best model — exactly as the
run saw its own documents: the same tokenizer settings, vocabulary and L×T (or N) view. Writes
JSON with the sentence and word attention aligned with the original words. With `report=true`
it instead renders an HTML attention report of the run's test documents (correct and wrong).
"""

from __future__ import annotations

import json
import logging
import sys
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
        return out

    def _classify_linear(self, docs: EncodedDocs, labels: list[str | None]) -> list[DocumentAttention]:
        """A linear baseline's predictions: it has no attention, so no words are shown."""
        probs = self.model.predict_proba(docs)
        return [
            DocumentAttention(
                id=str(doc_id), sentences=[], word_attention=[], sentence_attention=None,
                predicted=str(self.classes[int(p.argmax())]),
                probabilities={c: float(v) for c, v in zip(self.classes, p, strict=True)},
                label=label,
            )
            for doc_id, p, label in zip(docs.ids, probs, labels, strict=True)
        ]


def read_inputs(source: str, text_column: str = "text") -> pd.DataFrame:
    """Documents from a text file (one document), a table, a folder of .txt files, or stdin
    (one document per line)."""
    from han.data.sources import decode_text

    if source == "-":
        lines = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        return pd.DataFrame({"id": [f"stdin-{i}" for i in range(len(lines))], "text": lines})
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"no .txt files in {path}: put one document per .txt file there")
        return pd.DataFrame(
            {"id": [f.name for f in files], "text": [decode_text(f.read_bytes())[0] for f in files]}
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
    return pd.DataFrame({"id": [path.name], "text": [decode_text(path.read_bytes())[0]]})


def report_test_split(run: SavedRun, num_docs: int, seed: int, output: Path | None = None) -> Path:
    """HTML report of `num_docs` test documents, half of them misclassified when possible."""
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
        run.model, model_view, word_view, data.corpus.lexicon, chosen, data.classes, run.flat, labels
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
    if cfg.report:
        run = SavedRun(Path(cfg.run_dir))
        path = report_test_split(run, int(cfg.num_docs), int(cfg.seed), output)
        print(f"report written to {path}")
        return
    run = SavedRun(Path(cfg.run_dir))
    documents = read_inputs(str(cfg.input), str(cfg.text_column))  # before the model loads
    results = run.predict(documents, int(cfg.batch_size))
    for doc in results:
        probs = " ".join(f"{c}={p:.4f}" for c, p in doc.probabilities.items())
        print(f"{doc.id}\t{doc.predicted}\t{probs}")
    output = output or run.dir / "predict.json"
    text = json.dumps([d.to_json() for d in results], ensure_ascii=False, indent=1)
    atomic_write_text(output, text)  # a reader never sees half a file
    print(f"attention written to {output}")


if __name__ == "__main__":
    main()
