"""The runner end to end, as a user runs it: `python -m han.train …` in a subprocess.

Runs use a small CSV of real BBC articles and a shrunken model, so each takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from runs import SHRINK, train_command

from han.checkpoints import TrainState
from han.schema import DatasetSettings

CONF = Path(__file__).resolve().parents[1] / "conf"


def run_train(run_dir: Path, bbc_csv: Path, *overrides: str, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        train_command(run_dir, bbc_csv, *overrides), capture_output=True, text=True,
        timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def metrics_numbers(run_dir: Path) -> dict:
    m = json.loads((run_dir / "metrics.json").read_text())
    return {"test": m["test"], "validation": m["validation"],
            "losses": [h["loss"] for h in m["history"]]}


@pytest.mark.parametrize("dataset", ["news", "imdb", "csv"])
def test_every_config_composes_and_builds(dataset):
    from han.models import build_model
    from han.optimizers import make_optimizer

    with initialize_config_dir(str(CONF), version_base="1.3"):
        for model in ["han", "han_avg", "han_max", "flat", "flat_avg"]:
            for runtime in ["cpu", "gpu", "multi_gpu", "multi_worker"]:
                extra = ["dataset.train_path=x.csv"] if dataset == "csv" else []
                cfg = compose("train", [f"dataset={dataset}", f"model={model}",
                                        f"runtime={runtime}", *extra])
                assert cfg.model.name == model and cfg.runtime.strategy in (
                    "default", "mirrored", "multi_worker")
                assert cfg.dataset.max_tokens > 0 and cfg.trainer.batch_size > 0
            built = build_model(compose("train", [f"model={model}", *SHRINK[:3]]).model, 50, 3)
            ids = np.ones((2, 3, 4) if built.input_rank == 3 else (2, 5), np.int32)
            assert built(ids).shape == (2, 3)
            assert make_optimizer(cfg.trainer).learning_rate is not None


def test_model_picks_a_model_and_every_model_trains_with_one_recipe():
    with initialize_config_dir(str(CONF), version_base="1.3"):
        default = compose("train", ["dataset=imdb"]).trainer
        for model in ["flat", "flat_avg", "han", "tfidf_lr"]:
            cfg = compose("train", [f"model={model}", "dataset=imdb"])
            assert cfg.trainer == default, model
        assert (default.batch_size, default.epochs, default.patience) == (64, 10, 3)
        flat = compose("train", ["model=flat_avg"]).model
        assert (flat.name, flat.pooling, flat.gru_units, flat.dropout) == ("flat_avg", "average", 150, 0.2)
        # The tutorial's recipe lives in its preset.
        tutorial = compose("train", ["experiment=imdb_baseline"]).trainer
        assert (tutorial.batch_size, tutorial.epochs) == (256, 3)


def test_a_model_config_sets_the_model_and_nothing_else():
    with initialize_config_dir(str(CONF), version_base="1.3"):
        default = OmegaConf.to_container(compose("train", []))
        for path in sorted((CONF / "model").glob("*.yaml")):
            cfg = OmegaConf.to_container(compose("train", [f"model={path.stem}"]))
            changed = {key for key in default | cfg if default.get(key) != cfg.get(key)}
            assert changed <= {"model"}, (path.stem, changed)


def test_every_dataset_extends_the_shared_base_and_recipes_live_in_the_trainer_group():
    with initialize_config_dir(str(CONF), version_base="1.3"):
        base = OmegaConf.structured(DatasetSettings)  # what every dataset shares (han/schema.py)
        for path in sorted((CONF / "dataset").glob("*.yaml")):
            dataset = compose("train", [f"dataset={path.stem}"]).dataset
            assert set(base) <= set(dataset), path.stem
            assert isinstance(OmegaConf.get_type(dataset), type) and issubclass(
                OmegaConf.get_type(dataset), DatasetSettings), path.stem
            assert (dataset.folds, dataset.fold) == (None, None) and dataset.name != "???"
        tutorial = compose("train", ["trainer=tutorial"]).trainer
        assert compose("train", ["experiment=imdb_baseline"]).trainer == tutorial
        paper = compose("train", ["trainer=paper"]).trainer
        assert (paper.optimizer, paper.momentum, paper.learning_rate) == ("sgd", 0.9, 0.01)
        assert compose("train", ["experiment=paper_yelp13"]).trainer == paper


def test_a_tied_score_goes_to_the_lower_validation_loss():
    state = TrainState(best_score=1.0, best_loss=0.20)
    assert state.improves(1.0, 0.10)
    assert not state.improves(1.0, 0.30)
    assert state.improves(1.01, 0.90)  # the score comes first
    assert not state.improves(0.99, 0.01)
    assert TrainState().improves(0.0, 5.0)


def test_end_to_end_run_writes_every_artifact(tmp_path, bbc_csv):
    run_dir = tmp_path / "run"
    result = run_train(run_dir, bbc_csv, "trainer.epochs=2")
    assert result.stdout.strip().splitlines()[-1] == f"run directory: {run_dir}"
    for name in [".hydra/config.yaml", "vocab.json", "model.keras", "metrics.json",
                 "predictions.csv", "data_summary.json", "train.log"]:
        assert (run_dir / name).exists(), name
    assert list((run_dir / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert list((run_dir / "tensorboard" / "validation").glob("events.out.tfevents.*"))
    m = json.loads((run_dir / "metrics.json").read_text())
    assert {"dataset", "model", "seed", "num_classes", "classes", "test", "validation", "train"} <= set(m)
    assert m["classes"] == ["entertainment", "politics", "sport"] and m["num_classes"] == 3
    from han.provenance import code_version

    assert m["code"] == code_version()  # the commit that produced the result
    assert set(m["test"]) >= {"accuracy", "macro_f1", "loss", "per_class", "confusion_matrix"}
    assert set(m["validation"]) >= {"accuracy", "macro_f1", "best_epoch"}
    assert set(m["train"]) >= {"epochs", "seconds", "docs_per_second"}
    assert m["train"]["epochs"] == 2 and 1 <= m["validation"]["best_epoch"] <= 2
    # The best epoch is the highest validation macro-F1, a tie going to the lower loss.
    best = max(m["history"], key=lambda h: (h["val_macro_f1"], -h["val_loss"]))
    assert m["validation"]["best_epoch"] == best["epoch"]
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert list(predictions.columns) == ["id", "label", "predicted", "prob_entertainment",
                                         "prob_politics", "prob_sport"]
    assert len(predictions) == sum(m["test"]["confusion_matrix"][0]) + sum(
        m["test"]["confusion_matrix"][1]) + sum(m["test"]["confusion_matrix"][2])
    accuracy = (predictions["label"] == predictions["predicted"]).mean()
    assert accuracy == pytest.approx(m["test"]["accuracy"])
    np.testing.assert_allclose(predictions.filter(like="prob_").sum(axis=1), 1.0, atol=1e-5)

    # The bag-of-words baseline, fitted beside the network on the same split.
    baseline = pd.read_csv(run_dir / "baseline_predictions.csv")
    assert list(baseline["id"]) == list(predictions["id"])
    assert m["baseline"]["model"] == "tfidf_lr" and m["baseline"]["validation"]["C"] > 0
    assert (baseline["label"] == baseline["predicted"]).mean() == pytest.approx(
        m["baseline"]["test"]["accuracy"])
    assert "bag-of-words baseline (tfidf_lr" in (run_dir / "train.log").read_text()

    # The csv config leaves L and T to the training split: what the run used is recorded.
    from han.data.prepare import prepare

    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    view = json.loads((run_dir / "data_summary.json").read_text())["view"]
    assert view["derived_from_train_p99"] == ["max_sentences", "max_words"]
    train_docs = prepare(cfg.dataset, cfg.paths, int(cfg.seed), 1, False).splits["train"]
    assert view["max_words"] == int(np.ceil(np.percentile(train_docs.sentence_lengths, 99)))
    cut = train_docs.hierarchical(view["max_sentences"], view["max_words"]).stats.docs_truncated
    assert cut <= max(1, 0.01 * len(train_docs))  # the 99th percentile: at most 1% cut


def test_same_seed_same_metrics_and_resume_after_kill(tmp_path, bbc_csv):
    epochs = "trainer.epochs=4"
    first = tmp_path / "a"
    run_train(first, bbc_csv, epochs, "seed=3")

    # Kill -9 after the first completed epoch, start again in the same directory: the two
    # processes of the killed run end with the uninterrupted run's numbers, so one seed gives one
    # result across processes and a resume changes nothing (a second uninterrupted run would
    # only repeat the first comparison).
    killed = tmp_path / "killed"
    proc = subprocess.Popen(train_command(killed, bbc_csv, epochs, "seed=3"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = killed / "checkpoints" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["next_epoch"] >= 1:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "metrics.json").exists()
    resumed = run_train(killed, bbc_csv, epochs, "seed=3")
    assert "resuming after epoch" in resumed.stderr + (killed / "train.log").read_text()
    assert metrics_numbers(killed) == metrics_numbers(first)


def test_mirrored_strategy_over_two_logical_cpus(tmp_path, bbc_csv):
    run_dir = tmp_path / "mirrored"
    # The strategy is under test, not the regularised defaults: 3 epochs of the tiny model with
    # dropout 0.3 and word dropout 0.2 stay near chance on 96 articles.
    result = run_train(run_dir, bbc_csv, "trainer.epochs=3", "runtime.strategy=mirrored",
                       "runtime.logical_cpus=2", "baseline=false", "model.dropout=0.0",
                       "model.word_dropout=0.0")
    log = (run_dir / "train.log").read_text() + result.stderr
    assert "strategy mirrored (2 replicas)" in log
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["train"]["epochs"] == 3 and m["validation"]["accuracy"] > 0.5
    assert "baseline" not in m and not (run_dir / "baseline_predictions.csv").exists()


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow  # ~1 minute, two processes; test_mirrored_strategy_over_two_logical_cpus is the
# default suite's distributed guard
def test_two_workers_train_in_step_and_end_with_the_same_weights(tmp_path, bbc_csv):
    from han.runtime import tf_config

    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    run_dir = tmp_path / "multi"
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=tf_config(workers, index))
        procs.append(subprocess.Popen(
            train_command(run_dir, bbc_csv, "trainer.epochs=2", "runtime=multi_worker"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    chief = np.load(run_dir / "checkpoints" / "epoch2.npz")
    other = np.load(run_dir / "checkpoints-worker1" / "epoch2.npz")
    assert chief.files == other.files
    for name in chief.files:
        np.testing.assert_array_equal(chief[name], other[name])
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["train"]["epochs"] == 2
