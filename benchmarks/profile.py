"""`make profile`: where one training step and one evaluation step of `make bench` spend time.

Runs `bench.profile_steps` training batches and as many evaluation batches of the bench's model
(IMDB, paper sizes, batch 64, L=25, T=40) under TensorFlow's profiler, reads the trace it
writes (`*.xplane.pb`, the file TensorBoard's profile tab shows) and sums each op's time into
the parts of the model, by the op's name scope. The input pipeline (numpy batches from
`BatchSource`) runs outside TensorFlow and is timed on its own. Prints one JSON line:
{"train": {part: share}, "eval": {...}, ...}. `bench.variant=stock|projected|fused` picks the
BiGRU implementation (benchmarks/variants.py), to profile the code before issue #16 too.
"""

from __future__ import annotations

import collections
import json
import re
import tempfile
import time
from pathlib import Path

from omegaconf import DictConfig

from benchmarks.harness import compile_steps, load, set_threads
from han.cli import hydra_main, import_tensorflow

# First match wins; names are the op's name scope with "gradient_tape/" and Keras' numeric
# suffixes removed. The word encoder's GRU loop is the part of it inside a `while`.
PARTS = [
    ("optimizer", ("adam/", "Adam", "sgd/")),
    ("word GRU loop", ("word_encoder/bigru/while", "word_encoder/bigru/gradient/while",
                       "word_encoder/bigru/forward_gru/while",
                       "word_encoder/bigru/backward_gru/while", "word_encoder/while")),
    ("embedding", ("word_encoder/embedding", "word_encoder/word_dropout")),
    ("word GRU projection and reordering", ("word_encoder/",)),
    ("sentence GRU", ("sentence_encoder/",)),
    ("attention", ("word_attention/", "sentence_attention/")),
    ("classifier and loss", ("classifier/", "probabilities/", "dropout/", "crossentropy")),
]
# Ops that only wait for the ops inside them (loops, function calls): counting both would
# count the time twice.
CONTAINERS = {"While", "StatelessWhile", "PartitionedCall", "StatefulPartitionedCall", "If",
              "StatelessIf", "_Retval", "_Arg"}


# An op's event is "<name scope>:<op type>"; the executor's and Python's have spaces or "::".
OP_EVENT = re.compile(r"^[^\s:]+:[A-Za-z_]\w*$")


def part_of(name: str) -> str:
    # Strip the numeric suffixes Keras and TF add (han_1/word_encoder_3/bigru_1 → han/...).
    scope = re.sub(r"_\d+(?=/|$)", "", name.replace("gradient_tape/", ""))
    for part, needles in PARTS:
        if any(needle in scope for needle in needles):
            return part
    return "packing, gather and scatter" if "/" in scope else "other"


def op_times(logdir: Path) -> dict[str, float]:
    """Seconds per model part, summed over the TensorFlow ops in the trace under `logdir`."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    totals: collections.Counter = collections.Counter()
    for path in logdir.rglob("*.xplane.pb"):
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
        for plane in space.planes:
            if plane.name != "/host:CPU":
                continue
            for line in plane.lines:
                for event in line.events:
                    name = plane.event_metadata[event.metadata_id].name
                    if not OP_EVENT.match(name) or name.rsplit(":", 1)[1] in CONTAINERS:
                        continue  # not an op (executor, thread pool, Python), or a container
                    # The op's own name: the last scope of a loop body's nested names.
                    op = name.rsplit(":", 1)[0]
                    totals[part_of(op)] += event.duration_ps / 1e12
    return dict(totals)


def shares(totals: dict[str, float], extra: dict[str, float]) -> dict[str, float]:
    every = {**totals, **extra}
    whole = sum(every.values()) or 1.0
    return {k: round(v / whole, 3) for k, v in sorted(every.items(), key=lambda kv: -kv[1])}


@hydra_main(config_name="bench", task="train")
def main(cfg: DictConfig) -> dict:
    data = load(cfg, flat=False)  # prepares (the tokenizer may fork), then imports TensorFlow
    tf = import_tensorflow()  # already imported, quietly: its CUDA probing filtered on a CPU host
    import keras

    from benchmarks import variants
    from han.models import build_model

    set_threads(cfg.bench.threads)
    train, evaluate = data.sources(cfg, bucket=bool(cfg.bench.bucket))
    keras.utils.set_random_seed(int(cfg.seed))
    model = variants.use(build_model(cfg.model, data.vocab_size, len(data.classes)),
                         str(cfg.bench.variant))
    train_step, forward = compile_steps(model, 3, optimizer=str(cfg.bench.optimizer))
    steps = int(cfg.bench.profile_steps)

    start = time.perf_counter()
    train_batches = [b for _, b in zip(range(steps + 2), train(), strict=False)]
    eval_batches = [b for _, b in zip(range(steps), evaluate(), strict=False)]
    pipeline_seconds = (time.perf_counter() - start) / (len(train_batches) + len(eval_batches))
    for ids, labels, _ in train_batches[:2]:  # trace and warm up outside the profile
        train_step(tf.constant(ids), tf.constant(labels))
        forward(tf.constant(ids)).numpy()
    # Evaluation batches are few (1,024 documents in batches of 512): warm up on the first and
    # profile them all.
    forward(tf.constant(eval_batches[0][0])).numpy()

    result: dict = {"variant": str(cfg.bench.variant), "threads": cfg.bench.threads}
    for kind, batches in (("train", train_batches[2:]), ("eval", eval_batches)):
        with tempfile.TemporaryDirectory() as logdir:
            if cfg.bench.get("keep_trace"):
                logdir = str(cfg.bench.keep_trace) + "_" + kind
            tf.profiler.experimental.start(logdir)
            start = time.perf_counter()
            for ids, labels, _ in batches:
                if kind == "train":
                    train_step(tf.constant(ids), tf.constant(labels)).numpy()
                else:
                    forward(tf.constant(ids)).numpy()
            seconds = (time.perf_counter() - start) / len(batches)
            tf.profiler.experimental.stop()
            totals = op_times(Path(logdir))
        per_step = {k: v / len(batches) for k, v in totals.items()}
        result[kind] = shares(per_step, {"input pipeline": pipeline_seconds})
        result[f"{kind}_step_ms"] = round(1000 * seconds, 1)
        result[f"{kind}_op_ms"] = round(1000 * sum(per_step.values()), 1)
    result["input_pipeline_ms_per_batch"] = round(1000 * pipeline_seconds, 2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
