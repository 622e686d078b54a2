"""The dataset readers, by kind (`dataset.kind`): a reader plugs in with one Python file in this
package and one YAML in conf/dataset/ (docs/ARCHITECTURE.md shows one).

A reader is its settings dataclass (a `han.schema.DatasetSettings` subclass: the keys its YAML
may set), how its files are found (by default one archive fetched from `dataset.url` or the
offline mirror), how they are read into Documents rows, and which of its settings change what is
read (the corpus cache is keyed by them). `register` files it here and in the schema; every
module of this package is imported with it, so nothing else needs to list a new reader.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from han.data.documents import DataError, ReadStats, Row, require_file, setting
from han.data.download import fetch
from han.schema import DATASETS, DatasetSettings

__all__ = ["READERS", "Reader", "archive", "one_archive", "register"]


def archive(cfg: Mapping, data_dir: Path, mirror: Path | str | None) -> list[Path]:
    """The one archive of `dataset.url` (named `dataset.filename`, else the URL's last part),
    from the mirror, the data folder or a download checked against `dataset.sha256`."""
    url = setting(cfg, "url")
    if not url:
        raise DataError(f"dataset.url is not set for kind {cfg['kind']!r}; set it to the "
                        "archive's URL")
    filename = str(setting(cfg, "filename") or str(url).rstrip("/").rsplit("/", 1)[-1])
    checksum = setting(cfg, "sha256")  # upstream's; null when none is known
    return [fetch(str(url), filename, Path(data_dir), mirror, str(checksum) if checksum else None)]


def one_archive(read: Callable[[Mapping, Path, ReadStats], list[Row]]
                ) -> Callable[[Mapping, Sequence[Path], ReadStats], list[Row]]:
    """A reader of one archive as a reader of `archive`'s list of paths."""

    def read_paths(cfg: Mapping, paths: Sequence[Path], stats: ReadStats) -> list[Row]:
        if len(paths) != 1:
            raise DataError(f"kind {cfg['kind']!r} reads one archive, got {len(paths)} paths: "
                            f"{list(paths)}")
        require_file(Path(paths[0]), "dataset.filename")
        return read(cfg, Path(paths[0]), stats)

    return read_paths


@dataclass(frozen=True)
class Reader:
    kind: str
    settings: type[DatasetSettings]
    read: Callable[[Mapping, Sequence[Path], ReadStats], list[Row]]
    files: Callable[[Mapping, Path, Path | str | None], list[Path]] = archive
    # the settings that change what is read, for the corpus cache's key
    identity: Callable[[Mapping], dict[str, Any]] = lambda cfg: {}


READERS: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    """File `reader` under its kind, and its settings as the schema of `dataset.kind=<kind>`."""
    READERS[reader.kind] = reader
    DATASETS[reader.kind] = reader.settings
    return reader


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
