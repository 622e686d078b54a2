"""Failing well (issue #13): one line and exit status 2 for every expected error, the whole
config checked before any data work, bad data named, and a quiet TensorFlow.

Every command here stops before training, so each takes a few seconds.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from han.cli import CONFIG_DIR, filter_tf_lines, progress_disable
from han.config import ConfigError, validate
from han.data.sources import DataError, decode_text, read_documents
from han.errors import one_line

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"


def command(module: str, *args: str, cwd: Path, env: dict | None = None,
            timeout: int = 120) -> subprocess.CompletedProcess:
    """`python -m <module> …` as a user runs it (PYTHONPATH picks this checkout)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def assert_one_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2 and exactly one line on stderr, holding every fragment."""
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# ── 3. the whole config, validated before any data work ──────────────────────────────────────

def _compose(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("train", list(overrides))


def test_every_shipped_config_validates():
    with initialize_config_dir(str(CONF), version_base="1.3"):
        models = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
        runtimes = sorted(p.stem for p in (CONF / "runtime").glob("*.yaml"))
        for dataset in ("news", "imdb", "csv"):
            extra = ["dataset.train_path=x.csv"] if dataset == "csv" else []
            for i, model in enumerate(models):  # every model and runtime, not every triple
                validate(compose("train", [f"dataset={dataset}", f"model={model}",
                                           f"runtime={runtimes[i % len(runtimes)]}", *extra]))
        for experiment in sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")):
            cfg = compose("train", [f"experiment={experiment}"])
            if cfg.dataset.get("folds"):  # k-fold presets sweep dataset.fold; a job has one
                cfg = compose("train", [f"experiment={experiment}", "dataset.fold=0"])
            validate(cfg)
        validate(compose("predict", ["run_dir=x", "input=-"]), "predict")
    assert CONFIG_DIR == CONF  # a checkout reads the top-level conf/


def test_the_schema_refuses_a_bad_type_or_choice_while_composing():
    # Types and choices are han/schema.py's: Hydra refuses them before any validation runs.
    from hydra.errors import ConfigCompositionException

    from han.errors import one_line

    for override, expected in (
        ("trainer.epochs=ten", "trainer.epochs is 'ten'; it must be a whole number"),
        ("trainer.optimizer=adamw", "trainer.optimizer is 'adamw'; it must be one of: adam, sgd"),
        ("trainer.monitor=f1", "trainer.monitor is 'f1'; it must be one of: macro_f1, accuracy, "
                               "loss"),
        ("model.pooling=median", "model.pooling is 'median'; it must be one of: attention, "
                                 "average, max"),
        ("model.embedding_init=glove", "model.embedding_init is 'glove'; it must be one of: "
                                       "random, word2vec, pretrained"),
        ("runtime.strategy=tpu", "one of: default, mirrored, multi_worker"),
        ("runtime.precision=fp16", "one of: float32, mixed_float16, mixed_bfloat16"),
        ("dataset.keep_words=middle", "one of: head, tail, head_tail"),
        ("model.family=tree", "one of: hierarchical, flat, linear"),
        ("model.dropuot=0.1", "model.dropuot is not a setting of this config; did you mean "
                              "model.dropout"),
    ):
        with pytest.raises(ConfigCompositionException) as caught:
            _compose(override)
        assert expected in one_line(caught.value), (override, one_line(caught.value))


def test_ranges_and_rules_across_settings_are_all_listed_together():
    cfg = _compose("trainer.batch_size=0", "trainer.learning_rate=-1", "dataset.vocab.min_count=0",
                   "dataset.kind=sqlite", "model.dropout=1.5", "dataset.split.validation=0.6",
                   "dataset.split.test=0.5")
    with pytest.raises(ConfigError) as caught:
        validate(cfg)
    message = str(caught.value)
    for expected in (
        "trainer.batch_size is 0",
        "trainer.learning_rate is -1",
        "dataset.vocab.min_count is 0",
        "dataset.kind is 'sqlite'; it must be one of: bbc, imdb,",
        "model.dropout is 1.5",
        "dataset.split takes 1.1 of the training documents",
    ):
        assert expected in message, (expected, message)
    assert "\n" not in message
    with pytest.raises(ConfigError, match="model.family is 'flat' but model.name=han is a "
                                          "HierarchicalModel"):
        validate(_compose("model.family=flat"))


def test_a_setting_added_with_plus_plus_is_refused_and_a_linear_model_validates():
    cfg = _compose("++model.brand_new_key=1")  # Hydra's ++ opens the node; validation refuses it
    with pytest.raises(ConfigError, match="model.brand_new_key is not a setting"):
        validate(cfg, "train", ["++model.brand_new_key=1"])
    validate(_compose("model=tfidf_lr", "levers=plain"))  # lever sets reach linear models too
    validate(_compose("dataset.max_sentences=null", "dataset.max_words=null",
                      "model.embedding_init=pretrained"))


def test_a_bad_option_fails_in_seconds_before_any_data_work(tmp_path):
    run_dir = tmp_path / "run"
    result = command("han.train", "trainer.optimizer=adamw", f"hydra.run.dir={run_dir}",
                     "dataset=imdb", f"paths.cache_dir={tmp_path / 'cache'}", cwd=tmp_path)
    assert_one_line(result, "trainer.optimizer is 'adamw'; it must be one of: adam, sgd")
    assert not (tmp_path / "cache").exists()  # nothing was read or tokenised
    result = command("han.train", "trainer.batch_size=0", f"hydra.run.dir={run_dir}",
                     "dataset=imdb", f"paths.cache_dir={tmp_path / 'cache'}", cwd=tmp_path)
    assert_one_line(result, "trainer.batch_size is 0; it must be a whole number > 0")
    assert not (tmp_path / "cache").exists()
    assert "Error executing job" not in result.stderr + result.stdout
    assert (run_dir / "error.txt").is_file()  # a job's traceback is kept, not shown


def test_a_setting_the_config_does_not_define_is_an_error_with_or_without_plus(tmp_path):
    # Issue #23: `trainer.lr=1e9` advised `+trainer.lr=1e9`, which then trained at the default.
    for override in ("trainer.lr=1e9", "+trainer.lr=1e9", "++trainer.lr=1e9"):
        run_dir = tmp_path / override.lstrip("+").replace("=", "_")
        result = command("han.train", override, f"hydra.run.dir={run_dir}",
                         f"paths.cache_dir={tmp_path / 'cache'}", cwd=tmp_path)
        line = assert_one_line(result, "trainer.lr is not a setting",
                               "did you mean trainer.learning_rate?")
        assert "+trainer" not in line and "To append" not in line, line
        assert not (tmp_path / "cache").exists() and not (run_dir / "metrics.json").exists()
    line = assert_one_line(command("han.predict", "run_dir=x", "input=-", "+batchsize=8",
                                   cwd=tmp_path), "batchsize is not a setting")
    assert "did you mean batch_size?" in line


def test_only_hydra_settings_may_be_added_and_nearest_keys_are_named():
    from han.settings import check_overrides, defined_keys, unknown_setting

    cfg = _compose()
    errors: list[str] = []
    check_overrides(cfg, ["+hydra.job.env_set.X=1", "hydra/launcher=han_joblib", "seed=3"],
                    errors)
    assert errors == []
    check_overrides(cfg, ["+model.dropot=0.1", "+dataset.sep=x"], errors)
    assert "did you mean model.dropout" in errors[0] and "dataset.sep" in errors[1]
    keys = defined_keys(cfg)
    assert "trainer.learning_rate" in keys and not any(k.startswith("hydra") for k in keys)
    assert "did you mean trainer.epochs?" in unknown_setting("trainer.epoch", keys)
    assert "did you mean seed?" in unknown_setting("seeed", keys)
    assert "did you mean trainer.learning_rate?" in unknown_setting("trainr.lr", keys)
    with pytest.raises(ConfigError, match=r"trainer.lr is not a setting"):
        validate(cfg, "train", ["+trainer.lr=1"])


def test_table_settings_separator_directory_and_permission(tmp_path, monkeypatch):
    from han.data.documents import require_file
    from han.data.sources import dataset_files

    semi = tmp_path / "semi.csv"
    pd.DataFrame({"text": ["A fine text. Really.", "Another; with a semicolon."],
                  "label": ["a", "b"]}).to_csv(semi, sep=";", index=False)
    cfg = {"kind": "table", "train_path": str(semi)}
    with pytest.raises(DataError, match="dataset.separator"):  # the hint names the setting
        read_documents(cfg, dataset_files(cfg, tmp_path, None))
    docs, _ = read_documents(cfg | {"separator": "semicolon"}, [semi])
    assert list(docs["text"]) == ["A fine text. Really.", "Another; with a semicolon."]
    errors: list[str] = []
    from han.config import check_dataset

    check_dataset({"separator": "semi"}, errors)
    assert errors and "one of comma, semicolon" in errors[0]
    with pytest.raises(DataError, match=f"dataset.train_path: {tmp_path} is a directory"):
        require_file(tmp_path, "dataset.train_path")
    # (the tests may run as root, for whom every file is readable: the check is what is tested)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(DataError, match=r"dataset.train_path: .* cannot be read \(permission "
                                        r"denied\); make it readable"):
        require_file(semi, "dataset.train_path")


# ── 2. one way to fail, in every entry point ─────────────────────────────────────────────────

def test_expected_errors_print_one_line_and_exit_2_in_every_entry_point(tmp_path):
    missing = tmp_path / "missing.csv"
    assert_one_line(command("han.train", "dataset=nosuch", cwd=tmp_path),
                    "Could not find 'dataset/nosuch'", "Available options in 'dataset':", " csv,")
    assert_one_line(command("han.train", "nosuch=1", cwd=tmp_path),
                    "nosuch is not a setting of this config")
    assert_one_line(command("han.data", "dataset=csv", cwd=tmp_path),
                    "dataset.train_path is not set")
    assert_one_line(command("han.data", "dataset=csv", f"dataset.train_path={missing}",
                            f"hydra.run.dir={tmp_path / 'data_run'}", cwd=tmp_path),
                    f"dataset.train_path: no file at {missing}")
    assert_one_line(command("han.predict", f"run_dir={tmp_path}", "input=-", cwd=tmp_path),
                    f"{tmp_path} is not a finished run directory")
    assert_one_line(command("han.predict", f"run_dir={tmp_path}", cwd=tmp_path),
                    "input is not set")
    assert_one_line(command("experiments.compare", str(tmp_path / "nosweep"), cwd=tmp_path),
                    "is not a directory")


def test_bad_data_names_the_file_and_debug_shows_the_traceback(tmp_path):
    one_class = tmp_path / "one_class.csv"
    pd.DataFrame({"text": [f"Document number {i}. It is fine." for i in range(20)],
                  "label": ["spam"] * 20}).to_csv(one_class, index=False)
    args = ["dataset=csv", f"dataset.train_path={one_class}", f"paths.cache_dir={tmp_path / 'c'}",
            "workers=1", "progress=false", f"hydra.run.dir={tmp_path / 'run'}"]
    assert_one_line(command("han.data", *args, cwd=tmp_path),
                    "only the class 'spam'", "at least two classes", "dataset.label_column")
    result = command("han.data", *args, cwd=tmp_path, env={"HAN_DEBUG": "1"})
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr
    assert "DataError: the training data has only the class 'spam'" in result.stderr


def test_a_failing_multirun_job_writes_error_txt_and_the_sweep_goes_on(tmp_path):
    sweep = tmp_path / "sweep"
    # (a value of the wrong type, trainer.epochs=ten, is refused while Hydra composes the job,
    # before it runs: han/schema.py; a value out of range is the job's own failure)
    result = command("han.train", "-m", "trainer.epochs=-1,0", f"hydra.sweep.dir={sweep}",
                     cwd=tmp_path)
    assert_one_line(result, f"job 0 [trainer.epochs=-1] in {sweep / '0'}",
                    "trainer.epochs is -1")
    for job in ("0", "1"):  # job 1 ran (and failed on its own value) after job 0 failed
        assert "ConfigError" in (sweep / job / "error.txt").read_text()
    assert "trainer.epochs is 0" in (sweep / "1" / "error.txt").read_text()


def test_one_line_folds_hydra_messages():
    from hydra.errors import MissingConfigException

    err = MissingConfigException(
        "In 'train': Could not find 'model/foo'\n\nAvailable options in 'model':\n\tflat\n\than\n"
        "Config search path:\n\tprovider=hydra, path=pkg://hydra.conf\n", "model/foo")
    assert one_line(err) == "In 'train': Could not find 'model/foo' Available options in " \
                            "'model': flat, han"


# ── 4. bad data: one class, other encodings ──────────────────────────────────────────────────

def _table(path: Path) -> dict:
    return {"kind": "table", "train_path": str(path), "text_column": "text",
            "label_column": "label", "id_column": None, "format": None}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_unicode_tables_are_read_by_their_byte_order_mark(tmp_path, encoding):
    rows = "text\tlabel\nCafé crème — naïve façade.\tfrançais\nThe cat sat.\tenglish\n"
    path = tmp_path / "excel_unicode_text.tsv"
    data = rows.encode(encoding)
    if encoding == "utf-16-be":  # Python writes no mark for an explicit byte order
        data = codecs.BOM_UTF16_BE + data
    path.write_bytes(data)
    docs, stats = read_documents(_table(path), [path])
    assert docs["text"].tolist() == ["Café crème — naïve façade.", "The cat sat."]
    assert docs["label"].tolist() == ["français", "english"] and stats.non_utf8_files == 0
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_bytes('{"text": "Crème.", "label": "é"}\n'.encode(encoding if encoding !=
                                                                   "utf-16-be" else "utf-16"))
    docs, _ = read_documents(_table(jsonl), [jsonl])
    assert docs["text"].tolist() == ["Crème."] and docs["label"].tolist() == ["é"]
    assert decode_text("naïve".encode("utf-16")) == ("naïve", False)


def test_utf16_without_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "no_mark.csv"
    path.write_bytes("text,label\nhello there,a\n".encode("utf-16-le"))
    with pytest.raises(DataError, match="looks like UTF-16 text without a byte-order mark; "
                                        "save it as UTF-8"):
        read_documents(_table(path), [path])


# ── 5. quiet by default ──────────────────────────────────────────────────────────────────────

def test_tensorflow_start_up_noise_is_filtered_on_a_cpu_machine(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-c", "from han.cli import import_tensorflow; import os; "
         "tf = import_tensorflow(); print(os.environ['TF_CPP_MIN_LOG_LEVEL'], "
         "len(tf.config.list_physical_devices('GPU')))"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    level, gpus = result.stdout.split()
    assert level == "1"  # warnings and above, as nobody chose a level
    if gpus == "0":
        assert "cuInit" not in result.stderr and "cuda" not in result.stderr.lower()
    assert "I0000" not in result.stderr and "absl::InitializeLog" not in result.stderr


def test_filter_keeps_warnings_and_the_users_level():
    lines = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1.2 1 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1.2 1 cpu_feature_guard.cc:227] This TensorFlow binary is optimized",
        "To enable the following instructions: AVX2, in other operations, rebuild",
        "W0000 00:00:1.2 1 something.cc:1] a real warning",
        "E0000 00:00:1.2 1 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)",
    ]
    assert filter_tf_lines(lines, has_gpu=False, min_level=1) == [lines[4]]
    assert filter_tf_lines(lines, has_gpu=True, min_level=1) == lines[4:]
    assert filter_tf_lines(lines, has_gpu=False, min_level=0) == lines[:5]
    assert filter_tf_lines(lines, has_gpu=True, min_level=2) == [lines[5]]


def test_progress_bars_only_on_a_terminal(capsys):
    from tqdm.auto import tqdm

    assert progress_disable(False) is True and progress_disable(True) is None
    with tqdm(total=3, disable=progress_disable(True)) as bar:  # stderr is captured: no tty
        bar.update(3)
    assert capsys.readouterr().err == ""
