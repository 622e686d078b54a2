"""`make bench-scale`: how preparation, word2vec, training and evaluation grow with the corpus.

Real text: every review of aclImdb (train, test and, when the archive has them, the 50,000
unlabelled ones of train/unsup/: 100,000 upstream; the offline mirror of this project's machines
leaves unsup/ out, so 50,000 there), read once from the archive in `$HAN_DATA_MIRROR` (or
`paths.data_dir`) into a JSON lines table in a seeded order; size N is its first N lines, prepared as a user's table (`dataset=csv`, the
defaults of a real run: near-duplicate search, carved 80/10/10 splits, L × T from train's
p99). The unlabelled reviews carry the label `unsup`, a third class: this measures cost, not
accuracy. Each size runs two processes, so each peak memory is its own:

- `prepare`: a cold preparation into an empty cache (tokenising, the cache file, then the rest of
  `prepare`: dedup, splits, vocabulary, encoding): seconds, CPU seconds (the tokenizer's worker
  processes included), peak RSS of the process over its RSS before, and the cache's size;
- `train`: the warm preparation (the cache memory-mapped), `bench.word2vec_passes` word2vec
  passes (its cost is linear in passes), then the paper's HAN (`model=han`, batch 64, bucketed)
  for `bench.train_batches` batches of an epoch (null: the whole epoch) and evaluation on at
  most `bench.eval_docs` validation documents: docs/s and words/s, and peak RSS.

A record per size and phase lands in `bench.out` (`job-<phase>-<N>.json`, then `scale-<N>.json`);
what has a record is skipped, so a long run resumes (`bench.sizes=[...]` picks sizes,
`bench.phases=[prepare]` one phase, `bench.redo=true` measures again). `bench.max_words=N` cuts
every review to its first N words (give it its own `bench.out`): the same documents, fewer words,
which separates the memory that grows with documents from the memory that grows with words.
Each phase records the load average around it (the mean of the 1, 5 and 15 minute figures before and after). The last
lines are a table of per-document figures, `scale.csv` and `scale.png` in `bench.out`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from benchmarks.scale_report import report
from han.cli import hydra_main
from han.io import atomic_open, atomic_write_text

log = logging.getLogger("benchmarks.bench_scale")
_REVIEW = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg|unsup)/([^/]+)\.txt$")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def rss_mb() -> float:
    """This process's resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (the tokenizer's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def all_reviews(archive: Path, out: Path, seed: int) -> Path:
    """Every aclImdb review as one JSON lines table in a seeded order (written once)."""
    table = out / "aclImdb-all.jsonl"
    if table.exists():
        return table
    rows = []
    with tarfile.open(archive, mode="r|gz") as stream:
        for member in stream:
            match = _REVIEW.match(member.name)
            if match and member.isfile():
                text = stream.extractfile(member).read().decode("utf-8", "replace")
                split, label, stem = match.groups()
                rows.append({"id": f"{split}/{label}/{stem}", "text": _BR.sub(" ", text),
                             "label": label})
    order = np.random.default_rng(seed).permutation(len(rows))
    with atomic_open(table) as handle:
        for i in order:
            handle.write(json.dumps(rows[i], ensure_ascii=False) + "\n")
    log.info("wrote %d aclImdb reviews to %s", len(rows), table)
    return table


def sample(table: Path, size: int, max_words: int | None = None) -> Path:
    """The table's first `size` reviews; with `max_words`, each cut to its first N words
    (whitespace-separated), so a second run at the same sizes tells what grows with documents
    from what grows with words."""
    suffix = "" if max_words is None else f"-w{max_words}"
    path = table.with_name(f"aclImdb-{size}{suffix}.jsonl")
    if not path.exists():
        with table.open() as source, atomic_open(path) as handle:
            for count, line in enumerate(source):
                if count == size:
                    break
                if max_words is not None:
                    row = json.loads(line)
                    row["text"] = " ".join(row["text"].split()[:max_words])
                    line = json.dumps(row, ensure_ascii=False) + "\n"
                handle.write(line)
    return path


def warm_up(cfg: DictConfig) -> None:
    """Prepare the table's first 64 documents into a throwaway cache: every import, NLTK's model
    and the allocator's first arenas are then paid before anything is measured."""
    import tempfile

    from han.data.prepare import prepare

    table = Path(str(cfg.dataset.train_path))
    with tempfile.TemporaryDirectory() as folder:
        head = Path(folder) / "head.jsonl"
        with table.open() as source:
            head.write_text("".join(line for _, line in zip(range(64), source, strict=False)))
        dataset = OmegaConf.merge(cfg.dataset, {"train_path": str(head)})
        paths = OmegaConf.merge(cfg.paths, {"cache_dir": folder})
        prepare(dataset, paths, int(cfg.seed), 1, progress=False)


