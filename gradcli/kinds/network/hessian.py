"""Second order for network problems: ∂²L/∂w² in matrix form, and its checks.

The Hessian is the derivative of the gradient, so it is derived from the gradient expression
the backward pass printed (forward names inlined), by forward mode: each node u that depends
on w gets its differential du = T·dw, T a matrix with one column per entry of w. The rules are
the ones a course writes when it differentiates a gradient again:

- product rule over @: d(A B) = A dB for a constant A, and d(uᵀ v) = vᵀ du + uᵀ dv;
- diag() for elementwise factors: d f(u) = diag(f′(u)) du, d(u ⊙ v) = diag(v) du + diag(u) dv;
- sum rule, constant multiple, powers, sum() and mean() of a vector.

With dw = I the result is H itself: logistic regression's gradient Xᵀ(σ(Xw) − y)/N gives
Xᵀ diag(σ′(Xw)) X / N. Only vector and scalar intermediates can carry a differential here (a
matrix that depends on w would need a third index): anything else is refused with exit 2, as
are variables that are matrices (their Hessian is stated through vec(), not derived yet).

Two routes, as for gradients: the closed form, evaluated from its printed text, against
`torch.autograd.functional.hessian` of the forward pass at the same seeded points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary
from gradcli.expr.constant import constant_value
from gradcli.expr.parse import parse
from gradcli.expr.unparse import unparse
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.shapes import Shape, fmt, is_scalarlike
from gradcli.results import Check, Counterexample, Verdict

if TYPE_CHECKING:
    from gradcli.kinds.network.graph import Graph


@dataclass(frozen=True)
class HessianStep:
    rule: str  # "diag() for an elementwise factor"
    formula: str  # "d f(u) = diag(f′(u)) du"
    subject: str  # what it was applied to, in course notation
    pretty: str  # the differential's matrix T (du = T dw), in course notation

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "formula": self.formula, "subject": self.subject,
                "value": self.pretty}


@dataclass(frozen=True)
class Hessian:
    name: str  # the variable: w
    label: str  # ∂²L/∂w²
    expression: str  # pasteable
    display: str  # dims by name, I for the identity (display.text)
    pretty: str
    latex: str
    shape: str  # "d×d"
    symmetric: bool  # as every Hessian of a twice-differentiable loss is (checked, not assumed)
    steps: tuple[HessianStep, ...] = ()
    check: Check | None = None
    direction: str = ""  # a Hessian-vector product H·v (`hvp: {w: v}`): v's name

    def to_json(self) -> dict[str, Any]:
        return {"expression": self.expression, "display": self.display, "pretty": self.pretty,
                "latex": self.latex, "direction": self.direction or None,
                "shape": self.shape, "symmetric": self.symmetric,
                "steps": [s.to_json() for s in self.steps],
                "check": self.check.to_json() if self.check else None}


def refuse(message: str) -> InputError:
    return InputError(message, hint="Hessians are derived for losses whose intermediates "
                                    "that depend on the variable are vectors or scalars")


class Forward:
    """Forward-mode differentials of the nodes of one expression, with the steps recorded."""

    def __init__(self, graph: Graph, wrt: str, pretty, direction: str | None = None):
        self.graph, self.wrt, self.pretty = graph, wrt, pretty
        # dw = I gives H itself; dw = v gives H v without ever forming H (flat in the width)
        self.seed = Name(direction) if direction else \
            A.identity(graph.shape(wrt)[0], graph.shapes.names) if not is_scalarlike(graph.shape(wrt)) \
            else A.ONE
        self.steps: list[HessianStep] = []

    def shape(self, node: Node) -> Shape:
        return self.graph.shapes(node)

    def _record(self, rule: str, formula: str, node: Node, t: Node | None) -> Node | None:
        if t is not None and A.is_zero(t):
            t = None
        if t is not None:
            self.steps.append(HessianStep(rule, formula, self.pretty(node), self.pretty(t)))
        return t

    def _factor(self, c: Node, t: Node | None, primal: Node) -> Node | None:
        """c ⊙ du as course notation writes it: c du for a scalar c, diag(c) du for a column c,
        and the outer product c du when du is a scalar's (row) differential."""
        if t is None:
            return None
        if is_scalarlike(self.shape(c)):
            return A.mul(c, t)
        if is_scalarlike(self.shape(primal)):  # a column times a scalar's row differential
            return A.matmul(c, t)
        return A.matmul(A.call("diag", c), t)

    def __call__(self, node: Node) -> Node | None:
        if isinstance(node, Name):
            return self.seed if node.id == self.wrt else None
        if isinstance(node, Num) or A.is_const(node):
            return None
        if isinstance(node, Unary):
            t = self(node.operand)
            return None if t is None else A.neg(t)
        if isinstance(node, Transpose):
            if is_scalarlike(self.shape(node.operand)):
                return self(node.operand)
            if self(node.operand) is None:
                return None
            raise refuse(f"{unparse(node)}: a transposed vector or matrix that depends on "
                         f"{self.wrt} outside a product uᵀv")
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Call):
            return self._call(node)
        raise refuse(f"{unparse(node)} cannot be differentiated a second time here")

    def _binary(self, node: Binary) -> Node | None:
        a, b = node.left, node.right
        ta, tb = self(a), self(b)
        if ta is None and tb is None:
            return None
        if node.op in "+-":
            tb = None if tb is None else (A.neg(tb) if node.op == "-" else tb)
            t = ta if tb is None else tb if ta is None else A.add(ta, tb)
            return self._record("sum rule", "d(u ± v) = du ± dv", node, t)
        if node.op == "*":
            t = _plus(self._factor(b, ta, a), self._factor(a, tb, b))
            return self._record("diag() for elementwise factors",
                                "d(u ⊙ v) = diag(v) du + diag(u) dv", node, t)
        if node.op == "/" and tb is None:
            return self._record("constant multiple", "d(u / c) = du / c", node,
                                self._factor(A.div(A.ONE, b), ta, a))
        if node.op == "/":
            t = _plus(self._factor(A.div(A.ONE, b), ta, a),
                      None if tb is None else A.neg(self._factor(A.div(a, A.power(b, 2)), tb, b)))
            return self._record("quotient rule", "d(u / v) = du / v − u dv / v²", node, t)
        if node.op == "**":
            if tb is not None:
                raise refuse(f"{unparse(node)}: an exponent that depends on {self.wrt}")
            p = constant_value(b)
            t = self._factor(A.mul(A.num(p), A.power(a, p - 1)), ta, a)
            return self._record("power rule", "d(uᵖ) = diag(p uᵖ⁻¹) du", node, t)
        return self._matmul(node, ta, tb)

    def _matmul(self, node: Binary, ta: Node | None, tb: Node | None) -> Node | None:
        a, b = node.left, node.right
        t = None if tb is None else A.matmul(a, tb)
        if ta is not None:
            row = isinstance(a, Transpose) and not is_scalarlike(self.shape(a.operand))
            if not (row and self.shape(a.operand)[1].is_one and self.shape(b)[1].is_one):
                raise refuse(f"{unparse(node)}: a matrix that depends on {self.wrt} (its "
                             "differential would need a third index)")
            t = _plus(t, A.matmul(A.transpose(b), ta))  # d(uᵀ v) = vᵀ du + uᵀ dv
        return self._record("product rule over @", "d(A B) = dA B + A dB", node, t)

    def _call(self, node: Call) -> Node | None:
        entry = catalog.lookup(node.func)
        if entry is not None and entry.group == "elementwise" and len(node.args) == 1 \
                and not node.kwargs:
            u = node.args[0]
            t = self(u)
            if t is None:
                return None
            local = A.substitute(parse(entry.derivative), {"x": u})
            return self._record("diag() for elementwise factors", "d f(u) = diag(f′(u)) du",
                                node, self._factor(local, t, u))
        if node.func in ("sum", "mean") and len(node.args) == 1 and not node.kwargs:
            u = node.args[0]
            t = self(u)
            if t is None:
                return None
            total = t if is_scalarlike(self.shape(u)) else A.call("sum", t, dim=0)
            if node.func == "mean":
                total = A.div(total, _count(self.shape(u)))
            return self._record(f"{node.func} of a vector", f"d {node.func}(u) = "
                                f"{'𝟙ᵀ du' if node.func == 'sum' else '𝟙ᵀ du / n'}", node, total)
        if any(self(arg) is not None for arg in node.args):
            raise refuse(f"{node.func}(…) of something that depends on {self.wrt}: its second "
                         "derivative is not derived in matrix form yet")
        return None


