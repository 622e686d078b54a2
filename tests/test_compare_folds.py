"""experiments.compare on k-fold sweeps (issue #12): a seed's fold jobs pooled, every document
once; the paired tests over the pooled predictions, checked against a hand computation."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from runs import csv_run_args

from experiments.compare import main

CLASSES = ["sports", "world", "tech"]
K = 3
IDS = [f"d{i:02d}" for i in range(30)]  # fold f tests documents 10f .. 10f+9
LABELS = [CLASSES[i % 3] for i in range(30)]
# (model, seed) -> documents predicted wrong (as the next class)
WRONG = {
    ("flat", 0): {0, 1, 2, 3, 11, 12, 13, 20, 21, 22},  # folds: 4, 3, 3 wrong
    ("flat", 1): {0, 1, 10, 11, 12, 13, 14, 25},  # 2, 5, 1
    ("han", 0): {0, 15, 29},  # 1, 1, 1
    ("han", 1): {0, 1, 2, 10, 11},  # 3, 2, 0
}


def _predictions(model: str, seed: int, fold: int) -> pd.DataFrame:
    docs = range(10 * fold, 10 * fold + 10)
    wrong = WRONG[(model, seed)]
    predicted = [CLASSES[(CLASSES.index(LABELS[i]) + 1) % 3] if i in wrong else LABELS[i]
                 for i in docs]
    return pd.DataFrame({"id": [IDS[i] for i in docs], "label": [LABELS[i] for i in docs],
                         "predicted": predicted})


def _fold_job(sweep: Path, num: int, model: str, seed: int, fold: int) -> None:
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    overrides = [f"model={model}", f"seed={seed}", "dataset.folds=3", f"dataset.fold={fold}"]
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    _predictions(model, seed, fold).to_csv(job / "predictions.csv", index=False)
    accuracy = 1 - len(WRONG[(model, seed)] & set(range(10 * fold, 10 * fold + 10))) / 10
    metrics = {
        "dataset": "news", "model": model, "family": "network", "seed": seed, "folds": K,
        "fold": fold, "num_classes": 3, "classes": CLASSES,
        "test": {"accuracy": accuracy, "macro_f1": 0.5, "loss": 0.4},
        "validation": {"accuracy": 0.9, "macro_f1": 0.9, "best_epoch": 2},
        "train": {"epochs": 3, "seconds": 10.0, "docs_per_second": 100.0},
    }
    (job / "metrics.json").write_text(json.dumps(metrics))


@pytest.fixture
def fold_sweep(tmp_path: Path) -> Path:
    num = 0
    for seed in (0, 1):
        for model in ("flat", "han"):
            for fold in range(K):
                _fold_job(tmp_path, num, model, seed, fold)
                num += 1
    return tmp_path


def _sign_flip_p(d: list[int]) -> float:
    """Exact two-sided paired permutation p by brute force over every sign pattern."""
    observed = abs(sum(d))
    hits = sum(abs(sum(s * x for s, x in zip(signs, d, strict=True))) >= observed
               for signs in itertools.product((1, -1), repeat=len(d)))
    return hits / 2 ** len(d)


def test_pooled_scores_fold_sd_and_paired_tests_match_a_hand_computation(
    fold_sweep: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([str(fold_sweep), "--bootstrap", "5000"]) == 0
    table = pd.read_csv(fold_sweep / "comparison.csv").set_index("model")
    # Pooled accuracy per seed over all 30 documents, then mean and sd over the two seeds.
    flat, han = [1 - 10 / 30, 1 - 8 / 30], [1 - 3 / 30, 1 - 5 / 30]
    for model, per_seed in (("flat", flat), ("han", han)):
        row = table.loc[model]
        assert row["n_runs"] == 2  # seeds, not fold jobs
        assert row["test_accuracy_mean"] == pytest.approx(np.mean(per_seed))
        assert row["test_accuracy_std"] == pytest.approx(np.std(per_seed, ddof=1))
        assert str(row["folds_found"]) == "3" and str(row["docs_per_seed"]) == "30"
    # Fold sd: sd of the per-fold accuracies of a seed, mean over seeds.
    flat_sd = np.mean([np.std([0.6, 0.7, 0.7], ddof=1), np.std([0.8, 0.5, 0.9], ddof=1)])
    assert table.loc["flat", "fold_sd"] == pytest.approx(flat_sd)
    # seed 0: flat wrong {0,1,2,3,11,12,13,20,21,22}, han wrong {0,15,29}; seed 1: flat wrong
    # {0,1,10,11,12,13,14,25}, han wrong {0,1,2,10,11}. Per document, han's gain summed over
    # both seeds: +1 on 1,3,11,14,20,21,22,25; +2 on 12,13; -1 on 15,29; 0 on 2 (+1 -1).
    han_row = table.loc["han"]
    assert han_row["p"] == pytest.approx(_sign_flip_p([1] * 8 + [2, 2, -1, -1]))
    assert han_row["n_paired"] == 2 and han_row["n_docs"] == 30
    assert han_row["delta_accuracy"] == pytest.approx(((9 - 2) + (4 - 1)) / 60)
    pooled = pd.read_csv(fold_sweep / "folds_pooled" / "news-han-seed1.csv", dtype=str)
    assert sorted(pooled["id"]) == IDS  # every document once
    out = capsys.readouterr().out
    assert "| folds | fold sd (acc) | docs/seed |" in out and "k-fold: a run is" in out


def test_baselines_fitted_beside_fold_jobs_are_pooled_per_seed(fold_sweep: Path) -> None:
    # Each han fold job also fitted the bag-of-words baseline on its own fold; the baseline
    # predicts as flat did, so han against it is han against flat.
    for num in (3, 4, 5, 9, 10, 11):
        job = fold_sweep / str(num)
        m = json.loads((job / "metrics.json").read_text())
        seed, fold = m["seed"], m["fold"]
        _predictions("flat", seed, fold).to_csv(job / "baseline_predictions.csv", index=False)
        scores = {"accuracy": 0.5, "macro_f1": 0.5, "loss": 1.0}
        m["baseline"] = {"model": "tfidf_lr", "validation": scores, "test": scores}
        (job / "metrics.json").write_text(json.dumps(m))
    assert main([str(fold_sweep), "--bootstrap", "0"]) == 0
    table = pd.read_csv(fold_sweep / "comparison.csv").set_index("model")
    assert table.loc["tfidf_lr", "n_runs"] == 2 and str(table.loc["tfidf_lr", "folds_found"]) == "3"
    assert table.loc["tfidf_lr", "test_accuracy_mean"] == pytest.approx((20 / 30 + 22 / 30) / 2)
    assert table.loc["han", "bl_n_paired"] == 2
    assert table.loc["han", "bl_delta_accuracy"] == pytest.approx(((9 - 2) + (4 - 1)) / 60)


def test_a_seed_with_a_missing_fold_is_pooled_and_flagged(fold_sweep: Path) -> None:
    for name in ("metrics.json", "predictions.csv"):  # han, seed 1, fold 2 failed
        (fold_sweep / "11" / name).unlink()
    assert main([str(fold_sweep), "--bootstrap", "0"]) == 0
    table = pd.read_csv(fold_sweep / "comparison.csv").set_index("model")
    assert table.loc["han", "folds_found"] == "2-3 of 3"
    assert table.loc["han", "docs_per_seed"] == "20-30"
    # Seed 1 pooled over its 20 documents: 5 wrong.
    assert table.loc["han", "test_accuracy_mean"] == pytest.approx((27 / 30 + 15 / 20) / 2)
    md = (fold_sweep / "comparison.md").read_text()
    assert "news/han, seed 1: 2 of 3 folds (missing fold(s) [2])" in md


def test_a_real_k_fold_sweep_tests_every_document_once_per_seed(tmp_path: Path,
                                                                bbc_csv: Path) -> None:
    """`han.train -m dataset.folds=3 dataset.fold=0,1,2` (a TF-IDF baseline: seconds), then
    `experiments.compare`: every article tested once, pooled per seed."""
    sweep_dir = tmp_path / "sweep"
    # SHRINK's network sizes are not keys of a linear model's config.
    args = [a for a in csv_run_args(bbc_csv, tmp_path / "cache") if not a.startswith("model.")]
    result = subprocess.run(
        [sys.executable, "-m", "han.train", "-m", *args, f"hydra.sweep.dir={sweep_dir}",
         "model=tfidf_lr", "dataset.folds=3", "dataset.fold=0,1,2"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    all_ids = set(pd.read_csv(bbc_csv, dtype=str)["id"])
    tested: dict[str, list[str]] = {}
    for job in sweep_dir.glob("*/metrics.json"):
        m = json.loads(job.read_text())
        summary = json.loads((job.parent / "data_summary.json").read_text())
        assert (m["folds"], summary["folds"], summary["fold"]) == (3, 3, m["fold"])
        ids = list(pd.read_csv(job.parent / "predictions.csv", dtype=str)["id"])
        sizes = {split: row["total"] for split, row in summary["documents"].items()}
        # 120 articles, one a copy of another (dataset.dedup): 119 in three folds.
        assert sizes["test"] == len(ids) in (39, 40) and sum(sizes.values()) == 119
        assert summary["duplicates"]["removed"] == 1
        tested.setdefault(m["model"], []).extend(ids)
    ids = tested["tfidf_lr"]  # every kept article tested exactly once over the 3 fold jobs
    assert len(ids) == len(set(ids)) == 119 and set(ids) < all_ids
    assert main([str(sweep_dir), "--bootstrap", "0"]) == 0
    table = pd.read_csv(sweep_dir / "comparison.csv").set_index("model")
    assert table.loc["tfidf_lr", "n_runs"] == 1  # one seed: the 3 fold jobs pooled
    assert str(table.loc["tfidf_lr", "docs_per_seed"]) == "119"
    pooled = pd.read_csv(sweep_dir / "folds_pooled" / "csv-tfidf_lr-seed0.csv", dtype=str)
    assert set(pooled["id"]) == set(ids) and len(pooled) == 119
    assert table.loc["tfidf_lr", "test_accuracy_mean"] == pytest.approx(
        (pooled["label"] == pooled["predicted"]).mean())
