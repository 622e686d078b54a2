"""From a dataset config to encoded splits: the whole data stage behind one call.

`prepare(cfg)` reads (or downloads) the raw data, tokenises it once (cached), drops documents
with no sentence (counted and logged), assigns splits, builds the vocabulary from train and
encodes every split. `python -m han.data dataset=imdb` (`make data`) prints a summary.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from han.data import dedup, sources
from han.data.chars import CharView, load_chars
from han.data.corpus import Corpus, cache_key, cached_corpus, write_documents
from han.data.encode import EncodedDocs, ViewSettings, encode_corpus, view_for_model
from han.data.splits import SPLITS, assign_splits, class_names, subsample_train
from han.data.tokenize import TokenizerSettings
from han.data.vocab import Vocabulary
from han.schema import typed

log = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """Everything the models and the runner need from the data stage."""

    name: str
    classes: list[str]
    vocabulary: Vocabulary
    splits: dict[str, EncodedDocs]
    corpus: Corpus
    split_of: np.ndarray  # split name of every document of `corpus`
    view_settings: ViewSettings  # L, T and N, resolved (a null L or T from train's lengths)
    counts: dict = field(default_factory=dict)
    lowercase: bool = True  # the tokenizer lower-cased (pretrained vectors are matched so)
    characters: CharView | None = None  # the character view, when a model reads characters

    def char_view(self, split: str) -> EncodedDocs:
        """A split's documents as character ids (han/data/chars.py), one row each."""
        if self.characters is None:
            raise ValueError("this data has no character view: prepare() builds it when given "
                             "the model's character frame")
        return self.characters.docs(self.splits[split])

    def view(self, split: str, flat: bool) -> EncodedDocs:
        """The model's view of a split: N words (flat), or L sentences × T words."""
        return view_for_model(self.splits[split], self.view_settings, flat)

    def lexicon_view(self, split: str, flat: bool) -> EncodedDocs:
        """`view(split, flat)` with lexicon ids (`self.corpus.lexicon`) instead of vocabulary
        ids, in exactly the same layout: the words as written, to show beside attention."""
        identity = np.arange(len(self.corpus.lexicon), dtype=np.int32)
        members = np.flatnonzero(self.split_of == split)
        docs = encode_corpus(self.corpus, identity, self.classes, members)
        return view_for_model(docs, self.view_settings, flat)


def tokenizer_settings(dataset_cfg: Mapping, paths_cfg: Mapping) -> TokenizerSettings:
    tok = typed("dataset", dataset_cfg).tokenizer
    return TokenizerSettings(
        language=str(tok.language),
        lowercase=bool(tok.lowercase),
        max_chars=int(tok.max_chars),
        drop_punctuation=bool(tok.drop_punctuation),
        nltk_data=paths_cfg.get("nltk_data"),
        pretokenized=tok.pretokenized and str(tok.pretokenized),
    )


def load_corpus(
    dataset_cfg: Mapping, paths_cfg: Mapping, workers: int | None = None, progress: bool = True
) -> tuple[Corpus, bool]:
    """The tokenised corpus of a dataset, from the cache when nothing that changes it changed."""
    dataset_cfg = typed("dataset", dataset_cfg)
    files = sources.dataset_files(dataset_cfg, Path(paths_cfg["data_dir"]), paths_cfg.get("mirror"))
    settings = tokenizer_settings(dataset_cfg, paths_cfg)
    key = cache_key(sources.fingerprint(files, dataset_cfg), settings)

    def build(path: Path) -> None:
        documents, stats = sources.read_documents(dataset_cfg, files)
        log.info("read %d documents from %s", len(documents), ", ".join(map(str, files)))
        write_documents(path, documents, settings, workers, progress,
                        non_utf8_files=stats.non_utf8_files)

    corpus, path, cached = cached_corpus(
        Path(paths_cfg["cache_dir"]), str(dataset_cfg["name"]), key, build
    )
    log.info("tokenised corpus %s (%s)", path, "cached" if cached else "built")
    return corpus, cached


def dedup_settings(dataset_cfg: Mapping) -> dedup.DedupSettings:
    cfg = typed("dataset", dataset_cfg)
    return dedup.DedupSettings(mode=str(cfg.dedup), jaccard=float(cfg.near_duplicates.jaccard),
                               shingle=int(cfg.near_duplicates.shingle))


_FOUND: dict[str, dedup.Duplicates] = {}


