"""A training run's checkpoints: what a killed run resumes from, and the best epoch's weights.

One `.npz` per saved epoch holds every model and optimizer variable in `variables()` order;
`state.json` (a `TrainState`) names the last epoch's file and the best one, and is written after
both, so a kill at any point resumes from a complete epoch. Everything else is pruned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from han.io import atomic_open, atomic_write_text
from han.schema import better

log = logging.getLogger(__name__)
STATE_FILE = "state.json"


@dataclass
class TrainState:
    """What a resumed run needs besides the weights; written after the checkpoint it names."""

    next_epoch: int = 0
    best_epoch: int = -1
    best_score: float = -np.inf
    best_loss: float = np.inf  # breaks ties in the monitored score
    best_weights: str | None = None
    epochs_without_improvement: int = 0
    checkpoint: str | None = None
    train_seconds: float = 0.0
    train_docs: int = 0
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    start_loss: float | None = None  # the run's first step's loss: the health reference

    def improves(self, score: float, loss: float) -> bool:
        """Whether an epoch beats the best so far: a higher score, or the same and a lower loss.

        Ties are common on small validation sets (macro-F1 saturates at 1.0 on 132 news
        articles); taking the first tied epoch picks an under-trained model and stops too early.
        """
        return better(score, loss, self.best_score, self.best_loss)


class Checkpoints:
    """The checkpoint folder of one run: `variables()` gives the model's and optimizer's
    variables, in an order that is the same for every run of one configuration."""

    def __init__(self, folder: Path, variables: Callable[[], list]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.variables = variables

    def save(self, name: str) -> str:
        with atomic_open(self.folder / name, "wb") as handle:
            np.savez(handle, *[np.asarray(v.numpy()) for v in self.variables()])
        return name

    def load(self, name: str) -> None:
        with np.load(self.folder / name) as data:
            values = [data[f"arr_{i}"] for i in range(len(data.files))]
        variables = self.variables()
        if len(values) != len(variables):
            raise RuntimeError(
                f"checkpoint {self.folder / name} holds {len(values)} arrays but the model "
                f"and optimizer have {len(variables)}: it belongs to another configuration. "
                f"Start a new run directory or delete {self.folder}."
            )
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)

    def commit(self, state: TrainState) -> None:
        """Write `state` (after the files it names), then drop every file it no longer names."""
        atomic_write_text(self.folder / STATE_FILE, json.dumps(asdict(state), indent=1))
        keep = {state.checkpoint, state.best_weights, STATE_FILE}
        for path in self.folder.glob("*.npz"):
            if path.name not in keep:
                path.unlink(missing_ok=True)

    def restore(self) -> TrainState:
        """The state of the last completed epoch, its variables loaded; or a fresh state."""
        path = self.folder / STATE_FILE
        if not path.exists():
            return TrainState()
        state = TrainState(**json.loads(path.read_text()))
        if state.checkpoint:
            self.load(state.checkpoint)
        log.info("resuming after epoch %d (best epoch %d)", state.next_epoch, state.best_epoch)
        return state

    def kept(self, state: TrainState) -> str:
        """What a run that stops now leaves behind, for its error message."""
        if not state.checkpoint:
            return "no epoch completed, so there is no checkpoint to keep"
        return f"the last good checkpoint (epoch {state.next_epoch}) is kept in {self.folder}"
