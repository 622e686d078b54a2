"""A comparison shaped like Yang et al. (2016), Table 2, and the questions it is built to answer.

`make compare EXPERIMENT=table2 DATASET=<name>` (or ``python -m experiments.compare <sweep>
--table2``; a sweep of ``experiment=table2`` is recognised by its jobs' overrides) adds to
`comparison.md`, and writes as `table2.md`:

1. the rows grouped as the paper groups them (Zhang et al. 2015, Tang et al. 2015, this paper),
   each with our pooled test accuracy and, where the dataset is one of the paper's, the paper's
   own figure quoted beside it (`PAPER`); rows we do not reproduce say why;
2. paired tests over the same test documents (`experiments.paired.significance`, i.e.
   `experiments.stats`), Holm-adjusted together across every test of this section:
   does hierarchy help without attention (a GRNN against the flat model that builds its sentence
   vectors the same way), does attention help within the hierarchy (HN-ATT against HN-AVE,
   HN-MAX and the GRNNs; HN-AVE against LSTM-GRNN), and does either beat the best linear row
   (picked on mean validation score, trainer.monitor, never test)?
3. our ranking of the rows beside the paper's (`ranking`), with Kendall's tau-b.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from .headline import accuracy_cell, difference
from .paired import TEST_COLUMNS, best_baselines, significance
from .stats import holm

# The paper's columns and the dataset configs that are those corpora (docs/PAPER_DATASETS.md).
PAPER_COLUMNS = {"yelp13": "Yelp'13", "yelp14": "Yelp'14", "yelp15": "Yelp'15",
                 "imdb10": "IMDB", "yahoo": "Yahoo Answer", "amazon_full": "Amazon"}
ZHANG, TANG, OURS = "Zhang et al., 2015", "Tang et al., 2015", "Yang et al., 2016 (this paper)"
GROUPS = (ZHANG, TANG, OURS)
_ = None  # "—" in the paper: the row was not run on that dataset


@dataclass(frozen=True)
class Row:
    """One row of the paper's Table 2: its group, its name there, our `model=` (None: not
    reproduced), the paper's test accuracy (%) per PAPER_COLUMNS, and why it is missing."""

    group: str
    method: str
    model: str | None
    paper: tuple[float | None, ...]
    missing: str = ""


# Yang et al. (2016), Table 2 (test accuracy, %), in the paper's order; the figures are the
# paper's, transcribed (docs/TABLE2.md says how they were checked). Columns: PAPER_COLUMNS.
ROWS = (
    Row(ZHANG, "BoW TFIDF", "tfidf_lr", (_, _, 59.9, _, 71.0, 55.3)),
    Row(ZHANG, "ngrams TFIDF", "ngram_tfidf_lr", (_, _, 54.8, _, 68.5, 52.4)),
    Row(ZHANG, "LSTM", "lstm", (_, _, 58.2, _, 70.8, 59.4)),
    Row(ZHANG, "CNN-char", "cnn_char", (_, _, 62.0, _, 71.2, 59.6)),
    Row(ZHANG, "CNN-word", "cnn_word", (_, _, 60.5, _, 71.2, 57.6)),
    Row(TANG, "Majority", "majority", (35.6, 36.1, 36.9, 17.9, _, _)),
    Row(TANG, "SVM + Unigrams", "svm_unigram", (58.9, 60.0, 61.1, 39.9, _, _)),
    Row(TANG, "SVM + Bigrams", "svm_bigram", (57.6, 61.6, 62.4, 40.9, _, _)),
    Row(TANG, "SVM + TextFeatures", None, (59.8, 61.8, 62.4, 40.5, _, _),
        "not reproduced: needs sentiment lexicons and word clusters (Kiritchenko et al. 2014)"),
    Row(TANG, "SVM + AverageSG", "svm_avgsg", (54.3, 55.7, 56.8, 31.9, _, _)),
    Row(TANG, "SVM + SSWE", None, (53.5, 54.3, 55.4, 26.2, _, _),
        "not reproduced: needs sentiment-specific word embeddings (Tang et al. 2014)"),
    Row(TANG, "Paragraph Vector", "paragraph_vector", (57.7, 59.2, 60.5, 34.1, _, _)),
    Row(TANG, "RNTN + Recurrent", None, (57.4, 58.2, 59.0, 40.0, _, _),
        "not reproduced: needs parse trees for a recursive tensor network (Socher et al. 2013)"),
    Row(TANG, "CNN-word", "cnn_word", (59.7, 61.0, 61.5, 37.6, _, _)),
    Row(TANG, "Conv-GRNN", "conv_grnn", (63.7, 65.5, 66.0, 42.5, _, _)),
    Row(TANG, "LSTM-GRNN", "lstm_grnn", (65.1, 67.1, 67.6, 45.3, _, _)),
    Row(OURS, "HN-AVE", "han_avg", (67.0, 69.3, 69.9, 47.8, 75.2, 62.9)),
    Row(OURS, "HN-MAX", "han_max", (66.9, 70.3, 71.0, 48.2, 75.2, 62.9)),
    Row(OURS, "HN-ATT", "han", (68.2, 70.5, 71.0, 49.4, 75.8, 63.6)),
)
# Every model= of the table (conf/experiment/table2.yaml sweeps them).
MODELS = tuple(dict.fromkeys(r.model for r in ROWS if r.model))
# Opens the paired tests' part of the section, which compare also writes alone (table2_tests.md)
# for docs/RESULTS.md to include.
TESTS_HEADING = "### Does hierarchy help, does attention help?"
BEST_LINEAR = "best linear"  # the linear row validation picks (paired.best_baselines)
# (question, candidate, reference): candidate minus reference, paired over the same documents.
QUESTIONS = (
    ("hierarchy without attention", "lstm_grnn", "lstm"),
    ("hierarchy without attention", "conv_grnn", "cnn_word"),
    ("attention within the hierarchy", "han", "han_avg"),
    ("attention within the hierarchy", "han", "han_max"),
    ("attention within the hierarchy", "han", "lstm_grnn"),
    ("attention within the hierarchy", "han_avg", "lstm_grnn"),
    ("either beats the best linear row", "lstm_grnn", BEST_LINEAR),
    ("either beats the best linear row", "conv_grnn", BEST_LINEAR),
    ("either beats the best linear row", "han", BEST_LINEAR),
)


