"""Readers: real BBC / IMDB / Reuters archives from the offline mirror, and small bad inputs in
tmp_path."""

from __future__ import annotations

import io
import json
import logging
import tarfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from han.data.sources import (
    DataError,
    ReadStats,
    dataset_files,
    decode_text,
    fingerprint,
    read_documents,
)
from han.data.splits import assign_splits

BBC = {"kind": "bbc", "url": "http://mlg.ucd.ie/files/datasets/bbc-fulltext.zip",
       "filename": "bbc-fulltext.zip", "classes": None}
IMDB = {"kind": "imdb", "url": "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "filename": "aclImdb_v1.tar.gz"}
REUTERS_CONF = Path(__file__).resolve().parents[1] / "conf" / "dataset" / "reuters.yaml"
BBC_COUNTS = {"business": 509, "entertainment": 386, "politics": 417, "sport": 510, "tech": 401}


def _table(**settings: object) -> dict:
    return {"kind": "table", "text_column": "text", "label_column": "label", "id_column": None,
            "format": None, "validation_path": None, "test_path": None, **settings}


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _targz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


# ── decode_text ──────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("raw", "text", "fallback"),
    [
        (b"plain ascii", "plain ascii", False),
        ("caf\u00e9 \u00a3600m".encode(), "caf\u00e9 \u00a3600m", False),
        (b"\xef\xbb\xbfwith bom", "with bom", False),
        (b"costs \xa3600m", "costs \u00a3600m", True),  # Latin-1 pound sign
        (b"\x93quoted\x94", "\u201cquoted\u201d", True),  # cp1252 curly quotes
        (b"odd \x81 byte", "odd \x81 byte", True),  # undefined in cp1252: Latin-1 keeps it
        (b"", "", False),
    ],
)
def test_decode_text(raw: bytes, text: str, fallback: bool) -> None:
    assert decode_text(raw) == (text, fallback)


# ── BBC (real archive) ───────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def bbc_all(mirror_dir: Path) -> pd.DataFrame:
    files = dataset_files(BBC, Path("/nonexistent-cache"), mirror_dir)
    documents, stats = read_documents(BBC, files)
    assert isinstance(stats, ReadStats)
    return documents


def test_bbc_reads_every_class_with_readme_counts(bbc_all: pd.DataFrame) -> None:
    assert list(bbc_all.columns) == ["id", "text", "label", "source_split", "group"]
    assert set(bbc_all["group"]) == {""}
    assert bbc_all["label"].value_counts().to_dict() == BBC_COUNTS
    # The mirror README says 2224 articles, but its per-class counts add up to 2223.
    assert len(bbc_all) == sum(BBC_COUNTS.values()) == 2223
    assert bbc_all["id"].is_unique
    assert set(bbc_all["source_split"]) == {""}
    assert (bbc_all["text"].str.len() > 100).all()
    assert (bbc_all["id"].str.split("/").str[0] == bbc_all["label"]).all()


def test_bbc_titles_text_and_natural_order(bbc_all: pd.DataFrame) -> None:
    first = bbc_all.iloc[0]
    assert first["id"] == "business/001" and first["label"] == "business"
    title, blank, body = first["text"].partition("\n\n")
    assert title == "Ad sales boost Time Warner profit"
    assert body.startswith("Quarterly profits at US media giant TimeWarner")
    assert "\u00a3600m" in body  # the pound sign survives decoding
    ids = bbc_all["id"].tolist()
    assert ids.index("business/009") < ids.index("business/010") < ids.index("business/100")


def test_bbc_default_three_class_subset(mirror_dir: Path) -> None:
    cfg = OmegaConf.create({**BBC, "classes": ["politics", "sport", "entertainment"]})
    documents, _ = read_documents(cfg, dataset_files(cfg, Path("/nonexistent"), mirror_dir))
    assert documents["label"].value_counts().to_dict() == {
        "sport": 510, "politics": 417, "entertainment": 386}
    assert len(documents) == 1313


