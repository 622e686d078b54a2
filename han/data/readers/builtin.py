"""The readers that ship with the project: BBC News, IMDB and Reuters-21578 (han/data/archives.py),
Tang et al.'s and Zhang et al.'s corpora of the paper (han/data/paper_datasets.py) and the user's
own tables (han/data/tables.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from han.data import archives, paper_datasets, tables
from han.data.documents import ReadStats, Row, classes, require_file, setting
from han.data.readers import Reader, one_archive, register
from han.schema import (
    BBCDataset,
    IMDBDataset,
    ReutersDataset,
    TableDataset,
    TangDataset,
    ZhangDataset,
)


def _tang(cfg: Mapping, paths: Sequence[Path], stats: ReadStats) -> list[Row]:
    for path, split in zip(paths, paper_datasets.TANG_SPLITS, strict=False):
        require_file(Path(path), f"dataset.files.{split}")
    return paper_datasets.read_tang(cfg, list(map(Path, paths)), stats)


def _table_files(cfg: Mapping, data_dir: Path, mirror: Path | str | None) -> list[Path]:
    """The table files that are set, in the order train, validation, test."""
    paths = []
    for _, key in tables.table_roles(cfg):
        path = Path(str(setting(cfg, key))).expanduser()
        require_file(path, f"dataset.{key}")
        paths.append(path)
    return paths


def _table_identity(cfg: Mapping) -> dict:
    out = {
        "splits": [split for split, _ in tables.table_roles(cfg)],
        "text_column": str(setting(cfg, "text_column")),
        "label_column": str(setting(cfg, "label_column")),
        "id_column": setting(cfg, "id_column") and str(setting(cfg, "id_column")),
        "group_column": setting(cfg, "group_column") and str(setting(cfg, "group_column")),
        "format": setting(cfg, "format") and str(setting(cfg, "format")),
    }
    if setting(cfg, "separator") is not None:  # older caches (no key) stay valid
        out["separator"] = str(setting(cfg, "separator"))
    return out


register(Reader("bbc", BBCDataset, one_archive(archives.read_bbc),
                identity=lambda cfg: {"classes": classes(cfg)}))
register(Reader("imdb", IMDBDataset, one_archive(archives.read_imdb)))
register(Reader("reuters", ReutersDataset, one_archive(archives.read_reuters),
                identity=lambda cfg: {"subset": archives.reuters_subset(cfg)}))
register(Reader("tang", TangDataset, _tang, files=paper_datasets.tang_files))
register(Reader("zhang", ZhangDataset, one_archive(paper_datasets.read_zhang),
                identity=lambda cfg: {"columns": [str(c) for c in setting(cfg, "columns") or ()]}))
register(Reader("table", TableDataset, tables.read_rows, files=_table_files,
                identity=_table_identity))