def wanted(runs: pd.DataFrame, forced: bool = False) -> bool:
    """Whether a comparison gets the Table 2 section: asked for, or an experiment=table2 sweep."""
    overrides = runs["overrides"].fillna("").astype(str) if "overrides" in runs else []
    return forced or any("experiment=table2" in o.split() for o in overrides)


def _paper(row: Row, dataset: str) -> str:
    if dataset not in PAPER_COLUMNS:
        return ""
    value = row.paper[list(PAPER_COLUMNS).index(dataset)]
    return "—" if value is None else f"{value:.1f}"


def shaped(table: pd.DataFrame, dataset: str) -> str:
    """One dataset's Table 2: rows in the paper's groups and order, ours beside the paper's."""
    rows = table[table["dataset"] == dataset].set_index("model")
    in_paper = dataset in PAPER_COLUMNS
    header = ["", "Methods (Table 2)", "model=", f"ours, {dataset}: test acc % [95% CI] (runs)"]
    if in_paper:
        header.append(f"paper, {PAPER_COLUMNS[dataset]}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in GROUPS:
        lines.append("| **" + group + "** |" + " |" * (len(header) - 1))
        for row in (r for r in ROWS if r.group == group):
            if row.model is None:
                ours = row.missing
            elif row.model in rows.index:
                ours = accuracy_cell(rows.loc[row.model])
            else:
                ours = "no runs"
            cells = ["", row.method, row.model or "—", ours]
            if in_paper:
                cells.append(_paper(row, dataset))
            lines.append("| " + " | ".join(cells) + " |")
    extra = sorted(set(rows.index) - set(MODELS))
    if extra:
        lines.append("| **not in Table 2** |" + " |" * (len(header) - 1))
        lines += ["| | | " + m + " | " + accuracy_cell(rows.loc[m]) + " |" + (" |" if in_paper else "")
                  for m in extra]
    return "\n".join(lines)


# Outside the paper's datasets our ranking is set beside the paper's on Yelp'15, the one column
# in which every row of Table 2 has a figure.
RANKED_AGAINST = "yelp15"


def ranking(table: pd.DataFrame, dataset: str) -> list[str]:
    """Our rows ranked by pooled test accuracy beside the paper's ranking of the same rows.

    The paper's column is the dataset's own where it is one of the paper's, else
    RANKED_AGAINST; a model in two rows (CNN-word) takes its later row's figure (Tang et al.,
    the group the GRNN question pairs it with). Ranks are 1 = best, ties sharing the best rank.
    Kendall's tau-b (scipy) says how far the two orders agree over the rows both rank.
    """
    column = dataset if dataset in PAPER_COLUMNS else RANKED_AGAINST
    paper = {r.model: r.paper[list(PAPER_COLUMNS).index(column)] for r in ROWS if r.model}
    rows = table[table["dataset"] == dataset].set_index("model")
    accuracy = rows["test_accuracy_pooled"].fillna(rows["test_accuracy_mean"])
    both = [m for m in MODELS if m in rows.index and paper.get(m) is not None]
    if len(both) < 2:
        return []
    ours = pd.Series({m: accuracy[m] for m in both})
    theirs = pd.Series({m: paper[m] for m in both})
    rank_ours = ours.rank(ascending=False, method="min").astype(int)
    rank_theirs = theirs.rank(ascending=False, method="min").astype(int)
    tau = kendalltau(ours.to_numpy(), theirs.to_numpy()).statistic
    name = PAPER_COLUMNS[column]
    lines = [f"Ranked: ours on {dataset} beside the paper's on {name}"
             + ("" if column == dataset else " (the paper's column where every row has a figure)")
             + f"; Kendall's τ-b {tau:+.2f} over {len(both)} rows.", "",
             f"| model= | ours, {dataset} (rank) | paper, {name} (rank) | places moved |",
             "|---|---|---|---|"]
    for model in sorted(both, key=lambda m: (rank_ours[m], m)):
        moved = int(rank_theirs[model] - rank_ours[model])
        lines.append(f"| {model} | {100 * ours[model]:.2f} ({rank_ours[model]}) "
                     f"| {theirs[model]:.1f} ({rank_theirs[model]}) | {moved:+d} |")
    return lines + ["", "Places moved: the paper's rank minus ours (+: higher here than there)."]


def best_linear(runs: pd.DataFrame) -> str | None:
    """The linear row validation picks on one dataset's runs (compare's rule), never test."""
    return next(iter(best_baselines(runs).values()), None)


def tests(runs: pd.DataFrame, n_resamples: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Every question's paired test on every dataset, Holm-adjusted together."""
    rows, notes = [], []
    for dataset, ds_runs in runs.groupby("dataset", sort=True):
        best = best_linear(ds_runs)
        for question, candidate, reference in QUESTIONS:
            ref = best if reference == BEST_LINEAR else reference
            row = {"dataset": dataset, "question": question, "candidate": candidate,
                   "reference": reference if ref is None else ref}
            have = set(ds_runs["model"])
            absent = [m for m in (candidate, ref) if m is None or m not in have]
            if absent:
                what = ("no linear row" if ref is None
                        else "no runs of " + ", ".join(f"`{m}`" for m in absent))
                notes.append(f"{dataset}: {candidate} vs {row['reference']}: {what}; not tested.")
                rows.append(row)
                continue
            sig, more = significance(ds_runs, ref, [candidate], n_resamples, seed)
            notes += more
            rows.append(row | (sig.iloc[0][TEST_COLUMNS].to_dict() if len(sig) else {}))
    frame = pd.DataFrame(rows, columns=["dataset", "question", "candidate", "reference",
                                        *TEST_COLUMNS])
    frame["p_holm"] = holm(frame["p"].to_numpy(dtype=float)) if len(frame) else np.array([])
    return frame, notes


def section(table: pd.DataFrame, runs: pd.DataFrame, n_resamples: int, seed: int) -> list[str]:
    """The Markdown of the Table 2 section: per dataset its table, then the paired tests."""
    md = ["## Table 2 (Yang et al. 2016), as these runs fill it", "",
          "Test accuracy (%) pooled over every run's test documents, with its 95% bootstrap "
          "interval over documents; the paper's figure beside it where the dataset is one of "
          "the paper's (its test sets, not ours unless the dataset is the paper's own). "
          "docs/TABLE2.md: what each row is and how it departs from its reference.", ""]
    for dataset in sorted(table["dataset"].unique()):
        md += [f"### {dataset}", "", shaped(table, dataset), ""]
        if dataset not in PAPER_COLUMNS:
            md += [f"{dataset} is not one of the paper's datasets: no paper figure to quote.",
                   ""]
        ranked = ranking(table, dataset)
        md += [*ranked, ""] if ranked else []
    frame, notes = tests(runs, n_resamples, seed)
    md += [TESTS_HEADING, "",
           "Candidate minus reference, paired over the same test documents: Δ accuracy "
           "[95% bootstrap CI], two-sided paired permutation p, and p Holm-adjusted over every "
           "test of this section. Best linear row: picked on mean validation score "
           "(trainer.monitor, a tie going to the lower loss).", "",
           "| dataset | question | candidate | reference | Δacc [95% CI], p (Holm) | paired seeds |",
           "|---|---|---|---|---|---|"]
    for r in frame.to_dict("records"):
        tested = not pd.isna(r.get("delta_accuracy"))
        cell = difference(r | {"p_holm": r["p_holm"]}) if tested else "n/a"
        seeds = str(int(r["n_paired"])) if tested else "0"
        md.append(f"| {r['dataset']} | {r['question']} | {r['candidate']} | {r['reference']} "
                  f"| {cell} | {seeds} |")
    if notes:
        md += ["", *[f"- {n}" for n in notes]]
    return md + [""]
