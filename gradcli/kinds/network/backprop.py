"""Reverse-mode backprop over a network's lines, in closed matrix form, step by step.

Starting from ∂L/∂L = 1, the loss line and then the forward lines are visited last to first;
each line's upstream is pushed through its expression tree by the local rules of
`vjp.py`, and gradients reaching the same name along several paths are added. When a
forward name's gradient is complete it gets a symbol of its own (δ = ∂L/∂z for the input of
an activation, ∂L/∂h otherwise) so that later steps read `δ xᵀ` as a course writes them;
`expand` substitutes the symbols back for the expression language.

Only shapes and names are touched, never entries: the derivation for n = 1024 is the same
tree, built in the same time, as for n = 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gradcli.expr.ast import Call, Name, Node, names
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.graph import Graph, Line
from gradcli.kinds.network.matrix_print import Printer, subscript_digits
from gradcli.kinds.network.shapes import Shape, fmt
from gradcli.kinds.network.vjp import Context, vjp

_FROM_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
SMALL = 5  # a gradient of at most this many nodes is written out rather than named


@dataclass(frozen=True)
class RawStep:
    rule: str
    formula: str  # the rule in symbols
    label: str  # "∂L/∂W", "δ = ∂L/∂z", "∂L/∂(W x)"
    latex_label: str
    value: Node  # with Adjoint symbols
    shape: Shape
    note: str = ""
    subject: str = ""  # the line or sub-expression the rule was applied to


@dataclass
class Derivation:
    gradients: dict[str, Node]  # name -> ∂L/∂name, with Adjoint symbols
    symbols: dict[str, Node] = field(default_factory=dict)  # Adjoint id -> its value
    labels: dict[str, str] = field(default_factory=dict)  # Adjoint id -> what it stands for
    steps: list[RawStep] = field(default_factory=list)

    def expand(self, node: Node) -> Node:
        """The expression without Adjoint symbols: pasteable, evaluable."""
        def leaf(n: Node) -> Node | None:
            if isinstance(n, A.IndexForm):
                return n
            if isinstance(n, A.Adjoint):
                return self.expand(self.symbols[n.id])
            return None
        return A.rebuild(node, leaf)


def _depends(graph: Graph, targets: set[str]) -> set[str]:
    """Targets and every forward name computed from one of them."""
    out = set(targets)
    for line in graph.lines:
        if names(line.node) & out:
            out.add(line.name)
    return out


def _reach(graph: Graph) -> set[str]:
    """The names the loss depends on, transitively."""
    out = {graph.loss}
    for line in reversed(graph.lines):
        if line.name in out:
            out |= names(line.node)
    return out


def _activations(graph: Graph) -> list[str]:
    """Forward names that are the whole argument of an activation line: these get δ."""
    out = []
    for line in graph.forward:
        node = line.node
        if isinstance(node, Call) and node.args and isinstance(node.args[0], Name):
            from gradcli import catalog

            if catalog.is_elementwise(node.func) and node.args[0].id not in out:
                out.append(node.args[0].id)
    return out


class Backprop:
    def __init__(self, graph: Graph, targets: Iterable[str], mutation: Mapping[int | str, str] | None = None):
        self.graph = graph
        # An ordered tuple, never a set: steps are recorded in this order, and a set of strings
        # iterates in an order that changes with PYTHONHASHSEED (same seed, other bytes).
        self.targets = tuple(dict.fromkeys(targets))
        self.depends = _depends(graph, set(self.targets))
        self.reach = _reach(graph)
        self.shapes = graph.shapes
        self.pretty = Printer(self._is_scalar)
        self.latex = Printer(self._is_scalar, latex=True)
        self.upstream = upstream_letter(graph)
        self.ctx = Context(shapes=graph.shapes, definitions=graph.definitions,
                           mutation=dict(mutation or {}), pretty=self.pretty, define=self.define,
                           upstream=self.upstream)
        self.contributions: dict[str, list[Node]] = {}
        self.uses = self._count_uses()
        self.delta = _delta_symbols(_activations(graph))
        self.symbols: dict[str, A.Adjoint] = {}
        self.out = Derivation({})

    def _is_scalar(self, node: Node) -> bool:
        try:
            return not self.shapes(node)
        except Exception:  # noqa: BLE001 - printing must not fail on an odd node
            return False

    def _wanted(self, node: Node) -> bool:
        return bool(names(node) & self.depends)

    def _count_uses(self) -> dict[str, int]:
        uses: dict[str, int] = {}
        for line in self.graph.lines:
            if line.name in self.reach and (line.name in self.depends or line.name == self.graph.loss):
                for n in _name_nodes(line.node):
                    if n in self.depends:
                        uses[n] = uses.get(n, 0) + 1
        return uses

    # -- labels ---------------------------------------------------------------------------
    def label(self, node: Node) -> tuple[str, str]:
        if isinstance(node, Name):
            return f"∂{self.graph.loss}/∂{node.id}", rf"\frac{{\partial {self.graph.loss}}}{{\partial {_tex(node.id)}}}"
        return (f"∂{self.graph.loss}/∂({self.pretty(node)})",
                rf"\frac{{\partial {self.graph.loss}}}{{\partial \left({self.latex(node)}\right)}}")

    def symbol(self, name: str) -> A.Adjoint:
        loss = self.graph.loss
        if name in self.delta:
            sym = self.delta[name]
            # the subscript the terminal shows (δ₂, δ_h), so LaTeX names it the same
            sub = sym[1:].lstrip("_").translate(_FROM_SUB)
            tex = r"\delta" + (f"_{{{sub}}}" if sub else "")
        else:
            sym, tex = f"∂{loss}/∂{name}", rf"\frac{{\partial {loss}}}{{\partial {_tex(name)}}}"
        return A.Adjoint(f"__d_{name}", symbol=sym, latex=tex)

    def define(self, symbol: str, latex: str, label: str, value: Node | None,
               index: bool = False) -> A.Adjoint:
        """A named sub-expression (X̂, σ of a normalisation) so the formulas stay readable;
        `index`: a gradient known only in index notation (`label`), with no value."""
        for sym_id, known in self.out.symbols.items():
            if value is not None and known == value and sym_id.startswith("__s"):
                return self.symbols[sym_id]
        if index:
            sym = A.IndexForm(f"__s{len(self.out.symbols)}", symbol=symbol, latex=latex, text=label)
            self.symbols[sym.id] = sym
            self.out.symbols[sym.id] = sym
            self.out.labels[sym.id] = label
            return sym
        sym = A.Adjoint(f"__s{len(self.out.symbols)}", symbol=symbol, latex=latex)
        self.symbols[sym.id] = sym
        self.shapes.names[sym.id] = self.shapes(value)
        self.out.symbols[sym.id] = value
        self.out.labels[sym.id] = label
        return sym

    # -- the pass -------------------------------------------------------------------------
    def run(self) -> Derivation:
        self.contributions[self.graph.loss] = [A.ONE]
        for line in reversed(self.graph.lines):
            if line.name not in self.depends and line.name != self.graph.loss:
                continue
            total = self.total(line.name)
            if total is None:
                continue
            upstream = self.name_gradient(line, total)
            self.push(line.node, upstream, line)
        for name in self.targets:
            if name in self.graph.given:
                total = self.total(name)
                self.out.gradients[name] = total if total is not None else A.ZERO
        for name in self.targets:
            self.out.gradients.setdefault(name, A.ZERO)
        return self.out

    def total(self, name: str) -> Node | None:
        parts = self.contributions.get(name)
        if not parts:
            return None
        total = parts[0]
        for p in parts[1:]:
            total = A.add(total, p)
        if len(parts) > 1:
            label, tex = self.label(Name(name))
            self.record("sum over paths", f"{label} = the sum of its {len(parts)} contributions",
                        label, tex, total, self.shapes.names[name], subject=name)
        return total

    def name_gradient(self, line: Line, total: Node) -> Node:
        """Record ∂L/∂v for a forward name, and give it a symbol if later steps reuse it."""
        name = line.name
        if name == self.graph.loss:
            return total
        self.out.gradients[name] = total
        if name not in self.delta and A.size(self.out.expand(total)) <= SMALL:
            return total
        sym = self.symbol(name)
        self.symbols[sym.id] = sym
        self.shapes.names[sym.id] = self.shapes(total)
        self.out.symbols[sym.id] = total
        label, tex = self.label(Name(name))
        self.out.labels[sym.id] = label
        formula = f"{sym.symbol} = {label}, used below" if sym.symbol != label else \
            f"{label}, used below by name"
        self.record("name the gradient", formula, f"{sym.symbol} = {label}"
                    if sym.symbol != label else label, f"{sym.latex} = {tex}" if sym.latex != tex else tex,
                    total, self.shapes.names[name], subject=f"∂{self.graph.loss}/∂{name} is complete")
        return sym

    def push(self, node: Node, g: Node, line: Line) -> None:
        if isinstance(node, Name):
            return
        for c in vjp(node, g, self.ctx, self._wanted):
            if isinstance(c.child, Name):
                self.contributions.setdefault(c.child.id, []).append(c.grad)
                label, tex = self.label(c.child)
                if self.uses.get(c.child.id, 1) > 1:
                    label, tex = f"{label} (path {len(self.contributions[c.child.id])})", tex
                shape = self.shapes.names[c.child.id]
            else:
                label, tex = self.label(c.child)
                shape = self.shapes(c.child)
            note = c.note
            if self.shapes(c.grad) != shape and not note:
                note = f"the same value in every entry of the {fmt(shape)} gradient (broadcast)"
            self.record(c.rule, rename_upstream(c.formula, self.upstream), label, tex, c.grad, shape, note,
                        subject=f"line {line.name}: {self.pretty(node)}")
            self.push(c.child, c.grad, line)

    def record(self, rule, formula, label, tex, value, shape, note="", subject="") -> None:
        self.out.steps.append(RawStep(rule, formula, label, tex, value, shape, note, subject))


def upstream_letter(graph: Graph) -> str:
    """G for the upstream in the rules' formulas, unless the problem has a G of its own."""
    return next(u for u in ("G", "U", "Γ", "Ḡ") if u not in graph.declared)


def rename_upstream(formula: str, letter: str) -> str:
    """A rule's formula with its upstream G written `letter` (Ĝ = G ⊙ γ keeps its hat)."""
    if letter == "G":
        return formula
    return re.sub(r"(?<![A-Za-z])G(?![A-Za-z\u0302])", letter, formula).replace("Ĝ", letter + "\u0302")


def _delta_symbols(names: list[str]) -> dict[str, str]:
    """δ for one layer; δ₁, δ₂ for z1, z2; δ_h for other names when there are several."""
    if len(names) == 1:
        return {names[0]: "δ"}
    out = {}
    for v in names:
        head = v.rstrip("0123456789")
        out[v] = "δ" + subscript_digits(v)[len(head):] if head != v else f"δ_{v}"
    return out


def _name_nodes(node: Node) -> list[str]:
    from gradcli.expr.ast import walk

    return [n.id for n in walk(node) if isinstance(n, Name)]


def _tex(name: str) -> str:
    from gradcli.kinds.network.matrix_print import latex_name

    return latex_name(name)

