"""experiments.compare on sweeps that train a model several ways per split (issue #12, "one
recipe, every model"): per (model, seed, fold) the job with the best *validation* score is the
model's run, ties to the lower validation loss; the test fold never enters the choice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from runs import csv_run_args

from experiments.compare import main
from experiments.levers import DEFAULTS, variant

CLASSES = ["a", "b"]
IDS = [f"d{i}" for i in range(20)]  # fold f tests documents 10f .. 10f+9
LABELS = [CLASSES[i % 2] for i in range(20)]


def _job(sweep: Path, num: int, model: str, lever: str, fold: int, *, wrong: int,
         val_f1: float, val_loss: float, family: str = "network") -> None:
    """A fold job that gets `wrong` of its 10 test documents wrong."""
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    overrides = [f"model={model}", "seed=0", f"levers={lever}", "dataset.folds=2",
                 f"dataset.fold={fold}"]
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (job / ".hydra" / "config.yaml").write_text("trainer:\n  monitor: macro_f1\n")
    docs = range(10 * fold, 10 * fold + 10)
    predicted = [CLASSES[1 - CLASSES.index(LABELS[i])] if k < wrong else LABELS[i]
                 for k, i in enumerate(docs)]
    pd.DataFrame({"id": [IDS[i] for i in docs], "label": [LABELS[i] for i in docs],
                  "predicted": predicted}).to_csv(job / "predictions.csv", index=False)
    metrics = {
        "dataset": "news", "model": model, "family": family, "seed": 0, "folds": 2,
        "fold": fold, "num_classes": 2, "classes": CLASSES,
        "test": {"accuracy": 1 - wrong / 10, "macro_f1": 0.5, "loss": 0.4},
        "validation": {"accuracy": val_f1, "macro_f1": val_f1, "loss": val_loss, "best_epoch": 2},
        "train": {"epochs": 3, "seconds": 10.0, "docs_per_second": 100.0},
    }
    (job / "metrics.json").write_text(json.dumps(metrics))


def test_variant_is_the_overrides_that_do_not_name_the_slot() -> None:
    assert variant("model=han seed=1 dataset.fold=3 levers=plain") == "levers=plain"
    assert variant("seed=0 model=flat experiment=news_compare +x=1 model.dropout=0.1") == \
        "+x=1 model.dropout=0.1"
    assert variant("model=han seed=0") == DEFAULTS and variant(None) == DEFAULTS


def test_validation_not_test_picks_each_folds_lever_set(tmp_path: Path) -> None:
    # fold 0: "plain" validates better but tests worse; fold 1: "regularised" validates
    # better; for han fold 1 the two tie on validation F1 and the lower loss decides.
    jobs = [
        ("flat", "plain", 0, dict(wrong=3, val_f1=0.95, val_loss=0.3)),
        ("flat", "regularised", 0, dict(wrong=0, val_f1=0.90, val_loss=0.1)),
        ("flat", "plain", 1, dict(wrong=0, val_f1=0.80, val_loss=0.2)),
        ("flat", "regularised", 1, dict(wrong=2, val_f1=0.85, val_loss=0.2)),
        ("han", "plain", 0, dict(wrong=1, val_f1=0.90, val_loss=0.2)),
        ("han", "regularised", 0, dict(wrong=0, val_f1=0.90, val_loss=0.3)),
        ("han", "plain", 1, dict(wrong=0, val_f1=0.90, val_loss=0.5)),
        ("han", "regularised", 1, dict(wrong=4, val_f1=0.90, val_loss=0.4)),
    ]
    for num, (model, lever, fold, scores) in enumerate(jobs):
        _job(tmp_path, num, model, lever, fold, **scores)
    assert main([str(tmp_path), "--bootstrap", "0"]) == 0
    table = pd.read_csv(tmp_path / "comparison.csv").set_index("model")
    # flat: plain on fold 0 (3 wrong), regularised on fold 1 (2 wrong): 15 of 20 right,
    # although the other choice would have got all 20 right on test.
    assert table.loc["flat", "test_accuracy_mean"] == pytest.approx(15 / 20)
    # han: ties on F1 both times -> lower loss: plain on fold 0 (1 wrong), regularised on 1 (4).
    assert table.loc["han", "test_accuracy_mean"] == pytest.approx(15 / 20)
    assert table.loc["han", "n_runs"] == 1 and str(table.loc["han", "docs_per_seed"]) == "20"
    md = (tmp_path / "comparison.md").read_text()
    assert "## Levers chosen on validation" in md
    assert "| news | flat | `levers=plain` | 1 of 2 |" in md
    assert "| news | han | `levers=regularised` | 1 of 2 |" in md


def test_a_sweep_without_variants_is_left_as_it_was(tmp_path: Path) -> None:
    for num, model in enumerate(("flat", "han")):
        for fold in (0, 1):
            _job(tmp_path, 2 * num + fold, model, "plain", fold, wrong=fold, val_f1=0.9,
                 val_loss=0.1)
    assert main([str(tmp_path), "--bootstrap", "0"]) == 0
    md = (tmp_path / "comparison.md").read_text()
    assert "Levers chosen" not in md
    # Published, the records rebuild the same table.
    assert main([str(tmp_path), "--bootstrap", "0", "--publish", str(tmp_path / "docs")]) == 0
    assert (tmp_path / "docs" / "comparison.md").read_text().split("\n", 1)[1] == md.split("\n", 1)[1]
    assert (tmp_path / "docs" / "comparison.png").stat().st_size > 0


@pytest.mark.slow  # ~1 minute of real training; the per-fold choice is unit-tested above
def test_a_real_levers_sweep_chooses_per_fold_and_tests_every_document_once(
    tmp_path: Path, bbc_csv: Path
) -> None:
    """`han.train -m levers=plain,regularised dataset.folds=2 'dataset.fold=range(2)'` on real
    BBC articles (a shrunken HAN, one epoch), then `experiments.compare`."""
    sweep_dir = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "-m", "han.train", "-m", *csv_run_args(bbc_csv, tmp_path / "cache"),
         f"hydra.sweep.dir={sweep_dir}", "trainer.epochs=1", "baseline=false",
         "model.embedding_dim=8", "model.word2vec_epochs=1",
         "levers=plain,regularised", "dataset.folds=2", "dataset.fold=0,1"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(sweep_dir.glob("*/metrics.json"))
    assert len(jobs) == 4
    assert main([str(sweep_dir), "--bootstrap", "0"]) == 0
    table = pd.read_csv(sweep_dir / "comparison.csv").set_index("model")
    assert table.loc["han", "n_runs"] == 1 and str(table.loc["han", "docs_per_seed"]) == "119"
    pooled = pd.read_csv(sweep_dir / "folds_pooled" / "csv-han-seed0.csv", dtype=str)
    assert len(pooled) == 119 and pooled["id"].is_unique  # 120 articles, one a duplicate
    md = (sweep_dir / "comparison.md").read_text()
    counts = [int(line.split("|")[4].split(" of ")[0]) for line in md.splitlines()
              if line.startswith("| csv | han | `levers=")]
    assert len(counts) == 2 and sum(counts) == 2  # each of the 2 folds chose one set
    # The chosen job of each fold is the one with the better validation score.
    by_fold: dict[int, list[dict]] = {}
    for path in jobs:
        m = json.loads(path.read_text())
        by_fold.setdefault(m["fold"], []).append(m)
    expected = 0
    for fold_jobs in by_fold.values():
        best = max(fold_jobs, key=lambda m: (m["validation"]["macro_f1"], -m["validation"]["loss"]))
        expected += round(best["test"]["accuracy"] * 60)
    assert table.loc["han", "test_accuracy_mean"] == pytest.approx(expected / 119)


def test_every_run_records_the_commit_that_produced_it_and_compare_lists_it(tmp_path: Path) -> None:
    from han.provenance import code_version

    version = code_version()
    assert version.startswith("han ") or len(version.split("+")[0]) == 12
    _job(tmp_path, 0, "flat", "plain", 0, wrong=1, val_f1=0.9, val_loss=0.1)
    _job(tmp_path, 1, "flat", "plain", 1, wrong=1, val_f1=0.9, val_loss=0.1)
    m = json.loads((tmp_path / "1" / "metrics.json").read_text())
    (tmp_path / "1" / "metrics.json").write_text(json.dumps(m | {"code": "abc123def456"}))
    assert main([str(tmp_path), "--bootstrap", "0"]) == 0
    md = (tmp_path / "comparison.md").read_text()
    assert "Code: " in md and "abc123def456 (1 jobs)" in md and "unrecorded (1 jobs)" in md


def test_each_job_is_chosen_by_its_own_monitor_and_one_without_a_saved_config_by_the_schemas(
        tmp_path: Path) -> None:
    from experiments.levers import choose_levers
    from experiments.runs import collect_runs
    from han.schema import typed

    # "plain" validates better on macro-F1, "regularised" on loss.
    _job(tmp_path, 0, "flat", "plain", 0, wrong=0, val_f1=0.9, val_loss=0.5)
    _job(tmp_path, 1, "flat", "regularised", 0, wrong=3, val_f1=0.8, val_loss=0.1)

    def chosen() -> str:
        runs, _, _ = choose_levers(collect_runs(tmp_path)[0])
        return str(runs["variant"].iat[0])

    assert chosen() == "levers=plain"  # trainer.monitor: macro_f1, as the jobs saved it
    for num in (0, 1):
        (tmp_path / str(num) / ".hydra" / "config.yaml").write_text("trainer:\n  monitor: loss\n")
    assert chosen() == "levers=regularised"
    for num in (0, 1):  # no saved config: the jobs trained with the schema's default
        (tmp_path / str(num) / ".hydra" / "config.yaml").unlink()
    runs, _ = collect_runs(tmp_path)
    assert set(runs["monitor"]) == {str(typed("trainer", {}).monitor)}
    assert chosen() == "levers=plain"


def test_a_records_row_without_a_monitor_is_refused_naming_the_job(tmp_path: Path) -> None:
    from experiments.levers import choose_levers
    from experiments.records import JOBS, read_records, write_records
    from experiments.runs import collect_runs
    from han.console import UsageError

    sweep = tmp_path / "sweep"
    _job(sweep, 0, "flat", "plain", 0, wrong=0, val_f1=0.9, val_loss=0.5)
    _job(sweep, 1, "flat", "regularised", 0, wrong=3, val_f1=0.8, val_loss=0.1)
    runs, failed = collect_runs(sweep)
    write_records(runs, failed, tmp_path / "records", {})
    jobs = pd.read_csv(tmp_path / "records" / JOBS, dtype=str)
    jobs.loc[jobs["job"] == "1", "monitor"] = ""  # a hand-edited record: no monitor for job 1
    jobs.to_csv(tmp_path / "records" / JOBS, index=False)
    with pytest.raises(UsageError, match=r"job 1: its monitor is nan.*trainer\.monitor"):
        choose_levers(read_records(tmp_path / "records")[0])
