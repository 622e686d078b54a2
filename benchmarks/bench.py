"""`make bench`: training and evaluation speed of our models against padded ports, on IMDB.

In one process, on the same documents and batches (the first `bench.num_docs` IMDB training
reviews, the paper's sizes, batch 64):

- our HAN (packed sentences, length-sorted chunks, the fused BiGRU), once per entry of
  `bench.variants` (benchmarks/variants.py: ``stock`` is the BiGRU before issue #16);
- a padded reference HAN (benchmarks/padded_reference.py) that runs the word encoder over every
  one of the L×T grid's sentence slots with `TimeDistributed`, as most public ports do, and the
  same with the slots folded into the batch (Keras 2's `TimeDistributed`);
- with `bench.flat`, our flat model against a tutorial-style flat model padded to N words.

The last printed line is one JSON object: docs/s (wall clock, and per CPU-second of this
process, which a busy machine disturbs less), accuracy after the same epochs, and the ratios.
"""

from __future__ import annotations

import json
import logging

import numpy as np
from omegaconf import DictConfig, OmegaConf

from benchmarks.harness import fixed_grid, load, measure, peak_rss_mb, set_threads
from han.cli import CONFIG_DIR, hydra_main
from han.data.encode import is_flat

log = logging.getLogger("benchmarks.bench")


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


def compare(result: dict, ours: dict, key: str, theirs: dict) -> None:
    """Adds `theirs` under `key` and our speed-ups over it (wall clock and CPU time)."""
    for name in ("train_docs_per_second", "eval_docs_per_second", "train_docs_per_cpu_second",
                 "eval_docs_per_cpu_second", "accuracy"):
        result[f"{key}_{name}"] = theirs[name]
    result[f"{key}_speedup"] = ratio(ours["train_docs_per_second"], theirs["train_docs_per_second"])
    result[f"{key}_eval_speedup"] = ratio(ours["eval_docs_per_second"],
                                          theirs["eval_docs_per_second"])
    result[f"{key}_cpu_speedup"] = ratio(ours["train_docs_per_cpu_second"],
                                         theirs["train_docs_per_cpu_second"])


def run_ours(cfg: DictConfig, model_cfg, data, variant: str) -> dict:
    import keras

    from benchmarks import variants
    from han.models import build_model

    keras.utils.set_random_seed(int(cfg.seed))
    model = variants.use(build_model(model_cfg, data.vocab_size, len(data.classes)), variant)
    train, evaluate = data.sources(cfg, bucket=bool(cfg.bench.bucket))
    return measure(model, train, evaluate, data.evaluate, data.classes, int(cfg.bench.epochs),
                   rank=2 if data.flat else 3, optimizer=str(cfg.bench.optimizer),
                   eval_repeats=int(cfg.bench.eval_repeats))


def run_padded(cfg: DictConfig, model, data, shape: tuple[int, ...]) -> dict:
    train, evaluate = data.sources(cfg, bucket=bool(cfg.bench.bucket))  # the same batches
    evaluate.bucket = True
    return measure(model, fixed_grid(train, shape), fixed_grid(evaluate, shape), data.evaluate,
                   data.classes, int(cfg.bench.epochs), rank=len(shape) + 1, shape=shape,
                   optimizer=str(cfg.bench.optimizer), eval_repeats=int(cfg.bench.eval_repeats))


def hierarchical(cfg: DictConfig, result: dict) -> None:
    bench = cfg.bench
    data = load(cfg, flat=False)  # imports TensorFlow quietly: Keras only after it
    import keras

    from benchmarks.padded_reference import build_padded_han

    grid = (int(bench.grid_sentences), int(bench.grid_words))
    real = float((data.train.padded(np.arange(len(data.train))) != 0).sum())
    result["grid_fill"] = round(real / (len(data.train) * grid[0] * grid[1]), 3)
    result["num_docs"] = len(data.train)
    names = list(bench.variants or [bench.variant])
    runs = {name: run_ours(cfg, cfg.model, data, name) for name in names}
    ours = runs[str(bench.variant)] if str(bench.variant) in runs else runs[names[-1]]
    result.update(ours)
    result["eval_over_train"] = ratio(ours["eval_docs_per_second"], ours["train_docs_per_second"])
    for name, run in runs.items():
        if len(runs) > 1:
            result[f"variant_{name}"] = run
            result[f"variant_{name}_speedup"] = ratio(run["train_docs_per_second"],
                                                      runs[names[0]]["train_docs_per_second"])
            result[f"variant_{name}_eval_speedup"] = ratio(
                run["eval_docs_per_second"], runs[names[0]]["eval_docs_per_second"])
    if not bench.padded:
        return
    # TimeDistributed is how ports write it (in Keras 3 it runs the word level once per
    # sentence slot); the reshape variant folds the slots into the batch, as Keras 2 did.
    for key, time_distributed in (("padded", True), ("padded_reshape", False)):
        keras.utils.set_random_seed(int(cfg.seed))
        model = build_padded_han(
            data.vocab_size, len(data.classes), *grid,
            embedding_dim=int(cfg.model.embedding_dim), gru_units=int(cfg.model.gru_units),
            attention_dim=int(cfg.model.attention_dim), time_distributed=time_distributed,
        )
        compare(result, ours, key, run_padded(cfg, model, data, grid))


def flat(cfg: DictConfig, result: dict) -> None:
    """Our flat model against a tutorial-style padded one, both at N = dataset.max_tokens."""
    model_cfg = cfg.model
    if not is_flat(model_cfg):  # beside a HAN run: conf/model/flat.yaml with the bench's settings
        flat_yaml = OmegaConf.load(CONFIG_DIR / "model" / "flat.yaml")
        flat_yaml.pop("defaults", None)  # the schema it names: build_model reads it typed
        model_cfg = OmegaConf.merge(
            flat_yaml, {k: cfg.model[k] for k in ("embedding_init", "dropout", "word_dropout")})
    flat_cfg = OmegaConf.merge(cfg, {"bench": {"num_docs": int(cfg.bench.flat_docs)}})
    words = int(cfg.dataset.max_tokens)
    data = load(flat_cfg, flat=True, max_tokens=words)  # TensorFlow quietly, then Keras
    import keras

    from benchmarks.padded_reference import build_padded_flat

    ours = run_ours(flat_cfg, model_cfg, data, str(cfg.bench.variant))
    keras.utils.set_random_seed(int(cfg.seed))
    padded = build_padded_flat(data.vocab_size, len(data.classes), words,
                               embedding_dim=int(model_cfg.embedding_dim),
                               gru_units=int(model_cfg.gru_units),
                               attention_dim=int(model_cfg.attention_dim))
    result["flat"] = {"num_docs": len(data.train), "max_tokens": words, **ours}
    compare(result["flat"], ours, "padded_flat", run_padded(flat_cfg, padded, data, (words,)))


@hydra_main(config_name="bench", task="train")
def main(cfg: DictConfig) -> dict:
    set_threads(cfg.bench.threads)
    result: dict = {"model": str(cfg.model.name), "variant": str(cfg.bench.variant),
                    "threads": cfg.bench.threads}
    if is_flat(cfg.model):
        flat_cfg = OmegaConf.merge(cfg, {"bench": {"flat_docs": int(cfg.bench.num_docs)}})
        flat(flat_cfg, result)
    else:
        hierarchical(cfg, result)
        if cfg.bench.flat:
            flat(cfg, result)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
