"""Every resolved config (each preset, dataset, model and group option) is the one recorded
before the typed settings of issue #24 (tests/fixtures/resolved_configs.json, made by
`HAN_SNAPSHOT_CONF=<a main checkout>/conf python tests/config_snapshot.py`: at ab6d5d2, again
at 7838c3e, when issue 26 landed, and at c46e128, when issue 27 and Table 2's linear rows (#22)
landed), except for the intended changes listed here."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from config_snapshot import differences, snapshot

FIXTURE = Path(__file__).parent / "fixtures" / "resolved_configs.json"

# (case pattern, dotted key pattern, why). A difference matching none of these fails the test;
# a key pattern starting with "+" matches only a key added (never one changed or removed).
_LINEAR = ("majority", "ngram_tfidf_lr", "paragraph_vector", "svm_avgsg", "svm_bigram",
           "svm_unigram", "tfidf_lr")
INTENDED: list[tuple[str, str, str]] = [
    ("*", "dataset.tokenizer.drop_punctuation",
     "the schema names every tokenizer setting: false, as the tokenizer read it when absent"),
    ("*", "dataset.tokenizer.pretokenized",
     "the schema names every tokenizer setting: null (raw text), as read when absent"),
    ("model=*tfidf_lr", "model.dropout", "null: lever sets may set it; a linear model ignores it"),
    ("model=*tfidf_lr", "model.embedding_init", "null, as model.dropout"),
    ("model=*tfidf_lr", "model.word_dropout", "null, as model.dropout"),
    *((f"model={name}", "+model.*",
       "a linear row names every LinearModel setting (han/schema.py): features, classifier, the "
       "TF-IDF, word2vec and pv_* settings, each the default the code read when the YAML left "
       "it out; null dropout/embedding_init/word_dropout as for tfidf_lr. No value set changes")
      for name in _LINEAR),
]


def _intended(case: str, key: str) -> bool:
    """`key` is a difference of `config_snapshot.differences`: "+", "-" or "~" and a dotted key."""
    return any(fnmatch.fnmatch(case, c)
               and fnmatch.fnmatch(key if k.startswith("+") else key[1:], k)
               for c, k, _ in INTENDED)


def test_every_resolved_config_is_the_recorded_one_but_for_the_listed_changes():
    before = json.loads(FIXTURE.read_text())
    after = snapshot()
    assert sorted(after) == sorted(before), "a preset, dataset or model was added or removed"
    unexpected = [f"{case}: {diff}" for case in before
                  for diff in differences(before[case], after[case])
                  if not _intended(case, diff)]
    assert not unexpected, "\n".join(unexpected)
