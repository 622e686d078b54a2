"""The paper's datasets (issue #15): Tang et al. and Zhang et al. readers, their configs, the
pre-tokenised path, dataset.max_train_docs, and short runs of the paper_* presets.

Every file here is a fixture written by the tests in the exact upstream format
(tests/paper_fixtures.py); no dataset is committed. Official split sizes are checked against
the configs' metadata, never against the fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from paper_fixtures import TANG, ZHANG, tang_names, write_tang, write_zhang
from runs import CONF, SHRINK

from han.data import tokenize
from han.data.corpus import cache_key
from han.data.prepare import load_corpus, prepare, tokenizer_settings
from han.data.sources import DataError, dataset_files, fingerprint, read_documents
from han.data.splits import subsample_train

# Published sizes: Tang, Qin & Liu (ACL 2015) Table 1 for their seg-20-20 / imdb files; Zhang,
# Zhao & LeCun (2015) Table 3; Yang et al. (2016) Table 1 for Yelp 2015's total.
PUBLISHED = {
    "yelp13": {"train": 62522, "validation": 7773, "test": 8671},
    "yelp14": {"train": 183019, "validation": 22745, "test": 25399},
    "imdb10": {"train": 67426, "validation": 8381, "test": 9112},
    "yelp15": {"total": 1569264},
    "ag_news": {"train": 120000, "test": 7600},
    "dbpedia": {"train": 560000, "test": 70000},
    "yelp_polarity": {"train": 560000, "test": 38000},
    "yelp_full": {"train": 650000, "test": 50000},
    "yahoo": {"train": 1400000, "test": 60000},
    "amazon_full": {"train": 3000000, "test": 650000},
    "amazon_polarity": {"train": 3600000, "test": 400000},
}
PAPER = {"paper_yelp13": ("yelp13", 0.682), "paper_yelp14": ("yelp14", 0.705),
         "paper_yelp15": ("yelp15", 0.710), "paper_imdb10": ("imdb10", 0.494),
         "paper_yahoo": ("yahoo", 0.758), "paper_amazon": ("amazon_full", 0.636)}


def compose_cfg(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("train", list(overrides))


def fixture_cfg(name: str, folder: Path, *extra: str):
    """A dataset config read from fixtures in `folder` (the mirror), sizes unchecked."""
    return compose_cfg(f"dataset={name}", f"paths.mirror={folder}",
                       f"paths.data_dir={folder / 'raw'}", f"paths.cache_dir={folder / 'cache'}",
                       "dataset.expected_sizes=null", *extra)


def write_fixture(name: str, folder: Path) -> None:
    if name in TANG:
        write_tang(folder, name)
    else:
        write_zhang(folder, name)


# ── configs ──────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_configs_carry_the_published_sizes_and_upstream_names(name):
    cfg = compose_cfg(f"dataset={name}").dataset
    assert dict(cfg.expected_sizes) == PUBLISHED[name]
    assert cfg.vocab.min_count == 6  # the paper's "more than 5 times"
    assert cfg.max_train_docs is None
    if name in TANG:
        assert cfg.kind == "tang" and cfg.tokenizer.pretokenized == "sss"
        assert dict(cfg.files) == tang_names(name)
    else:
        assert cfg.kind == "zhang" and cfg.tokenizer.get("pretokenized") is None
        assert cfg.url.endswith(f"/{ZHANG[name][0]}.tgz")
        assert len(cfg.columns) == ZHANG[name][1]


@pytest.mark.parametrize("name", ["yelp13", "ag_news"])
def test_sizes_other_than_the_published_ones_stop_the_reader(name, tmp_path):
    write_fixture(name, tmp_path)
    cfg = fixture_cfg(name, tmp_path).dataset
    files = dataset_files(cfg, tmp_path / "raw", tmp_path)
    checked = compose_cfg(f"dataset={name}").dataset  # the config's own expected_sizes
    with pytest.raises(DataError, match="expected_sizes"):
        read_documents(checked, files)


# ── Tang et al. ──────────────────────────────────────────────────────────────────────────────

def test_tang_reads_double_and_single_tabs_alike(tmp_path):
    double, single = tmp_path / "double", tmp_path / "single"
    double.mkdir(), single.mkdir()
    write_tang(double, "imdb10")
    write_tang(single, "imdb10", single_tab=True)
    cfg = fixture_cfg("imdb10", tmp_path).dataset
    frames = [read_documents(cfg, dataset_files(cfg, tmp_path, folder))[0]
              for folder in (double, single)]
    assert frames[0].equals(frames[1])
    docs = frames[0]
    assert docs.groupby("source_split").size().to_dict() == {"train": 40, "validation": 10,
                                                             "test": 10}
    assert sorted(docs["label"].unique(), key=int) == [str(r) for r in range(1, 11)]
    assert docs["text"].str.contains("<sssss>").any() and docs["group"].str.startswith("user").all()
    first = (double / "imdb.train.txt.ss").read_text().splitlines()[0].split("\t\t")
    assert (docs.iloc[0]["label"], docs.iloc[0]["text"]) == (first[2], first[3])


def test_tang_sentences_and_tokens_are_kept_as_written(tmp_path, monkeypatch):
    text = "i do n't like it , -lrb- really -rrb- . <sssss> mr. smith 's pizza was 5/10 ."
    names = tang_names("yelp13")
    lines = {"train": [f"u1\t\tp1\t\t2\t\t{text}", "u2\t\tp1\t\t4\t\tgreat ! <sssss> ok"],
             "validation": ["u1\t\tp2\t\t2\t\tbad ."], "test": ["u3\t\tp2\t\t4\t\tgood ."]}
    for split, rows in lines.items():
        (tmp_path / names[split]).write_text("\n".join(rows) + "\n")

    def no_punkt(settings):
        raise AssertionError("pre-tokenised text must not load punkt")

    monkeypatch.setattr(tokenize, "load_sentence_model", no_punkt)
    cfg = fixture_cfg("yelp13", tmp_path, "dataset.vocab.min_count=1")
    corpus, _ = load_corpus(cfg.dataset, cfg.paths, workers=1, progress=False)
    first, second = text.split(" <sssss> ")
    assert corpus.sentences(0) == [first.split(" "), second.split(" ")]
    assert corpus.sentences(0)[1] == ["mr.", "smith", "'s", "pizza", "was", "5/10", "."]
    assert corpus.sentences(1) == [["great", "!"], ["ok"]]
    # The setting is part of the cache key; raw-text keys stay what they were.
    raw = tokenizer_settings({"tokenizer": {}}, {})
    assert "pretokenized" not in raw.cache_key()
    pre = tokenizer_settings(cfg.dataset, cfg.paths)
    assert cache_key("x", pre) != cache_key("x", raw)
    with pytest.raises(DataError, match="pretokenized is 'ss'; set it to one of sss"):
        tokenize.DocumentTokenizer(tokenize.TokenizerSettings(pretokenized="ss"))


def test_tang_errors_name_the_file_line_and_fix(tmp_path):
    paths = write_tang(tmp_path, "yelp14", {"train": 4, "validation": 2, "test": 2})
    cfg = fixture_cfg("yelp14", tmp_path).dataset
    paths["validation"].write_text("u\t\tp\t\tfive\t\tnot a rating .\n")
    with pytest.raises(DataError, match=r"yelp-2014-seg-20-20\.dev\.ss line 1 .*integer rating"):
        read_documents(cfg, dataset_files(cfg, tmp_path, tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"yelp-2014-seg-20-20\.train\.ss .*dataset\.url is null"):
        dataset_files(cfg, tmp_path / "raw", empty)


# ── Zhang et al. ─────────────────────────────────────────────────────────────────────────────

def test_zhang_csv_quotes_escaped_newlines_columns_and_class_names(tmp_path):
    rows = {"train": [["1", 'A "quoted" title, with a comma', r"line one\nline two\n\nthree"],
                      ["2", "", "body only"], ["1", "t", "b"], ["2", "t2", "b2"]],
            "test": [["2", "title", "desc"]]}
    path = write_zhang(tmp_path, "ag_news", rows=rows)
    cfg = fixture_cfg("ag_news", tmp_path).dataset
    assert dataset_files(cfg, tmp_path / "raw", tmp_path) == [path]
    docs, _ = read_documents(cfg, [path])
    assert docs.iloc[0]["text"] == ('A "quoted" title, with a comma\n\nline one\n\nline two'
                                    "\n\nthree")
    assert docs.iloc[1]["text"] == "body only"  # an empty title adds no blank paragraph
    assert list(docs["label"]) == ["World", "Sports", "World", "Sports", "Sports"]
    assert list(docs["source_split"]) == ["train"] * 4 + ["test"]
    stars = write_zhang(tmp_path, "yelp_full", rows={"train": [["5", "x"]], "test": [["1", "y"]]})
    cfg = fixture_cfg("yelp_full", tmp_path).dataset
    assert list(read_documents(cfg, [stars])[0]["label"]) == ["5", "1"]  # no classes.txt


def test_zhang_long_fields_and_latin1_bytes(tmp_path):
    long_answer = "word " * 40_000  # 200,000 characters: over csv's default field limit
    path = write_zhang(tmp_path, "yelp_full", rows={"train": [["3", long_answer]],
                                                    "test": [["4", "caf\u00e9 ok"]]})
    # Re-pack test.csv with a Latin-1 byte (0xE9) where UTF-8 has two: upstream is UTF-8, but a
    # stray byte must not stop the reader or garble its neighbours.
    import io
    import tarfile

    raw = b'"4","caf\xe9 ok"\n'
    members = {}
    with tarfile.open(path) as archive:
        for info in archive.getmembers():
            members[info.name] = archive.extractfile(info).read()
    members["yelp_review_full_csv/test.csv"] = raw
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    cfg = fixture_cfg("yelp_full", tmp_path).dataset
    docs, stats = read_documents(cfg, [path])
    assert docs.iloc[0]["text"] == long_answer.strip()
    assert docs.iloc[1]["text"] == "caf\u00e9 ok" and stats.non_utf8_files == 1


def test_zhang_wrong_field_count_and_not_an_archive(tmp_path):
    path = write_zhang(tmp_path, "dbpedia", rows={"train": [["1", "only a title"]],
                                                  "test": [["1", "t", "c"]]})
    cfg = fixture_cfg("dbpedia", tmp_path).dataset
    with pytest.raises(DataError, match=r"train\.csv row 1 has 2 fields.*dataset\.columns"):
        read_documents(cfg, [path])
    path.write_bytes(b"not a tar")
    with pytest.raises(DataError, match="damaged or truncated"):
        read_documents(cfg, [path])


def test_fingerprint_tracks_zhang_columns(tmp_path):
    path = write_zhang(tmp_path, "amazon_full")
    cfg = dict(fixture_cfg("amazon_full", tmp_path).dataset)
    assert fingerprint([path], cfg) != fingerprint([path], cfg | {"columns": ["content"]})


# ── every new config through the data stage ──────────────────────────────────────────────────

@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_new_config_prepares_its_fixture(name, tmp_path):
    write_fixture(name, tmp_path)
    cfg = fixture_cfg(name, tmp_path, "dataset.vocab.min_count=2")
    data = prepare(cfg.dataset, cfg.paths, seed=0, workers=1, progress=False)
    sizes = {split: len(docs) for split, docs in data.splits.items()}
    if name in TANG:  # official train / dev / test
        assert sizes == {"train": 40, "validation": 10, "test": 10}
    else:  # official test; validation a stratified 10% of train
        assert sizes["test"] == 12 and sizes["train"] + sizes["validation"] == 40
        assert 2 <= sizes["validation"] <= 6
    assert len(data.classes) >= 2 and len(data.vocabulary) > 2


def test_make_data_command_on_a_tang_fixture(tmp_path):
    """`make data DATASET=imdb10` as a user runs it: `python -m han.data`, in a subprocess."""
    import subprocess
    import sys

    write_tang(tmp_path, "imdb10")
    result = subprocess.run(
        [sys.executable, "-m", "han.data", "dataset=imdb10", f"paths.mirror={tmp_path}",
         f"paths.cache_dir={tmp_path / 'cache'}", "dataset.expected_sizes=null",
         "dataset.max_train_docs=20", "workers=1", "progress=false",
         f"hydra.run.dir={tmp_path / 'out'}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert "training documents: a sample of 20 of 40 (dataset.max_train_docs)" in result.stdout
    assert {s: summary["documents"][s]["total"] for s in summary["documents"]} == {
        "train": 20, "validation": 10, "test": 10}
    assert summary["train_docs_before_sample"] == 40 and summary["dataset"] == "imdb10"


# ── dataset.max_train_docs ───────────────────────────────────────────────────────────────────

def test_max_train_docs_samples_train_only_stratified_and_seeded():
    labels = np.array(["a"] * 600 + ["b"] * 300 + ["c"] * 100, dtype=object)
    split = np.array(["train"] * 900 + ["validation"] * 50 + ["test"] * 50, dtype=object)
    split[900] = "train"  # class c has one training document
    out = subsample_train(labels, split, 100, seed=0)
    kept = out == "train"
    assert kept.sum() == 100
    # Shares of the 901 training documents: a 600 → 66.6, b 300 → 33.3, c 1 → 0.1; every class
    # keeps at least one, which takes the largest remainder's (a's) extra place.
    assert {c: int((labels[kept] == c).sum()) for c in "abc"} == {"a": 66, "b": 33, "c": 1}
    assert (out[split != "train"] == split[split != "train"]).all()  # validation, test whole
    assert (out[(split == "train") & ~kept] == "unused").all()
    np.testing.assert_array_equal(out, subsample_train(labels, split, 100, seed=0))
    assert not np.array_equal(out, subsample_train(labels, split, 100, seed=1))
    assert subsample_train(labels, split, 5000, seed=0) is split
    with pytest.raises(DataError, match="max_train_docs"):
        subsample_train(labels, split, 1, seed=0)


def test_max_train_docs_through_prepare(tmp_path):
    write_zhang(tmp_path, "yelp_full", train=60, test=10)
    whole = prepare(fixture_cfg("yelp_full", tmp_path).dataset,
                    fixture_cfg("yelp_full", tmp_path).paths, seed=0, workers=1, progress=False)
    cfg = fixture_cfg("yelp_full", tmp_path, "dataset.max_train_docs=20")
    part = prepare(cfg.dataset, cfg.paths, seed=0, workers=1, progress=False)
    assert len(part.splits["train"]) == 20 and np.bincount(part.splits["train"].labels).tolist() \
        == [4] * 5
    for split in ("validation", "test"):
        assert list(part.splits[split].ids) == list(whole.splits[split].ids)
    assert part.counts["train_docs_before_sample"] == len(whole.splits["train"])
    assert set(part.splits["train"].ids) <= set(whole.splits["train"].ids)


# ── short runs: every preset on its fixture, a real corpus through the Zhang path ────────────

def run_in_process(tmp_path: Path, *overrides: str) -> dict:
    from han.train import run

    cfg = compose_cfg(f"paths.mirror={tmp_path}", f"paths.data_dir={tmp_path / 'raw'}",
                      f"paths.cache_dir={tmp_path / 'cache'}", "dataset.expected_sizes=null",
                      "trainer.epochs=1", "baseline=false", "model.word2vec_epochs=1",
                      *SHRINK, *overrides)
    run_dir = tmp_path / "run"
    metrics = run(cfg, run_dir)
    assert json.loads((run_dir / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    return metrics


@pytest.mark.parametrize("preset", sorted(PAPER))
def test_paper_presets_carry_the_papers_recipe_and_figure(preset):
    dataset, accuracy = PAPER[preset]
    cfg = compose_cfg(f"experiment={preset}")
    assert (cfg.dataset.name, cfg.model.name, cfg.trainer.optimizer) == (dataset, "han", "sgd")
    assert (cfg.trainer.momentum, cfg.trainer.batch_size, cfg.trainer.bucket) == (0.9, 64, True)
    assert (cfg.model.embedding_dim, cfg.model.gru_units, cfg.model.attention_dim) == (200, 50, 100)
    assert cfg.model.embedding_init == "word2vec" and cfg.dataset.vocab.min_count == 6
    assert cfg.paper_test_accuracy == accuracy
    assert compose_cfg().paper_test_accuracy is None  # no figure outside the presets


# Each run costs ~10-15 s of TensorFlow tracing: the default suite trains once (the real-text
# run below, paper_han's recipe); `make test-slow` runs every preset and config on its fixture.
@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(PAPER))
def test_paper_preset_runs_on_its_fixture_and_reports_the_paper(preset, tmp_path):
    dataset, accuracy = PAPER[preset]
    write_fixture(dataset, tmp_path)
    metrics = run_in_process(tmp_path, f"experiment={preset}", "dataset.vocab.min_count=2")
    assert metrics["paper_test_accuracy"] == accuracy
    assert metrics["dataset"] == dataset and metrics["train"]["epochs"] == 1
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(PUBLISHED) - {p[0] for p in PAPER.values()}))
def test_other_new_configs_train_on_their_fixture(name, tmp_path):
    write_fixture(name, tmp_path)
    metrics = run_in_process(tmp_path, f"dataset={name}", "dataset.vocab.min_count=2")
    assert "paper_test_accuracy" not in metrics and metrics["train"]["epochs"] == 1


def test_real_bbc_articles_through_the_zhang_path(tmp_path, mirror_dir):
    """Real text end to end: BBC articles written as a Zhang et al. archive, a sampled run with
    the paper's recipe, started from pretrained vectors."""
    from runs import bbc_sample

    docs = bbc_sample(mirror_dir, per_class=40)
    names = sorted(docs["label"].unique())
    records = [[str(names.index(label) + 1), text.split("\n", 1)[0],
                text.split("\n", 1)[1].strip().replace("\n", r"\n")]
               for label, text in zip(docs["label"], docs["text"], strict=True)]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(records))
    rows = {"train": [records[i] for i in order[:90]], "test": [records[i] for i in order[90:]]}
    write_zhang(tmp_path, "ag_news", rows=rows)  # 3 real classes under AG's archive name
    # Pretrained vectors for a few words, in GloVe's format (no header), as a user would.
    words = ["the", "said", "government", "film", "match", "zebra-not-in-bbc"]
    glove = tmp_path / "glove.txt"
    glove.write_text("".join(f"{w} {i} 0.5 -1 2\n" for i, w in enumerate(words)))
    metrics = run_in_process(tmp_path, "experiment=paper_han", "dataset=ag_news",
                             "dataset.max_train_docs=60", "dataset.vocab.min_count=2",
                             "model.embedding_init=pretrained", f"model.embedding_path={glove}",
                             "model.embedding_dim=from_file", "paper_test_accuracy=0.5")
    assert metrics["paper_test_accuracy"] == 0.5 and metrics["train"]["epochs"] == 1
    summary = json.loads((tmp_path / "run" / "data_summary.json").read_text())
    vocabulary = json.loads((tmp_path / "run" / "vocab.json").read_text())
    vocabulary = vocabulary["words"]
    coverage = summary["embedding_coverage"]
    assert coverage["dim"] == 4 and coverage["vocabulary_words"] == len(vocabulary) - 2
    assert coverage["vocabulary_found"] == len(set(words) & set(vocabulary)) >= 4
    assert summary["documents"]["train"]["total"] == 60
    assert summary["documents"]["test"]["total"] == 30
    # Less any copies of other articles that dataset.dedup removed from train.
    removed = summary["duplicates"]["removed_by_source_split"]["train"]
    assert summary["train_docs_before_sample"] == (
        90 - removed - summary["documents"]["validation"]["total"])
    assert summary["sentences_per_document"]["p50"] > 5  # punkt split the real paragraphs
    assert metrics["classes"] == ["Business", "Sports", "World"]  # AG's names for indices 1-3

