"""Aggregate sweeps, or the committed records of a published table, into comparison tables,
significance tests and a plot.

Usage: ``python -m experiments.compare SOURCE [SOURCE ...] [--reference flat] [--candidate han]
[--bootstrap 10000] [--seed 0] [--dataset NAME ...] [--out DIR] [--publish DIR --title T
--command C ...]``.
A SOURCE is a sweep directory (job directories with metrics.json) or a records directory
(``jobs.csv``, ``predictions.csv.gz``: ``experiments.records``); several sources form one table.
Writes ``comparison.csv``, ``comparison.md`` and ``comparison.png`` into ``--out`` (default: the
first source; never a published table's records unless it alone is rebuilt), and for Table 2
``table2.md`` with its paired tests alone in ``table2_tests.md``. ``--dataset NAME`` keeps one
dataset's jobs of sources that hold several (a published table reusing another table's rows for
one of its datasets). ``--publish DIR`` writes the records and the table into DIR
(docs/results/...); ``python -m experiments.compare DIR`` then rebuilds the same table from the
records alone.

The steps, one module each: ``runs`` reads a sweep (``records`` the committed records);
``levers`` keeps one job per model, seed and fold, chosen on validation; ``folds`` pools a
seed's k-fold jobs; ``summarize`` summarises and ``paired`` tests (``stats``); this module
puts them together; ``render`` and ``headline`` write what people read.

Every test pairs two models on the same test documents, a document's rows from every paired
seed together (``stats``): the difference in accuracy with its 95% bootstrap interval over
documents, and the two-sided paired permutation p. Each model is tested against the reference
(``--reference``, default flat) and every network against its dataset's **best baseline**: the
linear model (``model.family: linear``) with the best mean *validation* score (the jobs'
``trainer.monitor``, a tie going to the lower loss: ``best_baselines``), so the choice never
looks at test. A sweep without baseline jobs uses the bag-of-words baseline each
network run fitted beside itself (``baseline_predictions.csv``). All p-values of one table are
adjusted together by Holm's method; both are printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import records, table2
from .folds import fold_summary, pool_folds
from .headline import headline
from .levers import choices_markdown, choose_levers
from .paired import adjust, against_baselines, significance
from .render import duplicates_markdown, failed_section, plot, to_markdown
from .runs import FailedJob, collect_runs
from .stats import LEVEL
from .summarize import summarize


def load(sources: Sequence[Path]) -> tuple[pd.DataFrame, list[FailedJob], dict]:
    """The runs of every source (sweep or records), their failed jobs, and the records' meta."""
    frames, failed, meta = [], [], {}
    for source in sources:
        if records.is_records(source):
            runs, more, meta_ = records.read_records(source)
            meta = meta or meta_
        else:
            runs, more = collect_runs(source)
            if len(sources) > 1:  # job names must stay apart: prefix the sweep's name
                runs["job"] = source.name + "/" + runs["job"]
                more = [FailedJob(f"{source.name}/{f.job}", f.overrides, f.reason) for f in more]
        frames.append(runs)
        failed += more
    runs = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return runs, failed, meta


def keep_datasets(runs: pd.DataFrame, failed: list[FailedJob], names: Sequence[str]
                  ) -> tuple[pd.DataFrame, list[FailedJob]]:
    """Only the jobs of the datasets `names` (the `dataset` of metrics.json, e.g. reuters_r8).

    A failed job wrote no metrics, so it is kept unless its `dataset=` override differs from
    every kept job's. Names no source holds are an error: a typo would publish an empty table.
    """
    have = set(runs["dataset"])
    missing = [n for n in names if n not in have]
    if missing:
        raise ValueError(f"--dataset {', '.join(missing)}: no job of the sources has it "
                         f"(they hold {', '.join(sorted(have))}); give one of those")
    runs = runs[runs["dataset"].isin(names)].reset_index(drop=True)
    chosen = {o for text in runs["overrides"].fillna("").astype(str)
              for o in text.split() if o.startswith("dataset=")}
    kept = [f for f in failed
            if not any(o.startswith("dataset=") and o not in chosen for o in f.overrides)]
    return runs, kept


