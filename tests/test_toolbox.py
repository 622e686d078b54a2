"""The package as a researcher installs and uses it (issue #26): the console scripts run from a
folder outside the repository, with no HAN_ROOT, the run directory holding everything they need;
`han-evaluate` reproduces a run's own test numbers; `logger=mlflow` leaves a readable store.

On 120 real BBC articles with shrunken models. The default suite trains one flat run with
`logger=mlflow` from a user's folder and evaluates it from another (fixture `trained`); the
whole tutorial flow is slow (fixture `flow`): `han-data`, a 2-job sweep
(`han-train -m model=flat,han logger=mlflow`), `han-compare`, then `han-predict`, the attention
report, `han-export` and `han-evaluate` on the HAN job, each from a different folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from runs import SHRINK

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def script(name: str) -> str:
    path = BIN / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: install the package (make setup) to get its console scripts")
    return str(path)


def user_env(home: Path) -> dict:
    """A user's environment: no HAN_ROOT, no checkout on the path, HOME in a temporary folder."""
    drop = {"HAN_ROOT", "HAN_LOG_DIR", "HAN_CACHE_DIR", "HAN_DATA_DIR", "XDG_CACHE_HOME",
            "PYTHONPATH", "MLFLOW_TRACKING_URI"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return env | {"HOME": str(home), "WANDB_MODE": "offline"}


def run(args: list[str], cwd: Path, env: dict, ok: bool = True) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    # generous: a shared machine under load ran the 2-job sweep past 900 s once
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    if ok:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def user_folder(tmp_path_factory, bbc_csv) -> tuple[Path, dict, Path, list[str]]:
    """A user's folder outside the repository with the data in it, and the run settings."""
    root = tmp_path_factory.mktemp("user")
    env = user_env(root / "home")
    data = root / "data"
    data.mkdir()
    csv = data / "bbc.csv"
    csv.write_bytes(bbc_csv.read_bytes())
    # a path relative to the folder the run starts in: the saved config must make it absolute
    common = ["dataset=csv", "dataset.train_path=../data/bbc.csv", "dataset.id_column=id",
              "dataset.vocab.min_count=2", *SHRINK]
    return root, env, csv, common


@pytest.fixture(scope="module")
def trained(tmp_path_factory, bbc_csv) -> dict:
    """One flat run (2 epochs, logger=mlflow) started from a user's project folder."""
    root, env, csv, common = user_folder(tmp_path_factory, bbc_csv)
    project = root / "project"
    run_dir = project / "flat_run"
    run([script("han-train"), *common, "model=flat", "trainer.epochs=2", "logger=mlflow",
         "baseline=false", f"hydra.run.dir={run_dir.name}"], project, env)
    return {"root": root, "env": env, "project": project, "csv": csv,
            "jobs": {"flat": run_dir}}


@pytest.fixture(scope="module")
def flow(tmp_path_factory, bbc_csv) -> dict:
    root, env, csv, common = user_folder(tmp_path_factory, bbc_csv)
    # han-data from a project folder, a relative data path: its log goes under logs/data/
    project = root / "project"
    prepared = run([script("han-data"), *common], project, env)
    summary = json.loads(prepared.stdout.strip().splitlines()[-1])
    sweep = project / "sweep"
    run([script("han-train"), "-m", *common, "model=flat,han", "trainer.epochs=2",
         "logger=mlflow", f"hydra.sweep.dir={sweep.name}"], project, env)
    compared = run([script("han-compare"), str(sweep), "--bootstrap", "200"], root / "a", env)
    jobs = {json.loads((d / "metrics.json").read_text())["model"]: d for d in sweep.iterdir()
            if (d / "metrics.json").is_file()}
    return {"root": root, "env": env, "project": project, "summary": summary, "sweep": sweep,
            "compared": compared, "jobs": jobs, "csv": csv}


@pytest.mark.slow
def test_han_data_logs_under_a_data_task_and_caches_per_user(flow):
    project, home = flow["project"], flow["root"] / "home"
    assert list((project / "logs" / "data" / "runs").glob("*/data.log"))
    assert not (project / "logs" / "train" / "runs").exists()
    # No HAN_ROOT: the tokenised corpus lands in the user's cache, not in the folder run from
    assert list((home / ".cache" / "han" / "data" / "cache").glob("csv-*.npz"))
    assert not (project / "data").exists()


def test_a_run_saves_its_config_resolved_with_absolute_paths(trained):
    flow = trained
    run_dir = flow["jobs"]["flat"]
    text = (run_dir / ".hydra" / "config.yaml").read_text()
    assert "${" not in text
    cfg = yaml.safe_load(text)
    assert Path(cfg["dataset"]["train_path"]) == flow["csv"].resolve()
    for key in ("root_dir", "data_dir", "cache_dir", "log_dir", "output_dir"):
        assert Path(cfg["paths"][key]).is_absolute(), key
    assert Path(cfg["paths"]["output_dir"]) == run_dir.resolve()


@pytest.mark.slow
def test_compare_runs_on_the_sweep_from_another_folder(flow):
    assert "failed_jobs: 0" in flow["compared"].stdout
    table = pd.read_csv(flow["sweep"] / "comparison.csv").set_index("model")
    assert set(table.index) >= {"flat", "han"}


@pytest.mark.slow
def test_predict_explain_and_export_work_from_any_folder(flow):
    run_dir, env, root = flow["jobs"]["han"], flow["env"], flow["root"]
    somewhere = root / "somewhere" / "else"
    text = somewhere / "doc.txt"
    somewhere.mkdir(parents=True)
    text.write_text("The minister defended the budget in parliament. MPs voted against it.")
    predicted = run([script("han-predict"), f"run_dir={run_dir}", f"input={text}"], somewhere, env)
    assert "doc.txt\t" in predicted.stdout
    report = run([script("han-predict"), f"run_dir={run_dir}", "report=true", "num_docs=4"],
                 root / "b", env)
    assert (run_dir / "report.html").is_file(), report.stdout
    exported = run([script("han-export"), str(run_dir), "--output", "export"], root / "c", env)
    assert (root / "c" / "export" / "saved_model").is_dir(), exported.stdout
    guide = (root / "c" / "export" / "SERVING.md").resolve()
    assert guide.is_file() and str(guide) in exported.stdout  # the message names a file it has
    assert json.loads((root / "c" / "export" / "tokenizer.json").read_text())["classes"]


def evaluate_reproduces_test_numbers(flow: dict, model: str) -> None:
    run_dir, root = flow["jobs"][model], flow["root"]
    out = root / f"eval-{model}"
    result = run([script("han-evaluate"), f"run_dir={run_dir}", "dataset=csv",
                  "dataset.train_path=unused.csv", f"output={out}"], root / "d", flow["env"])
    trained = json.loads((run_dir / "metrics.json").read_text())["test"]
    scored = json.loads((out / "metrics.json").read_text())
    assert scored["accuracy"] == trained["accuracy"]
    assert scored["macro_f1"] == trained["macro_f1"]
    assert scored["confusion_matrix"] == trained["confusion_matrix"]
    assert scored["per_class"] == trained["per_class"]
    assert scored["loss"] == pytest.approx(trained["loss"], abs=1e-6)
    assert "| true \\ predicted |" in (out / "metrics.md").read_text()
    predictions = pd.read_csv(out / "predictions.csv", dtype=str)
    original = pd.read_csv(run_dir / "predictions.csv", dtype=str)
    assert predictions[["id", "label", "predicted"]].equals(original[["id", "label", "predicted"]])
    assert f"accuracy {trained['accuracy']:.4f}" in result.stdout


def test_evaluate_reproduces_a_flat_runs_test_numbers_from_another_folder(trained):
    evaluate_reproduces_test_numbers(trained, "flat")


@pytest.mark.slow
def test_evaluate_reproduces_a_han_runs_test_numbers_from_another_folder(flow):
    evaluate_reproduces_test_numbers(flow, "han")


@pytest.mark.slow
def test_evaluate_scores_a_labelled_file(flow, bbc_csv):
    run_dir, root, env = flow["jobs"]["han"], flow["root"], flow["env"]
    docs = pd.read_csv(bbc_csv).groupby("label").head(5)
    table = root / "labelled.csv"
    docs.to_csv(table, index=False)
    run([script("han-evaluate"), f"run_dir={run_dir}", f"input={table}", "output=out"],
        root / "e", env)
    scored = json.loads((root / "e" / "out" / "metrics.json").read_text())
    assert scored["docs"] == 15 and sum(r["support"] for r in scored["per_class"].values()) == 15
    # the same documents through han-predict get the same labels
    predicted = pd.read_csv(root / "e" / "out" / "predictions.csv", dtype=str)
    assert len(predicted) == 15 and set(predicted["label"]) == set(docs["label"])


def test_evaluate_refuses_labels_the_run_never_saw(trained, bbc_csv):
    run_dir, root, env = trained["jobs"]["flat"], trained["root"], trained["env"]
    docs = pd.read_csv(bbc_csv).groupby("label").head(5)
    bad = root / "bad.csv"
    docs.assign(label=docs["label"].replace("sport", "business")).to_csv(bad, index=False)
    refused = run([script("han-evaluate"), f"run_dir={run_dir}", f"input={bad}"], root / "e",
                  env, ok=False)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: ") and "['business']" in line and "not trained on" in line


def test_mlflow_logger_leaves_a_readable_local_store(trained):
    check_mlflow_store(trained, {"flat"})


@pytest.mark.slow
def test_mlflow_logger_records_every_job_of_a_sweep(flow):
    check_mlflow_store(flow, {"flat", "han"})
    # logger=mlflow replaces TensorBoard: one tracker per run
    assert not (flow["jobs"]["han"] / "tensorboard").exists()


def check_mlflow_store(flow: dict, models: set[str]) -> None:
    from mlflow.tracking import MlflowClient

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    store = flow["project"] / "logs" / "mlruns"
    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    experiment = client.get_experiment_by_name("han")
    runs = client.search_runs([experiment.experiment_id])
    by_model = {r.data.params["model.name"]: r for r in runs}
    assert set(by_model) == models
    for model, mlrun in by_model.items():
        metrics = json.loads((flow["jobs"][model] / "metrics.json").read_text())
        assert mlrun.data.params["dataset.name"] == "csv"
        assert mlrun.data.params["trainer.epochs"] == "2"
        assert mlrun.data.metrics["test.accuracy"] == pytest.approx(metrics["test"]["accuracy"])
        history = client.get_metric_history(mlrun.info.run_id, "val_macro_f1")
        assert [h.step for h in history] == [1, 2]
        assert [h.value for h in history] == pytest.approx(
            [e["val_macro_f1"] for e in metrics["history"]])
        assert mlrun.info.status == "FINISHED"


@pytest.mark.slow
def test_evaluate_reproduces_the_news_runs_test_numbers(tmp_path):
    """The issue's done-when: a BBC News run (flat, one epoch), scored by han-evaluate on news's
    test split from another folder, gives the numbers its training reported."""
    env = user_env(tmp_path / "home")
    run_dir = tmp_path / "news_run"
    run([script("han-train"), "dataset=news", "model=flat", "trainer.epochs=1", "baseline=false",
         "progress=false", f"hydra.run.dir={run_dir}"], tmp_path / "train_here", env)
    out = tmp_path / "scored"
    run([script("han-evaluate"), f"run_dir={run_dir}", "dataset=news", f"output={out}"],
        tmp_path / "evaluate_here", env)
    trained = json.loads((run_dir / "metrics.json").read_text())["test"]
    scored = json.loads((out / "metrics.json").read_text())
    assert scored["docs"] == sum(r["support"] for r in trained["per_class"].values())
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix"):
        assert scored[key] == trained[key], key
    assert scored["loss"] == pytest.approx(trained["loss"], abs=1e-6)
