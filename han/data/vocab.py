"""The vocabulary: words of the training split only; id 0 = padding, id 1 = unknown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from han.io import atomic_open

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """Maps words to ids. Ids 0 and 1 are reserved for padding and unknown words."""

    pad_id, unk_id = 0, 1

    def __init__(self, words: Sequence[str]) -> None:
        words = list(words)
        if words[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}; got {words[:2]}")
        self.words = words
        self.index = {word: i for i, word in enumerate(words)}

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def from_counts(
        cls, lexicon: np.ndarray, counts: np.ndarray, min_count: int = 1, max_size: int | None = None
    ) -> Vocabulary:
        """Words seen at least `min_count` times, most frequent first, at most `max_size` ids.

        Ties are broken by the word itself, so the same counts always give the same ids.
        `max_size` counts every id, padding and unknown included (the tutorial's 10,000).
        """
        keep = np.flatnonzero(counts >= max(1, min_count))
        order = sorted(keep.tolist(), key=lambda i: (-int(counts[i]), lexicon[i]))
        if max_size is not None:
            order = order[: max(0, max_size - 2)]
        return cls([PAD, UNK, *(str(lexicon[i]) for i in order)])

    def lexicon_map(self, lexicon: np.ndarray) -> np.ndarray:
        """For each lexicon entry, its vocabulary id (unknown → 1)."""
        get = self.index.get
        return np.fromiter((get(w, self.unk_id) for w in lexicon), np.int32, len(lexicon))

    def encode(self, words: Sequence[str]) -> np.ndarray:
        get = self.index.get
        return np.fromiter((get(w, self.unk_id) for w in words), np.int32, len(words))

    def save(self, path: Path) -> None:
        with atomic_open(path) as handle:
            json.dump({"pad": PAD, "unk": UNK, "words": self.words}, handle, ensure_ascii=False)

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle)["words"])