def _count(shape: Shape) -> Node:
    """The number of entries of a shape, printing as its dims' names (N·m) where it has them."""
    if not shape:
        return A.ONE
    names = [str(d) for d in shape if not d.is_one]
    size = shape[0].size * shape[1].size
    if names and all(n.isidentifier() for n in names):
        return A.DimNum(size, symbol="·".join(names))
    return A.num(size)


def _plus(a: Node | None, b: Node | None) -> Node | None:
    return b if a is None else a if b is None else A.add(a, b)


def inline(graph: Graph, node: Node) -> Node:
    """The gradient in the givens alone: every forward name replaced by its line."""
    lines: dict[str, Node] = {}
    for line in graph.forward:
        lines[line.name] = A.substitute(line.node, lines)
    return A.substitute(node, lines)


def derive(graph: Graph, wrt: str, gradient: Node, pretty,
           direction: str | None = None) -> tuple[Node, list[HessianStep]]:
    shape = graph.shape(wrt)
    if direction is not None and graph.shape(direction) != shape:
        raise InputError(f"hvp: {direction} is {fmt(graph.shape(direction))} but {wrt} is "
                         f"{fmt(shape)}; the direction has the variable's shape",
                         hint=f"declare {direction} with {wrt}'s shape")
    if shape and not shape[1].is_one:
        raise InputError(f"hessians: {wrt} is a {fmt(shape)} matrix; gradcli derives Hessians "
                         "of vector and scalar variables",
                         hint=f"write the matrix's Hessian through vec({wrt}) by hand, or "
                              "differentiate by one column at a time")
    fwd = Forward(graph, wrt, pretty, direction)
    h = fwd(inline(graph, gradient))
    if h is None:
        h = A.ZERO
    return h, fwd.steps


