"""A finished run directory read back: its config, vocabulary, classes and best model.

`SavedRun.predict` classifies raw documents exactly as the run saw its own: the same tokenizer
settings, vocabulary and L×T (or N, or character) view, with the attention aligned with the
original words when the model has attention. `han.predict` (the CLI), `han.evaluate`,
`han.export` and the attention analyses all read runs through it.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from han.baselines import MODEL_FILE, LinearBaseline, is_linear
from han.data.corpus import Corpus
from han.data.encode import EncodedDocs, ViewSettings, encode_corpus, is_flat, view_for_model
from han.data.prepare import tokenizer_settings
from han.data.sources import DataError
from han.data.vocab import Vocabulary
from han.explain import DocumentAttention, document_attention
from han.table2.settings import has_attention, max_chars, reads_characters

if TYPE_CHECKING:
    import keras

log = logging.getLogger("han.predict")
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
        self.attends = has_attention(self.cfg.model)  # the Table 2 networks have no attention

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
        if reads_characters(self.cfg.model):
            from han.data.chars import char_view

            view = char_view(frame["text"].astype(str).tolist(), list(corpus.ids),
                             max_chars(self.cfg.model))
            return self._classify_plain(view.docs(encoded), labels)
        model_view = self.view(encoded)
        if not self.attends:
            return self._classify_plain(model_view, labels)
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

    def _classify_plain(self, view: EncodedDocs, labels: list[str | None]) -> list[DocumentAttention]:
        """A network without attention: its predictions only, in batches of its own view."""
        probs = np.concatenate([
            np.asarray(self.model.probabilities(view.padded(np.arange(i, min(i + 64, len(view))),
                                                            flat=self.flat)))
            for i in range(0, len(view), 64)])
        return self._documents(view.ids, probs, labels)

    def _classify_linear(self, docs: EncodedDocs, labels: list[str | None]) -> list[DocumentAttention]:
        """A linear baseline's predictions: it has no attention, so no words are shown."""
        return self._documents(docs.ids, self.model.probabilities(docs), labels)

    def _documents(self, ids: np.ndarray, probs: np.ndarray,
                   labels: list[str | None]) -> list[DocumentAttention]:
        """Predictions without attention (no words are shown)."""
        return [
            DocumentAttention(
                id=str(doc_id), sentences=[], word_attention=[], sentence_attention=None,
                predicted=str(self.classes[int(p.argmax())]),
                probabilities={c: float(v) for c, v in zip(self.classes, p, strict=True)},
                label=label,
            )
            for doc_id, p, label in zip(ids, probs, labels, strict=True)
        ]
