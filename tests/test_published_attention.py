"""The published attention tables (docs/results/attention_*) rebuild from their committed records."""

from __future__ import annotations

from pathlib import Path

import pytest

from han.analysis.summary import rebuild
from tests.test_published import MACHINE_PATH

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = sorted(p.parent for p in (ROOT / "docs" / "results").glob("attention_*/records"))
TABLES = ("faithfulness.md", "faithfulness.csv", "uniform_baseline.md", "word_attention.md",
          "word_attention.csv")


def test_both_attention_folders_are_published() -> None:
    assert {p.name for p in FOLDERS} >= {"attention_news", "attention_imdb"}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_attention_tables_rebuild_byte_for_byte_from_their_records(folder: Path,
                                                                   tmp_path: Path) -> None:
    written = {p.name for p in rebuild(folder, tmp_path)}
    assert written >= set(TABLES), f"{folder.name} lacks records for {set(TABLES) - written}"
    for name in TABLES:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    # Figures are redrawn too (not compared byte for byte: fonts and renderer may differ).
    assert {p.name for p in folder.glob("*.png")} == {p.name for p in tmp_path.glob("*.png")}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_attention_folders_name_no_machine_path(folder: Path) -> None:
    import gzip

    for path in folder.rglob("*"):
        if path.suffix in (".md", ".csv", ".json", ".py"):
            assert not MACHINE_PATH.search(path.read_text()), path
        elif path.name.endswith(".csv.gz"):
            assert not MACHINE_PATH.search(gzip.decompress(path.read_bytes()).decode()), path