def test_bbc_unknown_class_names_setting_and_choices(mirror_dir: Path) -> None:
    cfg = {**BBC, "classes": ["sport", "weather"]}
    with pytest.raises(DataError) as info:
        read_documents(cfg, [mirror_dir / "bbc-fulltext.zip"])
    message = str(info.value)
    assert "dataset.classes" in message and "weather" in message
    assert all(name in message for name in BBC_COUNTS)


def test_bbc_latin1_bytes_are_decoded_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = _zip(tmp_path / "bbc.zip", {
        "bbc/README.TXT": b"not an article",
        "bbc/business/001.txt": b"Pounds\n\nIt cost \xa3600m.",
        "bbc/business/002.txt": "Euros\n\nIt cost \u20ac5.".encode(),
        "bbc/tech/010.txt": b"Chips\n\nFaster.",
        "bbc/tech/9.txt": b"Disks\n\nBigger.",
    })
    with caplog.at_level(logging.INFO, logger="han.data"):
        documents, stats = read_documents(BBC, [archive])
    assert documents["id"].tolist() == ["business/001", "business/002", "tech/9", "tech/010"]
    assert documents["text"].iloc[0] == "Pounds\n\nIt cost \u00a3600m."
    assert documents["text"].iloc[1] == "Euros\n\nIt cost \u20ac5."
    assert stats.non_utf8_files == 1
    assert "1 of 4 documents" in caplog.text


def test_truncated_zip_says_delete(mirror_dir: Path, tmp_path: Path) -> None:
    data = (mirror_dir / "bbc-fulltext.zip").read_bytes()
    broken = tmp_path / "bbc-fulltext.zip"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="Delete it so it is downloaded again") as info:
        read_documents(BBC, [broken])
    assert str(broken) in str(info.value)


def test_corrupt_zip_member_says_delete(tmp_path: Path) -> None:
    body = b"Title\n\n" + b"some article text " * 200
    archive = _zip(tmp_path / "bbc.zip", {"bbc/tech/001.txt": body})
    data = bytearray(archive.read_bytes())
    middle = data.index(b"001.txt") + 40  # inside the compressed member, before the directory
    data[middle:middle + 8] = b"\xff" * 8
    archive.write_bytes(bytes(data))
    with pytest.raises(DataError, match="damaged or truncated"):
        read_documents(BBC, [archive])


# ── IMDB ─────────────────────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def imdb_all(mirror_dir: Path) -> tuple[pd.DataFrame, ReadStats]:
    """The whole real archive, read once for the tests below (a few seconds; its speed is
    `make bench-data DATASET=imdb`'s to measure, not a test's)."""
    return read_documents(IMDB, dataset_files(IMDB, Path("/nonexistent"), mirror_dir))


def test_imdb_reads_all_reviews(imdb_all: tuple[pd.DataFrame, ReadStats]) -> None:
    documents, stats = imdb_all
    counts = documents.groupby(["source_split", "label"]).size().to_dict()
    assert counts == {(s, lab): 12500 for s in ("train", "test") for lab in ("pos", "neg")}
    assert documents["id"].is_unique
    assert not documents["text"].str.contains("<br", case=False, regex=False).any()
    assert documents["source_split"].iloc[0] == "train"  # train rows first
    assert documents["id"].iloc[0] == "train/neg/0_3"
    assert stats.notes == []


def test_imdb_groups_reviews_by_film(imdb_all: tuple[pd.DataFrame, ReadStats]) -> None:
    documents, _ = imdb_all
    assert documents["group"].str.fullmatch(r"tt\d+").all()  # every review has its film
    film = documents.set_index("id")["group"]
    # Reviews 1 and 2 of train/neg both pan Stanley & Iris (De Niro, Fonda): lines 2 and 3
    # of urls_neg.txt name one film; review 0 is about another.
    assert film["train/neg/1_1"] == film["train/neg/2_1"] != film["train/neg/0_3"]
    train = documents[documents["source_split"] == "train"]
    test = documents[documents["source_split"] == "test"]
    assert 3000 < train["group"].nunique() < 4000
    # The official split is by film, save one film whose reviews straddle the boundary in
    # upstream's urls files (the last two of train/urls_neg.txt, the first of test's).
    assert set(train["group"]) & set(test["group"]) == {"tt0406816"}


