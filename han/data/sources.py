"""Raw datasets ─► one DataFrame of documents: the data stage's public entry points.

Every reader returns the Documents contract of docs/ARCHITECTURE.md (see han/data/documents.py);
the readers are registered by kind in han/data/readers/ (one file and one YAML add one). Kinds
(``dataset.kind``) that ship: ``bbc`` (BBC news zip, read in place), ``imdb`` (aclImdb tar.gz,
streamed) and ``reuters`` (Reuters-21578 tar.gz of SGML, ModApte R8 / R52), all in
han/data/archives.py; ``tang`` (Tang et al. 2015's pre-tokenised train / dev / test files) and
``zhang`` (Zhang et al. 2015's CSV tar.gz), the datasets of the paper, in
han/data/paper_datasets.py; and ``table`` (the user's own CSV / TSV / JSON lines /
Parquet files), in han/data/tables.py.

Imports run one way: documents ◄─ archives, paper_datasets, tables ◄─ readers ◄─ sources; DataError,
ReadStats and decode_text are re-exported so callers keep importing them from here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from han.data.documents import COLUMNS, DataError, ReadStats, decode_text, to_frame
from han.data.readers import READERS, Reader
from han.schema import typed

__all__ = [
    "COLUMNS",
    "DataError",
    "ReadStats",
    "dataset_files",
    "decode_text",
    "fingerprint",
    "read_documents",
]

# Bump when a reader's output changes for the same input, so on-disk caches keyed by
# fingerprint() are rebuilt.
READER_VERSION = 2  # 2: the group column (IMDB films)


def __getattr__(name: str):
    if name == "KINDS":  # the registered readers' kinds, however many there are
        return tuple(READERS)
    raise AttributeError(name)


# ── public API ───────────────────────────────────────────────────────────────────────────────

def _reader(cfg: Mapping) -> Reader:
    kind = cfg.get("kind")
    if kind not in READERS:
        raise DataError(f"dataset.kind is {kind!r}; set it to one of: {', '.join(READERS)}")
    return READERS[str(kind)]


def dataset_files(cfg: Mapping, data_dir: Path, mirror: Path | str | None) -> list[Path]:
    """Locate the raw inputs of a dataset config, downloading archives into ``data_dir``.

    Cheap when the files are present. Table files come back in the order train, validation,
    test (those that are set), which is what ``read_documents`` expects.
    """
    reader = _reader(cfg)
    return reader.files(typed("dataset", cfg), Path(data_dir), mirror)


def fingerprint(paths: Sequence[Path], cfg: Mapping) -> str:
    """sha256 over each file's name and bytes plus the settings that change what is read."""
    reader = _reader(cfg)
    settings = {"reader_version": READER_VERSION, "kind": reader.kind}
    settings |= reader.identity(typed("dataset", cfg))
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for path in map(Path, paths):
        # Name and size delimit each file, so (a, bc) and (ab, c) hash differently.
        digest.update(f"\0{path.name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def read_documents(cfg: Mapping, paths: Sequence[Path]) -> tuple[pd.DataFrame, ReadStats]:
    """Read the files from ``dataset_files`` into the Documents DataFrame (see module doc)."""
    reader = _reader(cfg)
    stats = ReadStats()
    rows = reader.read(typed("dataset", cfg), [Path(p) for p in paths], stats)
    return to_frame(rows), stats
