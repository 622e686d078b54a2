"""One-off (see README.md): the IMDB analyses from run 0's best checkpoint (epoch 2: the weights
model.keras holds as the best model),
while the run is still finishing its last patience epoch on a loaded machine."""
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from han.analysis.faithfulness import chunk_records, columns
from han.analysis.runs import TestDocs, sample
from han.analysis.word_weights import occurrences
from han.data.prepare import prepare
from han.data.vocab import Vocabulary
from han.models import build_model

run_dir = Path(sys.argv[1])  # the IMDB han run directory (seed 0)
cfg = OmegaConf.load(run_dir / ".hydra/config.yaml")
t = time.time()
data = prepare(cfg.dataset, cfg.paths, int(cfg.seed), cfg.get("workers"), progress=False)
vocab = Vocabulary.load(run_dir / "vocab.json")
model = build_model(cfg.model, len(vocab), len(data.classes))
with np.load(run_dir / "checkpoints/best-epoch2.npz") as f:
    values = [f[f"arr_{i}"] for i in range(len(f.files))]
for v, a in zip(model.variables, values[: len(model.variables)], strict=True):
    v.assign(a)
print("model from best-epoch2.npz", len(model.variables), "of", len(values), "arrays", time.time() - t, flush=True)
run = SimpleNamespace(model=model, dir=run_dir, cfg=cfg)
docs = TestDocs(run, data.view("test", False), data.lexicon_view("test", False), data.corpus.lexicon,
                list(data.classes), {"model": "han", "seed": 0, "dataset": "imdb", "code": "ab4ebcd729de"})
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
chosen = sample(len(docs), int(sys.argv[3]), 0)
frame = occurrences(docs, ["good", "bad"], chosen=chosen).assign(sample_size=len(chosen))
frame.to_csv(out / "word_attention.csv.gz", index=False, float_format="%.6g", compression={"method": "gzip", "mtime": 0})
print("words", len(frame), time.time() - t, flush=True)
chosen = sample(len(docs), int(sys.argv[4]), 0)
rows = []
for start in range(0, len(chosen), 8):
    idx = chosen[start:start + 8]
    rows += chunk_records(model, docs.padded(idx), idx, 0, 20)
    print("faith", start, time.time() - t, flush=True)
f = pd.DataFrame(rows).reindex(columns=["doc", "level", "predicted_index", *columns()])
f.insert(1, "id", docs.ids[f["doc"]]); f.insert(2, "label", docs.labels[f["doc"]])
f.insert(3, "predicted", np.asarray(docs.classes)[f.pop("predicted_index")])
for k, v in reversed(docs.provenance().items()):
    f.insert(0, k, v)
f["sample_seed"] = 0; f["sample_size"] = len(chosen)
f.drop(columns="doc").to_csv(out / "faithfulness_0.csv.gz", index=False, float_format="%.6g", compression={"method": "gzip", "mtime": 0})
print("done", time.time() - t, flush=True)
