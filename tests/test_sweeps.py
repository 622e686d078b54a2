"""Sweeps as a user runs them: `python -m han.train -m …` in a subprocess, then
`python -m experiments.compare <sweep dir>`; and every launcher, search and experiment preset
composes.

Runs use a small CSV of real BBC articles and a shrunken model (one epoch), so a job takes
seconds. The sweep of the first tests is shared (module fixture): 2 models x 2 seeds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from runs import csv_run_args

CONF = Path(__file__).resolve().parents[1] / "conf"
MODELS = ["tfidf_lr", "ngram_tfidf_lr", "flat", "flat_avg", "han_avg", "han_max", "han"]


def sweep(sweep_dir: Path, bbc_csv: Path, *overrides: str, multirun: bool = True):
    command = [
        sys.executable, "-m", "han.train", *(["-m"] if multirun else []),
        *csv_run_args(bbc_csv, bbc_csv.parent / "cache"), "trainer.epochs=1",
        f"hydra.sweep.dir={sweep_dir}", *overrides,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def compare(sweep_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "experiments.compare", str(sweep_dir), "--bootstrap", "2000"],
        capture_output=True, text=True, timeout=300,
    )


def job_metrics(sweep_dir: Path) -> dict[tuple[str, int], dict]:
    out = {}
    for path in sweep_dir.glob("*/metrics.json"):
        m = json.loads(path.read_text())
        out[(m["model"], m["seed"])] = m
    return out


@pytest.fixture(scope="module")
def two_by_two(tmp_path_factory, bbc_csv) -> Path:
    """`-m model=flat,han seed=0,1` with the default (basic) launcher: 4 jobs, one process."""
    sweep_dir = tmp_path_factory.mktemp("sweep") / "flat_vs_han"
    result = sweep(sweep_dir, bbc_csv, "model=flat,han", "seed=0,1")
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep_dir


def test_two_models_two_seeds_sweep_then_compare(two_by_two):
    jobs = sorted(p.name for p in two_by_two.iterdir() if p.is_dir())
    assert jobs == ["0", "1", "2", "3"]
    assert set(job_metrics(two_by_two)) == {("flat", 0), ("flat", 1), ("han", 0), ("han", 1)}
    for job in jobs:
        overrides = yaml.safe_load((two_by_two / job / ".hydra" / "overrides.yaml").read_text())
        assert any(o.startswith("model=") for o in overrides)
        assert (two_by_two / job / "predictions.csv").is_file()

    result = compare(two_by_two)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "failed_jobs: 0" in result.stdout
    table = pd.read_csv(two_by_two / "comparison.csv").set_index("model")
    assert table.loc["flat", "n_runs"] == 2 and table.loc["han", "n_runs"] == 2
    han = table.loc["han"]
    assert han["n_paired"] == 2
    assert 0.0 < han["p"] <= 1.0 and han["p"] <= han["p_holm"] <= 1.0
    assert han["delta_ci_low"] <= han["delta_accuracy"] <= han["delta_ci_high"]
    # Accuracy means are those of the jobs' own metrics.
    runs = job_metrics(two_by_two)
    expected = (runs[("han", 0)]["test"]["accuracy"] + runs[("han", 1)]["test"]["accuracy"]) / 2
    assert han["test_accuracy_mean"] == pytest.approx(expected)
    md = (two_by_two / "comparison.md").read_text()
    assert "## Failed jobs (0)" in md and "han" in md
    assert (two_by_two / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failing_job_does_not_stop_the_sweep_and_compare_lists_it(tmp_path, bbc_csv):
    # Job 0 fails inside han.train (a dropout out of range: han.config's check, which runs in
    # the job; a wrong type or choice the schema refuses before any job starts); job 1 must
    # still run. Hydra's basic sweeper runs every job of a batch (one batch:
    # max_batch_size=null), records the failure, and exits non-zero only after the last job.
    sweep_dir = tmp_path / "with_failure"
    result = sweep(sweep_dir, bbc_csv, "model=flat", "seed=0", "model.dropout=1.5,0.0")
    assert result.returncode != 0
    assert "model.dropout is 1.5; it must be a number >= 0 and < 1" in result.stderr
    assert "job 0 [" in result.stderr and result.returncode == 2  # one line names the job
    assert not (sweep_dir / "0" / "metrics.json").exists()
    finished = json.loads((sweep_dir / "1" / "metrics.json").read_text())
    assert finished["model"] == "flat" and finished["train"]["epochs"] == 1

    result = compare(sweep_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "failed_jobs: 1" in result.stdout
    md = (sweep_dir / "comparison.md").read_text()
    assert "## Failed jobs (1)" in md
    failed_line = next(line for line in md.splitlines() if line.startswith("- `0`"))
    assert "model.dropout=1.5" in failed_line
    table = pd.read_csv(sweep_dir / "comparison.csv")
    # flat's one run, and the bag-of-words baseline it fitted beside itself.
    assert table["model"].tolist() == ["flat", "tfidf_lr"] and table["n_runs"].tolist() == [1, 1]
    assert table["baseline"].tolist() == ["tfidf_lr", "tfidf_lr"]


@pytest.mark.slow  # ~30-45 s more; the default file stays under 4 minutes on 2 busy cores
def test_joblib_launcher_runs_jobs_in_parallel_with_the_same_numbers(tmp_path, bbc_csv, two_by_two):
    # Two loky workers at once; each job must give exactly the numbers it gave as the 2nd and
    # 4th job of the basic launcher's single process (no state leaks from job to job).
    sweep_dir = tmp_path / "joblib"
    result = sweep(sweep_dir, bbc_csv, "hydra/launcher=han_joblib", "model=flat,han", "seed=1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Joblib.Parallel(n_jobs=2" in result.stderr + result.stdout
    parallel, sequential = job_metrics(sweep_dir), job_metrics(two_by_two)
    assert set(parallel) == {("flat", 1), ("han", 1)}
    for key, m in parallel.items():
        assert m["test"] == sequential[key]["test"], key
        assert m["validation"] == sequential[key]["validation"], key


def _compose(overrides: list[str]):
    return compose("train", overrides, return_hydra_config=True)


def test_every_launcher_search_and_experiment_composes():
    launchers = sorted(p.stem for p in (CONF / "hydra" / "launcher").glob("*.yaml"))
    assert launchers == ["han_joblib", "han_submitit_local", "han_submitit_slurm"]
    targets = {
        "joblib": "hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
        "submitit_local": "hydra_submitit_launcher.submitit_launcher.LocalLauncher",
        "submitit_slurm": "hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
    }
    with initialize_config_dir(str(CONF), version_base="1.3"):
        for name, target in targets.items():
            for launcher in (name, f"han_{name}"):  # the plugin's own config and ours
                cfg = _compose([f"hydra/launcher={launcher}"])
                assert cfg.hydra.launcher._target_ == f"hydra_plugins.{target}", launcher
        ours = _compose(["hydra/launcher=han_joblib"]).hydra.launcher
        assert ours.n_jobs == 2 and ours.prefer == "processes"
        slurm = _compose(["hydra/launcher=han_submitit_slurm"]).hydra.launcher
        assert slurm.gpus_per_node == 1 and slurm.timeout_min > 0 and "partition" in slurm

        from han.search import distribution

        for search in sorted(p.stem for p in (CONF / "hparams_search").glob("*.yaml")):
            cfg = _compose([f"hparams_search={search}"])
            assert cfg.search.direction in ("maximize", "minimize")
            for key, expression in cfg.search.params.items():  # every range parses for Optuna
                assert distribution(key, str(expression)) is not None

        experiments = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
        assert experiments == ["imdb_baseline", "imdb_flat", "imdb_han", "levers_compare",
                               "news_compare", "news_compare_quick", "news_han",
                               "paper_amazon", "paper_han", "paper_imdb10", "paper_yahoo",
                               "paper_yelp13", "paper_yelp14", "paper_yelp15", "results_table",
                               "table2"]
        for experiment in experiments:
            assert _compose([f"experiment={experiment}"]).trainer.batch_size > 0

        base = _compose(["experiment=imdb_baseline"])
        assert (base.dataset.name, base.model.name) == ("imdb", "flat")
        assert (base.dataset.vocab.max_size, base.dataset.vocab.min_count) == (10000, 1)
        assert (base.model.embedding_dim, base.model.gru_units, base.model.attention_dim) == (100, 150, 50)
        assert (base.trainer.batch_size, base.trainer.epochs, base.trainer.learning_rate) == (256, 3, 1e-3)
        assert base.model.dropout == 0.2 and base.dataset.max_tokens == 250
        assert base.trainer.clipnorm is None
        assert base.dataset.keep_words == "head" and base.model.embedding_init == "random"
        # imdb_flat is the tutorial baseline plus the two data-side levers, nothing else.
        tuned = _compose(["experiment=imdb_flat"])
        assert (tuned.dataset.keep_words, tuned.model.embedding_init) == ("head_tail", "word2vec")
        for key in ("trainer", "model.gru_units", "dataset.vocab", "dataset.max_tokens"):
            assert OmegaConf.select(tuned, key) == OmegaConf.select(base, key), key
        han = _compose(["experiment=imdb_han"])
        assert (han.dataset.name, han.model.name, han.model.family) == ("imdb", "han", "hierarchical")
        assert han.dataset.vocab.min_count == 6 and han.model.embedding_init == "word2vec"
        news = _compose(["experiment=news_han"])
        assert (news.dataset.name, news.model.name, news.model.dropout) == ("news", "han", 0.3)


def test_no_config_group_sets_hydra_mode_and_sweep_presets_say_minus_m():
    """Hydra 1.4 rejects `hydra.mode` inside a config group: a sweep is started with -m."""
    for path in sorted(CONF.rglob("*.yaml")):
        text = path.read_text()
        data = yaml.safe_load(text) or {}
        assert "mode" not in (data.get("hydra") or {}), path
        if path.parent.name == "experiment" and "sweeper" in text:
            commands = [line for line in text.splitlines() if "python -m han.train" in line]
            assert commands or "make compare" in text, path  # make compare passes -m
            assert all(" -m " in c.split("han.train", 1)[1] + " " for c in commands), path


def _expand(cfg, extra: tuple[str, ...] = ()) -> list[list[str]]:
    """The sweeper params expanded exactly as Hydra's basic sweeper does."""
    params = [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()] + list(extra)
    batches = BasicSweeper.split_arguments(
        OverridesParser.create().parse_overrides(params), cfg.hydra.sweeper.max_batch_size)
    return [job for batch in batches for job in batch]


