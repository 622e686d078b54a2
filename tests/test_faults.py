"""Nothing lost, nothing silent (issue #23): a run directory holds one run, and a run killed in
any phase and started again ends exactly where an uninterrupted run ends.

Faults are injected with `han.faults` (HAN_FAULT=<point>: the process kills itself with SIGKILL
there, as `kill -9` would). Runs use 120 real BBC articles, a tiny HAN with word2vec embeddings
and two epochs; the module shares one uninterrupted reference run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf, open_dict
from runs import train_command

FAST = ["trainer.epochs=2", "baseline=false", "model.embedding_init=word2vec",
        "model.word2vec_epochs=2", "seed=1"]
KILLED = -signal.SIGKILL


def train(run_dir: Path, csv: Path, *extra: str, fault: str | None = None,
          ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAN_FAULT")}
    if fault:
        env["HAN_FAULT"] = fault
    return subprocess.run(train_command(run_dir, csv, *FAST, *extra), capture_output=True,
                          text=True, timeout=600, env=env)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` and a hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def numbers(run_dir: Path) -> dict:
    """What a rerun must reproduce: metrics (times aside) and the test predictions, bytes."""
    m = json.loads((run_dir / "metrics.json").read_text())
    timeless = [{k: v for k, v in h.items() if k not in ("seconds", "docs_per_second")}
                for h in m["history"]]
    return {"test": m["test"], "validation": m["validation"], "history": timeless,
            "epochs": m["train"]["epochs"],
            "predictions": (run_dir / "predictions.csv").read_bytes()}


def claimed_settings(run_dir: Path) -> dict:
    from han.rundir import settings_of

    return settings_of(OmegaConf.load(run_dir / ".hydra" / "config.yaml"), resolve=False)


def assert_one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, bbc_csv) -> Path:
    """An uninterrupted run (its own fresh cache)."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    ok(train(run_dir, bbc_csv))
    return run_dir


# ── 7. kill -9 in every phase, then start again ──────────────────────────────────────────────

@pytest.mark.slow  # ~3 minutes (8 runs); the default suite's kill -9 guard is
# test_train.py::test_same_seed_same_metrics_and_resume_after_kill
def test_killed_in_every_phase_the_reruns_end_as_an_uninterrupted_run(tmp_path, bbc_csv, reference):
    """One run directory (and a fresh cache) killed phase after phase: each start resumes what
    the previous one left and is killed in the next phase; the last finishes."""
    run_dir, cache = tmp_path / "run", tmp_path / "cache"
    expected = claimed_settings(reference)
    phases = [  # (fault point, what must hold after the kill)
        ("tokenise", lambda: not list(cache.glob("csv-*.npz"))),
        ("write:csv-*.npz", lambda: not list(cache.glob("csv-*.npz"))
         and list(cache.glob(".csv-*.tmp"))),  # the killed write left its temporary file
        ("word2vec", lambda: list(cache.glob("csv-*.npz")) and not list(cache.glob("*.tmp"))
         and not list(cache.glob("word2vec-*.npy"))),  # the corpus cache healed
        ("step@3", lambda: not (run_dir / "checkpoints" / "state.json").exists()),
        ("epoch-end@1", lambda: json.loads(
            (run_dir / "checkpoints" / "state.json").read_text())["next_epoch"] == 1),
        ("test", lambda: json.loads(
            (run_dir / "checkpoints" / "state.json").read_text())["next_epoch"] == 2),
        ("write:metrics.json", lambda: list(run_dir.glob(".metrics.json.*.tmp"))),
    ]
    seen = []
    for fault, holds in phases:
        result = train(run_dir, bbc_csv, fault=fault)
        assert result.returncode == KILLED, (fault, result.returncode, result.stderr[-2000:])
        assert holds(), (fault, sorted(p.name for p in run_dir.rglob("*")), list(cache.iterdir()))
        assert not (run_dir / "metrics.json").exists(), fault
        # The directory claims exactly the settings this run uses (Hydra's own .hydra/ is
        # written only after the run directory was checked).
        assert claimed_settings(run_dir) == expected, fault
        seen.append(fault)
        if fault == "epoch-end@1":
            # Another learning rate now would mix two runs: refused, nothing touched.
            before = snapshot(run_dir)
            refused = train(run_dir, bbc_csv, "trainer.learning_rate=0.01")
            assert_one_error_line(refused, "trainer.learning_rate 0.001 -> 0.01",
                                  "hydra.run.dir=", "restart=true")
            assert snapshot(run_dir) == before
    resumed = ok(train(run_dir, bbc_csv))
    assert "resuming after epoch 2" in (run_dir / "train.log").read_text()
    assert numbers(run_dir) == numbers(reference)
    assert not list(run_dir.rglob("*.tmp")) and not list(cache.glob("*.tmp"))
    assert claimed_settings(run_dir) == expected
    assert "run directory:" in resumed.stdout
    assert len(seen) == len(phases)


