"""`python -m han.data dataset=<name>` (`make data`): prepare and cache a dataset, print a summary."""

from __future__ import annotations

import json
import logging
import time

from omegaconf import DictConfig

from han.cli import hydra_main
from han.data.prepare import prepare
from han.data.summary import data_summary, format_summary

log = logging.getLogger("han.data")


@hydra_main(config_name="data", task="data")
def main(cfg: DictConfig) -> dict:
    start = time.perf_counter()
    data = prepare(cfg.dataset, cfg.paths, cfg.seed, cfg.workers, cfg.progress)
    summary = data_summary(data)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    print(format_summary(summary))
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
