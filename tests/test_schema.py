"""The schema (han/schema.py) is the one home of a setting's default: no code restates one."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from han import schema

HAN = Path(__file__).resolve().parents[1] / "han"
# Reads of records, not of settings: data_summary.json's "view" of runs made before it recorded
# keep_words and wrap_long_sentences; a finished run's metrics.json; the logger of a run saved
# before the logger group existed (#26: it wrote TensorBoard).
RECORDS = {("han/data/encode.py", "from_json"), ("han/train.py", "_claim"),
           ("han/trackers.py", "final_metrics"), ("han/trackers.py", "logger_name")}


def _setting_names() -> set[str]:
    names: set[str] = set()
    pending = [*schema.DATASETS.values(), *schema.MODELS.values(), *schema.NETWORKS.values(),
               schema.TrainerSettings,
               schema.RuntimeSettings, schema.PathsSettings]
    while pending:
        cls = pending.pop()
        for f in dataclasses.fields(cls):
            names.add(f.name)
            if dataclasses.is_dataclass(f.default_factory if f.default_factory is not
                                        dataclasses.MISSING else None):
                pending.append(f.default_factory)
    return names


def _defaulted_gets(path: Path, names: set[str]) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
        where = (str(path.relative_to(HAN.parent)), func.name)
        if where in RECORDS:
            continue
        for node in ast.walk(func):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and len(node.args) == 2
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value in names
                    and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)):
                found.append(f"{where[0]}:{node.lineno} {where[1]}: .get({node.args[0].value!r}, "
                             f"{ast.unparse(node.args[1])})")
    return found


def test_no_code_restates_a_schema_default_with_get():
    names = _setting_names()
    assert {"min_count", "dropout", "embedding_init", "monitor", "keep_words", "filter_widths",
            "lstm_units", "max_chars"} <= names
    found = [hit for path in sorted(HAN.rglob("*.py")) for hit in _defaulted_gets(path, names)]
    assert not found, "\n".join(found)


def test_a_mapping_gets_the_schemas_defaults_and_an_unknown_key_is_named():
    dataset = schema.typed("dataset", {"kind": "table", "train_path": "x.csv"})
    assert (dataset.vocab.min_count, dataset.keep_words, dataset.text_column) == (6, "head", "text")
    model = schema.typed("model", {"name": "f", "family": "flat"})
    assert (model.dropout, model.word_dropout, model.embedding_init) == (0.0, 0.0, "word2vec")
    try:
        schema.typed("model", {"name": "f", "family": "flat", "sentence_dropout": 0.1})
    except schema.SettingsError as err:
        assert "sentence_dropout" in str(err) and "FlatModel" in str(err)
    else:
        raise AssertionError("a flat model took a hierarchical model's setting")


def test_the_selection_rule_prefers_the_score_then_the_lower_loss():
    macro = schema.Monitor("macro_f1")
    assert macro.score({"val_macro_f1": 0.9}, prefix="val_") == 0.9
    assert schema.Monitor("loss").score({"loss": 0.3}) == -0.3
    assert macro.score({}) == float("-inf")  # a missing score is never chosen
    assert schema.better(1.0, 0.10, 1.0, 0.20) and not schema.better(1.0, 0.30, 1.0, 0.20)
    assert schema.better(1.01, 0.90, 1.0, 0.20) and not schema.better(0.99, 0.01, 1.0, 0.20)
    assert schema.better(0.0, 5.0, float("-inf"), float("inf"))
