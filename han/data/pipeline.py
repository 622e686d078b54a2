"""tf.data batches: padded int32 ids, labels and document indices; shuffled per epoch, bucketed.

The batch plan (which documents go together) is numpy, seeded by (seed, epoch), so a resumed
run sees the same batches it would have seen, and every worker of a distributed run agrees on
the plan and reads its own shard of it. A source is built once per input pipeline
(`BatchSource.for_pipeline`, given the strategy's input context) and never reconfigured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

from han.data.encode import EncodedDocs

# Documents are sorted by length inside windows of this many batches: long enough to group
# similar lengths, short enough that batches still mix the corpus.
BUCKET_WINDOW_BATCHES = 50


def batch_plan(
    docs: EncodedDocs,
    batch_size: int,
    *,
    shuffle: bool,
    bucket: bool,
    seed: int = 0,
    epoch: int = 0,
) -> list[np.ndarray]:
    """Lists of document indices, one per batch."""
    order = np.arange(len(docs))
    if shuffle:
        order = np.random.default_rng([seed, epoch]).permutation(len(docs))
    if bucket:
        # The paper batches documents of similar length; sort by sentences, then longest sentence.
        window = batch_size * BUCKET_WINDOW_BATCHES if shuffle else len(order)
        key = docs.doc_sentences.astype(np.int64) * 100_000 + docs.longest_sentence
        for start in range(0, len(order), max(1, window)):
            part = order[start : start + window]
            order[start : start + window] = part[np.argsort(key[part], kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle and bucket:
        rng = np.random.default_rng([seed, epoch, 1])
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


@dataclass
class BatchSource:
    """A re-iterable source of padded batches; each new iteration is the next epoch.

    Every setting is fixed at construction; only `epoch` moves, by one per iteration.
    """

    docs: EncodedDocs
    batch_size: int
    flat: bool = False
    shuffle: bool = False
    bucket: bool = True
    seed: int = 0
    epoch: int = 0
    shard_index: int = 0
    num_shards: int = 1
    # Replicas fed by this pipeline: a step takes one batch per replica, so an epoch's batches
    # are cut to a multiple of it rather than leaving a replica with nothing.
    steps_multiple: int = 1

    @classmethod
    def for_pipeline(
        cls,
        docs: EncodedDocs,
        global_batch_size: int,
        input_context: tf.distribute.InputContext | None = None,
        **settings: Any,
    ) -> BatchSource:
        """The source one input pipeline reads: the per-replica batch, its shard of the plan.

        As tensorflow/models' `build_inputs(params, input_context)`: a strategy calls its
        dataset function once per input pipeline with that pipeline's context. Without a
        context (evaluation, one device) the source reads every batch at `global_batch_size`.
        """
        if input_context is None:
            return cls(docs, global_batch_size, **settings)
        return cls(
            docs,
            input_context.get_per_replica_batch_size(global_batch_size),
            shard_index=input_context.input_pipeline_id,
            num_shards=input_context.num_input_pipelines,
            steps_multiple=input_context.num_replicas_in_sync // input_context.num_input_pipelines,
            **settings,
        )

    def plan(self, epoch: int) -> list[np.ndarray]:
        batches = batch_plan(
            self.docs, self.batch_size, shuffle=self.shuffle, bucket=self.bucket,
            seed=self.seed, epoch=epoch,
        )
        if self.num_shards > 1:
            # Every shard must run the same number of steps or collective ops wait forever.
            per_shard = len(batches) // self.num_shards
            batches = batches[self.shard_index :: self.num_shards][:per_shard]
        if self.steps_multiple > 1:
            batches = batches[: len(batches) - len(batches) % self.steps_multiple]
        return batches

    def __len__(self) -> int:
        return len(self.plan(self.epoch))

    def __call__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        for indices in self.plan(epoch):
            yield self.docs.padded(indices, self.flat), self.docs.labels[indices], indices

    def dataset(self):
        """A `tf.data.Dataset` of (ids, labels, document indices), prefetched."""
        import tensorflow as tf

        rank = 2 if self.flat else 3
        signature = (
            tf.TensorSpec((None,) * rank, tf.int32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,), tf.int64),
        )
        ds = tf.data.Dataset.from_generator(self, output_signature=signature)
        return ds.prefetch(tf.data.AUTOTUNE)
