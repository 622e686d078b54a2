"""experiments.compare on a hand-built sweep directory with known answers."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.compare import main, summarize
from experiments.runs import collect_runs
from experiments.stats import bootstrap_intervals, holm, paired_permutation

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
        assert row["docs_per_second_mean"] == pytest.approx(_values(model, 6).mean(), rel=1e-5)
        assert row["test_accuracy_pooled"] == pytest.approx(acc.mean())  # equal test sets
        # A bootstrap interval over documents: inside [0, 1] and around the pooled accuracy.
        assert 0 <= row["test_accuracy_ci_low"] < row["test_accuracy_pooled"]
        assert row["test_accuracy_pooled"] < row["test_accuracy_ci_high"] <= 1

    # han is right wherever flat is (flat wrong on the first 12 / 10, han on the first 2 / 4):
    # 10 documents differ, every one in han's favour, so of the 2^10 sign patterns only the
    # observed one and its mirror reach |sum| = 16: p = 2 / 1024, exactly.
    han = table.loc["han"]
    assert han["delta_accuracy"] == pytest.approx((10 + 6) / (2 * N_DOCS))
    assert han["p"] == pytest.approx(2 / 1024)
    assert han["n_paired"] == 2 and han["n_docs"] == N_DOCS
    assert 0 < han["delta_ci_low"] <= han["delta_accuracy"] <= han["delta_ci_high"]
    assert math.isnan(table.loc["flat", "p"])
    assert han["p_holm"] == pytest.approx(2 / 1024)  # the table's only test

    md = (sweep / "comparison.md").read_text()
    flat_line = next(line for line in md.splitlines() if line.startswith("| news | flat |"))
    assert flat_line.count("—") == 2
    assert "## Failed jobs (1)" in md
    assert "`4`" in md and "model=han seed=2 dataset=news" in md
    assert str(sweep.parent) not in md  # no machine path in what may be published

    out = capsys.readouterr().out.strip().splitlines()
    assert "failed_jobs: 1" in out
    assert any(line.startswith("| news | han |") for line in out)


def test_a_published_table_rebuilds_byte_for_byte_from_its_records(sweep: Path,
                                                                   tmp_path: Path) -> None:
    published = tmp_path / "docs" / "results" / "demo"
    assert main([str(sweep), "--bootstrap", "500", "--publish", str(published),
                 "--title", "demo", "--command", "make compare SWEEP=<dir>"]) == 0
    assert {p.name for p in published.iterdir()} >= {"jobs.csv", "predictions.csv.gz",
                                                      "failed.csv", "meta.json", "comparison.md"}
    first = (published / "comparison.md").read_bytes()
    first_csv = (published / "comparison.csv").read_bytes()
    jobs = pd.read_csv(published / "jobs.csv", dtype=str)
    assert sorted(jobs["job"]) == ["0", "1", "2", "3"] and "predictions" not in jobs
    # The sweep can go: the records alone give the same table, byte for byte.
    for job in sweep.iterdir():
        if job.is_dir():
            for f in job.rglob("*"):
                if f.is_file():
                    f.unlink()
    assert main([str(published)]) == 0
    assert (published / "comparison.md").read_bytes() == first
    assert (published / "comparison.csv").read_bytes() == first_csv
    md = first.decode()
    assert "# Comparison: demo" in md and "make compare SWEEP=<dir>" in md
    assert str(tmp_path) not in md and "## Failed jobs (1)" in md


def test_collect_runs_lists_failed_jobs(sweep: Path) -> None:
    (sweep / "5" / ".hydra").mkdir(parents=True)
    (sweep / "5" / "metrics.json").write_text('{"dataset": "news", "mod')  # killed mid-write
    runs, failed = collect_runs(sweep)
    assert sorted(runs["job"]) == ["0", "1", "2", "3"]
    assert runs["seed"].dtype.kind == "i"
    assert [f.job for f in failed] == ["4", "5"]
    assert failed[0].overrides == ["model=han", "seed=2", "dataset=news"]
    assert failed[0].reason == "no metrics.json"
    assert "unreadable" in failed[1].reason and failed[1].overrides == []


def test_single_run_has_undefined_sd_but_a_document_interval(sweep: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    _write_job(sweep, 6, "han_avg", 0, 5, 0.8, 0.8, 500.0)
    runs, _ = collect_runs(sweep)
    row = summarize(runs, 500, 0).set_index("model").loc["han_avg"]
    assert row["n_runs"] == 1 and row["test_accuracy_mean"] == pytest.approx(35 / 40)
    assert math.isnan(row["test_accuracy_std"])
    assert 0.7 < row["test_accuracy_ci_low"] < 35 / 40 < row["test_accuracy_ci_high"] <= 1
    assert main([str(sweep), "--bootstrap", "100"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("| news | han_avg |"))
    assert "87.50 ± n/a" in line


def test_missing_predictions_keeps_metrics(sweep: Path) -> None:
    (sweep / "3" / "predictions.csv").unlink()
    assert main([str(sweep), "--bootstrap", "2000"]) == 0
    han = pd.read_csv(sweep / "comparison.csv").set_index("model").loc["han"]
    assert han["n_runs"] == 2 and han["n_paired"] == 1
    assert han["p"] == pytest.approx(2 * 0.5**10)  # seed 0 alone: 10 documents, all for han
    assert math.isnan(han["test_accuracy_ci_low"])  # no interval over half the documents
    md = (sweep / "comparison.md").read_text()
    assert "predictions.csv missing in 3" in md


def test_unreadable_predictions_are_skipped(sweep: Path) -> None:
    (sweep / "2" / "predictions.csv").write_text("id,label\n000,sports\n")  # no `predicted`
    assert main([str(sweep), "--bootstrap", "2000"]) == 0
    han = pd.read_csv(sweep / "comparison.csv").set_index("model").loc["han"]
    assert han["n_paired"] == 1 and han["p"] == pytest.approx(2 * 0.5**6)
    assert "seed 0: unreadable predictions.csv" in (sweep / "comparison.md").read_text()


def test_absent_reference_is_skipped_with_note(sweep: Path) -> None:
    assert main([str(sweep), "--reference", "bert", "--bootstrap", "100"]) == 0
    table = pd.read_csv(sweep / "comparison.csv")
    assert table["p"].isna().all()
    assert "reference model `bert` has no runs" in (sweep / "comparison.md").read_text()


def test_all_jobs_failed_still_reports(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "0" / ".hydra").mkdir(parents=True)
    assert main([str(tmp_path)]) == 1
    assert "## Failed jobs (1)" in (tmp_path / "comparison.md").read_text()
    assert capsys.readouterr().out.strip().endswith("failed_jobs: 1")


def test_permutation_p_equals_scipys_exact_permutation_test() -> None:
    rng = np.random.default_rng(0)
    for _ in range(10):
        d = rng.integers(-2, 3, 11).astype(float)  # per document, summed over 2 seeds
        ours = paired_permutation(d, n_resamples=10_000, seed=0)  # 2^nonzero <= 2048: exact
        theirs = stats.permutation_test((d, np.zeros_like(d)), lambda x, y: np.sum(x - y),
                                        permutation_type="samples", alternative="two-sided",
                                        n_resamples=np.inf).pvalue
        assert ours == pytest.approx(min(1.0, theirs))


def test_permutation_p_by_monte_carlo_agrees_with_scipy_on_real_sized_tests() -> None:
    rng = np.random.default_rng(1)
    d = np.r_[np.ones(70), -np.ones(45)]  # 115 discordant documents (agreeing ones flip nothing)
    assert paired_permutation(np.r_[d, np.zeros(800)], 20_000, 0) == paired_permutation(d, 20_000, 0)
    ours = paired_permutation(d, n_resamples=20_000, seed=0)
    theirs = stats.permutation_test((d, np.zeros_like(d)),
                                    lambda x, y, axis: np.sum(x - y, axis=axis), vectorized=True,
                                    permutation_type="samples", n_resamples=20_000,
                                    random_state=rng).pvalue
    assert ours == pytest.approx(theirs, abs=0.006)
    # With one seed, documents are +1 / -1: the sign-flip test is McNemar's exact test.
    assert ours == pytest.approx(stats.binomtest(70, 115).pvalue, abs=0.006)
    assert paired_permutation(np.zeros(5), 100, 0) == 1.0  # no discordant document
    assert paired_permutation(d, 5000, 3) == paired_permutation(d, 5000, 3)  # seeded


def test_bootstrap_interval_agrees_with_scipys_percentile_bootstrap() -> None:
    rng = np.random.default_rng(2)
    correct = (rng.random(600) < 0.9).astype(float)
    (low, high), = bootstrap_intervals(correct[:, None], np.ones(600), 20_000, seed=0)
    ref = stats.bootstrap((correct,), np.mean, n_resamples=20_000, method="percentile",
                          random_state=rng).confidence_interval
    assert low == pytest.approx(ref.low, abs=0.004) and high == pytest.approx(ref.high, abs=0.004)
    # A document's rows from several seeds move together: 2 rows per document, same interval.
    (low2, high2), = bootstrap_intervals(2 * correct[:, None], 2 * np.ones(600), 20_000, seed=0)
    assert (low2, high2) == pytest.approx((low, high))
    # Accuracy near 100%: the interval never leaves [0, 1] (a t interval would).
    (lo, hi), = bootstrap_intervals(np.r_[np.ones(99), 0][:, None], np.ones(100), 2000, seed=0)
    assert 0.95 <= lo <= hi == 1.0


def test_holm_equals_statsmodels_and_keeps_untested_cells_empty() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.049])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
    with_nan = holm([0.01, math.nan, 0.04])
    assert math.isnan(with_nan[1])
    np.testing.assert_allclose(with_nan[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


def _set_validation_accuracy(job: Path, accuracy: float) -> None:
    metrics = json.loads((job / "metrics.json").read_text())
    metrics["validation"]["accuracy"] = accuracy
    (job / "metrics.json").write_text(json.dumps(metrics))


def test_networks_are_tested_against_the_baseline_validation_picks(sweep: Path) -> None:
    # ngram_tfidf_lr is better on test and on validation accuracy but worse on validation
    # macro-F1, the monitored metric (trainer.monitor; these jobs save none: its default): the
    # pick is the selection rule's (han.schema.better), never test's.
    for num, model, seed, wrong, val_f1, val_acc in [
            (10, "tfidf_lr", 0, 6, 0.95, 0.85), (11, "tfidf_lr", 1, 6, 0.95, 0.85),
            (12, "ngram_tfidf_lr", 0, 3, 0.90, 0.99), (13, "ngram_tfidf_lr", 1, 3, 0.90, 0.99)]:
        _set_validation_accuracy(_write_job(sweep, num, model, seed, wrong, 0.9, val_f1, 0.0),
                                 val_acc)
    assert main([str(sweep), "--bootstrap", "2000"]) == 0
    table = pd.read_csv(sweep / "comparison.csv").set_index("model")
    assert set(table["baseline"]) == {"tfidf_lr"}
    # han (2 and 4 wrong) vs tfidf_lr (6 wrong, the same first documents): documents 2-3 gain
    # one seed, 4-5 both: 4 documents, all for han, so p = 2 / 2^4 exactly.
    assert table.loc["han", "bl_delta_accuracy"] == pytest.approx((4 + 2) / (2 * N_DOCS))
    assert table.loc["han", "bl_p"] == pytest.approx(2 / 16)
    # flat (12 and 10 wrong) loses on 6 documents: a deficit has a small p too, with its sign.
    assert table.loc["flat", "bl_delta_accuracy"] == pytest.approx(-(6 + 4) / (2 * N_DOCS))
    assert table.loc["flat", "bl_p"] == pytest.approx(2 / 64)
    assert math.isnan(table.loc["ngram_tfidf_lr", "bl_delta_accuracy"])
    # Holm over the table's five tests (three against flat, two against the baseline):
    # 2/1024 x5, 2/512 x4, 2/64 x3, 2/64 x2 (raised to the one before), 2/16 x1.
    assert table.loc["flat", "bl_p_holm"] == pytest.approx(3 * 2 / 64)
    assert table.loc["han", "bl_p_holm"] == pytest.approx(2 / 16)
    assert table.loc["han", "p_holm"] == pytest.approx(5 * 2 / 1024)
    md = (sweep / "comparison.md").read_text()
    assert any(line.startswith("| news | tfidf_lr | 2 |") for line in md.splitlines())
    han_line = next(line for line in md.splitlines() if line.startswith("| news | han |"))
    assert "| tfidf_lr | +7.50 [" in han_line and "p 0.12 (Holm 0.12)" in han_line
    # The headline: one row per dataset, flat and HAN against the baseline validation picked,
    # then HAN against flat.
    headline = next(line for line in md.splitlines() if line.startswith("| news | 85.00 ["))
    cells = [c.strip() for c in headline.strip("|").split("|")]
    assert cells[1].endswith("(2)") and cells[5] == "tfidf_lr"
    assert cells[6].startswith("-12.50 [") and cells[6].endswith("p 0.031 (Holm 0.094)")
    assert cells[7].startswith("+7.50 [") and cells[7].endswith("p 0.12 (Holm 0.12)")
    assert cells[8].startswith("+20.00 [") and cells[8].endswith("p 0.002 (Holm 0.0098)")


def test_the_headline_names_the_reference_han_was_tested_against(sweep: Path) -> None:
    # han_uniform as the reference (issue #27's uniform-attention baseline): the headline's
    # last column is HAN minus han_uniform and says so, never "han − flat".
    for num, seed, wrong in [(5, 0, 3), (6, 1, 3)]:
        _write_job(sweep, num, "han_uniform", seed, wrong, 0.9, 0.9, 300.0)
    assert main([str(sweep), "--bootstrap", "2000", "--reference", "han_uniform"]) == 0
    lines = (sweep / "headline.md").read_text().splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[-1] == "han − han_uniform" and "han − flat" not in header
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    # han (2 and 4 wrong) against han_uniform (3 and 3): +0 pooled, documents 2 and 3 split.
    assert cells[-1].startswith("+0.00 [")
    assert main([str(sweep), "--bootstrap", "2000"]) == 0  # the default reference is flat
    assert (sweep / "headline.md").read_text().splitlines()[0].strip("| ").endswith("han − flat")


def test_a_baseline_fitted_beside_a_job_carries_the_monitor_that_chose_its_c(sweep: Path) -> None:
    # run_baseline_beside picks C with the job's trainer.monitor; the row must say so, or the
    # best-baseline rule would score it by the default monitor.
    metrics = json.loads((sweep / "0" / "metrics.json").read_text())
    metrics["baseline"] = {"model": "tfidf_lr", "seconds": 1.0,
                           "validation": {"accuracy": 0.9, "macro_f1": 0.8},
                           "test": {"accuracy": 0.75, "macro_f1": 0.7, "loss": 0.4}}
    (sweep / "0" / "metrics.json").write_text(json.dumps(metrics))
    (sweep / "0" / ".hydra" / "config.yaml").write_text("seed: 0\ntrainer:\n  monitor: accuracy\n")
    shutil.copy(sweep / "0" / "predictions.csv", sweep / "0" / "baseline_predictions.csv")
    runs, _ = collect_runs(sweep)
    beside = runs[runs["job"] == "0 (beside)"]
    assert beside["monitor"].tolist() == ["accuracy"]
    assert runs.loc[runs["job"] == "1", "monitor"].tolist() == ["macro_f1"]  # no config: default


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


def test_a_published_table_is_never_overwritten_by_a_table_of_more_sources(
        sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Reusing a published table's rows beside new sweeps must not write the new table over the
    published one (its rebuild would no longer match): refused in one line naming the fix."""
    published = tmp_path / "docs" / "results" / "demo"
    assert main([str(sweep), "--bootstrap", "200", "--publish", str(published)]) == 0
    before = {p.name: p.read_bytes() for p in published.iterdir()}
    capsys.readouterr()
    for extra in ([str(sweep)], ["--dataset", "news"]):
        assert main([str(published), *extra, "--bootstrap", "200"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(published) in err and "--out DIR" in err
    assert {p.name: p.read_bytes() for p in published.iterdir()} == before
    elsewhere = tmp_path / "preview"
    assert main([str(published), str(sweep), "--bootstrap", "200", "--out", str(elsewhere)]) == 0
    assert (elsewhere / "comparison.md").is_file()
    assert {p.name: p.read_bytes() for p in published.iterdir()} == before
