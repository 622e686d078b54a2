"""experiments.compare on a hand-built sweep directory with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.compare import main, summarize
from experiments.runs import collect_runs
from experiments.stats import mcnemar_exact, paired_bootstrap

CLASSES = ["sports", "world", "tech"]
N_DOCS = 40
# Zero-padded ids: the join must keep them as strings.
IDS = [f"{i:03d}" for i in range(N_DOCS)]
LABELS = [CLASSES[i % 3] for i in range(N_DOCS)]

# (job number, model, seed, documents predicted wrong, macro-F1, val macro-F1, docs/s)
JOBS = [
    (0, "flat", 0, 12, 0.61, 0.60, 900.0),
    (1, "flat", 1, 10, 0.66, 0.64, 1000.0),
    (2, "han", 0, 2, 0.93, 0.90, 300.0),
    (3, "han", 1, 4, 0.88, 0.86, 340.0),
]


def _write_job(sweep: Path, num: int, model: str, seed: int, wrong: int, f1: float,
               val_f1: float, dps: float, dataset: str = "news") -> Path:
    """A finished job whose first ``wrong`` documents are predicted as the next class."""
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    overrides = [f"model={model}", f"seed={seed}", f"dataset={dataset}"]
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (job / ".hydra" / "config.yaml").write_text(f"seed: {seed}\n")
    predicted = [CLASSES[(CLASSES.index(y) + 1) % 3] if i < wrong else y
                 for i, y in enumerate(LABELS)]
    probs = {f"prob_{c}": [1.0 if p == c else 0.0 for p in predicted] for c in CLASSES}
    pd.DataFrame({"id": IDS, "label": LABELS, "predicted": predicted, **probs}).to_csv(
        job / "predictions.csv", index=False)
    metrics = {
        "dataset": dataset, "model": model, "seed": seed, "num_classes": 3, "classes": CLASSES,
        "test": {"accuracy": (N_DOCS - wrong) / N_DOCS, "macro_f1": f1, "loss": 0.5,
                 "per_class": {}, "confusion_matrix": [[0] * 3] * 3},
        "validation": {"accuracy": 0.8, "macro_f1": val_f1, "best_epoch": 3},
        "train": {"epochs": 5, "seconds": 12.0, "docs_per_second": dps},
    }
    (job / "metrics.json").write_text(json.dumps(metrics))
    return job


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "multirun" / "2024-01-01" / "12-00-00"
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    for job in JOBS:
        _write_job(root, *job)
    failed = root / "4" / ".hydra"
    failed.mkdir(parents=True)
    (failed / "overrides.yaml").write_text("- model=han\n- seed=2\n- dataset=news\n")
    return root


def _values(model: str, index: int) -> np.ndarray:
    return np.array([j[index] for j in JOBS if j[1] == model], dtype=float)


def test_main_writes_files_and_matches_numpy(sweep: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(sweep), "--bootstrap", "2000", "--seed", "1"]) == 0
    for name in ("comparison.csv", "comparison.md", "comparison.png"):
        assert (sweep / name).stat().st_size > 0
    assert (sweep / "comparison.png").read_bytes()[:4] == b"\x89PNG"

    table = pd.read_csv(sweep / "comparison.csv").set_index("model")
    assert table.loc["flat", "n_runs"] == 2 and table.loc["han", "n_runs"] == 2
    for model in ("flat", "han"):
        acc = (N_DOCS - _values(model, 3)) / N_DOCS
        f1 = _values(model, 4)
        row = table.loc[model]
        assert row["test_accuracy_mean"] == pytest.approx(acc.mean())
        assert row["test_accuracy_std"] == pytest.approx(acc.std(ddof=1))
        assert row["test_macro_f1_mean"] == pytest.approx(f1.mean())
        assert row["test_macro_f1_std"] == pytest.approx(f1.std(ddof=1))
        assert row["val_macro_f1_mean"] == pytest.approx(_values(model, 5).mean())
        assert row["docs_per_second_mean"] == pytest.approx(_values(model, 6).mean())
        half = stats.t.ppf(0.975, 1) * acc.std(ddof=1) / math.sqrt(2)
        assert row["test_accuracy_ci_high"] - row["test_accuracy_ci_low"] == pytest.approx(2 * half)

    # han is right on every document flat gets wrong: 10 discordant pairs at seed 0, 6 at seed 1.
    han = table.loc["han"]
    assert han["delta_accuracy"] == pytest.approx((10 + 6) / (2 * N_DOCS))
    assert han["p_mcnemar"] == pytest.approx(np.median([2 * 0.5**10, 2 * 0.5**6]))
    assert han["p_bootstrap"] < 0.01
    assert han["n_paired"] == 2
    assert math.isnan(table.loc["flat", "p_mcnemar"])

    md = (sweep / "comparison.md").read_text()
    flat_line = next(line for line in md.splitlines() if line.startswith("| news | flat |"))
    assert flat_line.count("—") == 4
    assert "## Failed jobs (1)" in md
    assert "`4`" in md and "model=han seed=2 dataset=news" in md

    out = capsys.readouterr().out.strip().splitlines()
    assert "failed_jobs: 1" in out
    assert out[-1] == f"comparison written to {sweep}"
    assert any(line.startswith("| news | han |") for line in out)


def test_collect_runs_lists_failed_jobs(sweep: Path) -> None:
    (sweep / "5" / ".hydra").mkdir(parents=True)
    (sweep / "5" / "metrics.json").write_text('{"dataset": "news", "mod')  # killed mid-write
    runs, failed = collect_runs(sweep)
    assert sorted(runs["job"]) == ["0", "1", "2", "3"]
    assert runs["seed"].dtype.kind == "i"
    assert [f.path.name for f in failed] == ["4", "5"]
    assert failed[0].overrides == ["model=han", "seed=2", "dataset=news"]
    assert failed[0].reason == "no metrics.json"
    assert "unreadable" in failed[1].reason and failed[1].overrides == []


def test_single_run_has_undefined_ci(sweep: Path, capsys: pytest.CaptureFixture) -> None:
    _write_job(sweep, 6, "han_avg", 0, 5, 0.8, 0.8, 500.0)
    runs, _ = collect_runs(sweep)
    row = summarize(runs).set_index("model").loc["han_avg"]
    assert row["n_runs"] == 1 and row["test_accuracy_mean"] == pytest.approx(35 / 40)
    assert math.isnan(row["test_accuracy_std"]) and math.isnan(row["test_accuracy_ci_low"])
    assert main([str(sweep), "--bootstrap", "100"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("| news | han_avg |"))
    assert "n/a" in line


def test_missing_predictions_keeps_metrics(sweep: Path) -> None:
    (sweep / "3" / "predictions.csv").unlink()
    assert main([str(sweep), "--bootstrap", "200"]) == 0
    han = pd.read_csv(sweep / "comparison.csv").set_index("model").loc["han"]
    assert han["n_runs"] == 2 and han["n_paired"] == 1
    assert han["p_mcnemar"] == pytest.approx(2 * 0.5**10)
    md = (sweep / "comparison.md").read_text()
    assert "predictions.csv missing in 3" in md


def test_unreadable_predictions_are_skipped(sweep: Path) -> None:
    (sweep / "2" / "predictions.csv").write_text("id,label\n000,sports\n")  # no `predicted`
    assert main([str(sweep), "--bootstrap", "200"]) == 0
    han = pd.read_csv(sweep / "comparison.csv").set_index("model").loc["han"]
    assert han["n_paired"] == 1 and han["p_mcnemar"] == pytest.approx(2 * 0.5**6)
    assert "seed 0: unreadable predictions.csv" in (sweep / "comparison.md").read_text()


def test_absent_reference_is_skipped_with_note(sweep: Path) -> None:
    assert main([str(sweep), "--reference", "bert", "--bootstrap", "100"]) == 0
    table = pd.read_csv(sweep / "comparison.csv")
    assert table["p_mcnemar"].isna().all() and table["p_bootstrap"].isna().all()
    assert "reference model `bert` has no runs" in (sweep / "comparison.md").read_text()


def test_all_jobs_failed_still_reports(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "0" / ".hydra").mkdir(parents=True)
    assert main([str(tmp_path)]) == 1
    assert "## Failed jobs (1)" in (tmp_path / "comparison.md").read_text()
    assert capsys.readouterr().out.strip().endswith(f"comparison written to {tmp_path}")


def test_mcnemar_known_answers() -> None:
    y = np.zeros(30, dtype=int)
    a = np.r_[np.ones(10, dtype=int), np.zeros(20, dtype=int)]  # a wrong on the first 10
    assert mcnemar_exact(y, a, y) == pytest.approx(0.001953125)  # b=0, c=10
    assert mcnemar_exact(y, y, a) == pytest.approx(0.001953125)  # symmetric
    b = np.r_[np.zeros(10, dtype=int), np.ones(10, dtype=int), np.zeros(10, dtype=int)]
    assert mcnemar_exact(y, a, b) == 1.0  # b = c = 10
    assert mcnemar_exact(y, a, a) == 1.0  # no discordant pairs
    assert mcnemar_exact(["x", "y"], ["x", "y"], ["y", "x"]) == 0.5  # c=2: 2 * 0.5**2


def test_mcnemar_agrees_with_scipy_binomtest() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 3, 200)
        pa = np.where(rng.random(200) < 0.7, y, (y + 1) % 3)
        pb = np.where(rng.random(200) < 0.75, y, (y + 2) % 3)
        b = int(np.sum((pa == y) & (pb != y)))
        c = int(np.sum((pa != y) & (pb == y)))
        assert mcnemar_exact(y, pa, pb) == pytest.approx(stats.binomtest(b, b + c).pvalue)


def test_paired_bootstrap() -> None:
    y = np.zeros(200, dtype=int)
    ref = np.r_[np.ones(20, dtype=int), np.zeros(180, dtype=int)]  # wrong on 20 documents
    assert paired_bootstrap(y, ref, y, n=2000, seed=0) < 0.01  # candidate fixes all of them
    assert paired_bootstrap(y, y, ref, n=2000, seed=0) > 0.99  # candidate breaks them
    assert 0.5 <= paired_bootstrap(y, ref, ref, n=2000, seed=0) <= 1.0  # identical
    # Deterministic under a seed, and distinct ids as groups change nothing.
    mixed = np.r_[np.zeros(10, dtype=int), np.ones(10, dtype=int), np.zeros(180, dtype=int)]
    p = paired_bootstrap(y, ref, mixed, n=1000, seed=3)
    assert p == paired_bootstrap(y, ref, mixed, n=1000, seed=3)
    assert p == paired_bootstrap(y, ref, mixed, n=1000, seed=3, groups=np.arange(200))
    with pytest.raises(ValueError):
        paired_bootstrap(y, ref, y, n=0, seed=0)


def _set_validation_accuracy(job: Path, accuracy: float) -> None:
    metrics = json.loads((job / "metrics.json").read_text())
    metrics["validation"]["accuracy"] = accuracy
    (job / "metrics.json").write_text(json.dumps(metrics))


def test_networks_are_tested_against_the_baseline_validation_picks(sweep: Path) -> None:
    # ngram_tfidf_lr is better on test but worse on validation: the pick must not look at test.
    for num, model, seed, wrong, val_acc in [(10, "tfidf_lr", 0, 6, 0.95), (11, "tfidf_lr", 1, 6, 0.95),
                                             (12, "ngram_tfidf_lr", 0, 3, 0.90),
                                             (13, "ngram_tfidf_lr", 1, 3, 0.90)]:
        _set_validation_accuracy(_write_job(sweep, num, model, seed, wrong, 0.9, 0.9, 0.0), val_acc)
    assert main([str(sweep), "--bootstrap", "500"]) == 0
    table = pd.read_csv(sweep / "comparison.csv").set_index("model")
    assert set(table["baseline"]) == {"tfidf_lr"}
    # han (2 and 4 wrong) vs tfidf_lr (6 wrong, the same first documents): 4 and 2 discordant.
    assert table.loc["han", "bl_delta_accuracy"] == pytest.approx((4 + 2) / (2 * N_DOCS))
    assert table.loc["han", "bl_p_mcnemar"] == pytest.approx(np.median([2 * 0.5**4, 2 * 0.5**2]))
    bootstrap_p = f"{table.loc['han', 'bl_p_bootstrap']:.2g}"
    assert table.loc["flat", "bl_delta_accuracy"] == pytest.approx(-(6 + 4) / (2 * N_DOCS))
    assert math.isnan(table.loc["ngram_tfidf_lr", "bl_delta_accuracy"])
    md = (sweep / "comparison.md").read_text()
    assert any(line.startswith("| news | tfidf_lr | 2 |") for line in md.splitlines())
    han_line = next(line for line in md.splitlines() if line.startswith("| news | han |"))
    assert "| tfidf_lr | +0.0750 |" in han_line
    # The headline: one row per dataset, HAN and flat against the baseline validation picked.
    headline = next(line for line in md.splitlines() if line.startswith("| news | 85.00 ± 0.00 (2) |"))
    assert headline == ("| news | 85.00 ± 0.00 (2) | 92.50 ± 0.00 (2) | 72.50 ± 3.54 (2) | "
                        f"92.50 ± 3.54 (2) | tfidf_lr | -12.50 (1) | +7.50 ({bootstrap_p}) |")


def test_a_sweep_without_baseline_jobs_uses_the_baseline_each_run_fitted(sweep: Path) -> None:
    for job in ["0", "1", "2", "3"]:  # flat and han, seeds 0 and 1
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        metrics["baseline"] = {"model": "tfidf_lr", "seconds": 1.0,
                               "validation": {"accuracy": 0.9, "macro_f1": 0.9},
                               "test": {"accuracy": 0.75, "macro_f1": 0.7, "loss": 0.4}}
        (sweep / job / "metrics.json").write_text(json.dumps(metrics))
        predictions = pd.read_csv(sweep / job / "predictions.csv", dtype=str)
        wrong = np.arange(N_DOCS) < 10  # the same 10 documents wrong under both seeds
        predictions["predicted"] = np.where(wrong, "tech", predictions["label"])
        predictions.loc[wrong & (predictions["label"] == "tech"), "predicted"] = "world"
        predictions.to_csv(sweep / job / "baseline_predictions.csv", index=False)
    runs, _ = collect_runs(sweep)
    beside = runs[runs["family"] == "linear"]
    assert sorted(beside["seed"]) == [0, 1]  # one per seed, not one per network run
    assert set(beside["job"]) == {"0 (beside)", "1 (beside)"}
    assert main([str(sweep), "--bootstrap", "0"]) == 0
    table = pd.read_csv(sweep / "comparison.csv").set_index("model")
    assert table.loc["tfidf_lr", "n_runs"] == 2
    # han (2 and 4 wrong among the baseline's 10): +8/40 and +6/40.
    assert table.loc["han", "bl_delta_accuracy"] == pytest.approx((8 + 6) / (2 * N_DOCS))
