"""Shared fixtures. The only place (with .ci/run) that knows where the offline copies live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HAN_SHARED_DIR", REPO_ROOT.parent / "shared"))

# Tests read datasets from the offline mirror and NLTK's model from the shared folder; nothing
# downloads at test time. Set before any project module is imported.
os.environ.setdefault("HAN_DATA_MIRROR", str(SHARED / "datasets"))
os.environ.setdefault("NLTK_DATA", str(SHARED / "nltk_data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    path = Path(os.environ["HAN_DATA_MIRROR"])
    if not path.is_dir():
        pytest.fail(f"offline dataset mirror {path} is missing; set HAN_DATA_MIRROR")
    return path


@pytest.fixture(scope="session")
def nltk_data_dir() -> Path:
    return Path(os.environ["NLTK_DATA"])


@pytest.fixture(scope="session")
def bbc_csv(tmp_path_factory, mirror_dir) -> Path:
    """40 real BBC articles per class (politics, sport, entertainment) as a user's CSV."""
    from runs import bbc_sample

    path = tmp_path_factory.mktemp("bbc") / "bbc.csv"
    bbc_sample(mirror_dir).to_csv(path, index=False)
    return path


@pytest.fixture
def mixed_precision():
    """Runs a test under Keras' mixed_float16 policy, then restores the previous one."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


# The typed settings (han/schema/) are in Hydra's ConfigStore before any test composes.
from han.cli import register_settings  # noqa: E402

register_settings()
