"""Second order for network problems: ∂²L/∂w² in matrix form, and its checks.

The Hessian is the derivative of the gradient, so it is derived from the gradient expression
the backward pass printed (forward names inlined), by forward mode: each node u that depends
on w gets its differential vec(du) = T·dw, T a matrix with one column per entry of w (a
column's vec is itself, so for vectors this is du = T dw). The rules are the ones a course
writes when it differentiates a gradient again:

- product rule over @: d(A B) = A dB for a constant A, and d(uᵀ v) = vᵀ du + uᵀ dv; with a
  matrix differential, vec(A dX B) = (Bᵀ ⊗ A) vec(dX) (`kron`);
- diag() for elementwise factors: d f(u) = diag(f′(u)) du, d(u ⊙ v) = diag(v) du + diag(u) dv
  (diag(vec(·)) for matrices);
- sum rule, constant multiple, powers, sum() and mean().

With dw = I the result is H itself: logistic regression's gradient Xᵀ(σ(Xw) − y)/N gives
Xᵀ diag(σ′(Xw)) X / N. A matrix variable W is listed as vec(W) and its Hessian is
∂²L/∂vec(W)², mn×mn over W's columns stacked: least squares ‖XW − Y‖² gives
2 (I ⊗ Xᵀ)(I ⊗ X). What is still refused with exit 2: a transposed matrix that depends on w
(vec(dWᵀ) needs the commutation matrix), a broadcast of something that depends on w, and
calls other than elementwise functions, sum and mean (softmax, norms, ...).

Two routes, as for gradients: the closed form, evaluated from its printed text, against
`torch.autograd.functional.hessian` of the forward pass at the same seeded points (for vec(W),
of the loss as a function of W's columns stacked: torch's reshape is row-major, so vec(W) is
Wᵀ flattened).
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
from gradcli.kinds.network.shapes import ONE, Shape, fmt, is_scalarlike, same, times
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
        # dw = I gives H itself; dw = v gives H v without ever forming H (flat in the width).
        # A matrix W is differentiated through vec(W): every differential is a vec, vec(du) =
        # T vec(dW), and the seed is the mn×mn identity.
        shape = graph.shape(wrt)
        self.seed = Name(direction) if direction else A.ONE if is_scalarlike(shape) else \
            A.identity(square(shape)[0], graph.shapes.names)
        self.steps: list[HessianStep] = []

    def shape(self, node: Node) -> Shape:
        return self.graph.shapes(node)

    def _record(self, rule: str, formula: str, node: Node, t: Node | None) -> Node | None:
        if t is not None and A.is_zero(t):
            t = None
        if t is not None:
            self.steps.append(HessianStep(rule, formula, self.pretty(node), self.pretty(t)))
        return t

    def _vec(self, node: Node) -> Node:
        """vec(u): a column (or scalar) is its own vec; a matrix's columns stacked."""
        shape = self.shape(node)
        return node if is_scalarlike(shape) or shape[1].is_one else A.call("vec", node)

    def _eye(self, dim) -> Node:
        """I of one dimension inside a Kronecker factor, eye(m) by name where the dim has one:
        a plain call, not the I of course notation, since I ⊗ X would not say I's size."""
        eye = A.identity(dim, self.graph.shapes.names)
        return Call("eye", eye.args)

    def _factor(self, c: Node, t: Node | None, primal: Node) -> Node | None:
        """c ⊙ du as course notation writes it: c du for a scalar c, diag(c) du for a column c
        (diag(vec(c)) vec(du) for a matrix), and the outer product c du when du is a scalar's
        (row) differential."""
        if t is None:
            return None
        if is_scalarlike(self.shape(c)):
            return A.mul(c, t)
        if is_scalarlike(self.shape(t)):
            return A.mul(self._vec(c), t)  # a scalar variable's differential is a scalar: c dw
        if is_scalarlike(self.shape(primal)):  # a column times a scalar's row differential
            return A.matmul(self._vec(c), t)
        if not same(self.shape(c), self.shape(primal)):
            raise refuse(f"{unparse(c)} ⊙ {unparse(primal)}: a {fmt(self.shape(primal))} value "
                         f"that depends on {self.wrt}, broadcast against a {fmt(self.shape(c))}")
        return A.matmul(A.call("diag", self._vec(c)), t)

    def __call__(self, node: Node) -> Node | None:
        if isinstance(node, Name):
            return self.seed if node.id == self.wrt else None
        if isinstance(node, Num) or A.is_const(node):
            return None
        if isinstance(node, Unary):
            t = self(node.operand)
            return None if t is None else A.neg(t)
        if isinstance(node, Transpose):
            shape = self.shape(node.operand)
            if is_scalarlike(shape) or shape[0].is_one or shape[1].is_one:
                return self(node.operand)  # vec(uᵀ) = vec(u) for a row or a column
            if self(node.operand) is None:
                return None
            raise refuse(f"{unparse(node)}: a transposed matrix that depends on {self.wrt} "
                         "(vec(dWᵀ) would need the commutation matrix)")
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Call):
            return self._call(node)
        raise refuse(f"{unparse(node)} cannot be differentiated a second time here")

    def _binary(self, node: Binary) -> Node | None:
        if node.op == "@":
            return self._matmul(node)
        a, b = node.left, node.right
        ta, tb = self(a), self(b)
        if ta is None and tb is None:
            return None
        if node.op in "+-":
            tb = None if tb is None else (A.neg(tb) if node.op == "-" else tb)
            for side, ts in ((a, ta), (b, tb)):
                if ts is not None and not is_scalarlike(self.shape(side)) and \
                        not same(self.shape(side), self.shape(node)):
                    raise refuse(f"{unparse(node)}: {unparse(side)} depends on {self.wrt} and is "
                                 f"broadcast from {fmt(self.shape(side))} to "
                                 f"{fmt(self.shape(node))}")
            t = ta if tb is None else tb if ta is None else A.add(ta, tb)
            if not is_scalarlike(self.shape(node)):  # a scalar broadcast: every entry moves
                st, ones = self.shape(t), A.ones_like(self._vec(node))
                if is_scalarlike(st):
                    t = A.mul(t, ones)
                elif st[0].is_one:
                    t = A.matmul(ones, t)
            return self._record("sum rule", "d(u ± v) = du ± dv", node, t)
        if node.op == "*" and None in (ta, tb) and \
                is_scalarlike(self.shape(a if ta is None else b)):
            c, u, tu = (a, b, tb) if ta is None else (b, a, ta)
            return self._record("constant multiple", "d(c u) = c du", node, self._factor(c, tu, u))
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
        raise refuse(f"{unparse(node)} cannot be differentiated a second time here")

    def _matmul(self, node: Binary) -> Node | None:
        """d(A B) = dA B + A dB, each term as a vec: vec(A dB) = (I ⊗ A) vec(dB) and
        vec(dA B) = (Bᵀ ⊗ I) vec(dA), which are A dB and Bᵀ dA (uᵀ v: vᵀ du) when B is a
        column or A a row; a Kronecker product appears only for a matrix differential."""
        a, b = node.left, node.right
        ta, tb = self(a), self(b)
        if ta is None and tb is None:
            return None
        (p, _), (_, q) = self.shape(a) or (ONE, ONE), self.shape(b) or (ONE, ONE)
        t = None
        if tb is not None:
            t = A.matmul(a if q.is_one else A.call("kron", self._eye(q), a), tb)
        if ta is not None:
            bt = A.transpose(b)
            t = _plus(t, A.matmul(bt if p.is_one else A.call("kron", bt, self._eye(p)), ta))
        kron = not (p.is_one or ta is None) or not (q.is_one or tb is None)
        return self._record("product rule over @", "d(A B) = dA B + A dB; vec(A dX B) = "
                            "(Bᵀ ⊗ A) vec(dX)" if kron else "d(A B) = dA B + A dB", node, t)

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
    if direction is not None and shape and not shape[1].is_one:
        raise InputError(f"hvp: {wrt} is a {fmt(shape)} matrix; H·v is derived for vector and "
                         "scalar variables", hint=f"list hessians: [vec({wrt})] for the whole "
                                                  f"∂²{graph.loss}/∂vec({wrt})²")
    fwd = Forward(graph, wrt, pretty, direction)
    h = fwd(inline(graph, gradient))
    if h is None:
        h = A.ZERO
    return h, fwd.steps


