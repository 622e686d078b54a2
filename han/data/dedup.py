"""Duplicate documents, found before the splits are drawn, so no test document has a twin in train.

A corpus scraped from the web or a newsroom often holds the same article twice (the BBC copy has
78 such pairs). A twin on each side of a split is a test document the model has seen: it inflates
every model and shrinks the differences between them. `dataset.dedup` chooses:

- `off`: keep every document;
- `exact`: documents whose words are the same once lower-cased (the tokeniser has already folded
  whitespace) form a group;
- `near`: `exact`, plus documents whose sets of word 5-grams ("shingles") have a Jaccard
  similarity of at least `dataset.near_duplicates.jaccard`. Candidates come from MinHash with
  locality-sensitive hashing (Broder 1997; Leskovec, Rajaraman & Ullman, *Mining of Massive
  Datasets*, ch. 3) and every candidate pair is confirmed on its exact Jaccard, so a group never
  rests on an estimate. Groups are the connected components of the confirmed pairs.

One copy per group survives (`keep_mask`): a group with a member in an official test set keeps
every official test member (an official test set is never changed) and loses the rest; otherwise
an official validation member survives if there is one, else the first document. Splits are drawn
after, so a surviving document has no twin in any other split. Groups whose members disagree on
the label are counted and logged, never resolved silently.

MinHash here is a few vectorised numpy lines over the corpus's token ids rather than a library's
per-document Python loop (datasketch hashes one document at a time): the whole of IMDB's 50,000
reviews takes seconds, which matters because every run prepares its data.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from han.data import ragged

log = logging.getLogger(__name__)

MODES = ("off", "exact", "near")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class DedupSettings:
    """`dataset.dedup` and `dataset.near_duplicates`."""

    mode: str = "near"
    jaccard: float = 0.5  # near: the least Jaccard similarity of two documents' shingle sets
    shingle: int = 5  # near: words per shingle
    bands: int = 32  # LSH: bands x rows MinHash values; a pair at the threshold is a candidate
    rows: int = 3  # with probability 1 - (1 - 0.5^3)^32 = 0.986, at Jaccard 0.7 with 1 - 1e-6


@dataclass
class Duplicates:
    """Duplicate groups of a corpus: `group[i]` is the group of document i, -1 when it has none."""

    group: np.ndarray
    exact_groups: int = 0  # groups found by the exact rule alone

    @property
    def num_groups(self) -> int:
        return int(self.group.max()) + 1 if len(self.group) and self.group.max() >= 0 else 0


def _bounds(lengths: np.ndarray) -> np.ndarray:
    """[0, l0, l0+l1, ..., total]: segment i is bounds[i]:bounds[i + 1]."""
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (Steele et al. 2014): nearby integers become unrelated hashes."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def folded_tokens(lexicon: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Token ids with case folded: words equal once lower-cased get one id."""
    _, folded = np.unique(np.array([str(w).lower() for w in lexicon], dtype=object),
                          return_inverse=True)
    return folded.astype(np.int64)[tokens]


