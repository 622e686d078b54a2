"""`python -m han.nltk_setup` (run by `make setup`): install NLTK's punkt_tab when it is missing.

NLTK splits documents into sentences with its punkt_tab model, which `pip install nltk` does not
bring. When NLTK finds none on its path (`NLTK_DATA`, the virtual environment's `nltk_data`,
`~/nltk_data`, ...), this installs it into the virtual environment (`<sys.prefix>/nltk_data`,
on NLTK's default path): from the offline mirror when one is set (`HAN_DATA_MIRROR`, holding
`punkt_tab.zip`, the package as NLTK's downloader fetches it), otherwise with NLTK's downloader.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from han.cli import UsageError, entry

PACKAGE = "punkt_tab"
RESOURCE = "tokenizers/punkt_tab/english/"
ZIP_NAME = "punkt_tab.zip"

log = logging.getLogger(__name__)


def default_target() -> Path:
    """The virtual environment's NLTK folder (NLTK looks in `<sys.prefix>/nltk_data`)."""
    return Path(sys.prefix) / "nltk_data"


def find(paths: Sequence[str | Path] | None = None) -> str | None:
    """Where NLTK finds punkt_tab's English model (in `paths`, default NLTK's path), or None."""
    import nltk

    from han.data.tokenize import configure_nltk

    if paths is None:
        configure_nltk(None)  # NLTK_DATA first, as the tokenizer does
    try:
        return str(nltk.data.find(RESOURCE, paths=[str(p) for p in paths] if paths else None))
    except LookupError:
        return None


def install_from_zip(archive: Path, target: Path) -> Path:
    """Unpack NLTK's `punkt_tab.zip` into `<target>/tokenizers/punkt_tab`, atomically."""
    try:
        with zipfile.ZipFile(archive) as package:
            names = package.namelist()
            if not any(n.startswith(f"{PACKAGE}/english/") for n in names):
                raise UsageError(f"{archive} holds no {PACKAGE}/english/: it is not NLTK's "
                                 f"{PACKAGE} package; replace it or unset HAN_DATA_MIRROR")
            unsafe = [n for n in names if n.startswith("/") or ".." in Path(n).parts]
            if unsafe:
                raise UsageError(f"{archive} has entries outside its folder: {unsafe[:3]}")
            tokenizers = target / "tokenizers"
            tokenizers.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=tokenizers, prefix=".punkt_tab.") as tmp:
                package.extractall(tmp)
                final = tokenizers / PACKAGE
                if final.exists():  # an incomplete copy NLTK could not read
                    shutil.rmtree(final)
                os.replace(Path(tmp) / PACKAGE, final)
    except (zipfile.BadZipFile, OSError) as err:
        raise UsageError(f"could not install {PACKAGE} from {archive}: {err}") from err
    return target / "tokenizers" / PACKAGE


def install_with_downloader(target: Path) -> Path:
    import nltk

    target.mkdir(parents=True, exist_ok=True)
    if not nltk.download(PACKAGE, download_dir=str(target), quiet=True, raise_on_error=False):
        raise UsageError(
            f"NLTK's downloader could not fetch {PACKAGE} into {target}. Without the network, "
            f"put NLTK's {ZIP_NAME} into a mirror folder and set HAN_DATA_MIRROR to it, or point "
            f"NLTK_DATA at a folder holding tokenizers/{PACKAGE}/"
        )
    return target / "tokenizers" / PACKAGE


def ensure_punkt_tab(target: Path | None = None, mirror: str | Path | None = None,
                     paths: Sequence[str | Path] | None = None) -> tuple[str, str]:
    """Install punkt_tab into `target` unless NLTK already finds it (in `paths`, default NLTK's
    path). Returns (where it is, how: "found" | "mirror" | "downloaded")."""
    found = find(paths)
    if found:
        return found, "found"
    target = Path(target) if target else default_target()
    mirror = mirror if mirror is not None else os.environ.get("HAN_DATA_MIRROR") or None
    archive = Path(mirror).expanduser() / ZIP_NAME if mirror else None
    if archive is not None and archive.is_file():
        return str(install_from_zip(archive, target)), "mirror"
    return str(install_with_downloader(target)), "downloaded"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=None,
                        help="NLTK data folder to install into (default: <venv>/nltk_data)")
    parser.add_argument("--mirror", default=None,
                        help="folder holding punkt_tab.zip (default: $HAN_DATA_MIRROR)")
    args = parser.parse_args(argv)
    where, how = ensure_punkt_tab(args.target, args.mirror)
    verb = {"found": "found", "mirror": "installed from the mirror into",
            "downloaded": "downloaded into"}[how]
    print(f"NLTK {PACKAGE}: {verb} {where}")
    return 0


script = entry(main)

if __name__ == "__main__":
    script()
