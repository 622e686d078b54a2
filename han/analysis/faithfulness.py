"""Does HAN's attention explain its predictions? The tests of Jain & Wallace (NAACL 2019) at
the word and the sentence level, per document (docs/ATTENTION.md says what each can show).

`python -m han.analysis.faithfulness <run> [--sample N] [--out DIR]` (`make faithfulness`)
writes one record per document and level (`faithfulness_<run>.csv.gz`) and the run's summary.

Per document and level (word: the weight of word t of sentence i in the document is α_i·α_it;
sentence: α_i), with ŷ the predicted class and p its probability:
- tau_grad, tau_loo: Kendall τ-b between the attention and the gradient importance
  |∇_x p_ŷ · x| (`probe.gradient_importance`), and between the attention and the
  leave-one-out importance TVD(p(x), p(x without the unit)); NaN with fewer than 2 units;
- drop_<by>_<k>, flip_<by>_<k>: the fall of p_ŷ, and whether the decision changes, when the k
  units ranked first by attention (att), by gradient (grad) or at random (rand) are removed;
  NaN when the document has no more than k units;
- perm_tvd_median, perm_tvd_max: TVD between the output and the output with the attention
  weights shuffled among the real positions (padding untouched), over `permutations` draws.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf
from scipy.stats import kendalltau

from han.analysis.erasure import leave_one_out, probabilities, remove_top, tvd
from han.analysis.probe import (
    check_probeable,
    gradient_importance,
    permute_real,
    probe,
    word_leave_one_out,
)

log = logging.getLogger("han.analysis")
LEVELS = ("word", "sentence")
KS = {"word": (1, 5, 10), "sentence": (1, 2, 3)}
RANKINGS = ("att", "grad", "rand")


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return float("nan")
    return float(kendalltau(a, b).statistic)


def _scores(out: dict[str, np.ndarray], grads: dict[str, np.ndarray], row: int, level: str):
    """(attention, gradient) scores of one document at one level: (L, T) or (L,)."""
    if level == "word":
        att = out["sentence_attention"][row][:, None] * out["word_attention"][row]
        return att, grads["word"][row]
    return out["sentence_attention"][row], grads["sentence"][row]


_PERMUTED: dict[tuple[int, str], Any] = {}


def _permuted(model: Any, level: str) -> Any:
    """probe's probabilities with one level's attention shuffled, compiled once per model."""
    key = (id(model), level)
    if key not in _PERMUTED:
        name = "word_reweigh" if level == "word" else "sentence_reweigh"
        _PERMUTED[key] = tf.function(  # one trace for every shape: tracing costs more than a chunk
            lambda ids, seed: probe(model, ids, **{name: permute_real(seed)})["probabilities"],
            input_signature=[tf.TensorSpec([None, None, None], tf.int32), tf.TensorSpec([], tf.int64)])
    return _PERMUTED[key]


def _permutation_tvd(model: Any, ids: np.ndarray, base: np.ndarray, level: str,
                     permutations: int, seed: int, batch_size: int = 256) -> np.ndarray:
    """(B, permutations) TVD of the output when one level's attention is shuffled: the chunk is
    tiled `permutations` times and every row draws its own permutation."""
    tiled = np.tile(ids, (permutations, 1, 1))
    run = _permuted(model, level)
    probs = np.concatenate([run(tf.constant(tiled[s : s + batch_size], tf.int32), tf.constant(seed + s, tf.int64)).numpy()
                            for s in range(0, len(tiled), batch_size)])
    return tvd(base[None], probs.reshape(permutations, *base.shape)).T


def chunk_records(model: Any, ids: np.ndarray, doc_indices: Sequence[int], seed: int = 0,
                  permutations: int = 20, batch_size: int = 256) -> list[dict[str, Any]]:
    """Records of a chunk of documents ids (B, L, T), one per document and level.

    Every erased and left-one-out variant of the chunk goes through the model in shared batches.
    """
    out = {k: np.asarray(v) for k, v in probe(model, ids).items()}
    grads = gradient_importance(model, ids)
    base = out["probabilities"]
    predicted = base.argmax(-1)
    variants, owners = [], []  # erased documents and (row, level, kind) they answer

    for row in range(len(ids)):
        rng = np.random.default_rng([seed, int(doc_indices[row])])
        for level in LEVELS:
            att, grad = _scores(out, grads, row, level)
            if level == "sentence":
                loo, _ = leave_one_out(ids[row], level)
                variants.append(loo)
                owners.append((row, level, "loo", len(loo)))
            real = ids[row] != 0 if level == "word" else (ids[row] != 0).any(-1)
            rand = np.where(real, rng.random(real.shape), -1.0)
            for k in KS[level]:
                if real.sum() <= k:
                    continue
                for by, scores in zip(RANKINGS, (att, grad, rand), strict=True):
                    variants.append(remove_top(ids[row], scores, k, level)[None])
                    owners.append((row, level, f"{by}_{k}", 1))
    probs = probabilities(model, np.concatenate(variants), batch_size)
    # Word level: the same leave-one-out outputs, without re-reading the untouched sentences.
    owners += [(row, "word", "loo", -1) for row in range(len(ids))]
    perm = {level: _permutation_tvd(model, ids, base, level, permutations,
                                    seed * 1_000_003 + int(doc_indices[0]), batch_size)
            for level in LEVELS}

    records = {(row, level): {"doc": int(doc_indices[row]), "level": level}
               for row in range(len(ids)) for level in LEVELS}
    start = 0
    for row, level, kind, count in owners:
        if count < 0:
            p = word_leave_one_out(model, ids[row], batch_size)
        else:
            p = probs[start : start + count]
            start += count
        rec = records[(row, level)]
        y = predicted[row]
        if kind == "loo":
            att, grad = _scores(out, grads, row, level)
            real = ids[row] != 0 if level == "word" else (ids[row] != 0).any(-1)
            a, g = att[real], grad[real]  # reading order, as leave_one_out lists the units
            loo = tvd(base[row][None], p)
            rec.update(units=int(real.sum()), tau_grad=_tau(a, g), tau_loo=_tau(a, loo))
        else:
            rec[f"drop_{kind}"] = float(base[row, y] - p[0, y])
            rec[f"flip_{kind}"] = float(p[0].argmax() != y)
    for (row, level), rec in records.items():
        rec["perm_tvd_median"] = float(np.median(perm[level][row]))
        rec["perm_tvd_max"] = float(perm[level][row].max())
        rec["p_predicted"] = float(base[row, predicted[row]])
        rec["predicted_index"] = int(predicted[row])
    return list(records.values())


def columns() -> list[str]:
    """Every record column after the provenance ones, in a fixed order (NaN where absent)."""
    cols = ["units", "p_predicted", "tau_grad", "tau_loo", "perm_tvd_median", "perm_tvd_max"]
    ks = sorted({k for level in LEVELS for k in KS[level]})
    for k in ks:
        cols += [f"{m}_{by}_{k}" for m in ("drop", "flip") for by in RANKINGS]
    return cols


def run_records(run_dir: Path, sample_size: int = 0, seed: int = 0, permutations: int = 20,
                chunk: int = 8) -> pd.DataFrame:
    """The records of a saved run's test documents (or a seeded sample of them)."""
    from han.analysis.runs import load_test_docs, sample

    docs = load_test_docs(run_dir)
    chosen = sample(len(docs), sample_size, seed)
    log.info("%s: %d of %d test documents", run_dir, len(chosen), len(docs))
    return records_for(docs, chosen, seed, permutations, chunk)