def exact_keys(tokens: np.ndarray, doc_tokens: np.ndarray) -> list[bytes]:
    """One digest per document of its case-folded word sequence."""
    bounds = _bounds(doc_tokens)
    return [hashlib.blake2b(tokens[a:b].tobytes(), digest_size=16).digest()
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def shingles(tokens: np.ndarray, doc_tokens: np.ndarray, size: int,
             chunk: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every document's word `size`-grams, and how many each document has.

    A document shorter than `size` words is one shingle of all its words. Documents go in
    chunks of about `chunk` words: the working arrays (a dozen bytes-wide ones per word) stay
    bounded, and only the hashes (8 bytes a shingle) grow with the corpus.
    """
    bounds = _bounds(doc_tokens)
    hashes, counts, first = [], [], 0
    while first < len(doc_tokens):
        last = int(np.searchsorted(bounds, bounds[first] + chunk, side="right")) - 1
        last = max(last, first + 1)
        h, c = _chunk_shingles(tokens[bounds[first]:bounds[last]], doc_tokens[first:last], size)
        hashes.append(h)
        counts.append(c)
        first = last
    if not hashes:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate(hashes), np.concatenate(counts)


def _chunk_shingles(tokens: np.ndarray, doc_tokens: np.ndarray,
                    size: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(tokens)
    bounds = _bounds(doc_tokens)
    doc = ragged.segment_ids(doc_tokens)  # (P,) each token's document
    end, start = bounds[1:][doc], bounds[:-1][doc]  # one past its document's end; its start
    word = _splitmix(tokens.astype(np.uint64))
    h = np.zeros(n, dtype=np.uint64)
    position = np.arange(n)
    with np.errstate(over="ignore"):
        for j in range(size):
            inside = position + j < end
            part = np.zeros(n, dtype=np.uint64)
            part[inside] = word[position[inside] + j]
            h = h * np.uint64(0x100000001B3) + part  # order matters: a polynomial in the words
    keep = (position + size <= end) | ((doc_tokens[doc] < size) & (position == start))
    counts = np.bincount(doc[keep], minlength=len(doc_tokens))
    return _splitmix(h[keep]), counts


def minhash(hashes: np.ndarray, counts: np.ndarray, num: int, seed: int = 0,
            chunk: int = 1 << 18) -> np.ndarray:
    """(documents, num) MinHash signatures: the least of `num` hash functions per document."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, num, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
    b = rng.integers(0, 2**63, num, dtype=np.uint64)
    bounds = _bounds(counts)
    out = np.empty((len(counts), num), dtype=np.uint64)
    first = 0
    while first < len(counts):  # documents in chunks of about `chunk` shingles: bounded memory
        last = int(np.searchsorted(bounds, bounds[first] + chunk, side="right"))
        last = max(last - 1, first + 1)
        rows = hashes[bounds[first]:bounds[last], None]
        with np.errstate(over="ignore"):
            values = rows * a + b  # (S, num): multiply-shift hashing, one column per function
        out[first:last] = np.minimum.reduceat(values, bounds[first:last] - bounds[first], axis=0)
        first = last
    return out


def _candidate_pairs(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Pairs of documents that share a whole band of their signatures: (K, 2)."""
    pairs = []
    for band in range(bands):
        block = signatures[:, band * rows:(band + 1) * rows]
        key = np.zeros(len(block), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for col in range(rows):
                key = _splitmix(key ^ block[:, col])
        order = np.argsort(key, kind="stable")
        same = np.flatnonzero(key[order][1:] == key[order][:-1])
        # Each document in a bucket pairs with the one before it: a chain joins the bucket
        # without the quadratic all-pairs of a bucket of templated stories.
        pairs.append(np.stack([order[same], order[same + 1]], axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0)


def _jaccard(hashes: np.ndarray, bounds: np.ndarray, a: int, b: int) -> float:
    x = np.unique(hashes[bounds[a]:bounds[a + 1]])
    y = np.unique(hashes[bounds[b]:bounds[b + 1]])
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of the pairs' graph; -1 for a document in no pair."""
    if len(pairs) == 0:
        return np.full(n, -1, dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    in_pair = np.zeros(n, dtype=bool)
    in_pair[pairs.ravel()] = True
    _, group = np.unique(label[in_pair], return_inverse=True)
    out = np.full(n, -1, dtype=np.int64)
    out[in_pair] = group
    return out


def find_duplicates(lexicon: np.ndarray, tokens: np.ndarray, doc_tokens: np.ndarray,
                    settings: DedupSettings) -> Duplicates:
    """The duplicate groups of a tokenised corpus under `settings.mode`."""
    n = len(doc_tokens)
    if settings.mode == "off" or n == 0:
        return Duplicates(np.full(n, -1, dtype=np.int64))
    words = folded_tokens(lexicon, tokens)
    _, first, inverse = np.unique(np.array(exact_keys(words, doc_tokens), dtype=object),
                                  return_index=True, return_inverse=True)
    exact = np.stack([first[inverse], np.arange(n)], axis=1)
    exact = exact[exact[:, 0] != exact[:, 1]]
    exact_groups = len(np.unique(exact[:, 0]))
    pairs = [exact]
    if settings.mode == "near":
        hashes, counts = shingles(words, doc_tokens, settings.shingle)
        signatures = minhash(hashes, counts, settings.bands * settings.rows)
        candidates = _candidate_pairs(signatures, settings.bands, settings.rows)
        bounds = _bounds(counts)
        confirmed = [(a, b) for a, b in candidates
                     if _jaccard(hashes, bounds, a, b) >= settings.jaccard]
        pairs.append(np.array(confirmed, dtype=np.int64).reshape(-1, 2))
    return Duplicates(_components(n, np.concatenate(pairs)), exact_groups)


def keep_mask(duplicates: Duplicates, source_split: np.ndarray) -> np.ndarray:
    """Which documents survive: one per group, every official test member kept (module doc)."""
    group = duplicates.group
    keep = group < 0
    members = np.flatnonzero(group >= 0)
    # Rank within a group: official test first, then official validation, then the rest, each
    # in corpus order; the first survives, and so does every official test member.
    rank = np.select([source_split[members] == "test", source_split[members] == "validation"],
                     [0, 1], 2)
    order = members[np.lexsort((members, rank, group[members]))]
    head = np.ones(len(order), dtype=bool)
    head[1:] = group[order][1:] != group[order][:-1]
    keep[order[head]] = True
    keep[members[source_split[members] == "test"]] = True
    return keep


def report(duplicates: Duplicates, keep: np.ndarray, labels: np.ndarray,
           source_split: np.ndarray, ids: np.ndarray, mode: str) -> dict:
    """Counts for data_summary.json and the log: groups, removals by source split, conflicts."""
    group = duplicates.group
    grouped = group >= 0
    conflicting = [g for g in np.unique(group[grouped])
                   if len(set(labels[group == g])) > 1]
    removed = ~keep
    pool = np.where(np.isin(source_split, ("validation", "test")), source_split, "train")
    out = {
        "mode": mode,
        "groups": duplicates.num_groups,
        "exact_groups": duplicates.exact_groups,
        "documents_in_groups": int(grouped.sum()),
        "removed": int(removed.sum()),
        "removed_by_source_split": {s: int((removed & (pool == s)).sum())
                                    for s in ("train", "validation", "test")},
        "official_test_twins_kept": int(max(0, (grouped & keep & (source_split == "test")).sum()
                                            - len(np.unique(group[grouped & keep
                                                                  & (source_split == "test")])))),
        "conflicting_label_groups": len(conflicting),
    }
    if mode != "off":
        log.info("duplicates (dataset.dedup=%s): %d groups over %d documents, %d removed "
                 "(train %d, validation %d, test %d)", mode, out["groups"],
                 out["documents_in_groups"], out["removed"],
                 *out["removed_by_source_split"].values())
    if conflicting:
        examples = "; ".join(" / ".join(f"{i} ({lab})" for i, lab in
                                        zip(ids[group == g], labels[group == g], strict=True))
                             for g in conflicting[:3])
        log.warning("%d duplicate group(s) disagree on the label, e.g. %s; one copy survives "
                    "with its own label", len(conflicting), examples)
    return out
