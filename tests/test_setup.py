"""A fresh machine (issue #13): NLTK's punkt_tab installed by `make setup` from the mirror."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from han import nltk_setup

REPO = Path(__file__).resolve().parents[1]


def test_punkt_tab_is_installed_from_the_mirror_into_an_empty_folder(tmp_path, mirror_dir,
                                                                      monkeypatch):
    import nltk
    from nltk.tokenize import PunktTokenizer

    empty, target = tmp_path / "empty", tmp_path / "venv_nltk_data"
    empty.mkdir()
    assert nltk_setup.find([empty]) is None
    where, how = nltk_setup.ensure_punkt_tab(target, mirror_dir, paths=[empty])
    assert how == "mirror" and Path(where) == target / "tokenizers" / "punkt_tab"
    assert (target / "tokenizers/punkt_tab/english/sent_starters.txt").is_file()
    # Installed once: the next run finds it and does nothing.
    assert nltk_setup.ensure_punkt_tab(target, mirror_dir, paths=[target])[1] == "found"
    monkeypatch.setattr(nltk.data, "path", [str(target)])
    assert PunktTokenizer("english").tokenize("It works. Really.") == ["It works.", "Really."]


def test_a_bad_mirror_zip_is_named(tmp_path):
    bad = tmp_path / "mirror"
    bad.mkdir()
    (bad / "punkt_tab.zip").write_bytes(b"not a zip")
    with pytest.raises(nltk_setup.UsageError, match="could not install punkt_tab from"):
        nltk_setup.ensure_punkt_tab(tmp_path / "t", bad, paths=[tmp_path / "nothing"])


def test_fresh_machine_han_data_fails_in_one_line_then_setup_makes_it_work(tmp_path, mirror_dir):
    """NLTK_DATA at an empty folder: the data step names the fix; `han.nltk_setup` applies it."""
    import nltk

    nltk_home = tmp_path / "nltk_data"
    nltk_home.mkdir()
    csv = tmp_path / "docs.csv"
    pd.DataFrame({"text": [f"Sentence {i}. Another one here." for i in range(20)],
                  "label": ["a", "b"] * 10}).to_csv(csv, index=False)
    env = dict(os.environ, PYTHONPATH=str(REPO), NLTK_DATA=str(nltk_home),
               HAN_DATA_MIRROR=str(mirror_dir))
    args = [sys.executable, "-m", "han.data", "dataset=csv", f"dataset.train_path={csv}",
            f"paths.cache_dir={tmp_path / 'cache'}", "workers=1", "progress=false",
            f"hydra.run.dir={tmp_path / 'run'}"]
    # Other places on NLTK's default path (~/nltk_data, the venv's) may hold the model already.
    elsewhere = [p for p in nltk.data.path if p != os.environ.get("NLTK_DATA")]
    if nltk_setup.find(elsewhere) is None:
        result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path,
                                timeout=120)
        assert result.returncode == 2, result.stderr[-3000:]
        [line] = result.stderr.strip().splitlines()
        assert "punkt_tab" in line and "han-nltk-setup" in line and "paths.nltk_data" in line
    setup = subprocess.run(
        [sys.executable, "-m", "han.nltk_setup", "--target", str(nltk_home)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert setup.returncode == 0, setup.stderr[-3000:]
    assert "punkt_tab" in setup.stdout
    assert (nltk_home / "tokenizers/punkt_tab/english").is_dir() or "found" in setup.stdout
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


# ── packaging: configs inside the package, console scripts, license ──────────────────────────

def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_a_wheel_build_ships_every_config_inside_the_package(tmp_path):
    import importlib.util

    from han.console import _config_dir

    spec = importlib.util.spec_from_file_location("han_setup", REPO / "setup.py")
    module = importlib.util.module_from_spec(spec)
    import setuptools

    original, setuptools.setup = setuptools.setup, lambda **kwargs: None  # import, don't build
    try:
        spec.loader.exec_module(module)
    finally:
        setuptools.setup = original
    written = module.copy_configs(tmp_path)
    shipped = sorted(p.relative_to(tmp_path / "han" / "conf") for p in written if p.suffix == ".yaml")
    assert shipped == sorted(p.relative_to(REPO / "conf") for p in (REPO / "conf").rglob("*.yaml"))
    # the serving guide that han-export copies beside an export (an installed copy has no docs/)
    assert (tmp_path / "han" / "SERVING.md").read_text() == (REPO / "docs" / "SERVING.md").read_text()
    # Installed, han reads its own han/conf; in a checkout, the top-level conf/.
    assert _config_dir(tmp_path / "han") == tmp_path / "han" / "conf"
    assert _config_dir(REPO / "han") == REPO / "conf"


def test_console_scripts_license_and_no_relative_config_paths():
    import importlib

    project = _pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert "MIT License" in (REPO / "LICENSE").read_text()
    scripts = project["scripts"]
    assert {"han-train", "han-data", "han-predict", "han-compare"} <= set(scripts)
    for target in scripts.values():
        module, name = target.split(":")
        assert callable(getattr(importlib.import_module(module), name)), target
    requires = _pyproject()["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in requires)
    for path in list((REPO / "han").rglob("*.py")) + list((REPO / "experiments").rglob("*.py")):
        assert 'config_path="..' not in path.read_text(), path  # wheels have no ../conf


@pytest.mark.slow  # builds and installs a wheel (~1 min); needs setuptools>=77 installed
def test_installed_wheel_runs_han_train_from_another_folder(tmp_path):
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("needs setuptools>=77 to build without network (pip install 'setuptools>=77')")
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # no checkout in the way
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True, timeout=600,
                   env=env)
    # One top-level package (issue #26): experiments/ ships as han.experiments, not beside han
    import zipfile

    [wheel] = wheels.glob("han_attention-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"han"}
    assert "han/experiments/compare.py" in names and "han/conf/train.yaml" in names
    assert "han/experiments/records.py" in names and "han/SERVING.md" in names
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=env)
    pip = venv / "bin" / "pip"
    subprocess.run([str(pip), "install", "--no-deps", "--no-index", *map(str, wheels.glob("*.whl"))],
                   check=True, capture_output=True, timeout=600, env=env)
    # The dependencies from this environment, without its (editable) han: a .pth adds its
    # site-packages folders after the new venv's own (their .pth files are not run).
    site = Path(next((venv / "lib").glob("python3*/site-packages")))
    folders = [p for p in sys.path if p.endswith("site-packages") and Path(p) != site]
    (site / "zz_deps.pth").write_text("\n".join(folders) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(venv / "bin" / "han-train"), "--cfg", "job", "model=flat"],
                            capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "name: flat" in result.stdout
    bad = subprocess.run([str(venv / "bin" / "han-train"), "trainer.epochs=ten"],
                         capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert bad.returncode == 2 and "trainer.epochs is 'ten'" in bad.stderr