@pytest.mark.parametrize("name,folds,seeds", [("news_compare", 10, 3),
                                              ("news_compare_quick", 5, 1)])
def test_news_compare_expands_to_every_fold_seed_and_model_with_one_recipe(name, folds, seeds):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = _compose([f"experiment={name}"])
        assert cfg.hydra.sweeper._target_.endswith("BasicSweeper")
        jobs = _expand(cfg)
        assert len(jobs) == len(MODELS) * seeds * folds  # news_compare: 210
        seen = set()
        for job in jobs[:: len(MODELS)] + jobs[:folds]:  # a sample: composing 140 takes long
            job_cfg = compose("train", [f"experiment={name}", *job])
            assert job_cfg.dataset.name == "news" and job_cfg.dataset.folds == folds
            # One recipe for every model.
            assert (job_cfg.trainer.batch_size, job_cfg.trainer.epochs) == (64, 10)
        for job in jobs:
            values = dict(o.split("=", 1) for o in job)
            seen.add((values["model"], int(values["seed"]), int(values["dataset.fold"])))
        assert seen == {(m, s, f) for m in MODELS for s in range(seeds) for f in range(folds)}
        # A command-line sweep replaces the preset's: 1 seed -> 7 models x 10 folds.
        if name == "news_compare":
            assert len(_expand(cfg, ("seed=0",))) == 70


