"""`han-evaluate run_dir=<run> dataset=<name> | input=<file>` (`make evaluate`): score a saved run.

A finished run (a network or a linear baseline) reads labelled documents exactly as it read its
own: the run's tokenizer settings, vocabulary and L×T (or N) view, the batches its test split was
scored in. Writes, to `output=` (default `<run_dir>/evaluation/<data>-<split>/`):
  metrics.json     accuracy, macro-F1, loss, per-class scores, confusion matrix (as training's
                   `metrics.json["test"]`), with the run, the data and the commit
  metrics.md       the per-class table and the confusion matrix
  predictions.csv  id, label, predicted, prob_<class> (as training's predictions.csv)
Labels the run was never trained on are refused: its metrics would mean nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from han.cli import CONFIG_DIR, UsageError, hydra_main
from han.data.corpus import Corpus
from han.data.encode import EncodedDocs, encode_corpus
from han.data.sources import DataError
from han.saved_run import SavedRun

log = logging.getLogger("han.evaluate")
SPLIT_CHOICES = ("test", "validation", "train", "all")


def check_labels(labels: np.ndarray, run: SavedRun, what: str) -> None:
    """Refuse data with a label outside the run's classes; log classes the data lacks."""
    present = sorted({str(x) for x in labels})
    unknown = [x for x in present if x not in run.classes]
    if unknown:
        raise DataError(
            f"{what} has label(s) {unknown} that the run {run.dir} was not trained on (its "
            f"classes: {run.classes}); score it on data labelled with those classes"
        )
    if absent := [c for c in run.classes if c not in present]:
        log.info("%s has no document of class(es) %s: their recall is reported as 0", what, absent)


def dataset_documents(cfg: DictConfig, run: SavedRun) -> tuple[Corpus, np.ndarray, str]:
    """The chosen split of `dataset=`, as the corpus and the indices of its documents.

    The run's own dataset is rebuilt from the run's saved dataset config and seed, so its test
    split is the one the run was tested on; another dataset is split with its own settings.
    """
    from han.data.prepare import prepare

    same = str(cfg.dataset.name) == str(run.cfg.dataset.name)
    dataset_cfg = run.cfg.dataset if same else cfg.dataset
    seed = int(run.cfg.seed) if same else int(cfg.seed)
    data = prepare(dataset_cfg, cfg.paths, seed, cfg.workers, bool(cfg.progress))
    split = str(cfg.split)
    members = (np.arange(len(data.corpus)) if split == "all"
               else np.flatnonzero(data.split_of == split))
    return data.corpus, members, f"{dataset_cfg.name}-{split}"


def table_documents(cfg: DictConfig, run: SavedRun) -> tuple[Corpus, np.ndarray, str]:
    """Every row of a labelled table, tokenised with the run's settings."""
    import pandas as pd

    from han.data.prepare import tokenizer_settings
    from han.data.tables import read_table

    path = Path(str(cfg.input))
    if not path.is_file():
        raise FileNotFoundError(f"input={path}: no such file; give a labelled table "
                                f"(.csv, .tsv, .jsonl, .parquet)")
    table = read_table(path)
    for setting in ("text_column", "label_column"):
        if str(cfg[setting]) not in table:
            raise DataError(f"{path} has no column {cfg[setting]!r} (columns: {list(table)}); set "
                            f"{setting}=<name> (han-predict labels text without labels)")
    ids = table["id"].astype(str) if "id" in table else [f"{path.stem}-{i}" for i in range(len(table))]
    frame = pd.DataFrame({"id": ids, "text": table[str(cfg.text_column)].fillna("").astype(str),
                          "label": table[str(cfg.label_column)].fillna("").astype(str),
                          "source_split": "", "group": ""})
    settings = tokenizer_settings(run.cfg.dataset, run.cfg.paths)
    corpus = Corpus.from_documents(frame, settings, workers=1, progress=False)
    return corpus, np.arange(len(corpus)), path.stem


def probabilities(run: SavedRun, docs: EncodedDocs) -> np.ndarray:
    """(N, C) probabilities in document order: a network in the batches of its own test split."""
    if run.linear:
        return run.model.probabilities(docs)
    from han import trainer as loop
    from han.data.pipeline import BatchSource

    trainer = run.cfg.trainer
    source = BatchSource.for_pipeline(
        run.view(docs), int(trainer.eval_batch_size), None, flat=run.flat, shuffle=False,
        bucket=bool(trainer.bucket), seed=int(run.cfg.seed), epoch=0,
    )
    return loop.probabilities(run.model, source)[0]


def evaluate(cfg: DictConfig) -> tuple[dict, Path]:
    """Score `cfg.run_dir` on `cfg.dataset` (its `cfg.split`) or on the table `cfg.input`."""
    from han.evaluation import classification_metrics, metrics_markdown
    from han.io import atomic_write_text
    from han.provenance import code_version
    from han.run_files import write_predictions

    if (cfg.get("dataset") is None) == (cfg.get("input") is None):
        names = sorted(p.stem for p in (CONFIG_DIR / "dataset").glob("*.yaml"))
        raise UsageError(f"give one of dataset=<name> ({' | '.join(names)}) or input=<labelled file>")
    if str(cfg.split) not in SPLIT_CHOICES:
        raise UsageError(f"split is {cfg.split!r}; choose one of {', '.join(SPLIT_CHOICES)}")
    run = SavedRun(Path(str(cfg.run_dir)))
    corpus, members, name = (table_documents if cfg.get("input") else dataset_documents)(cfg, run)
    # As in training and han-predict: a document with no words is skipped, counted and logged.
    empty = members[corpus.doc_sentences[members] == 0]
    if len(empty):
        log.warning("skipped %d document(s) with no words: %s", len(empty),
                    ", ".join(map(str, corpus.ids[empty][:10])))
        members = members[corpus.doc_sentences[members] > 0]
    if not len(members):
        raise DataError(f"{name}: no document to score")
    check_labels(corpus.labels[members], run, name)
    docs = encode_corpus(corpus, run.vocabulary.lexicon_map(corpus.lexicon), run.classes, members)
    probs = probabilities(run, docs)
    scores = classification_metrics(docs.labels, probs, run.classes)
    metrics = {
        "run": str(run.dir.resolve()), "model": str(run.cfg.model.name),
        "data": str(cfg.input) if cfg.get("input") else str(cfg.dataset.name),
        "split": None if cfg.get("input") else str(cfg.split),
        "docs": int(len(members)), "skipped_without_words": int(len(empty)),
        "classes": run.classes, "code": code_version(),
    } | scores
    output = Path(str(cfg.output)) if cfg.get("output") else run.dir / "evaluation" / name
    output.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output / "metrics.json", json.dumps(metrics, indent=1))
    title = f"{run.cfg.model.name} ({run.dir.name}) on {name}: {len(members)} documents"
    atomic_write_text(output / "metrics.md", metrics_markdown(scores, run.classes, title))
    write_predictions(output / "predictions.csv", docs, probs, run.classes)
    return metrics, output


@hydra_main(config_name="evaluate", task="evaluate")
def main(cfg: DictConfig) -> None:
    log.debug("config:\n%s", OmegaConf.to_yaml(cfg))
    metrics, output = evaluate(cfg)
    print((output / "metrics.md").read_text())
    print(f"accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
          f"loss {metrics['loss']:.4f} on {metrics['docs']} documents; written to {output}")


if __name__ == "__main__":
    main()