def square(shape: Shape) -> Shape:
    """The Hessian's shape: n×n for an n-vector, (m·n)×(m·n) for an m×n matrix through vec."""
    if not shape:
        return ()
    size = shape[0] if shape[1].is_one else times(shape[0], shape[1])
    return (size, size)


def label_of(graph: Graph, wrt: str) -> str:
    """∂²L/∂w², or ∂²L/∂vec(W)² for a matrix."""
    shape = graph.shape(wrt)
    name = wrt if not shape or shape[1].is_one else f"vec({wrt})"
    return f"∂²{graph.loss}/∂{name}²"


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

    side = square(graph.shape(wrt))
    n = side[0].size if side else 1

    def route(loss, g):
        w = g[wrt]
        if w.dim() == 2 and w.shape[1] != 1:  # a matrix, through vec: its columns stacked,
            rows, cols = w.shape  # so vec(W) = Wᵀ flattened and W = v as cols×rows, transposed
            return torch.autograd.functional.hessian(
                lambda v: loss(v.reshape(cols, rows).T), w.T.reshape(-1)).reshape(n, n)
        return torch.autograd.functional.hessian(loss, w).reshape(n, n)

    rows = list(_routes(graph, wrt, h, points, side, route))
    ours = torch.stack([r[1] for r in rows])
    symmetric = bool(torch.allclose(ours, ours.transpose(1, 2), rtol=1e-9, atol=1e-11))
    label = f"{label_of(graph, wrt)}: closed form vs torch.autograd.functional.hessian"
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
    side = square(graph.shape(wrt))
    n = side[0].size if side else 1
    return judge_matrix(graph, problem, f"hessian_claims.{wrt}", label_of(graph, wrt),
                        "torch's Hessian", text, (n, n), points, truth)


