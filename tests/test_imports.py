"""Imports point one way (docs/ARCHITECTURE.md): every `han` module's imports, function-local
ones included, read with `ast`; no cycles, and no module imports a layer above its own."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

HAN = Path(__file__).resolve().parents[1] / "han"

# Lowest first. A module may import its own layer and those before it, never one after it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("han", "han.io", "han.faults", "han.quiet", "han.console", "han.provenance",
              "han.schema", "han.schema.*", "han.settings", "han.evaluation", "han.optimizers", "han.extras",
              "han.checkpoints",
              "han.runconfig", "han._version", "han.report_style")),
    ("data", ("han.data", "han.data.*")),
    ("layers", ("han.layers", "han.layers.*")),
    ("model", ("han.models", "han.embeddings", "han.pretrained", "han.baselines", "han.baseline_cache",
               "han.document_vectors", "han.runtime",
               "han.trainer", "han.monitoring", "han.explain", "han.report", "han.paper",
               "han.analysis", "han.analysis.erasure", "han.analysis.probe", "han.config", "han.config.*",
               "han.rundir", "han.run_files", "han.trackers", "han.inference", "han.table2", "han.table2.*")),
    # The command line on top: han/cli.py and the modules that are commands (one `main` each).
    ("commands", ("han.cli", "han.errors", "han.train", "han.train_linear", "han.predict", "han.saved_run", "han.inputs",
                  "han.export", "han.nltk_setup",
                  "han.data.__main__", "han.analysis.*", "han.evaluate", "han.search")),
]
# data and layers are side by side: neither imports the other.
APART = {("data", "layers"), ("layers", "data")}
def _modules() -> dict[str, Path]:
    found = {}
    for path in HAN.rglob("*.py"):
        parts = list(path.relative_to(HAN.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """module ─► the `han` modules it imports (anywhere in its file)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    head = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*head, base] if base else head)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def layer_of(module: str) -> int:
    """A module's layer: where it is named, else the first pattern it matches."""
    for i, (_, patterns) in enumerate(LAYERS):
        if module in patterns:
            return i
    for i, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return i
    raise AssertionError(f"{module} is in no layer of tests/test_imports.py")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_han_modules_import_each_other_without_a_cycle():
    cycles = _cycles(import_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_no_module_imports_a_layer_above_its_own():
    names = [name for name, _ in LAYERS]
    upward = []
    for module, targets in sorted(import_graph().items()):
        for target in sorted(targets):
            mine, theirs = layer_of(module), layer_of(target)
            if theirs > mine or (names[mine], names[theirs]) in APART:
                upward.append(f"{module} ({names[mine]}) imports {target} ({names[theirs]})")
    assert not upward, "\n".join(upward)


def test_the_graph_sees_function_local_imports_and_the_rule_catches_an_upward_one():
    graph = import_graph()
    assert "han.data.tokenize" in graph["han.errors"]  # a function-local import, found
    assert layer_of("han.cli") > layer_of("han.trainer") > layer_of("han.data.prepare")
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
