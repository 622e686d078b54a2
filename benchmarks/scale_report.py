"""`make bench-scale`'s table and plot: per-document figures of each size's record
(benchmarks/bench_scale.py), so linear growth shows as a flat line, and peak memory against
documents with its least-squares line: a fixed part (imports, the near-duplicate search's
working arrays, TensorFlow) plus a part per document of this corpus's length. Whether that part
grows with documents or with words takes a second run on shorter documents (`bench.max_words`)."""

from __future__ import annotations

from pathlib import Path

PER_DOC = (  # (column, record key, scale, what it is)
    ("tok ms/doc", "tokenise_cpu_seconds", 1e3, "tokenising CPU ms per document"),
    ("rest ms/doc", "prepare_rest_cpu_seconds", 1e3, "rest of prepare, CPU ms per document"),
    ("prep KB/doc", "prepare_peak_over_base_mb", 2**10, "peak RSS of preparing over its start"),
    ("cache B/word", "cache_bytes_per_word", 1, "cache file bytes per word"),
    ("w2v us/word/pass", "word2vec_cpu_us_per_word_pass", 1, "word2vec CPU per word and pass"),
    ("train KB/doc", "train_peak_over_base_mb", 2**10, "peak RSS of training over its start"),
)


def derived(record: dict) -> dict:
    return record | {
        "prepare_peak_over_base_mb": record["prepare_peak_rss_mb"] - record["prepare_base_rss_mb"],
        "train_peak_over_base_mb": record["train_peak_rss_mb"] - record["train_base_rss_mb"],
        "cache_bytes_per_word": record["cache_mb"] * 2**20 / max(1, record["words"]),
        "word2vec_cpu_us_per_word_pass": 1e6 * record["word2vec_cpu_seconds"] / max(
            1, record["word2vec_passes"] * record["train_split_words"]),
    }


MEMORY = (("prepare_peak_rss_mb", "prepare"), ("train_peak_rss_mb", "train"))


def memory_fit(frame, key: str) -> tuple[float, float]:
    """Peak RSS (MB) = fixed + per_doc × documents, least squares over the sizes: (fixed MB,
    KB per document)."""
    import numpy as np

    slope, intercept = np.polyfit(frame["docs"].to_numpy(float), frame[key].to_numpy(float), 1)
    return float(intercept), float(slope * 2**10)


def report(records: list[dict], out: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame([derived(r) for r in records]).sort_values("docs")
    for column, key, scale, _ in PER_DOC:
        divisor = frame["docs"] if "doc" in column else 1
        frame[column] = (frame[key] * scale / divisor).round(3)
    frame.to_csv(out / "scale.csv", index=False)
    shown = ["docs", "words", *[c for c, *_ in PER_DOC], "train_docs_per_second",
             "train_words_per_second", "eval_docs_per_second", "prepare_peak_rss_mb",
             "train_peak_rss_mb"]
    print(frame[shown].to_string(index=False))
    fits = {key: memory_fit(frame, key) for key, _ in MEMORY} if len(frame) > 1 else {}
    words = float((frame["words"] / frame["docs"]).mean())
    for key, phase in MEMORY:
        if key in fits:
            fixed, per_doc = fits[key]
            print(f"peak RSS, {phase}: {fixed:.0f} MB + {per_doc:.2f} KB/doc "
                  f"({per_doc * 2**10 / words:.1f} B/word at {words:.0f} words/doc)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    for column, *_ in PER_DOC:
        axes[0].plot(frame["docs"], frame[column] / frame[column].iloc[0], marker="o",
                     label=column)
    axes[0].set(xscale="log", xlabel="documents", ylabel="per-document figure ÷ smallest size",
                title="linear growth = a flat line at 1")
    axes[0].axhline(1.0, color="grey", lw=0.5)
    axes[0].legend(fontsize=7)
    for column in ("train_docs_per_second", "eval_docs_per_second"):
        axes[1].plot(frame["docs"], frame[column], marker="o", label=column)
    axes[1].set(xscale="log", yscale="log", xlabel="documents", ylabel="docs/s",
                title="training and evaluation speed")
    axes[1].legend(fontsize=7)
    for key, phase in MEMORY:
        line = axes[2].plot(frame["docs"], frame[key], marker="o", ls="", label=f"{phase} peak")
        if key in fits:
            fixed, per_doc = fits[key]
            axes[2].plot(frame["docs"], fixed + per_doc / 2**10 * frame["docs"],
                         color=line[0].get_color(), lw=0.8,
                         label=f"{fixed:.0f} MB + {per_doc:.1f} KB/doc")
    axes[2].set(xlabel="documents", ylabel="peak RSS (MB)", ylim=(0, None),
                title="peak memory: fixed + per document")
    axes[2].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "scale.png", dpi=110)
    print(f"wrote {out / 'scale.csv'} and {out / 'scale.png'}")
