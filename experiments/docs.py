"""Published tables into the docs: `python -m experiments.docs` (`make docs`).

A results table in README.md or docs/*.md is never typed by hand. It stands between two markers
that name the file it comes from, a table that `experiments.compare --publish` wrote beside its
records in docs/results/:

    <!-- include: docs/results/results_table/headline.md -->
    ...generated...
    <!-- /include -->

This module rewrites every such block from its file (`--check`: only reports the blocks that
differ, exit 1, as tests/test_published.py does).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

# A checkout's top level; an installed copy (han.experiments.docs) has no docs: --root names one.
ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/RESULTS.md")
BLOCK = re.compile(r"(<!-- include: (?P<path>\S+) -->\n)(?P<body>.*?)(<!-- /include -->)", re.S)


def render(text: str, root: Path = ROOT) -> str:
    """`text` with every include block's body replaced by the file it names."""
    def fill(match: re.Match) -> str:
        body = (root / match["path"]).read_text().rstrip("\n") + "\n"
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(fill, text)


def stale(root: Path = ROOT, docs: Sequence[str] = DOCS) -> list[str]:
    """The docs whose include blocks differ from their files."""
    return [d for d in docs if render((root / d).read_text(), root) != (root / d).read_text()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale docs, change nothing")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose docs to rewrite (default: this module's)")
    args = parser.parse_args(argv)
    root = args.root
    if not all((root / doc).is_file() for doc in DOCS):
        print(f"error: {root} is not a checkout of this project (it has no {' or '.join(DOCS)}); "
              "give --root <checkout>", file=sys.stderr)
        return 2
    if args.check:
        out = stale(root)
        for doc in out:
            print(f"error: {doc} is out of date with docs/results; run `make docs`",
                  file=sys.stderr)
        return 1 if out else 0
    for doc in DOCS:
        path = root / doc
        new = render(path.read_text(), root)
        if new != path.read_text():
            path.write_text(new)
            print(f"updated {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