def test_levers_compare_offers_every_network_both_lever_sets_under_one_recipe():
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = _compose(["experiment=levers_compare"])
        jobs = _expand(cfg)
        assert len(jobs) == len(MODELS) * 2 * 5
        levers = {dict(o.split("=", 1) for o in job)["levers"] for job in jobs}
        assert levers == {"plain", "regularised"}
        plain_default = _compose([])  # no lever set: each model keeps its own defaults
        assert (plain_default.model.dropout, plain_default.model.word_dropout) == (0.3, 0.2)
        for model in ("flat", "han_max"):
            chosen = {lever: _compose(["experiment=levers_compare", f"model={model}",
                                       f"levers={lever}"]) for lever in levers}
            plain, regularised = chosen["plain"].model, chosen["regularised"].model
            assert (plain.dropout, plain.word_dropout) == (0.0, 0.0)
            assert (regularised.dropout, regularised.word_dropout) == (0.3, 0.2)
            # A lever set changes these three keys of the model and nothing else.
            diff = {k for k in plain if plain[k] != regularised[k]}
            assert diff == {"dropout", "word_dropout"}, diff
            assert plain.embedding_init == regularised.embedding_init == "word2vec"
            assert chosen["plain"].trainer == chosen["regularised"].trainer


def test_main_returns_validation_macro_f1_never_test(monkeypatch, tmp_path):
    """The value every sweeper optimises is han.train.main's return value."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    import han.train

    fake = {"validation": {"macro_f1": 0.25, "accuracy": 0.5},
            "test": {"macro_f1": 0.75, "accuracy": 0.9}}
    monkeypatch.setattr(han.train, "run", lambda cfg, run_dir: fake)
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = _compose(["hparams_search=han_optuna"])
        assert cfg.search.direction == "maximize"
        assert set(cfg.search.params) == {
            "trainer.learning_rate", "model.dropout", "model.gru_units", "trainer.clipnorm",
            "model.embedding_init"}
        with open_dict(cfg):
            cfg.hydra.runtime.output_dir = str(tmp_path)
        HydraConfig.instance().set_config(cfg)
        try:
            with open_dict(cfg):
                del cfg["hydra"]
            assert han.train.main(cfg) == 0.25
        finally:
            HydraConfig.instance().cfg = None


def test_search_parses_hydra_sweep_syntax_into_optuna_distributions():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from han.search import distribution

    assert distribution("a", "tag(log, interval(0.0001, 0.01))") == FloatDistribution(1e-4, 1e-2, log=True)
    assert distribution("a", "interval(0.0, 0.5)") == FloatDistribution(0.0, 0.5)
    assert distribution("a", "tag(int, interval(2, 8))") == IntDistribution(2, 8)
    assert distribution("a", "1.0,5.0,null") == CategoricalDistribution([1.0, 5.0, None])
    assert distribution("a", "choice(random, word2vec)") == CategoricalDistribution(["random", "word2vec"])
    assert distribution("a", "range(1, 4)") == CategoricalDistribution([1, 2, 3])


def test_a_search_preset_given_to_han_train_points_at_han_search(tmp_path):
    result = subprocess.run([sys.executable, "-m", "han.train", "-m", "hparams_search=han_optuna"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2
    assert "han-search hparams_search=han_optuna" in result.stderr.strip().splitlines()[-1]


@pytest.mark.slow  # ~1 minute; the default suite checks every search composes and points at han-search
def test_optuna_search_runs_two_trials(tmp_path, bbc_csv):
    """han-search with current Optuna: two trials, each a han.train run in its own directory.
    model.gru_units from the command line is a fixed value, so optuna searches the other four
    parameters."""
    import optuna

    assert int(optuna.__version__.split(".")[0]) >= 4
    sweep_dir = tmp_path / "optuna"
    command = [sys.executable, "-m", "han.search", "hparams_search=han_optuna", "search.n_trials=2",
               *csv_run_args(bbc_csv, bbc_csv.parent / "cache"), "trainer.epochs=1",
               "--dir", str(sweep_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    best = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert best["name"] == "optuna" and len(best["trials"]) == 2
    assert set(best["best_params"]) == {"trainer.learning_rate", "model.dropout",
                                        "trainer.clipnorm", "model.embedding_init"}
    trials = []
    for job in ("0", "1"):
        m = json.loads((sweep_dir / job / "metrics.json").read_text())
        cfg = yaml.safe_load((sweep_dir / job / ".hydra" / "config.yaml").read_text())
        assert 1e-4 <= cfg["trainer"]["learning_rate"] <= 1e-2
        assert 0.0 <= cfg["model"]["dropout"] <= 0.5 and cfg["model"]["gru_units"] == 8
        trials.append(m["validation"]["macro_f1"])
    # The best value is the best trial's validation macro-F1.
    assert best["best_value"] == pytest.approx(max(trials))


def test_a_relaunched_sweep_skips_its_finished_jobs(two_by_two, bbc_csv):
    # Issue #23: a sweep resumes by launching it again with the same hydra.sweep.dir; finished
    # jobs exit 0 at once, untouched, and do not read test again.
    import hashlib

    def files() -> dict[str, str]:
        return {str(p.relative_to(two_by_two)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(two_by_two.glob("*/**/*")) if p.is_file()}

    before = files()
    result = sweep(two_by_two, bbc_csv, "model=flat,han", "seed=0,1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("finished: nothing to do") == 4
    assert "test accuracy" not in result.stdout + result.stderr
    assert files() == before