def build(runs_all: pd.DataFrame, failed: list[FailedJob], meta: dict,
          args: argparse.Namespace, sweep: Path | None
          ) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """The comparison's Markdown lines, its table, and the runs it summarises (one per model,
    seed and fold after lever choice and pooling), from the runs of every job."""
    title = meta.get("title") or (args.sources[0].name if len(args.sources) == 1 else "comparison")
    md = [f"# Comparison: {title}", ""]
    if meta.get("commands"):
        md += ["Produced by:", "", "```bash", *meta["commands"], "```", ""]
    runs, choices, lever_notes = choose_levers(runs_all)
    runs, fold_notes = pool_folds(runs, sweep)
    if runs.empty:
        return md + ["No completed runs.", "", failed_section(failed), ""], pd.DataFrame(), runs
    sig, notes = significance(runs, args.reference, args.candidate, args.bootstrap, args.seed)
    notes = lever_notes + fold_notes + notes
    table = summarize(runs, args.bootstrap, args.seed).merge(sig, on=["dataset", "model"],
                                                              how="left")
    table["n_paired"] = table["n_paired"].astype("Int64")  # NaN made it float
    table = table.merge(runs.groupby(["dataset", "model"])["family"].first().reset_index(),
                        on=["dataset", "model"], how="left")
    table = adjust(against_baselines(table, runs, args.bootstrap, args.seed, notes))
    folds = fold_summary(runs)
    if not folds.empty:
        table = table.merge(folds, on=["dataset", "model"], how="left")
    level = f"{100 * LEVEL:.0f}%"
    md += [f"Code: {_codes(runs_all)}.", "",
           f"Test accuracy (%) over every run's test documents, with its {level} bootstrap "
           f"interval over documents, and the runs' mean ± sd. The last columns: a model minus "
           "another, paired over the same documents, two-sided paired permutation p and "
           "Holm-adjusted p over every test of this table.", "",
           headline(table, args.reference), "", "## All models", "", to_markdown(table, args.reference), "",
           f"Intervals: {level} percentile bootstrap over documents ({args.bootstrap} resamples, "
           f"seed {args.seed}; a document's rows from every seed resampled together). p: "
           f"two-sided paired permutation test over documents ({args.bootstrap} sign patterns, "
           "exact when fewer exist), H0: the two models are exchangeable on every document; "
           "p Holm: adjusted over all tests of this table. Best baseline: the linear model "
           "with the best mean validation score (trainer.monitor, a tie going to the lower "
           "loss); the networks are tested against it the same way. Documents differ between seeds where the seed draws the split."]
    md += ["", "## Duplicates removed before splitting", "",
           "Per dataset, from the jobs' data_summary.json (`dataset.dedup`, han/data/dedup.py): "
           "one copy of each group survives; an official test set is never changed.", "",
           duplicates_markdown(runs_all)]
    if "fold_sd" in table:
        md += ["", "k-fold: a run is one seed's fold jobs pooled, its accuracy and macro-F1 "
               "computed over every document once (docs/seed); runs are seeds. fold sd: sd "
               "of the per-fold test accuracies, mean over seeds. The paired tests pair a "
               "seed's pooled predictions over all its documents."]
    if not choices.empty:
        md += ["", "## Levers chosen on validation", "",
               "Per model, how many of its (seed, fold) slots chose each lever set, on the "
               "slot's validation split; the tables above use the chosen jobs.", "",
               choices_markdown(choices)]
    if notes:
        md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return md + ["", failed_section(failed), ""], table, runs


def _codes(runs: pd.DataFrame) -> str:
    """Which commits produced the jobs (han.provenance), counted before any pooling."""
    return ", ".join(f"{c} ({n} jobs)" for c, n in runs["code"].value_counts().items())


