"""Every published table rebuilds from its committed records, and the docs show it unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from experiments import docs
from experiments.compare import main

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
PUBLISHED = sorted(p.parent for p in RESULTS.rglob("jobs.csv"))
# A published file names nothing of the machine that made it.
MACHINE_PATH = re.compile(r"(/work/|/tmp/|/home/|/root/|/Users/|[A-Z]:\\\\)")


def test_every_results_folder_has_its_records() -> None:
    tables = {p.parent for p in RESULTS.rglob("comparison.md")}
    assert tables == set(PUBLISHED), "a table in docs/results without jobs.csv beside it"


@pytest.mark.parametrize("folder", PUBLISHED, ids=lambda p: p.relative_to(RESULTS).as_posix())
def test_published_table_rebuilds_byte_for_byte_from_its_records(folder: Path, tmp_path: Path,
                                                                 monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the docs name the records relative to the repository
    assert main([str(folder.relative_to(ROOT)), "--out", str(tmp_path)]) == 0
    names = ["comparison.md", "headline.md", "duplicates.md", "comparison.csv"]
    names += ["table2.md", "table2_tests.md"] if (folder / "table2.md").exists() else []
    for name in names:
        assert (tmp_path / name).read_text() == (folder / name).read_text(), name


@pytest.mark.parametrize("folder", PUBLISHED, ids=lambda p: p.relative_to(RESULTS).as_posix())
def test_published_files_name_no_machine_path(folder: Path) -> None:
    for path in folder.iterdir():
        if path.suffix in (".md", ".csv", ".json"):
            assert not MACHINE_PATH.search(path.read_text()), path


def test_docs_show_the_published_tables_unchanged() -> None:
    assert docs.stale() == [], "run `make docs`"
    for doc in docs.DOCS:
        for match in docs.BLOCK.finditer((ROOT / doc).read_text()):
            assert (ROOT / match["path"]).is_file(), f"{doc} includes a missing {match['path']}"


def test_a_hand_edited_number_in_an_include_block_is_caught(tmp_path: Path) -> None:
    table = tmp_path / "docs" / "results" / "t" / "headline.md"
    table.parent.mkdir(parents=True)
    table.write_text("| a | 98.74 |\n")
    doc = "intro\n<!-- include: docs/results/t/headline.md -->\n| a | 98.74 |\n<!-- /include -->\n"
    (tmp_path / "README.md").write_text(doc.replace("98.74 |\n<", "99.00 |\n<"))
    assert docs.stale(tmp_path, ["README.md"]) == ["README.md"]
    assert docs.render((tmp_path / "README.md").read_text(), tmp_path) == doc
