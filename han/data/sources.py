"""Raw datasets ─► one DataFrame of documents: the data stage's public entry points.

Every reader returns the Documents contract of docs/ARCHITECTURE.md (see han/data/documents.py).
Kinds (``dataset.kind``): ``bbc`` (BBC news zip, read in place), ``imdb`` (aclImdb tar.gz,
streamed) and ``reuters`` (Reuters-21578 tar.gz of SGML, ModApte R8 / R52), all in
han/data/archives.py; ``tang`` (Tang et al. 2015's pre-tokenised train / dev / test files) and
``zhang`` (Zhang et al. 2015's CSV tar.gz), the datasets of the paper, in
han/data/paper_datasets.py; and ``table`` (the user's own CSV / TSV / JSON lines /
Parquet files), in han/data/tables.py.

Imports run one way: documents ◄─ archives, paper_datasets, tables ◄─ sources; DataError,
ReadStats and decode_text are re-exported so callers keep importing them from here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from han.data import archives, paper_datasets, tables
from han.data.documents import (
    COLUMNS,
    DataError,
    ReadStats,
    classes,
    decode_text,
    require_file,
    setting,
    to_frame,
)
from han.data.download import fetch

__all__ = [
    "COLUMNS",
    "KINDS",
    "DataError",
    "ReadStats",
    "dataset_files",
    "decode_text",
    "fingerprint",
    "read_documents",
]

KINDS = ("bbc", "imdb", "reuters", "tang", "zhang", "table")
# Bump when a reader's output changes for the same input, so on-disk caches keyed by
# fingerprint() are rebuilt.
READER_VERSION = 2  # 2: the group column (IMDB films)
_READERS = {"bbc": archives.read_bbc, "imdb": archives.read_imdb,
            "reuters": archives.read_reuters, "zhang": paper_datasets.read_zhang}


# ── settings ─────────────────────────────────────────────────────────────────────────────────

def _kind(cfg: Mapping) -> str:
    kind = setting(cfg, "kind")
    if kind not in KINDS:
        raise DataError(f"dataset.kind is {kind!r}; set it to one of: {', '.join(KINDS)}")
    return str(kind)


# ── public API ───────────────────────────────────────────────────────────────────────────────

def dataset_files(cfg: Mapping, data_dir: Path, mirror: Path | str | None) -> list[Path]:
    """Locate the raw inputs of a dataset config, downloading archives into ``data_dir``.

    Cheap when the files are present. Table files come back in the order train, validation,
    test (those that are set), which is what ``read_documents`` expects.
    """
    kind = _kind(cfg)
    if kind == "table":
        paths = []
        for _, key in tables.table_roles(cfg):
            path = Path(str(setting(cfg, key))).expanduser()
            require_file(path, f"dataset.{key}")
            paths.append(path)
        return paths
    if kind == "tang":
        return paper_datasets.tang_files(cfg, Path(data_dir), mirror)
    url = setting(cfg, "url")
    if not url:
        raise DataError(f"dataset.url is not set for kind {kind!r}; set it to the archive's URL")
    filename = str(setting(cfg, "filename", str(url).rstrip("/").rsplit("/", 1)[-1]))
    checksum = setting(cfg, "sha256")  # upstream's; null when none is known
    return [fetch(str(url), filename, Path(data_dir), mirror, str(checksum) if checksum else None)]


def fingerprint(paths: Sequence[Path], cfg: Mapping) -> str:
    """sha256 over each file's name and bytes plus the settings that change what is read."""
    digest = hashlib.sha256()
    digest.update(json.dumps(_reader_settings(cfg), sort_keys=True).encode())
    for path in map(Path, paths):
        # Name and size delimit each file, so (a, bc) and (ab, c) hash differently.
        digest.update(f"\0{path.name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _reader_settings(cfg: Mapping) -> dict[str, Any]:
    kind = _kind(cfg)
    settings: dict[str, Any] = {"reader_version": READER_VERSION, "kind": kind}
    if kind == "bbc":
        settings["classes"] = classes(cfg)
    elif kind == "reuters":
        settings["subset"] = archives.reuters_subset(cfg)
    elif kind == "zhang":
        settings["columns"] = [str(c) for c in setting(cfg, "columns") or ()]
    elif kind == "table":
        settings.update(
            splits=[split for split, _ in tables.table_roles(cfg)],
            text_column=str(setting(cfg, "text_column", "text")),
            label_column=str(setting(cfg, "label_column", "label")),
            id_column=setting(cfg, "id_column") and str(setting(cfg, "id_column")),
            group_column=setting(cfg, "group_column") and str(setting(cfg, "group_column")),
            format=setting(cfg, "format") and str(setting(cfg, "format")),
        )
        if setting(cfg, "separator") is not None:  # older caches (no key) stay valid
            settings["separator"] = str(setting(cfg, "separator"))
    return settings


def read_documents(cfg: Mapping, paths: Sequence[Path]) -> tuple[pd.DataFrame, ReadStats]:
    """Read the files from ``dataset_files`` into the Documents DataFrame (see module doc)."""
    kind = _kind(cfg)
    paths = [Path(p) for p in paths]
    stats = ReadStats()
    if kind == "table":
        rows = tables.read_rows(cfg, paths, stats)
    elif kind == "tang":
        for path, split in zip(paths, paper_datasets.TANG_SPLITS, strict=False):
            require_file(path, f"dataset.files.{split}")
        rows = paper_datasets.read_tang(cfg, paths, stats)
    else:
        if len(paths) != 1:
            raise DataError(f"kind {kind!r} reads one archive, got {len(paths)} paths: {paths}")
        require_file(paths[0], "dataset.filename")
        rows = _READERS[kind](cfg, paths[0], stats)
    return to_frame(rows), stats
