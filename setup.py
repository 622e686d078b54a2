"""Ships the top-level `conf/` inside the installed package as `han/conf` (issue #13), and the
serving guide as `han/SERVING.md` (han-export copies it beside an export, issue #26).

Hydra's guidance for installed apps: the configs live inside the package. The repository keeps
them at the top level (`conf/`), so a wheel build copies them into `han/conf`; `han.cli` reads
`han/conf` when it is there (an installed wheel) and `conf/` otherwise (a clone, an editable
install, `python -m han.train`). The package list is here too (`PACKAGES`); everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

CONF = Path(__file__).resolve().parent / "conf"
SERVING = Path(__file__).resolve().parent / "docs" / "SERVING.md"


def copy_configs(build_lib: str | Path) -> list[Path]:
    """Copy every config of `conf/` to `<build_lib>/han/conf/` and docs/SERVING.md to
    `<build_lib>/han/`; returns the files written."""
    written = []
    for source in sorted(CONF.rglob("*.yaml")):
        target = Path(build_lib) / "han" / "conf" / source.relative_to(CONF)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        written.append(target)
    guide = Path(build_lib) / "han" / SERVING.name
    guide.write_bytes(SERVING.read_bytes())
    return [*written, guide]


class BuildWithConfigs(build_py):
    def run(self) -> None:
        super().run()
        # An editable install reads conf/ in place: a copy would go stale.
        if not getattr(self, "editable_mode", False):
            self._configs = [str(p) for p in copy_configs(self.build_lib)]

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + list(getattr(self, "_configs", []))


# One top-level package: `han`, with the repository's top-level `experiments/` installed as
# `han.experiments` (docs/ARCHITECTURE.md, "One package").
PACKAGES = find_packages(include=["han", "han.*"]) + ["han.experiments"]
PACKAGE_DIR = {"han.experiments": "experiments"}

setup(cmdclass={"build_py": BuildWithConfigs}, packages=PACKAGES, package_dir=PACKAGE_DIR)