@pytest.mark.slow  # ~4 minutes: each phase's kill and rerun on its own, from nothing
@pytest.mark.parametrize("fault", ["tokenise", "write:csv-*.npz", "word2vec", "step@3",
                                   "epoch-end@1", "test", "write:metrics.json"])
def test_each_phase_killed_alone_reruns_to_the_same_result(tmp_path, bbc_csv, reference, fault):
    run_dir = tmp_path / "run"
    assert train(run_dir, bbc_csv, fault=fault).returncode == KILLED
    ok(train(run_dir, bbc_csv))
    assert numbers(run_dir) == numbers(reference)
    assert not list(run_dir.rglob("*.tmp")) and not list((tmp_path / "cache").glob("*.tmp"))


@pytest.mark.slow  # ~1 minute; the kill -9 chain above covers the same phases
def test_an_injected_exception_leaves_a_resumable_run(tmp_path, bbc_csv, reference):
    run_dir = tmp_path / "run"
    env_fault = dict(os.environ, HAN_FAULT="epoch-end@1", HAN_FAULT_ACTION="raise")
    failed = subprocess.run(train_command(run_dir, bbc_csv, *FAST), capture_output=True,
                            text=True, timeout=600, env=env_fault)
    assert failed.returncode == 1 and "FaultInjected" in (run_dir / "error.txt").read_text()
    ok(train(run_dir, bbc_csv))
    assert numbers(run_dir) == numbers(reference)


# ── 1. a run directory holds one run ─────────────────────────────────────────────────────────

def test_a_finished_run_started_again_says_so_and_reads_nothing(reference, bbc_csv):
    before = snapshot(reference)
    result = ok(train(reference, bbc_csv))
    assert "finished: nothing to do" in result.stdout
    output = result.stdout + result.stderr
    assert "test accuracy" not in output  # test was not read again
    assert "tokenised corpus" not in output and "epoch" not in output  # no data work, no training
    assert snapshot(reference) == before


@pytest.mark.parametrize("change, named", [
    (["trainer.learning_rate=0.01", "model.word_dropout=0.1"],
     ["trainer.learning_rate 0.001 -> 0.01", "model.word_dropout 0.2 -> 0.1"]),
    (["model=flat", "seed=2"], ["model.name han -> flat", "seed 1 -> 2"]),
    (["dataset.vocab.min_count=3"], ["dataset.vocab.min_count 2 -> 3"]),
])
def test_other_settings_in_a_finished_run_are_refused_before_anything_is_touched(
        reference, bbc_csv, change, named):
    before = snapshot(reference)
    result = train(reference, bbc_csv, *change)
    assert_one_error_line(result, *named, "was not touched", "hydra.run.dir=", "restart=true")
    assert snapshot(reference) == before  # not .hydra/, not the log, not error.txt


def test_cosmetic_settings_do_not_make_another_run(reference, bbc_csv):
    result = ok(train(reference, bbc_csv, "progress=true", "workers=2"))
    assert "finished: nothing to do" in result.stdout


def test_restart_true_trains_the_new_settings_from_scratch(tmp_path, bbc_csv, reference):
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)  # its results must all go, none mixed with the new ones
    result = ok(train(run_dir, bbc_csv, "trainer.epochs=1", "restart=true"))
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["train"]["epochs"] == 1 and len(m["history"]) == 1
    assert OmegaConf.load(run_dir / ".hydra" / "config.yaml").trainer.epochs == 1
    record = json.loads((run_dir / "run.json").read_text())
    assert record["settings"]["trainer.epochs"] == 1
    assert not (run_dir / "checkpoints" / "epoch2.npz").exists()
    # The new run's best epoch is its last: more epochs may help, says metrics.json and the log.
    assert m["train"]["more_epochs_may_help"] is True
    assert "more epochs may help" in result.stdout + result.stderr