def job_prepare(cfg: DictConfig) -> dict:
    """Cold preparation of one size, in a fresh process."""
    from han.data.prepare import load_corpus, prepare

    warm_up(cfg)
    base = rss_mb()
    start, cpu = time.perf_counter(), cpu_seconds()
    corpus, cached = load_corpus(cfg.dataset, cfg.paths, cfg.workers, progress=False)
    assert not cached, "the cold run found a cache"
    tokenise = (time.perf_counter() - start, cpu_seconds() - cpu)
    peak_tokenise = peak_mb()
    start, cpu = time.perf_counter(), cpu_seconds()
    data = prepare(cfg.dataset, cfg.paths, int(cfg.seed), cfg.workers, progress=False)
    rest = (time.perf_counter() - start, cpu_seconds() - cpu)
    [cache] = Path(cfg.paths.cache_dir).glob("*.npz")
    return {
        "docs": len(corpus), "words": int(len(corpus.tokens)),
        "train_docs": len(data.splits["train"]), "vocabulary": len(data.vocabulary),
        "tokenise_seconds": round(tokenise[0], 2), "tokenise_cpu_seconds": round(tokenise[1], 2),
        "prepare_rest_seconds": round(rest[0], 2), "prepare_rest_cpu_seconds": round(rest[1], 2),
        "prepare_base_rss_mb": round(base, 1), "prepare_peak_rss_mb": round(peak_mb(), 1),
        "tokenise_peak_rss_mb": round(peak_tokenise, 1),
        "tokenizer_workers_peak_rss_mb": round(peak_mb(resource.RUSAGE_CHILDREN), 1),
        "cache_mb": round(cache.stat().st_size / 2**20, 2),
    }


def job_train(cfg: DictConfig) -> dict:
    """Warm preparation, word2vec, a training epoch's batches and evaluation, in a fresh process."""
    from benchmarks.harness import compile_steps
    from han.cli import import_tensorflow
    from han.data.pipeline import BatchSource
    from han.data.prepare import prepare
    from han.embeddings import _word2vec

    warm_up(cfg)  # no tokenizer processes are forked after this: TensorFlow may start
    tf = import_tensorflow()
    from han.models import build_model

    base = rss_mb()  # the prepared data, word2vec and training come on top of this
    start = time.perf_counter()
    data = prepare(cfg.dataset, cfg.paths, int(cfg.seed), cfg.workers, progress=False)
    warm = time.perf_counter() - start
    passes = int(cfg.bench.word2vec_passes)
    start, cpu = time.perf_counter(), cpu_seconds()
    matrix = _word2vec(data, int(cfg.model.embedding_dim), int(cfg.model.word2vec_window),
                       passes, int(cfg.seed), 1)
    w2v = (time.perf_counter() - start, cpu_seconds() - cpu)
    model = build_model(cfg.model, len(data.vocabulary), len(data.classes), matrix)
    train_step, forward = compile_steps(model, rank=3, optimizer="fused")
    source = BatchSource(data.view("train", False), int(cfg.trainer.batch_size), shuffle=True,
                         bucket=bool(cfg.trainer.bucket), seed=int(cfg.seed))
    limit = cfg.bench.train_batches
    docs = words = batches = 0
    seconds = cpu = 0.0
    for ids, labels, _ in source():
        if limit is not None and batches > int(limit):
            break
        ids, labels = tf.constant(ids), tf.constant(labels)
        t, c = time.perf_counter(), cpu_seconds()
        train_step(ids, labels)
        if batches:  # the first batch traces the step: not timed
            seconds, cpu = seconds + time.perf_counter() - t, cpu + cpu_seconds() - c
            docs, words = docs + len(labels), words + int(tf.math.count_nonzero(ids))
        batches += 1
    validation = data.view("validation", False)
    validation = validation.select(np.arange(min(len(validation), int(cfg.bench.eval_docs))))
    evaluate = BatchSource(validation, int(cfg.trainer.eval_batch_size), bucket=True)
    for ids, _, _ in evaluate():  # trace every batch shape once
        forward(tf.constant(ids))
    t = time.perf_counter()
    for ids, _, _ in evaluate():
        forward(tf.constant(ids)).numpy()
    eval_seconds = time.perf_counter() - t
    return {
        "prepare_warm_seconds": round(warm, 2),
        "word2vec_passes": passes, "word2vec_seconds": round(w2v[0], 2),
        "word2vec_cpu_seconds": round(w2v[1], 2),
        "train_batches": batches - 1, "train_docs": docs, "train_words": words,
        "train_docs_per_second": round(docs / max(seconds, 1e-9), 1),
        "train_words_per_second": round(words / max(seconds, 1e-9), 1),
        "train_docs_per_cpu_second": round(docs / max(cpu, 1e-9), 1),
        "train_words_per_cpu_second": round(words / max(cpu, 1e-9), 1),
        "eval_docs": len(validation),
        "eval_docs_per_second": round(len(validation) / max(eval_seconds, 1e-9), 1),
        "view": [data.view_settings.max_sentences, data.view_settings.max_words],
        "train_split_words": int(len(data.splits["train"].tokens)),
        "train_base_rss_mb": round(base, 1), "train_peak_rss_mb": round(peak_mb(), 1),
    }