def test_imdb_validation_shares_no_film_with_train(
    imdb_all: tuple[pd.DataFrame, ReadStats], caplog: pytest.LogCaptureFixture
) -> None:
    documents, _ = imdb_all
    labels, groups = documents["label"].to_numpy(object), documents["group"].to_numpy(object)
    source = documents["source_split"].to_numpy(object)
    with caplog.at_level(logging.INFO, logger="han.data.splits"):
        split = assign_splits(labels, source, {"validation": 0.1, "test": 0.1}, 0, groups)
    assert (split[source == "test"] == "test").all()  # the official test set is kept
    validation, train = split == "validation", split == "train"
    assert set(groups[validation]).isdisjoint(groups[train])
    assert 2400 <= validation.sum() <= 2600  # 10% of 25,000 give or take one film
    assert 0.47 < (labels[validation] == "pos").mean() < 0.53
    assert len(set(groups[validation])) > 100
    assert "validation: " in caplog.text and " groups" in caplog.text
    again = assign_splits(labels, source, {"validation": 0.1, "test": 0.1}, 0, groups)
    assert (again == split).all()


def test_imdb_urls_map_line_i_to_review_i(tmp_path: Path) -> None:
    url = "http://www.imdb.com/title/{}/usercomments\n".format
    archive = _targz(tmp_path / "aclImdb_v1.tar.gz", {
        "aclImdb/train/pos/0_9.txt": b"Great.",
        "aclImdb/train/pos/1_8.txt": b"Fine.",
        "aclImdb/train/pos/2_7.txt": b"Good.",
        "aclImdb/train/urls_pos.txt": (url("tt01") + url("tt02") + url("tt01")).encode(),
        "aclImdb/train/neg/0_1.txt": b"Bad.",  # no urls_neg.txt: a group of its own
    })
    documents, stats = read_documents(IMDB, [archive])
    assert dict(zip(documents["id"], documents["group"], strict=True)) == {
        "train/neg/0_1": "", "train/pos/0_9": "tt01", "train/pos/1_8": "tt02",
        "train/pos/2_7": "tt01"}
    assert any("1 of 4 reviews" in note and "no film" in note for note in stats.notes)


def test_imdb_small_archive_layout_and_br(tmp_path: Path) -> None:
    archive = _targz(tmp_path / "aclImdb_v1.tar.gz", {
        "aclImdb/README": b"readme",
        "aclImdb/train/pos/10_9.txt": b"Great.<br /><br />Loved it.",
        "aclImdb/train/pos/2_8.txt": b"Fine<BR>really<br/>fine",
        "aclImdb/train/neg/1_1.txt": b"Awful \x96 truly.",
        "aclImdb/test/neg/0_2.txt": b"Bad.",
        "aclImdb/test/pos/0_10.txt": b"Good.",
        "aclImdb/train/unsup/0_0.txt": b"unlabelled",
        "aclImdb/train/labeledBow.feat": b"0:1 1:2",
        "aclImdb/train/urls_pos.txt": b"http://example",
    })
    documents, stats = read_documents(IMDB, [archive])
    assert documents["id"].tolist() == [
        "train/neg/1_1", "train/pos/2_8", "train/pos/10_9", "test/neg/0_2", "test/pos/0_10"]
    text = dict(zip(documents["id"], documents["text"], strict=True))
    assert text["train/pos/10_9"] == "Great.  Loved it."
    assert text["train/pos/2_8"] == "Fine really fine"
    assert text["train/neg/1_1"] == "Awful \u2013 truly."  # cp1252 en dash
    assert stats.non_utf8_files == 1


