"""What `make data` prints: sizes, length percentiles, vocabulary, unknown words, truncation."""

from __future__ import annotations

import numpy as np

from han.data.prepare import PreparedData
from han.data.splits import SPLITS

PERCENTILES = (50, 90, 99)


def _percentiles(values: np.ndarray) -> dict[str, int]:
    if len(values) == 0:
        return {f"p{p}": 0 for p in PERCENTILES} | {"max": 0}
    out = {f"p{p}": int(np.percentile(values, p)) for p in PERCENTILES}
    return out | {"max": int(values.max())}


def data_summary(data: PreparedData) -> dict:
    """A plain dict, also written next to every run as `data_summary.json`."""
    train = data.splits["train"]
    docs = {
        name: {
            "total": len(part),
            **{c: int((part.labels == i).sum()) for i, c in enumerate(data.classes)},
        }
        for name, part in data.splits.items()
    }
    unknown = {
        name: round(float((part.tokens == data.vocabulary.unk_id).mean()), 4)
        if len(part.tokens) else 0.0
        for name, part in data.splits.items()
    }
    views = {}
    for flat in (False, True):
        truncated = {s: data.view(s, flat).stats.__dict__ for s in SPLITS}
        views["flat" if flat else "hierarchical"] = truncated
    return {
        "dataset": data.name,
        "classes": data.classes,
        "documents": docs,
        "sentences_per_document": _percentiles(train.doc_sentences),
        "words_per_sentence": _percentiles(train.sentence_lengths),
        "words_per_document": _percentiles(train.doc_tokens),
        "vocabulary_size": len(data.vocabulary),
        "unknown_word_rate": unknown,
        "view": data.view_settings.to_json(),
        "truncation": views,
        **data.counts,
    }


def format_summary(summary: dict) -> str:
    """A human-readable table of the summary."""
    lines = [f"dataset {summary['dataset']}: classes {', '.join(summary['classes'])}"]
    lines.append("documents per split and class:")
    for split, row in summary["documents"].items():
        per_class = ", ".join(f"{k} {v}" for k, v in row.items() if k != "total")
        lines.append(f"  {split:<10} {row['total']:>6}   ({per_class})")
    for key in ("sentences_per_document", "words_per_sentence", "words_per_document"):
        stats = "  ".join(f"{k} {v}" for k, v in summary[key].items())
        lines.append(f"{key.replace('_', ' ')} (train): {stats}")
    lines.append(f"vocabulary size: {summary['vocabulary_size']} (ids 0 pad, 1 unknown)")
    rates = ", ".join(f"{k} {v:.2%}" for k, v in summary["unknown_word_rate"].items())
    lines.append(f"unknown-word rate: {rates}")
    view = summary["view"]
    derived = view.get("derived_from_train_p99") or []
    lines.append(
        f"view: L={view['max_sentences']} sentences x T={view['max_words']} words; "
        f"flat N={view['max_tokens']} words ({view['keep_words']})"
        + (f"; {' and '.join(derived)} from the training split's p99" if derived else "")
    )
    for name, per_split in summary["truncation"].items():
        for split, stats in per_split.items():
            lines.append(
                f"  {name:<12} {split:<10} docs truncated {stats['docs_truncated']}, "
                f"sentences wrapped {stats['sentences_wrapped']}, "
                f"sentences cut {stats['sentences_truncated']}, words dropped {stats['words_dropped']}"
            )
    if "train_docs_before_sample" in summary:  # dataset.max_train_docs
        lines.append(f"training documents: a sample of {summary['documents']['train']['total']} "
                     f"of {summary['train_docs_before_sample']} (dataset.max_train_docs)")
    lines.append(f"documents with no sentence (skipped): {summary['docs_without_sentences']}")
    dup = summary.get("duplicates") or {}
    if dup.get("mode", "off") != "off":
        removed = ", ".join(f"{k} {v}" for k, v in dup["removed_by_source_split"].items())
        kept = ", ".join(f"{k} {v}" for k, v in dup["survivors_by_split"].items())
        lines.append(
            f"duplicates (dataset.dedup={dup['mode']}): {dup['groups']} groups "
            f"({dup['exact_groups']} exact) over {dup['documents_in_groups']} documents; "
            f"removed {dup['removed']} (from source split: {removed}); the surviving copy per "
            f"split: {kept}; official test twins kept {dup['official_test_twins_kept']}; "
            f"groups with conflicting labels {dup['conflicting_label_groups']}")
    lines.append(f"documents cut at max_chars: {summary['docs_cut_at_max_chars']}")
    lines.append(f"files decoded with the Latin-1 fallback: {summary['non_utf8_files']}")
    return "\n".join(lines)
