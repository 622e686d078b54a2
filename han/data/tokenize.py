"""Text → sentences of words with NLTK: punkt_tab for sentences, NLTK's word tokenizer for words.

Tokenising is the slow stage (a few hundred documents a second on one core), so it runs over all
cores in chunks, and each chunk comes back as a small local lexicon plus an int32 array rather
than millions of Python strings, which keeps the inter-process traffic and the merge cheap.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from tqdm.auto import tqdm

from han import faults
from han.console import progress_disable
from han.data.documents import DataError

log = logging.getLogger(__name__)

# Bump when the splitting rules change: it is part of the cache key.
TOKENIZER_VERSION = 1
_PARAGRAPH = re.compile(r"\n\s*\n")
_PUNCTUATION = re.compile(r"^[^\w]+$")
# Pre-tokenised formats (`dataset.tokenizer.pretokenized`): name → the sentence separator.
# "sss": Tang et al. (2015)'s files, sentences joined by " <sssss> ", words by single spaces.
PRETOKENIZED = {"sss": "<sssss>"}


class NLTKModelMissing(RuntimeError):
    """NLTK's sentence model is not installed where NLTK looks."""


@dataclass(frozen=True)
class TokenizerSettings:
    """Everything that changes how a text becomes sentences of words."""

    language: str = "english"
    lowercase: bool = True
    # A 10 MB document holds far more than any L×T view keeps; cutting it first bounds the time.
    max_chars: int = 1_000_000
    # Tokens made only of punctuation are dropped: the tutorial's IMDB ids have none, and in a
    # flat view of N words they would take a seventh of the budget.
    drop_punctuation: bool = False
    nltk_data: str | None = None
    # None: raw text (punkt + NLTK words); "sss": sentences and words as the file gives them.
    pretokenized: str | None = None

    def cache_key(self) -> dict:
        key = asdict(self)
        key.pop("nltk_data")  # where the model lives does not change the tokens
        if key["pretokenized"] is None:
            key.pop("pretokenized")  # raw-text caches written before the setting stay valid
        return key


@dataclass
class TokenizedChunk:
    """Documents as lexicon ids: `tokens` flat, `sentence_lengths` per sentence, `doc_sentences` per doc."""

    lexicon: list[str]
    tokens: np.ndarray
    sentence_lengths: np.ndarray
    doc_sentences: np.ndarray
    truncated_chars: int


def configure_nltk(nltk_data: str | os.PathLike | None) -> None:
    """Put the configured NLTK data folder first; `NLTK_DATA` is honoured by NLTK itself."""
    import nltk

    for folder in (os.environ.get("NLTK_DATA"), nltk_data):
        if folder and str(folder) not in nltk.data.path:
            nltk.data.path.insert(0, str(folder))


def load_sentence_model(settings: TokenizerSettings):
    """The punkt_tab model for `settings.language`, or an error that says how to install it."""
    from nltk.tokenize import PunktTokenizer

    configure_nltk(settings.nltk_data)
    try:
        return PunktTokenizer(settings.language)
    except LookupError as err:
        import nltk

        raise NLTKModelMissing(
            f"NLTK's punkt_tab sentence model for '{settings.language}' was not found in "
            f"{', '.join(map(str, nltk.data.path))}. Install it with `han-nltk-setup` (`make setup` "
            f"in a checkout; offline it reads punkt_tab.zip from HAN_DATA_MIRROR), "
            f"or point NLTK_DATA or the setting paths.nltk_data at a folder that holds "
            f"tokenizers/punkt_tab/"
        ) from err


def check_pretokenized(settings: TokenizerSettings) -> str | None:
    """The sentence separator of ``settings.pretokenized``, None for raw text."""
    if settings.pretokenized is None:
        return None
    if settings.pretokenized not in PRETOKENIZED:
        raise DataError(f"dataset.tokenizer.pretokenized is {settings.pretokenized!r}; set it to "
                         f"one of {', '.join(PRETOKENIZED)} or null for raw text")
    return PRETOKENIZED[settings.pretokenized]


class DocumentTokenizer:
    """Splits one document into sentences (punkt_tab, per paragraph) of words (NLTK).

    Pre-tokenised text (``settings.pretokenized``) keeps the file's own sentence boundaries and
    tokens: sentences split on the separator, words on whitespace; no punkt, no NLTK words.
    """

    def __init__(self, settings: TokenizerSettings) -> None:
        from nltk.tokenize.destructive import NLTKWordTokenizer

        self.settings = settings
        self._separator = check_pretokenized(settings)
        self._sentences = None if self._separator else load_sentence_model(settings)
        self._words = NLTKWordTokenizer()

    def __call__(self, text: str) -> tuple[list[list[str]], bool]:
        """Returns the sentences and whether the text was cut at `max_chars`."""
        truncated = len(text) > self.settings.max_chars
        if truncated:
            text = text[: self.settings.max_chars]
        if self.settings.lowercase:
            text = text.lower()
        sentences = []
        if self._separator is not None:
            for sentence in text.split(self._separator):
                words = sentence.split()
                if self.settings.drop_punctuation:
                    words = [w for w in words if not _PUNCTUATION.match(w)]
                if words:
                    sentences.append(words)
            return sentences, truncated
        # Paragraph breaks end sentences too: a BBC title has no full stop but is its own line.
        for paragraph in _PARAGRAPH.split(text):
            for sentence in self._sentences.tokenize(paragraph):
                words = self._words.tokenize(sentence)
                if self.settings.drop_punctuation:
                    words = [w for w in words if not _PUNCTUATION.match(w)]
                if words:
                    sentences.append(words)
        return sentences, truncated