def test_truncated_targz_says_delete(tmp_path: Path) -> None:
    members = {f"aclImdb/train/pos/{i}_9.txt": f"review {i} ".encode() * 300 for i in range(40)}
    archive = _targz(tmp_path / "aclImdb_v1.tar.gz", members)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="Delete it so it is downloaded again") as info:
        read_documents(IMDB, [archive])
    assert "aclImdb_v1.tar.gz" in str(info.value)
    assert info.value.__cause__ is not None  # the low-level error is chained, not shown raw


def test_not_gzip_at_all_says_delete(tmp_path: Path) -> None:
    archive = tmp_path / "aclImdb_v1.tar.gz"
    archive.write_bytes(b"<html>captive portal</html>")
    with pytest.raises(DataError, match="damaged or truncated"):
        read_documents(IMDB, [archive])


# ── Reuters-21578 ────────────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def reuters_cfg() -> dict:
    """The shipped config, so the tests check its metadata (expected_sizes) as well."""
    return OmegaConf.to_container(OmegaConf.load(REUTERS_CONF))


@pytest.fixture(scope="module", params=["r8", "r52"])
def reuters(request: pytest.FixtureRequest, reuters_cfg: dict,
            mirror_dir: Path) -> tuple[str, pd.DataFrame, ReadStats]:
    cfg = {**reuters_cfg, "subset": request.param}
    files = dataset_files(cfg, Path("/nonexistent"), mirror_dir)
    assert files == [mirror_dir / "reuters21578.tar.gz"]
    documents, stats = read_documents(cfg, files)
    return request.param, documents, stats


def test_reuters_gives_the_published_modapte_sizes(reuters, reuters_cfg: dict) -> None:
    subset, documents, stats = reuters
    sizes = documents.groupby("source_split").size().to_dict()
    assert sizes == reuters_cfg["expected_sizes"][subset]
    assert sizes == {"r8": {"train": 5485, "test": 2189},
                     "r52": {"train": 6532, "test": 2568}}[subset]  # Cachopo 2007
    labels = set(documents["label"])
    assert len(labels) == {"r8": 8, "r52": 52}[subset]
    if subset == "r8":
        assert labels == {"acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade"}
    for split in ("train", "test"):  # every class has documents on both sides
        assert set(documents.loc[documents["source_split"] == split, "label"]) == labels
    assert documents["id"].is_unique and documents["id"].str.fullmatch(r"\d+").all()
    # ModApte is chronological: every training story has a lower NEWID than every test story.
    newid = documents["id"].astype(int)
    assert newid[documents["source_split"] == "train"].max() < newid[
        documents["source_split"] == "test"].min()
    # reut2-017.sgm's 0xFC byte is decoded (cp1252: ü), counted, and its record kept.
    assert stats.non_utf8_files == 1
    assert "growth.\u00fcside measures" in documents.set_index("id").loc["17980", "text"]


def test_reuters_text_is_title_and_body_unescaped(reuters) -> None:
    _, documents, _ = reuters
    text = documents.set_index("id")["text"]
    title, body = text["9"].split("\n\n", 1)
    assert title == "CHAMPION PRODUCTS <CH> APPROVES STOCK SPLIT"  # &lt;CH&gt; unescaped
    assert body.startswith("Champion Products Inc said its\nboard of directors approved")
    # A title with no body keeps its title; an UNPROC record (no TITLE / BODY tags) its text.
    assert text["129"] == "NORTHERN TELECOM PROPOSES TWO-FOR-ONE STOCK SPLIT"
    assert text["958"].startswith("UNILEVER PLC AND NV 1986 4TH QTR TO DEC 31\n    LONDON")
    assert not documents["text"].str.contains(r"&lt;|&amp;|&#\d+;|<BODY>|<TITLE>").any()
    assert not documents["text"].str.contains("[\x00-\x08\x0b-\x1f\x7f]").any()
    assert (documents["text"].str.strip().str.len() > 0).all()