def _routes(graph: Graph, wrt: str, node: Node, points, shape: Shape, torch_route):
    """(torch's value, our closed form's value, the point's label) at each point: the second
    order of the forward pass by `torch_route(loss, givens)`, against `node` evaluated."""
    import torch

    from gradcli.kinds.network import verify as V

    for p in points:
        givens = {k: v.detach() for k, v in p.values.items()}

        def loss(value, givens=givens):
            return V.forward(graph, {**givens, wrt: value})[graph.loss]

        truth = torch_route(loss, givens)
        ours = torch.zeros_like(truth) if A.is_zero(node) else \
            V.closed_form(node, graph, V.forward(graph, givens), shape).reshape(truth.shape)
        yield truth, ours, p.label


def _compare(label: str, reference: str, rows: list) -> Check:
    """One check over every point, its worst entry named by position and point."""
    import torch

    from gradcli.verify.compare import compare

    expected, got, names = zip(*rows, strict=True)
    result = compare(label, torch.stack(expected), torch.stack(got), reference=reference)
    at = result.where.strip("()").split(", ")  # (point, row, column), 1-based
    if len(at) == 3 and all(part.isdigit() for part in at):
        point, row, col = (int(part) for part in at)
        result = replace(result, where=f"({row}, {col}) at {names[point - 1]}")
    return result


def check(graph: Graph, wrt: str, h: Node, points) -> tuple[Check, bool, list]:
    """H's closed form against torch.autograd.functional.hessian at every point: the check,
    whether our H is symmetric at every point, and torch's Hessians (the truth for claims)."""
    import torch

    shape = graph.shape(wrt)
    n = shape[0].size if shape else 1
    rows = list(_routes(graph, wrt, h, points, (shape[0], shape[0]) if shape else (),
                        lambda loss, g: torch.autograd.functional.hessian(loss, g[wrt]).reshape(n, n)))
    ours = torch.stack([r[1] for r in rows])
    symmetric = bool(torch.allclose(ours, ours.transpose(1, 2), rtol=1e-9, atol=1e-11))
    label = f"∂²{graph.loss}/∂{wrt}²: closed form vs torch.autograd.functional.hessian"
    return (_compare(label, "torch.autograd.functional.hessian", rows), symmetric,
            [r[0] for r in rows])


def check_product(graph: Graph, wrt: str, direction: str, hv: Node, points) -> Check:
    """H·v's closed form against torch.autograd.functional.hvp at every point."""
    import torch

    rows = list(_routes(graph, wrt, hv, points, graph.shape(wrt), lambda loss, g:
                        torch.autograd.functional.hvp(loss, g[wrt], g[direction])[1]))
    label = f"∂²{graph.loss}/∂{wrt}² {direction}: closed form vs torch.autograd.functional.hvp"
    return _compare(label, "torch.autograd.functional.hvp", rows)


def judge(graph: Graph, problem, wrt: str, text: str, points, truth: list) -> Verdict:
    """A Hessian claim against torch's Hessian, entry by entry, at every point."""
    import torch

    from gradcli.kinds.network import verify as V
    from gradcli.verify.compare import CLAIM, describe_index, worst
    from gradcli.verify.evaluate import Evaluator

    shape = graph.shape(wrt)
    n = shape[0].size if shape else 1
    try:
        node = parse(text, variables=graph.declared | set(problem.dims))
    except InputError as err:
        raise problem.locate(f"hessian_claims.{wrt}", err) from None
    target = f"∂²{graph.loss}/∂{wrt}²"
    for p, want in zip(points, truth, strict=True):
        env = V.forward(graph, {k: v.detach() for k, v in p.values.items()})
        env.update({d: torch.tensor(float(size), dtype=torch.float64)  # dims as numbers: /N
                    for d, size in problem.dims.items() if d not in env})
        try:
            got = torch.broadcast_to(Evaluator(env)(node), (n, n))
        except (InputError, RuntimeError) as err:
            raise problem.locate(f"hessian_claims.{wrt}", InputError(
                f"the claim is not a {n}×{n} matrix here ({err})")) from None
        w, ok = worst(want, got, CLAIM)
        if not ok:
            return Verdict(target, text, False, Counterexample(
                {"point": p.label}, w.got, w.expected, where=describe_index(w.index)),
                method=f"compared with torch's Hessian at {len(truth)} points")
    return Verdict(target, text, True, method=f"equal to torch's Hessian at {len(truth)} points "
                   f"(rtol {CLAIM.rtol:g}, atol {CLAIM.atol:g})")