def _encode_chunk(tokenizer: DocumentTokenizer, texts: Sequence[str]) -> TokenizedChunk:
    lexicon: dict[str, int] = {}
    tokens: list[int] = []
    sentence_lengths: list[int] = []
    doc_sentences: list[int] = []
    truncated = 0
    for text in texts:
        sentences, cut = tokenizer(text)
        truncated += cut
        doc_sentences.append(len(sentences))
        for words in sentences:
            sentence_lengths.append(len(words))
            tokens.extend(lexicon.setdefault(w, len(lexicon)) for w in words)
    return TokenizedChunk(
        lexicon=list(lexicon),
        tokens=np.asarray(tokens, dtype=np.int32),
        sentence_lengths=np.asarray(sentence_lengths, dtype=np.int32),
        doc_sentences=np.asarray(doc_sentences, dtype=np.int32),
        truncated_chars=truncated,
    )


_worker_tokenizer: DocumentTokenizer | None = None


def _init_worker(settings: TokenizerSettings) -> None:
    global _worker_tokenizer
    _worker_tokenizer = DocumentTokenizer(settings)


def _worker(texts: Sequence[str]) -> TokenizedChunk:
    assert _worker_tokenizer is not None
    return _encode_chunk(_worker_tokenizer, texts)


def _chunks(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def iter_tokenized(
    texts: Sequence[str],
    settings: TokenizerSettings,
    workers: int | None = None,
    chunk_size: int = 250,
    progress: bool = True,
) -> Iterator[TokenizedChunk]:
    """Tokenises every text on `workers` processes; yields chunks of `chunk_size`, in order,
    as they finish, so a caller can write each and keep none."""
    workers = workers or default_workers()
    if check_pretokenized(settings) is None:
        load_sentence_model(settings)  # fail here, with the install hint, not inside a worker
    # Bars only on a terminal: a log file gets the summary lines, not a bar per update.
    bar = tqdm(total=len(texts), desc="tokenising", unit="doc", disable=progress_disable(progress))
    if workers <= 1 or len(texts) <= chunk_size:
        tokenizer = DocumentTokenizer(settings)
        for part in _chunks(texts, chunk_size):
            chunk = _encode_chunk(tokenizer, part)
            bar.update(len(part))
            yield chunk
            faults.point("tokenise")
    else:
        # fork: workers need only NLTK, and spawn would re-import the caller (and TensorFlow).
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        with ctx.Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
            for chunk in pool.imap(_worker, _chunks(texts, chunk_size)):
                bar.update(len(chunk.doc_sentences))
                yield chunk
                faults.point("tokenise")
    bar.close()


def tokenize_texts(
    texts: Sequence[str],
    settings: TokenizerSettings,
    workers: int | None = None,
    chunk_size: int = 250,
    progress: bool = True,
) -> TokenizedChunk:
    """Tokenises every text, in order, on `workers` processes; returns one merged chunk."""
    return merge_chunks(list(iter_tokenized(list(texts), settings, workers, chunk_size, progress)))


class LexiconMerger:
    """Maps chunks' local lexicons onto one shared lexicon, in order of first occurrence."""

    def __init__(self) -> None:
        self.lexicon: dict[str, int] = {}

    def global_tokens(self, chunk: TokenizedChunk) -> np.ndarray:
        """The chunk's tokens as ids of the shared lexicon (new words appended to it)."""
        lexicon = self.lexicon
        local_to_global = np.fromiter(
            (lexicon.setdefault(w, len(lexicon)) for w in chunk.lexicon),
            dtype=np.int32,
            count=len(chunk.lexicon),
        )
        return local_to_global[chunk.tokens] if len(chunk.tokens) else chunk.tokens


def merge_chunks(chunks: Sequence[TokenizedChunk]) -> TokenizedChunk:
    """Joins chunks into one, remapping each local lexicon onto a shared one."""
    merger = LexiconMerger()
    tokens = [merger.global_tokens(chunk) for chunk in chunks]

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays).astype(np.int32) if arrays else np.zeros(0, np.int32)

    return TokenizedChunk(
        lexicon=list(merger.lexicon),
        tokens=cat(tokens),
        sentence_lengths=cat([c.sentence_lengths for c in chunks]),
        doc_sentences=cat([c.doc_sentences for c in chunks]),
        truncated_chars=sum(c.truncated_chars for c in chunks),
    )