def _sgm(*records: str) -> bytes:
    return ('<!DOCTYPE lewis SYSTEM "lewis.dtd">\n' + "\n".join(records)).encode()


def _record(newid: int, text: str, topics: tuple[str, ...] = ("earn",), split: str = "TRAIN",
            has_topics: str = "YES") -> str:
    ds = "".join(f"<D>{t}</D>" for t in topics)
    return (f'<REUTERS TOPICS="{has_topics}" LEWISSPLIT="{split}" CGISPLIT="TRAINING-SET" '
            f'OLDID="1" NEWID="{newid}">\n<DATE>26-FEB-1987</DATE>\n<TOPICS>{ds}</TOPICS>\n'
            f"{text}\n</REUTERS>")


def test_reuters_small_archive_rules(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    archive = _targz(tmp_path / "reuters21578.tar.gz", {
        "README.txt": b"not sgml",
        "reut2-000.sgm": _sgm(
            _record(1, "<TEXT>&#2;\n<TITLE>PROFIT UP</TITLE>\n<DATELINE>NY</DATELINE>"
                       "<BODY>Shr 10 cts vs 8 cts &amp; more.\n Reuter\n&#3;</BODY></TEXT>"),
            _record(2, '<TEXT TYPE="BRIEF">&#2;\n******<TITLE>ONLY A TITLE\n</TITLE>Blah blah '
                       "blah.\n&#3;\n</TEXT>", topics=("acq",), split="TEST"),
            _record(3, '<TEXT TYPE="UNPROC">&#2;\nRESERVES REPORT\n Net....644 vs...1,337\n'
                       "&#3;</TEXT>", topics=("crude",)),
            _record(4, "<TEXT>&#2;\n&#3;</TEXT>"),  # neither title nor body: skipped
            _record(5, "<TEXT><TITLE>TWO TOPICS</TITLE></TEXT>", topics=("earn", "acq")),
            _record(6, "<TEXT><TITLE>REPEATED</TITLE></TEXT>", topics=("trade", "trade")),
            _record(7, "<TEXT><TITLE>NO TOPICS FLAG</TITLE></TEXT>", has_topics="NO"),
            _record(8, "<TEXT><TITLE>NOT USED</TITLE></TEXT>", split="NOT-USED"),
            _record(9, "<TEXT><TITLE>OTHER CLASS</TITLE></TEXT>", topics=("cocoa",)),
        ),
        "reut2-001.sgm": _sgm(_record(10, "<TEXT><TITLE>M\xdcNCHEN</TITLE></TEXT>",
                                      split="TEST")).replace(b"\xc3\x9c", b"\xdc"),
    })
    cfg = {"kind": "reuters", "subset": "r8", "expected_sizes": None}
    with caplog.at_level(logging.INFO, logger="han.data"):
        documents, stats = read_documents(cfg, [archive])
    assert documents["id"].tolist() == ["1", "3", "2", "10"]  # train, then test
    text = dict(zip(documents["id"], documents["text"], strict=True))
    assert text == {"1": "PROFIT UP\n\nShr 10 cts vs 8 cts & more.\n Reuter", "2": "ONLY A TITLE",
                    "3": "RESERVES REPORT\n Net....644 vs...1,337", "10": "M\u00dcNCHEN"}
    assert documents["label"].tolist() == ["earn", "crude", "acq", "earn"]
    assert stats.non_utf8_files == 1
    assert any("neither title nor body" in note and "NEWID 4" in note for note in stats.notes)
    assert "neither title nor body" in caplog.text
    # R52 keeps classes with a train and a test document: earn (1 / 10) only.
    documents, _ = read_documents({**cfg, "subset": "r52"}, [archive])
    assert documents["id"].tolist() == ["1", "10"]
    # Sizes other than the published ones stop the run and say which setting to change.
    with pytest.raises(DataError, match=r"R8 2 train / 2 test.*5485 / 2189.*expected_sizes=null"):
        read_documents({**cfg, "expected_sizes": {"r8": {"train": 5485, "test": 2189}}}, [archive])
    with pytest.raises(DataError, match=r"dataset\.subset is 'r10'.*r8, r52"):
        read_documents({**cfg, "subset": "r10"}, [archive])
    other = _targz(tmp_path / "other.tar.gz", {"aclImdb/train/pos/1_9.txt": b"review"})
    with pytest.raises(DataError, match="not the Reuters-21578 archive"):
        read_documents(cfg, [other])


def test_fingerprint_tracks_reuters_subset(tmp_path: Path) -> None:
    path = tmp_path / "reuters21578.tar.gz"
    path.write_bytes(b"x")
    cfg = {"kind": "reuters", "subset": "r8"}
    assert fingerprint([path], {**cfg, "expected_sizes": None}) == fingerprint([path], cfg)
    assert fingerprint([path], {**cfg, "subset": "r52"}) != fingerprint([path], cfg)


# ── tables ───────────────────────────────────────────────────────────────────────────────────

ROWS = [("A fine film.", 1), ("Terrible.", 0), ("", 1), ("   ", 0)]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"text": [t for t, _ in ROWS], "label": [lab for _, lab in ROWS]})


