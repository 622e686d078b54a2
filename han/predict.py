"""`python -m han.predict run_dir=<run> input=<file | folder | ->` (`make predict`, `make explain`).

Classifies raw text with a saved run — its config, vocabulary and best model — exactly as the
run saw its own documents: the same tokenizer settings, vocabulary and L×T (or N) view. Writes
JSON with the sentence and word attention aligned with the original words (to `output=`; never
over a file it did not create unless `overwrite=true`). With `report=true` it instead renders an
HTML attention report of the run's test documents (correct and wrong).

It says what it did not read: input that is not text is an error naming the file, a document
longer than the run's view says how much of it was read (`read` in the JSON, a count on stderr),
and input without a document is an error that writes nothing.

The run is read back by han/saved_run.py (`SavedRun`), the input and output files by han/inputs.py;
this module is the command and the test-split report.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from han.cli import hydra_main
from han.data.sources import DataError
from han.explain import document_attention
from han.inputs import read_inputs, text_of, writable_output
from han.io import atomic_write_text
from han.report import select_documents, write_report
from han.saved_run import SavedRun, finished_run

# Read runs and inputs through han.saved_run and han.inputs; these names stay importable from
# here, where they lived before the split.
__all__ = ["SavedRun", "finished_run", "main", "read_inputs", "report_test_split", "text_of",
           "writable_output"]

log = logging.getLogger("han.predict")


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
    if not run.attends:
        raise DataError(
            f"{run.dir} is a {run.cfg.model.name} run: that network has no attention to show "
            "(only the HAN family and the flat attention model have). Use han-predict "
            "run_dir=... input=... for its predictions."
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
