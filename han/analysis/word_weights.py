"""The paper's Figures 3-4 for any run and word: the distribution of a word's attention weight.

Yang et al. (2016, section 3.5) plot, for every occurrence of `good` (Figure 3) and `bad`
(Figure 4) in the test documents, its word attention weight α_it (eq. 6: the word's share of its
sentence, in [0, 1]) — over all documents (a), then per rating of the review (b-f). Here the same
quantity α_it is plotted per class and, where the dataset has them (IMDB: `<id>_<rating>.txt`),
per rating. α_it depends on the sentence's length (a word of an n-word sentence gets 1/n under
uniform attention), so the table also gives n·α_it, the weight relative to uniform.

`python -m han.analysis.word_weights <run> [<run> ...] --words good,bad [--out DIR]`
(`make attention-stats RUN=<run> WORDS=good,bad`) writes the records of every occurrence
(word_attention.csv.gz), a table (word_attention.md / .csv) and one PNG per word.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from han.analysis.tables import markdown
from han.io import atomic_write_text

BINS = np.linspace(0.0, 1.0, 21)


def occurrences(docs, words: Sequence[str], batch_size: int = 64,
                chosen: np.ndarray | None = None) -> pd.DataFrame:
    """One row per occurrence of each word (case-folded) in a run's test documents (or those at
    `chosen`): the word, the document's id, label, rating (-1: none) and prediction, α_it, the
    sentence length n and α_i."""
    from han.explain import explain_batch

    lexicon = np.asarray([str(w).casefold() for w in docs.lexicon])
    targets = {w.casefold(): np.flatnonzero(lexicon == w.casefold()) for w in words}
    ratings, labels, ids = docs.ratings(), docs.labels, docs.ids
    classes = np.asarray(docs.classes)
    parts = []
    chosen = np.arange(len(docs)) if chosen is None else np.asarray(chosen)
    every = np.concatenate(list(targets.values()))
    # Only documents holding a studied word go through the model (on IMDB about half of them).
    holding = [chosen[i : i + 1024][np.isin(docs.words(chosen[i : i + 1024]), every).any((1, 2))]
               for i in range(0, len(chosen), 1024)]
    chosen = np.concatenate(holding) if holding else chosen
    for start in range(0, len(chosen), batch_size):
        indices = chosen[start : start + batch_size]
        ids_batch, words_batch = docs.padded(indices), docs.words(indices)
        out = explain_batch(docs.run.model, ids_batch)
        lengths = (ids_batch != 0).sum(-1)  # (B, L)
        predicted = classes[out["probabilities"].argmax(-1)]
        for word, lex_ids in targets.items():
            hit = np.isin(words_batch, lex_ids) & (ids_batch != 0)
            b, s, t = np.nonzero(hit)
            if not len(b):
                continue
            doc = indices[b]
            parts.append(pd.DataFrame({
                "word": word, "id": ids[doc], "label": labels[doc], "rating": ratings[doc],
                "predicted": predicted[b], "alpha_word": out["word_attention"][b, s, t],
                "sentence_words": lengths[b, s], "alpha_sentence": out["sentence_attention"][b, s],
            }))
    columns = ["word", "id", "label", "rating", "predicted", "alpha_word", "sentence_words",
               "alpha_sentence"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    for key, value in reversed(docs.provenance().items()):
        frame.insert(0, key, value)
    return frame


def groups(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(name, rows): all, each class, each rating present."""
    out = [("all", frame)]
    out += [(f"class {c}", g) for c, g in frame.groupby("label", sort=True)]
    out += [(f"rating {int(r)}", g) for r, g in frame[frame["rating"] >= 0].groupby("rating")]
    return out


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per word, run and group: occurrences, documents, mean / quartiles of α_it, mean n·α_it."""
    rows = []
    for (word, _run, model, seed), rows_of in frame.groupby(["word", "run", "model", "seed"], sort=True):
        for name, g in groups(rows_of):
            a = g["alpha_word"]
            rows.append({"word": word, "model": model, "seed": seed, "group": name,
                         "occurrences": len(g), "documents": g["id"].nunique(),
                         "mean α": a.mean(), "q25 α": a.quantile(0.25), "median α": a.median(),
                         "q75 α": a.quantile(0.75), "share α>0.5": (a > 0.5).mean(),
                         "mean n·α": (a * g["sentence_words"]).mean()})
    return pd.DataFrame(rows)


def figure(frame: pd.DataFrame, word: str, path: Path) -> Path:
    """Figures 3-4 as the paper draws them: histograms of α_it on [0, 1], the aggregate first,
    then one panel per class and per rating; one step line per run (seed), normalised to 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = frame[frame["word"] == word]
    panels = groups(rows)
    cols = min(len(panels), 5)
    lines = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(lines, cols, figsize=(3.0 * cols, 2.4 * lines), squeeze=False,
                             sharex=True)
    for ax, (name, g) in zip(axes.ravel(), panels, strict=False):
        for seed, s in g.groupby("seed"):
            weights = np.full(len(s), 1.0 / len(s))
            ax.hist(s["alpha_word"], bins=BINS, weights=weights, histtype="step",
                    label=f"seed {seed}")
        ax.set_title(f"{name} (n={len(g)})", fontsize=9)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    axes[0, 0].set_ylabel("share of occurrences", fontsize=8)
    model = ", ".join(sorted(map(str, rows["model"].unique())))
    fig.suptitle(f"word attention α of '{word}' in the test documents ({model})", fontsize=10)
    fig.supxlabel("α (the word's weight in its sentence, eq. 6)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_outputs(frame: pd.DataFrame, out: Path) -> list[Path]:
    """Table (Markdown and CSV) and one figure per word, from the occurrence records."""
    summary = table(frame)
    summary.to_csv(out / "word_attention.csv", index=False, float_format="%.4f")
    atomic_write_text(out / "word_attention.md", markdown(summary))
    written = [out / "word_attention.md", out / "word_attention.csv"]
    for word in sorted(frame["word"].unique()):
        written.append(figure(frame, word, out / f"word_attention_{word}.png"))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    from han.analysis.runs import load_test_docs, sample

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", type=Path, nargs="+", help="finished runs of a hierarchical model")
    parser.add_argument("--words", default="good,bad", help="comma-separated words")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: the first run's)")
    parser.add_argument("--sample", type=int, default=0,
                        help="seeded sample of test documents per run (0: all of them)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    args = parser.parse_args(argv)
    words = [w.strip() for w in args.words.split(",") if w.strip()]
    if not words:
        raise ValueError("--words is empty: give e.g. --words good,bad")
    parts = []
    for run_dir in args.run_dirs:
        docs = load_test_docs(run_dir)
        chosen = sample(len(docs), args.sample, args.seed)
        parts.append(occurrences(docs, words, chosen=chosen).assign(sample_size=len(chosen)))
    frame = pd.concat(parts, ignore_index=True)
    missing = sorted(set(w.casefold() for w in words) - set(frame["word"]))
    if missing:
        print(f"note: no occurrence in the test documents of {', '.join(missing)}")
    if frame.empty:
        raise ValueError(f"none of {words} occurs in the test documents: choose other words")
    out = args.out or args.run_dirs[0]
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "word_attention.csv.gz", index=False, float_format="%.6g",
                 compression={"method": "gzip", "mtime": 0})
    for path in write_outputs(frame, out):
        print(f"wrote {path}")
    print(f"records: {out / 'word_attention.csv.gz'}")
    return 0


if __name__ == "__main__":
    from han.cli import entry

    entry(main)()
