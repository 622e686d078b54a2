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
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from han.data.corpus import Corpus
from han.data.encode import encode_corpus
from han.data.prepare import tokenizer_settings
from han.data.vocab import Vocabulary
from han.explain import document_attention
from han.report import DocumentAttention, select_documents, write_report

log = logging.getLogger("han.predict")
TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".json", ".parquet"}


class SavedRun:
    """A finished run directory: config, vocabulary, classes and the best model."""

    def __init__(self, run_dir: Path) -> None:
        import keras

        import han.models  # noqa: F401 - registers the custom layers and models for loading

        self.dir = Path(run_dir)
        missing = [n for n in (".hydra/config.yaml", "vocab.json", "model.keras", "metrics.json")
                   if not (self.dir / n).exists()]
        if missing:
            raise FileNotFoundError(
                f"{self.dir} is not a finished run directory: missing {', '.join(missing)}. "
                f"Give run_dir=<the folder that `make train` printed last>."
            )
        self.cfg = OmegaConf.load(self.dir / ".hydra/config.yaml")
        self.vocabulary = Vocabulary.load(self.dir / "vocab.json")
        self.classes = json.loads((self.dir / "metrics.json").read_text())["classes"]
        self.model = keras.saving.load_model(self.dir / "model.keras")
        self.flat = str(self.cfg.model.get("family", "hierarchical")) == "flat"

    def view(self, docs):
        if self.flat:
            return docs.flat(int(self.cfg.dataset.max_tokens))
        return docs.hierarchical(
            int(self.cfg.dataset.max_sentences),
            int(self.cfg.dataset.max_words),
            wrap=bool(self.cfg.dataset.get("wrap_long_sentences", True)),
        )

    def explain(
        self, documents: pd.DataFrame, batch_size: int = 64, progress: bool = False
    ) -> list[DocumentAttention]:
        """Prediction and attention of every document (columns id, text, optional label)."""
        frame = documents.assign(
            label=documents.get("label", ""), source_split=""
        )
        settings = tokenizer_settings(self.cfg.dataset, self.cfg.paths)
        corpus = Corpus.from_documents(frame, settings, workers=1, progress=progress)
        everything = np.arange(len(corpus))
        model_view = self.view(
            encode_corpus(corpus, self.vocabulary.lexicon_map(corpus.lexicon), self.classes, everything)
        )
        identity = np.arange(len(corpus.lexicon), dtype=np.int32)
        word_view = self.view(encode_corpus(corpus, identity, self.classes, everything))
        labels = [str(x) if str(x) else None for x in frame["label"]]
        out = []
        for start in range(0, len(corpus), batch_size):
            batch = everything[start : start + batch_size]
            out += document_attention(
                self.model, model_view, word_view, corpus.lexicon, batch, self.classes,
                self.flat, [labels[i] for i in batch],
            )
        return out


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
        from han.data.sources import read_table

        table = read_table(path)
        if text_column not in table:
            raise KeyError(f"{path} has no column {text_column!r} (columns: {list(table)}); "
                           f"set text_column=<name>")
        frame = pd.DataFrame({"id": [f"{path.stem}-{i}" for i in range(len(table))],
                              "text": table[text_column].fillna("").astype(str)})
        if "label" in table:  # shown as the true label in the output, never used to predict
            frame["label"] = table["label"].fillna("").astype(str)
        return frame
    return pd.DataFrame({"id": [path.name], "text": [decode_text(path.read_bytes())[0]]})


def test_report(run: SavedRun, num_docs: int, seed: int) -> Path:
    """HTML report of `num_docs` test documents, half of them misclassified when possible."""
    from han.data.prepare import prepare

    data = prepare(run.cfg.dataset, run.cfg.paths, int(run.cfg.seed), progress=False)
    model_view = data.view("test", run.cfg.dataset, run.flat)
    word_view = data.view("test", run.cfg.dataset, run.flat, words=True)
    predictions = pd.read_csv(run.dir / "predictions.csv", dtype={"id": str})
    chosen = select_documents(list(predictions["label"]), list(predictions["predicted"]), num_docs, seed)
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
    return write_report(docs, run.dir / "report.html", f"Attention — {run.dir.name}", subtitle)


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    run = SavedRun(Path(cfg.run_dir))
    if cfg.report:
        path = test_report(run, int(cfg.num_docs), int(cfg.seed))
        print(f"report written to {path}")
        return
    if cfg.input is None:
        raise ValueError("give input=<file | folder | -> (or report=true for a test-set report)")
    documents = read_inputs(str(cfg.input), str(cfg.text_column))
    results = run.explain(documents, int(cfg.batch_size))
    for doc in results:
        probs = " ".join(f"{c}={p:.4f}" for c, p in doc.probabilities.items())
        print(f"{doc.id}\t{doc.predicted}\t{probs}")
    output = Path(cfg.output) if cfg.output else run.dir / "predict.json"
    output.write_text(json.dumps([d.to_json() for d in results], ensure_ascii=False, indent=1))
    print(f"attention written to {output}")


if __name__ == "__main__":
    main()
