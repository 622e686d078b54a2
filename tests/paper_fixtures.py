"""Tiny files in the exact upstream formats of the paper's datasets, written by the tests.

Tang et al. (2015): ``user\\t\\tproduct\\t\\trating\\t\\ttext``, text lower-cased and tokenised,
sentences joined by `` <sssss> ``. Zhang et al. (2015): a tar.gz of ``<name>/train.csv``,
``<name>/test.csv`` (no header, every field quoted, ``""`` for a quote, ``\\n`` for a newline),
``readme.txt`` and, for some, ``classes.txt``. The words carry the label so a model can learn.
"""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

import numpy as np

# Zhang configs: name → (archive stem, number of text fields, class names or None)
ZHANG = {
    "ag_news": ("ag_news_csv", 2, ["World", "Sports", "Business", "Sci/Tech"]),
    "dbpedia": ("dbpedia_csv", 2, ["Company", "EducationalInstitution", "Artist"]),
    "yelp_polarity": ("yelp_review_polarity_csv", 1, None),
    "yelp_full": ("yelp_review_full_csv", 1, None),
    "yahoo": ("yahoo_answers_csv", 3, ["Society & Culture", "Science & Mathematics"]),
    "amazon_full": ("amazon_review_full_csv", 2, None),
    "amazon_polarity": ("amazon_review_polarity_csv", 2, None),
}
TANG = {"yelp13": ("yelp-2013-seg-20-20", 5), "yelp14": ("yelp-2014-seg-20-20", 5),
        "yelp15": ("yelp-2015-seg-20-20", 5), "imdb10": ("imdb", 10)}
_FILLER = ["the", "food", "was", "here", "and", "we", "had", "a", "time", "with", "it"]


def _sentence(rng: np.random.Generator, label: int) -> list[str]:
    words = list(rng.choice(_FILLER, size=int(rng.integers(3, 9))))
    words.insert(int(rng.integers(0, len(words))), f"cue{label}")
    return words + ["."]


def tang_names(config: str) -> dict[str, str]:
    """The file names a Tang config reads (dataset.files)."""
    stem, _ = TANG[config]
    if stem == "imdb":
        return {s: f"imdb.{n}.txt.ss" for s, n in (("train", "train"), ("validation", "dev"),
                                                   ("test", "test"))}
    return {s: f"{stem}.{n}.ss" for s, n in (("train", "train"), ("validation", "dev"),
                                             ("test", "test"))}


def write_tang(folder: Path, config: str, docs: dict[str, int] | None = None,
               single_tab: bool = False, seed: int = 0) -> dict[str, Path]:
    """The three .ss files of a Tang config, `docs` lines each; ratings cycle 1..classes."""
    docs = docs or {"train": 40, "validation": 10, "test": 10}
    _, classes = TANG[config]
    rng = np.random.default_rng(seed)
    sep = "\t" if single_tab else "\t\t"
    paths = {}
    for split, name in tang_names(config).items():
        lines = []
        for i in range(docs[split]):
            rating = i % classes + 1
            sentences = [" ".join(_sentence(rng, rating)) for _ in range(int(rng.integers(1, 5)))]
            lines.append(sep.join([f"user{i % 7}", f"prod{i % 5}", str(rating),
                                   " <sssss> ".join(sentences)]))
        paths[split] = folder / name
        paths[split].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def zhang_rows(config: str, count: int, seed: int = 0) -> list[list[str]]:
    """CSV records of a Zhang config: class index, then its text fields (with \\n escapes)."""
    _, fields, names = ZHANG[config]
    classes = len(names) if names else (2 if "polarity" in config else 5)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        label = i % classes + 1
        texts = [" ".join(_sentence(rng, label)) for _ in range(fields)]
        texts[-1] += r"\n" + " ".join(_sentence(rng, label))  # an escaped newline
        rows.append([str(label), *texts])
    return rows


def write_zhang(folder: Path, config: str, train: int = 40, test: int = 12, seed: int = 0,
                rows: dict[str, list[list[str]]] | None = None) -> Path:
    """A Zhang config's archive, named as its URL names it, with train.csv and test.csv."""
    stem, _, names = ZHANG[config]
    rows = rows or {"train": zhang_rows(config, train, seed), "test": zhang_rows(config, test,
                                                                                  seed + 1)}
    members = {"readme.txt": "fixture\n"}
    if names:
        members["classes.txt"] = "\n".join(names) + "\n"
    for split, records in rows.items():
        buffer = io.StringIO(newline="")
        csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(records)
        members[f"{split}.csv"] = buffer.getvalue()
    path = folder / f"{stem}.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{stem}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