def judge_matrix(graph: Graph, problem, key: str, target: str, reference: str, text: str,
                 size: tuple[int, int], points, truth: list) -> Verdict:
    """A claimed matrix (a Hessian, a Jacobian) against torch's at every point: the first
    entry off is the counterexample, with the point. `key` places a parse error in the file."""
    import torch

    from gradcli.kinds.network import verify as V
    from gradcli.verify.compare import CLAIM, describe_index, worst
    from gradcli.verify.evaluate import Evaluator

    try:
        node = parse(text, variables=graph.declared | set(problem.dims))
    except InputError as err:
        raise problem.locate(key, err) from None
    for p, want in zip(points, truth, strict=True):
        env = V.forward(graph, {k: v.detach() for k, v in p.values.items()})
        env.update({d: torch.tensor(float(n), dtype=torch.float64)  # dims as numbers: /N
                    for d, n in problem.dims.items() if d not in env})
        try:
            got = torch.broadcast_to(Evaluator(env)(node), size)
        except (InputError, RuntimeError) as err:
            raise problem.locate(key, InputError(
                f"the claim is not a {size[0]}×{size[1]} matrix here ({err})")) from None
        w, ok = worst(want, got, CLAIM)
        if not ok:
            return Verdict(target, text, False, Counterexample(
                {"point": p.label}, w.got, w.expected, where=describe_index(w.index)),
                method=f"compared with {reference} at {len(truth)} points")
    return Verdict(target, text, True, method=f"equal to {reference} at {len(truth)} points "
                   f"(rtol {CLAIM.rtol:g}, atol {CLAIM.atol:g})")
