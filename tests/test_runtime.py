"""GPU settings checked as far as a CPU machine allows: policy, XLA flag, memory growth."""

from __future__ import annotations

import json
import subprocess

import keras
import pytest
import tensorflow as tf
from runs import train_command

from han import runtime as runtime_lib
from han.optimizers import make_optimizer


@pytest.fixture
def restore_policy():
    previous = keras.mixed_precision.global_policy()
    yield
    keras.mixed_precision.set_global_policy(previous)


def test_gpu_settings_are_applied(monkeypatch, restore_policy):
    fake_gpus = ["GPU:0", "GPU:1"]
    grown, visible = [], []
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: fake_gpus if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth",
                        lambda device, on: grown.append((device, on)))
    monkeypatch.setattr(tf.config, "set_visible_devices",
                        lambda devices, kind: visible.append((devices, kind)))
    cfg = {"strategy": "default", "devices": [1], "memory_growth": True,
           "precision": "mixed_float16", "jit_compile": True, "deterministic": False}
    rt = runtime_lib.configure(cfg, seed=0)
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert rt.jit_compile and rt.is_chief and rt.num_replicas == 1
    assert visible == [(["GPU:1"], "GPU")]
    assert grown == [("GPU:1", True)]
    assert isinstance(make_optimizer({"optimizer": "adam"}), keras.mixed_precision.LossScaleOptimizer)


def test_no_memory_growth_call_without_gpus(monkeypatch, restore_policy):
    calls = []
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda *a: calls.append(a))
    runtime_lib.configure({"strategy": "default", "precision": "float32"}, seed=0)
    assert calls == [] and keras.mixed_precision.global_policy().name == "float32"


def test_bad_settings_name_the_setting(restore_policy, monkeypatch):
    with pytest.raises(ValueError, match="runtime.strategy"):
        runtime_lib.configure({"strategy": "tpu"}, seed=0)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        runtime_lib.configure({"strategy": "multi_worker", "cluster": "tf_config"}, seed=0)


@pytest.mark.slow  # ~1 minute (XLA compiles); the policy and strategy settings are unit-tested above
def test_xla_and_mixed_precision_train_end_to_end(tmp_path, bbc_csv):
    run_dir = tmp_path / "xla"
    result = subprocess.run(
        train_command(run_dir, bbc_csv, "model=flat", "trainer.epochs=1", "dataset.max_tokens=60",
                      "runtime.jit_compile=true", "runtime.precision=mixed_float16",
                      "runtime.deterministic=false"),
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["loss"] < 10 and metrics["train"]["epochs"] == 1
