"""The layout rule of docs/ARCHITECTURE.md, enforced: layers import downwards only, nothing
imports itself back (directly or in a loop), and no kind reaches into another kind.

Imports are read from the source (every `import`, also inside functions and TYPE_CHECKING
blocks: a lazy import is still a dependency), so a new module is checked the day it lands.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "gradcli"

# Top to bottom. A module may import its own layer or any layer below it.
LAYERS = (
    ("cli", ("gradcli", "gradcli.__main__", "gradcli.cli")),
    ("render", ("gradcli.render",)),
    ("kinds", ("gradcli.api", "gradcli.kinds")),
    ("sandbox", ("gradcli.sandbox",)),
    ("verify", ("gradcli.verify",)),
    ("problems", ("gradcli.problems", "gradcli.bundled")),
    ("expr", ("gradcli.expr",)),
    ("base", ("gradcli.catalog", "gradcli.results", "gradcli.errors", "gradcli.budget")),
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        out.update(t for t in targets if t.split(".")[0] == "gradcli" and t != name)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS and ARCHITECTURE.md"
    return best[0]


def kind_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["gradcli", "kinds"] and len(parts) > 2 else None


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    upward = sorted(t for t in GRAPH[module] if layer(t) < layer(module))
    assert not upward, f"{module} ({LAYERS[layer(module)][0]}) imports higher layers: {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if kind_of(m)))
def test_no_kind_imports_another_kind(module):
    others = sorted(t for t in GRAPH[module] if kind_of(t) and kind_of(t) != kind_of(module))
    assert not others, f"{module} reaches into another kind: {others}"


def test_no_module_imports_itself_back():
    # Tarjan's strongly connected components: any component of two or more is a loop.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert loops == []


def test_the_checker_sees_a_loop_and_an_upward_import():
    # The rule's own test: a checker that sees nothing proves nothing.
    assert "gradcli.kinds.network.vjp_context" in GRAPH["gradcli.kinds.network.vjp"]
    assert layer("gradcli.render.layouts.network") < layer("gradcli.kinds.network.result")
    assert kind_of("gradcli.kinds.pooling.verify") == "pooling"


def test_solvers_are_found_by_plain_reading():
    from gradcli.api import SOLVERS
    from gradcli.problems import model

    kinds = {cls.kind for cls in vars(model).values()
             if isinstance(cls, type) and issubclass(cls, model.Problem) and cls is not model.Problem}
    assert set(SOLVERS) == kinds
    for kind, loader in SOLVERS.items():
        solve = loader()
        assert solve.__module__ == f"gradcli.kinds.{kind}.solve"
