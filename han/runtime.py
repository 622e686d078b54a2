"""Devices, precision, XLA and the distribution strategy, from `conf/runtime/*.yaml`.

Must run before any other TensorFlow op: visible devices, memory growth, logical devices and
multi-worker collectives can only be set up while the runtime is still uninitialised.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from han.schema import typed

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    strategy: object  # tf.distribute.Strategy
    jit_compile: bool
    precision: str
    is_chief: bool
    worker_index: int
    num_workers: int

    @property
    def num_replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)


def _cluster_resolver(kind: str):
    import tensorflow as tf

    if kind == "slurm":
        return tf.distribute.cluster_resolver.SlurmClusterResolver()
    if kind == "tf_config":
        if "TF_CONFIG" not in os.environ:
            from han.console import CONFIG_DIR  # an installed copy's configs are inside the package

            raise ValueError(
                "runtime.strategy=multi_worker with runtime.cluster=tf_config needs the TF_CONFIG "
                "environment variable (cluster and task of this worker); see "
                f"{CONFIG_DIR / 'runtime' / 'multi_worker.yaml'}"
            )
        return tf.distribute.cluster_resolver.TFConfigClusterResolver()
    raise ValueError(f"runtime.cluster must be tf_config or slurm, got {kind!r}")


def configure(cfg: Mapping, seed: int) -> Runtime:
    """Applies the runtime settings and returns the strategy to build and train under."""
    from han.quiet import import_tensorflow

    tf = import_tensorflow()  # first use: its start-up noise filtered
    import keras

    cfg = typed("runtime", cfg)
    strategy_name = str(cfg.strategy)
    resolver = None
    if strategy_name == "multi_worker":
        # The cluster must be known before the runtime starts; it fixes the collective ops.
        resolver = _cluster_resolver(str(cfg.cluster))

    gpus = tf.config.list_physical_devices("GPU")
    devices = cfg.devices
    if devices is not None and gpus:
        gpus = [gpus[int(i)] for i in devices]
        tf.config.set_visible_devices(gpus, "GPU")
    if cfg.memory_growth:
        for gpu in gpus:  # only asked for when GPUs exist; a no-op on CPU machines
            tf.config.experimental.set_memory_growth(gpu, True)
    logical_cpus = int(cfg.logical_cpus)
    if logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(logical_cpus)]
        )

    precision = str(cfg.precision)
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(seed)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()

    worker_index, num_workers = 0, 1
    if strategy_name == "default":
        strategy = tf.distribute.get_strategy()
    elif strategy_name == "mirrored":
        names = [d.name for d in tf.config.list_logical_devices("GPU")]
        if not names:
            names = [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=names)
    elif strategy_name == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
        worker_index = int(resolver.task_id or 0)
        num_workers = len(resolver.cluster_spec().as_dict().get("worker", [])) or 1
    else:
        raise ValueError(
            f"runtime.strategy must be default, mirrored or multi_worker, got {strategy_name!r}"
        )
    is_chief = worker_index == 0
    log.info(
        "runtime: strategy %s (%d replicas), precision %s, jit_compile %s, GPUs %d",
        strategy_name, strategy.num_replicas_in_sync, precision,
        bool(cfg.jit_compile), len(gpus),
    )
    return Runtime(
        strategy=strategy,
        jit_compile=bool(cfg.jit_compile),
        precision=precision,
        is_chief=is_chief,
        worker_index=worker_index,
        num_workers=num_workers,
    )


def tf_config(workers: list[str], index: int) -> str:
    """A TF_CONFIG value for worker `index` of a cluster: used by tests and launch scripts."""
    return json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