def test_csv_integer_labels_and_empty_text(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("text,label\nA fine film.,1\nTerrible.,0\n,1\n   ,0\n")
    cfg = _table(train_path=str(path))
    documents, stats = read_documents(cfg, dataset_files(cfg, tmp_path, None))
    assert documents["label"].tolist() == ["1", "0", "1", "0"]
    assert documents["text"].tolist() == ["A fine film.", "Terrible.", "", "   "]
    assert documents["id"].tolist() == ["train-0", "train-1", "train-2", "train-3"]
    assert set(documents["source_split"]) == {"train"}
    assert stats.non_utf8_files == 0


@pytest.mark.parametrize("suffix", ["tsv", "jsonl", "json", "parquet", "csv.gz"])
def test_other_formats_read_the_same(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"train.{suffix}"
    frame = _frame()
    if suffix == "parquet":
        # A gap makes pandas store the integer labels as float: they must still read as "1".
        frame["label"] = frame["label"].astype(float)
        frame.loc[len(frame)] = ["Missing text", 2.0]
        frame.loc[2, "text"] = None
        frame.to_parquet(path)
    elif suffix == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == "csv.gz":
        frame.to_csv(path, index=False)
    else:
        path.write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n\n")
    documents, _ = read_documents(_table(train_path=str(path)), [path])
    assert documents["label"].tolist()[:4] == ["1", "0", "1", "0"]
    assert documents["text"].tolist()[:4] == ["A fine film.", "Terrible.", "", "   "]


def test_format_setting_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text("review\tsentiment\tdoc\nGood, really good.\tpos\td7\nMeh.\tneg\td3\n")
    cfg = _table(train_path=str(path), format="tsv", text_column="review",
                 label_column="sentiment", id_column="doc")
    documents, _ = read_documents(cfg, [path])
    assert documents["id"].tolist() == ["d3", "d7"]  # sorted by id
    assert documents["text"].tolist() == ["Meh.", "Good, really good."]


def test_splits_from_three_files(tmp_path: Path) -> None:
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.csv").write_text(f"text,label\n{split} one,a\n{split} two,b\n")
    cfg = _table(train_path=str(tmp_path / "train.csv"), test_path=str(tmp_path / "test.csv"),
                 validation_path=str(tmp_path / "valid.csv"))
    files = dataset_files(cfg, tmp_path, None)
    documents, _ = read_documents(cfg, files)
    assert documents["source_split"].tolist() == ["train"] * 2 + ["validation"] * 2 + ["test"] * 2
    assert documents["id"].tolist()[2:4] == ["validation-0", "validation-1"]
    assert documents["text"].tolist()[-1] == "test two"


def test_latin1_csv_is_decoded_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes("text,label\ncaf\u00e9 ok,a\n".encode() + b"costs \xa3600m,b\nplain,a\n")
    documents, stats = read_documents(_table(train_path=str(path)), [path])
    assert documents["text"].tolist() == ["caf\u00e9 ok", "costs \u00a3600m", "plain"]
    assert stats.non_utf8_files == 1
    assert any("not valid UTF-8" in note for note in stats.notes)


def test_latin1_jsonl_line_is_decoded_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"text": "\xa35", "label": "x"}\n' + '{"text": "\u20ac5", "label": "y"}\n'
                     .encode())
    documents, stats = read_documents(_table(train_path=str(path)), [path])
    assert documents["text"].tolist() == ["\u00a35", "\u20ac5"]
    assert stats.non_utf8_files == 1


