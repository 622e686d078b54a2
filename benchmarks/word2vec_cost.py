"""word2vec's cost per pass on a dataset's training split: `python -m benchmarks.word2vec_cost
news 2 5` prints, per pass count, wall and CPU seconds of `han.embeddings`' word2vec (one
worker, dim 200, window 5, seed 0), as docs/PERFORMANCE.md's fixed-cost table quotes them."""

from __future__ import annotations

import json
import sys
import time

from hydra import compose, initialize_config_dir

from han.cli import CONFIG_DIR
from han.data.prepare import prepare
from han.embeddings import _word2vec


def main(dataset: str, passes: list[int]) -> dict:
    with initialize_config_dir(str(CONFIG_DIR), version_base=None):
        cfg = compose("train", overrides=[f"dataset={dataset}"])
    data = prepare(cfg.dataset, cfg.paths, 0, None, progress=False)
    out: dict = {"dataset": dataset, "train_tokens": int(len(data.splits["train"].tokens))}
    for count in passes:
        wall, cpu = time.perf_counter(), time.process_time()
        _word2vec(data, 200, 5, count, 0, 1)
        out[f"passes_{count}"] = {"wall": round(time.perf_counter() - wall, 1),
                                  "cpu": round(time.process_time() - cpu, 1)}
        print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main(sys.argv[1], [int(p) for p in sys.argv[2:]])