def drop_duplicates(corpus: Corpus, dataset_cfg: Mapping) -> tuple[Corpus, dict, np.ndarray]:
    """One copy of every duplicate group (han/data/dedup.py), before any split is drawn.

    Returns the kept corpus, the counts for data_summary.json and, per kept document, whether
    it is the survivor of a group.
    """
    settings = dedup_settings(dataset_cfg)
    # One search per corpus and process: the attention analyses load several runs (seeds) of one
    # dataset, and the near-duplicate search on IMDB costs more than the rest of prepare.
    hasher = hashlib.blake2b(digest_size=16)  # fed array by array: no copy of the corpus
    for part in (corpus.tokens, corpus.doc_tokens):
        hasher.update(np.ascontiguousarray(part).data)
    hasher.update(repr((settings, len(corpus.lexicon))).encode())
    digest = hasher.hexdigest()
    if digest not in _FOUND:
        _FOUND[digest] = dedup.find_duplicates(corpus.lexicon, corpus.tokens, corpus.doc_tokens, settings)
    found = _FOUND[digest]
    keep = dedup.keep_mask(found, corpus.source_split)
    counts = dedup.report(found, keep, corpus.labels, corpus.source_split, corpus.ids,
                          settings.mode)
    if settings.mode == "near":
        counts |= {"jaccard": settings.jaccard, "shingle": settings.shingle}
    # Nothing dropped: the corpus stays as loaded (memory-mapped), not copied.
    kept = corpus if keep.all() else corpus.select(keep)
    return kept, counts, found.group[keep] >= 0


def prepare(
    dataset_cfg: Mapping,
    paths_cfg: Mapping,
    seed: int,
    workers: int | None = None,
    progress: bool = True,
    max_chars: int | None = None,
) -> PreparedData:
    """Raw data → vocabulary and encoded train / validation / test; with `max_chars`, also
    every document's first `max_chars` characters (the character models' view)."""
    dataset_cfg = typed("dataset", dataset_cfg)
    corpus, _ = load_corpus(dataset_cfg, paths_cfg, workers, progress)
    counts = {"non_utf8_files": corpus.non_utf8_files, "docs_cut_at_max_chars": corpus.truncated_chars}
    if corpus.truncated_chars:
        log.warning("%d document(s) were cut at dataset.tokenizer.max_chars", corpus.truncated_chars)
    empty = corpus.doc_sentences == 0
    counts["docs_without_sentences"] = int(empty.sum())
    if empty.any():
        log.warning(
            "skipped %d document(s) with no sentence (empty or whitespace only), e.g. %s",
            int(empty.sum()), ", ".join(map(str, corpus.ids[empty][:5])),
        )
        corpus = corpus.select(~empty)
    corpus, counts["duplicates"], twinned = drop_duplicates(corpus, dataset_cfg)
    fractions = {"validation": dataset_cfg.split.validation, "test": dataset_cfg.split.test}
    folds, fold = dataset_cfg.folds, dataset_cfg.fold
    split_of = assign_splits(corpus.labels, corpus.source_split, fractions, seed, corpus.groups,
                             folds, fold)
    if folds is not None:  # recorded in data_summary.json: which fold this run tested on
        counts |= {"folds": int(folds), "fold": int(fold)}
    if dataset_cfg.max_train_docs is not None:
        counts["train_docs_before_sample"] = int((split_of == "train").sum())
        split_of = subsample_train(corpus.labels, split_of, dataset_cfg.max_train_docs, seed)
    # Where the surviving copy of each group landed (a group's other copies are gone).
    counts["duplicates"]["survivors_by_split"] = {
        name: int((twinned & (split_of == name)).sum()) for name in SPLITS
    }
    classes = class_names(corpus.labels, split_of)
    train = split_of == "train"
    train_tokens = corpus.select(train).tokens
    vocabulary = Vocabulary.from_counts(
        corpus.lexicon,
        np.bincount(train_tokens, minlength=len(corpus.lexicon)),
        min_count=int(dataset_cfg.vocab.min_count),
        max_size=dataset_cfg.vocab.max_size,
    )
    id_map = vocabulary.lexicon_map(corpus.lexicon)
    splits = {
        name: encode_corpus(corpus, id_map, classes, np.flatnonzero(split_of == name))
        for name in SPLITS
    }
    view_settings = ViewSettings.resolve(dataset_cfg, splits["train"])
    if view_settings.derived:
        log.info(
            "view from the training split's lengths (p%d): L=%d sentences x T=%d words",
            99, view_settings.max_sentences, view_settings.max_words,
        )
    characters = None
    if max_chars is not None:
        characters, _ = load_chars(dataset_cfg, paths_cfg, int(max_chars))
        counts["characters"] = characters.counts | {"max_chars": int(max_chars)}
    return PreparedData(
        characters=characters,
        name=str(dataset_cfg["name"]),
        classes=classes,
        vocabulary=vocabulary,
        splits=splits,
        corpus=corpus,
        split_of=split_of,
        view_settings=view_settings,
        counts=counts,
        lowercase=bool(dataset_cfg.tokenizer.lowercase),
    )
