"""`make bench-scale`'s samples: the first N reviews, and with bench.max_words the same reviews cut
to their first words (benchmarks/bench_scale.py)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.bench_scale import sample

README = Path(__file__).resolve().parents[1] / "README.md"


def _table(tmp_path: Path, rows: int) -> Path:
    paragraphs = [p for p in README.read_text().split("\n\n") if len(p.split()) > 12][:rows]
    table = tmp_path / "aclImdb-all.jsonl"
    table.write_text("".join(json.dumps({"id": f"doc{i}", "text": text, "label": "pos"}) + "\n"
                             for i, text in enumerate(paragraphs)))
    return table


def test_a_sample_is_the_tables_first_rows_and_max_words_cuts_each_to_its_first_words(tmp_path):
    table = _table(tmp_path, 6)
    whole = [json.loads(line) for line in sample(table, 4).read_text().splitlines()]
    assert [r["id"] for r in whole] == ["doc0", "doc1", "doc2", "doc3"]
    assert [r["text"] for r in whole] == [json.loads(line)["text"]
                                          for line in table.read_text().splitlines()[:4]]
    cut_path = sample(table, 4, max_words=5)
    assert cut_path != sample(table, 4)  # a cut sample never reuses the whole one's file
    cut = [json.loads(line) for line in cut_path.read_text().splitlines()]
    assert [(r["id"], r["label"]) for r in cut] == [(r["id"], r["label"]) for r in whole]
    assert [r["text"] for r in cut] == [" ".join(r["text"].split()[:5]) for r in whole]
    assert all(len(r["text"].split()) == 5 for r in cut)