def test_a_directory_with_results_but_no_record_is_not_taken(tmp_path, bbc_csv):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "metrics.json").write_text("{}")
    before = snapshot(run_dir)
    assert_one_error_line(train(run_dir, bbc_csv), "no record of its settings")
    assert snapshot(run_dir) == before


# ── 3. training health ───────────────────────────────────────────────────────────────────────

@pytest.mark.slow  # ~1 minute; test_divergence_after_a_good_epoch_keeps_that_epochs_checkpoint
# guards the same check in the default suite
def test_a_diverging_run_stops_with_an_error_and_writes_no_result(tmp_path, bbc_csv):
    run_dir = tmp_path / "run"
    result = subprocess.run(train_command(run_dir, bbc_csv, "trainer.learning_rate=1e9",
                                          "trainer.epochs=3", "baseline=false"),
                            capture_output=True, text=True, timeout=600)
    line = assert_one_error_line(result, "training diverged in epoch 1", "trainer.learning_rate")
    assert "no checkpoint" in line
    assert not (run_dir / "metrics.json").exists()
    assert not (run_dir / "checkpoints" / "state.json").exists()


def test_divergence_after_a_good_epoch_keeps_that_epochs_checkpoint(tmp_path, bbc_csv):
    """Epoch 1 trains well; a callback then sets the learning rate to 1e9 (as a bad schedule
    would): epoch 2 diverges, the run stops, and state.json still names epoch 1."""
    import functools

    from hydra import compose, initialize_config_dir
    from runs import CONF, SHRINK

    from han import runtime as runtime_lib
    from han.data.prepare import prepare
    from han.models import build_model
    from han.optimizers import make_optimizer
    from han.train import build_inputs
    from han.trainer import Trainer, TrainingDiverged

    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", ["dataset=csv", f"dataset.train_path={bbc_csv}",
                                f"paths.cache_dir={tmp_path / 'cache'}", "trainer.epochs=3",
                                *SHRINK])
    data = prepare(cfg.dataset, cfg.paths, 0, 1, False)
    runtime = runtime_lib.configure(cfg.runtime, 0)
    model = build_model(cfg.model, len(data.vocabulary), len(data.classes))
    optimizer = make_optimizer(cfg.trainer)
    optimizer.build(model.trainable_variables)
    trainer = Trainer(model, optimizer, runtime, cfg.trainer, tmp_path / "run", data.classes, False,
                      callbacks=[lambda epoch, logs: optimizer.learning_rate.assign(1e9)])
    with pytest.raises(TrainingDiverged, match="training diverged in epoch 2") as caught:
        trainer.fit(functools.partial(build_inputs, data, cfg, "train"),
                    build_inputs(data, cfg, "validation"))
    assert "the last good checkpoint (epoch 1) is kept" in str(caught.value)
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())
    assert state["next_epoch"] == 1 and state["checkpoint"] == "epoch1.npz"
    assert (tmp_path / "run" / "checkpoints" / "epoch1.npz").is_file()
    assert np.isfinite(state["history"][0]["loss"])


def test_a_run_started_before_run_json_is_judged_by_its_hydra_config(tmp_path):
    """Run directories of older code have `.hydra/config.yaml` but no `run.json`."""
    from hydra import compose, initialize_config_dir
    from runs import CONF

    from han.rundir import RunRefused, claim

    with initialize_config_dir(str(CONF), version_base="1.3"):
        old = compose("train", ["trainer.epochs=2"])
        same = compose("train", ["trainer.epochs=2", "progress=false"])
        other = compose("train", ["trainer.epochs=3"])
    run_dir = tmp_path / "old_run"
    (run_dir / ".hydra").mkdir(parents=True)
    # As an older run saved it: plain YAML (a typed node refuses deletion, han/schema.py).
    old = OmegaConf.create(OmegaConf.to_container(old, enum_to_str=True))
    with open_dict(old):  # a key the configs gained since, with a null default, changes nothing
        del old.dataset["folds"]
    OmegaConf.save(old, run_dir / ".hydra" / "config.yaml")
    (run_dir / "metrics.json").write_text('{"validation": {"macro_f1": 0.5}}')
    before = snapshot(run_dir)
    assert claim(same, run_dir, "abc", lambda: None) == {"validation": {"macro_f1": 0.5}}
    with pytest.raises(RunRefused, match="trainer.epochs 2 -> 3"):
        claim(other, run_dir, "abc", lambda: None)
    assert snapshot(run_dir) == before