def _job_overrides(cfg: DictConfig, size: int, table: Path, out: Path) -> list[str]:
    return [f"dataset.train_path={table}", f"paths.cache_dir={out / f'cache-{size}'}",
            f"hydra.run.dir={out / f'log-{size}'}", f"bench.size={size}",
            f"bench.out={out}", f"seed={cfg.seed}",
            f"bench.word2vec_passes={cfg.bench.word2vec_passes}",
            f"bench.train_batches={'null' if cfg.bench.train_batches is None else cfg.bench.train_batches}",
            f"bench.eval_docs={cfg.bench.eval_docs}",
            *(f"workers={cfg.workers}" for _ in [0] if cfg.workers is not None)]


@hydra_main(config_name="bench_scale", task="bench")
def main(cfg: DictConfig) -> None:
    out = Path(cfg.bench.out).expanduser().resolve()
    if cfg.bench.job:  # one phase of one size, in this process
        result = {"prepare": job_prepare, "train": job_train}[str(cfg.bench.job)](cfg)
        atomic_write_text(out / f"job-{cfg.bench.job}-{cfg.bench.size}.json", json.dumps(result))
        return
    out.mkdir(parents=True, exist_ok=True)
    mirror = os.environ.get("HAN_DATA_MIRROR") or cfg.paths.get("mirror")
    archive = next((Path(folder) / "aclImdb_v1.tar.gz" for folder in (mirror, cfg.paths.data_dir)
                    if folder and (Path(folder) / "aclImdb_v1.tar.gz").is_file()), None)
    if archive is None:
        raise FileNotFoundError("aclImdb_v1.tar.gz is in neither HAN_DATA_MIRROR nor "
                                f"paths.data_dir={cfg.paths.data_dir}; put it in one of them")
    table = all_reviews(archive, out, int(cfg.seed))
    records = []
    for size in sorted(int(s) for s in cfg.bench.sizes):
        record_path = out / f"scale-{size}.json"
        if record_path.exists() and not cfg.bench.redo and set(cfg.bench.phases) == {
                "prepare", "train"}:
            records.append(json.loads(record_path.read_text()))
            log.info("size %d: measured before (%s)", size, record_path)
            continue
        part = sample(table, size, cfg.bench.max_words)
        record = {"size": size}
        for job in ("prepare", "train"):
            done = out / f"job-{job}-{size}.json"
            if job in cfg.bench.phases and (cfg.bench.redo or not done.exists()):
                if job == "prepare":  # cold: an empty cache
                    shutil.rmtree(out / f"cache-{size}", ignore_errors=True)
                command = [sys.executable, "-m", "benchmarks.bench_scale", f"bench.job={job}",
                           *_job_overrides(cfg, size, part, out)]
                log.info("size %d: %s (load %s)", size, job, os.getloadavg())
                load = os.getloadavg()
                subprocess.run(command, check=True)
                atomic_write_text(done, json.dumps(json.loads(done.read_text()) | {
                    f"{job}_load": [round((a + b) / 2, 2) for a, b in zip(load, os.getloadavg(),
                                                                          strict=True)]}))
            if done.exists():
                record |= json.loads(done.read_text())
        if not all((out / f"job-{job}-{size}.json").exists() for job in ("prepare", "train")):
            log.info("size %d: not all phases measured yet (bench.phases)", size)
            continue
        shutil.rmtree(out / f"cache-{size}", ignore_errors=True)
        from han.provenance import code_version

        record["code"] = code_version()
        record["max_words"] = cfg.bench.max_words
        atomic_write_text(record_path, json.dumps(record, indent=1))
        records.append(record)
    print(json.dumps(OmegaConf.to_container(cfg.bench)))
    if records:
        report(records, out)


if __name__ == "__main__":
    main()