def _shown(path: Path) -> str:
    """A path as the docs show it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, nargs="+", metavar="SOURCE",
                        help="sweep directories or records directories (docs/results/<name>)")
    parser.add_argument("--reference", default="flat", help="model the others are tested against")
    parser.add_argument("--candidate", action="append", default=None,
                        help="model to test against the reference (repeatable; default: all)")
    parser.add_argument("--bootstrap", type=int, default=10000,
                        help="resamples for the intervals and the permutation test; 0 disables")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the resamples")
    parser.add_argument("--out", type=Path, default=None,
                        help="where comparison.* go (default: the first source)")
    parser.add_argument("--publish", type=Path, default=None,
                        help="write the records and the table into this directory (docs/results/...)")
    parser.add_argument("--title", default=None, help="with --publish: the table's title")
    parser.add_argument("--command", action="append", default=[],
                        help="with --publish: a command that produced the sweep (repeatable)")
    parser.add_argument("--table2", action="store_true",
                        help="add the Table 2 section (automatic for experiment=table2 sweeps)")
    parser.add_argument("--dataset", action="append", default=None, metavar="NAME",
                        help="keep only this dataset's jobs (repeatable; as metrics.json names it)")
    args = parser.parse_args(argv)
    for source in args.sources:
        if not source.is_dir():
            print(f"error: {source} is not a directory (give a sweep or records directory)",
                  file=sys.stderr)
            return 2
    first = args.sources[0]
    if (args.out is None and args.publish is None and records.is_records(first)
            and (len(args.sources) > 1 or args.dataset)):
        # Checked before any reading: a published table is rebuilt from its records alone, and
        # any other table written there would replace it silently.
        print(f"error: {first} holds a published table's records; a table built from more "
              "sources or --dataset would overwrite it: give --out DIR or --publish DIR",
              file=sys.stderr)
        return 2
    runs_all, failed, meta = load(args.sources)
    if args.dataset:
        try:
            runs_all, failed = keep_datasets(runs_all, failed, args.dataset)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if args.publish is not None:  # the records first: the table below is rebuilt from them
        meta = {"title": args.title or args.publish.name, "commands": args.command,
                "bootstrap": args.bootstrap, "seed": args.seed, "reference": args.reference}
        records.write_records(runs_all, failed, args.publish, meta)
        runs_all, failed, meta = records.read_records(args.publish)
        out = args.publish
    else:
        out = args.out or args.sources[0]
    if meta:  # a published table is rebuilt with the settings it was published with
        args.bootstrap, args.seed = int(meta["bootstrap"]), int(meta["seed"])
        args.reference = meta["reference"]
    sweep = None if (args.publish or records.is_records(args.sources[0])) else args.sources[0]
    md, table, runs = build(runs_all, failed, meta, args, sweep)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "comparison.csv", out / "comparison.md"]
    if not table.empty and table2.wanted(runs_all, args.table2):  # the paper's Table 2 shape
        shaped = table2.section(table, runs, args.bootstrap, args.seed)
        at = md.index("## All models")
        md = md[:at] + shaped + md[at:]
        (out / "table2.md").write_text("\n".join(shaped))
        # The paired tests alone: what docs/RESULTS.md includes beside its reading.
        tests_md = shaped[shaped.index(table2.TESTS_HEADING):]
        (out / "table2_tests.md").write_text("\n".join(tests_md))
        written += [out / "table2.md", out / "table2_tests.md"]
    if not table.empty:
        plot(table, out / "comparison.png", runs)
        source = args.publish or args.sources[0]
        # The table the docs include (experiments.docs), with what it rests on.
        (out / "headline.md").write_text(
            headline(table, args.reference) + f"\n\nCommit {_codes(runs_all)}; records and the full table: "
            f"`{_shown(source)}/` (rebuild: `make compare SWEEP={_shown(source)}`).\n")
        (out / "duplicates.md").write_text(duplicates_markdown(runs_all) + "\n")
        written += [out / "comparison.png", out / "headline.md", out / "duplicates.md"]
    table.to_csv(out / "comparison.csv", index=False)
    (out / "comparison.md").write_text("\n".join(md))
    print("\n".join(md))
    for path in written:
        print(f"wrote {path}")
    print(f"failed_jobs: {len(failed)}")
    return 0 if not table.empty else 1


def script() -> None:
    """`han-compare`: `main` with the project's error handling (one line, exit status 2)."""
    from han.cli import run_cli

    sys.exit(run_cli(main))


if __name__ == "__main__":
    script()
