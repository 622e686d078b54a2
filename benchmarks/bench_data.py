"""`make bench-data DATASET=imdb`: cold (no cache) and warm (cached) time to prepare a dataset.

Cold runs against an empty temporary cache folder, so the project's own cache is untouched.
Targets on a 2-core machine for all 50,000 labelled IMDB reviews: cold ≤ 90 s, warm ≤ 3 s.
"""

from __future__ import annotations

import json
import tempfile
import time

from omegaconf import DictConfig, OmegaConf

from han.cli import hydra_main
from han.data.prepare import prepare


@hydra_main(config_name="train", task="data")
def main(cfg: DictConfig) -> None:
    with tempfile.TemporaryDirectory() as cache:
        paths = OmegaConf.merge(cfg.paths, {"cache_dir": cache})
        timings = {}
        for name in ("cold", "warm"):
            start = time.perf_counter()
            data = prepare(cfg.dataset, paths, int(cfg.seed), cfg.workers, progress=False)
            timings[f"{name}_seconds"] = round(time.perf_counter() - start, 2)
    docs = sum(len(part) for part in data.splits.values())
    print(json.dumps({"dataset": data.name, "documents": docs, **timings}))


if __name__ == "__main__":
    main()
