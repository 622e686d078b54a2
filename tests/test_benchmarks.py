"""The benchmarks as a user runs them: `make bench-scale`'s samples (the first N reviews, and with
bench.max_words the same reviews cut to their first words) and `make bench`'s output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.bench_scale import sample

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


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


@pytest.mark.slow  # ~3 CPU-minutes (TensorFlow, BBC prepared cold, six models built and timed);
# the fast guard is tests/test_cli.py::test_tensorflow_start_up_noise_is_filtered_on_a_cpu_machine
def test_make_bench_prints_no_tensorflow_start_up_lines_and_one_complete_result(tmp_path, mirror_dir):
    # `make bench` imported Keras before the data were prepared, so TensorFlow's CUDA probing and
    # absl banner reached the terminal twice, unfiltered; it now goes through han.quiet first.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env |= {"PYTHONPATH": str(REPO), "HAN_DATA_MIRROR": str(mirror_dir),
            "HAN_CACHE_DIR": str(tmp_path / "cache"), "HAN_LOG_DIR": str(tmp_path / "logs")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "dataset=news", "bench.num_docs=64",
         "bench.eval_docs=64", "bench.flat_docs=64", "bench.epochs=1", "bench.eval_repeats=1"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    for noise in ("cuInit", "cuda", "I0000", "absl::InitializeLog"):
        assert noise not in result.stderr, result.stderr[-3000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["num_docs"] == 64 and line["flat"]["num_docs"] == 64
    for key in ("padded_speedup", "padded_reshape_speedup", "eval_over_train"):
        assert line[key] > 0, key