def records_for(docs: Any, chosen: np.ndarray, seed: int = 0, permutations: int = 20,
                chunk: int = 8) -> pd.DataFrame:
    """The records of the test documents at `chosen` of a run's `TestDocs`. With chunk=1 every
    document's values depend on nothing but the document, the seed and the model."""
    from tqdm import tqdm

    check_probeable(docs.run.model)
    rows = []
    for start in tqdm(range(0, len(chosen), chunk), desc="faithfulness", unit="chunk"):
        indices = chosen[start : start + chunk]
        rows += chunk_records(docs.run.model, docs.padded(indices), indices, seed, permutations)
    return records_frame(docs, rows, seed, len(chosen))


def records_frame(docs: Any, rows: list[dict[str, Any]], seed: int, sample_size: int) -> pd.DataFrame:
    """chunk_records' rows (in document order) as the written records: provenance first."""
    frame = pd.DataFrame(rows).reindex(columns=["doc", "level", "predicted_index", *columns()])
    frame.insert(1, "id", docs.ids[frame["doc"]])
    frame.insert(2, "label", docs.labels[frame["doc"]])
    frame.insert(3, "predicted", np.asarray(docs.classes)[frame.pop("predicted_index")])
    for key, value in reversed(docs.provenance().items()):
        frame.insert(0, key, value)
    frame["sample_seed"] = seed
    frame["sample_size"] = sample_size
    return frame.drop(columns="doc")


def main(argv: Sequence[str] | None = None) -> int:
    from han.analysis.summary import faithfulness_table
    from han.io import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run of model=han or han_uniform")
    parser.add_argument("--sample", type=int, default=0,
                        help="seeded sample of test documents (0: all of them)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and random ranks")
    parser.add_argument("--permutations", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=8,
                        help="documents per model batch (1: each document's values independent "
                             "of the others', as the IMDB records were made)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: the run's)")
    args = parser.parse_args(argv)
    frame = run_records(args.run_dir, args.sample, args.seed, args.permutations, args.chunk)
    out = args.out or args.run_dir
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"faithfulness_{frame['run'].iloc[0]}.csv.gz"
    frame.to_csv(path, index=False, float_format="%.6g", compression={"method": "gzip", "mtime": 0})
    table = faithfulness_table(frame)
    atomic_write_text(out / f"faithfulness_{frame['run'].iloc[0]}.md", table)
    print(table)
    print(f"records: {path}")
    return 0


if __name__ == "__main__":
    from han.cli import entry

    entry(main)()