def test_missing_label_column(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("text,category\nhello,a\n")
    with pytest.raises(DataError) as info:
        read_documents(_table(train_path=str(path)), [path])
    message = str(info.value)
    assert str(path) in message and "'label'" in message and "'category'" in message
    assert "dataset.label_column" in message


def test_missing_text_column(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"body": "hello", "label": "a"}\n')
    with pytest.raises(DataError, match=r"no column 'text'.*'body'.*dataset\.text_column"):
        read_documents(_table(train_path=str(path)), [path])


def test_empty_labels_name_rows(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    lines = ["text,label"] + [f"doc {i},{'' if i % 2 else 'a'}" for i in range(20)]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        read_documents(_table(train_path=str(path)), [path])
    message = str(info.value)
    assert str(path) in message
    assert "data rows 2, 4, 6, 8, 10, ... (10 in all)" in message


def test_missing_file_names_setting(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,label\na,b\n")
    cfg = _table(train_path=str(tmp_path / "train.csv"), test_path="no/such/test.csv")
    with pytest.raises(DataError, match=r"dataset\.test_path.*no/such/test\.csv"):
        dataset_files(cfg, tmp_path, None)
    with pytest.raises(DataError, match=r"dataset\.train_path"):
        dataset_files(OmegaConf.create(_table(train_path="???")), tmp_path, None)


def test_unknown_extension_and_bad_format(tmp_path: Path) -> None:
    path = tmp_path / "train.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError, match=r"\.csv.*\.parquet.*dataset\.format"):
        read_documents(_table(train_path=str(path)), [path])
    with pytest.raises(DataError, match=r"dataset\.format is 'excel'"):
        read_documents(_table(train_path=str(path), format="excel"), [path])


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("train.csv", b'text,label\n"never closed,1\nx,2\n', "could not be read as csv"),
        ("train.csv", b"", "is empty"),
        ("train.jsonl", b'{"text": "a", "label": 1}\n{"text": oops}\n', "line 2 is not valid"),
        ("train.parquet", b"not parquet at all", "could not be read as parquet"),
    ],
)
def test_unparseable_files(tmp_path: Path, name: str, content: bytes, pattern: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=pattern) as info:
        read_documents(_table(train_path=str(path)), [path])
    assert str(path) in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("id,text,label\nx,a,1\ny,b,0\nx,c,1\n")
    with pytest.raises(DataError, match=r"train\.csv.*'x' at row 3.*dataset\.id_column"):
        read_documents(_table(train_path=str(path), id_column="id"), [path])
    test = tmp_path / "test.csv"
    test.write_text("id,text,label\nz,a,1\ny,b,0\n")
    path.write_text("id,text,label\nx,a,1\ny,b,0\n")
    cfg = _table(train_path=str(path), test_path=str(test), id_column="id")
    with pytest.raises(DataError, match=r"'y' at row 2 \(also in .*train\.csv\)"):
        read_documents(cfg, [path, test])


def test_nullable_integer_gap_is_a_missing_label(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": pd.array([1, 0, None], "Int64")})
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"1 row\(s\) have an empty or missing label.*rows 3 "):
        read_documents(_table(train_path=str(path)), [path])


def test_group_column_is_read_and_blank_groups_name_rows(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("text,label,user\nA fine film.,1, u7 \nTerrible.,0,u3\nMeh.,0,u7\n")
    documents, _ = read_documents(_table(train_path=str(path), group_column="user"), [path])
    assert documents["group"].tolist() == ["u7", "u3", "u7"]
    documents, _ = read_documents(_table(train_path=str(path)), [path])  # no group column
    assert documents["group"].tolist() == ["", "", ""]
    path.write_text("text,label,user\nA fine film.,1,u7\nTerrible.,0,\nMeh.,0,  \n")
    with pytest.raises(DataError, match=r"train\.csv: 2 row\(s\) have an empty or missing group "
                                        r"\(column 'user'\): data rows 2, 3 .*group_column=null"):
        read_documents(_table(train_path=str(path), group_column="user"), [path])
    with pytest.raises(DataError, match=r"no column 'film'.*dataset\.group_column"):
        read_documents(_table(train_path=str(path), group_column="film"), [path])


def test_header_only_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("text,label\n")
    with pytest.raises(DataError, match=r"train\.csv has no data rows.*dataset\.train_path"):
        read_documents(_table(train_path=str(path)), [path])


# ── fingerprint ──────────────────────────────────────────────────────────────────────────────

def test_fingerprint_tracks_bytes_and_settings(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    payload = b"x" * 3_000_000  # more than one hashing chunk
    (first / "bbc-fulltext.zip").write_bytes(payload)
    (second / "bbc-fulltext.zip").write_bytes(payload)
    cfg = {**BBC, "classes": ["sport", "tech"]}
    key = fingerprint([first / "bbc-fulltext.zip"], cfg)
    # Same name and bytes elsewhere (mirror vs cache), DictConfig vs dict, class order,
    # settings that do not affect reading: same key.
    assert fingerprint([second / "bbc-fulltext.zip"], cfg) == key
    assert fingerprint([first / "bbc-fulltext.zip"], OmegaConf.create(cfg)) == key
    assert fingerprint([first / "bbc-fulltext.zip"], {**cfg, "classes": ["tech", "sport"]}) == key
    assert fingerprint([first / "bbc-fulltext.zip"], {**cfg, "max_words": 7}) == key
    # One changed byte, or another class subset: new key.
    (second / "bbc-fulltext.zip").write_bytes(payload[:-1] + b"y")
    assert fingerprint([second / "bbc-fulltext.zip"], cfg) != key
    assert fingerprint([first / "bbc-fulltext.zip"], {**cfg, "classes": ["sport"]}) != key
    assert fingerprint([first / "bbc-fulltext.zip"], {**cfg, "classes": None}) != key


def test_fingerprint_tracks_table_settings(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("text,label\na,b\n")
    cfg = _table(train_path=str(path))
    key = fingerprint([path], cfg)
    assert fingerprint([path], dict(cfg)) == key
    assert fingerprint([path], {**cfg, "label_column": "y"}) != key
    assert fingerprint([path], {**cfg, "format": "tsv"}) != key
    assert fingerprint([path], {**cfg, "group_column": "user"}) != key
    assert fingerprint([path], {**cfg, "train_path": str(tmp_path / "x.csv")}) == key


def test_dataset_files_reads_mirror_in_place(mirror_dir: Path, tmp_path: Path) -> None:
    files = dataset_files(BBC, tmp_path / "raw", mirror_dir)
    assert files == [mirror_dir / "bbc-fulltext.zip"]
    assert not (tmp_path / "raw").exists()
    with pytest.raises(DataError, match=r"dataset\.kind.*bbc, imdb, reuters, tang, zhang, table"):
        dataset_files({"kind": "yelp"}, tmp_path, mirror_dir)
