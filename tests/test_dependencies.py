"""Declared dependencies match the imports (issue #26): nothing imported goes undeclared (yaml
and joblib did), nothing declared goes unused (psutil was)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"han", "experiments", "benchmarks", "tests", "runs", "paper_fixtures", "config_snapshot"}
# Declared and never imported, on purpose: Hydra discovers its plugins (hydra_plugins.*) itself.
NOT_IMPORTED = {"hydra-joblib-launcher", "hydra-submitit-launcher"}
# Imported from another declared distribution's namespace
PROVIDED_BY = {"hydra_plugins": "hydra-core", "tensorboard": "tensorboard"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0])


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = {requirement_name(r) for r in project["dependencies"]}
    extras = {name: {requirement_name(r) for r in reqs}
              for name, reqs in project["optional-dependencies"].items()}
    return base, extras


def imported_modules(folders: list[Path]) -> set[str]:
    modules: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
                elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
                      and node.args and isinstance(node.args[0], ast.Constant)):
                    modules.add(str(node.args[0].value).split(".")[0])
    return modules - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"}


def asked_by_name() -> set[str]:
    """Modules the code imports by name when a feature asks for them (han/extras.py,
    han/trackers.py); pyarrow is pandas' Parquet engine."""
    from han.extras import OVERRIDES
    from han.trackers import EXTRAS

    named = {module for module, _ in EXTRAS.values()} | {"pyarrow"}
    return named | {m.split(".")[0] for _, modules, _, _ in OVERRIDES for m in modules}


def package_imports() -> set[str]:
    return imported_modules([REPO / "han", REPO / "experiments"]) | asked_by_name()


def distributions(modules: set[str]) -> dict[str, str]:
    """module -> distribution (installed ones from their metadata, others by name)."""
    installed = packages_distributions()
    out = {}
    for module in modules:
        if module in PROVIDED_BY:
            out[module] = PROVIDED_BY[module]
        elif module in installed:
            out[module] = normalise(installed[module][0])
        else:
            out[module] = normalise(module)
    return out


def test_every_import_of_the_package_is_declared():
    base, extras = declared()
    everything = base | set().union(*(v for k, v in extras.items() if k not in ("dev", "gpu")))
    used = distributions(package_imports())
    undeclared = {m: d for m, d in used.items() if d not in everything}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_dependency_is_imported():
    base, extras = declared()
    runtime = base | set().union(*(v for k, v in extras.items() if k not in ("dev", "gpu")))
    used = set(distributions(package_imports()).values())
    unused = runtime - used - NOT_IMPORTED
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"


def test_the_tests_imports_are_in_the_dev_install():
    base, extras = declared()
    dev = base | set().union(*extras.values())
    used = distributions(imported_modules([REPO / "tests", REPO / "benchmarks"]))
    missing = {m: d for m, d in used.items() if d not in dev}
    assert not missing, f"the tests import packages outside the dev install: {missing}"


def test_psutil_yaml_and_joblib_are_where_the_imports_say():
    base, _ = declared()
    assert "psutil" not in base and {"pyyaml", "joblib"} <= base
    assert "pyarrow" not in base  # the [parquet] extra
