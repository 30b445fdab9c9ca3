"""Jacobians of forward lines: `jacobians: ["h by x"]` derives ∂h/∂x as a matrix.

Numerator layout, stated with the result: for h of size m and x of size n, ∂h/∂x is m×n, the
matrix J with dh = J dx (row i is the gradient of hᵢ, transposed). It is derived by the same
forward mode as the Hessian (`hessian.Forward`): h's line, with the forward names inlined down
to x but not through it, is differentiated with dx = I, and the differential's matrix is J.
`h = σ(W x)` by x gives diag(σ′(W x)) W; `z = W x` by x gives W.

x may be a given or an earlier forward line; h any forward line (a scalar's Jacobian is its
gradient as a 1×n row). A matrix on either side is written vec(W), its columns stacked, and
its differentials carry Kronecker factors as the Hessian's do (`"h by vec(W)"` for h = σ(W x):
diag(h ⊙ (1 − h)) (xᵀ ⊗ I)); a matrix without vec() is refused, so the ordering is never
guessed. A line that does not use x at all has J = 0, said in a note (as a gradient that is
zero is), not refused: it is a true answer.

The check: torch.autograd.functional.jacobian of the forward pass, h as a function of x with
every other given held, at the same seeded points as the gradients (the worst entry named).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradcli.errors import InputError
from gradcli.expr.ast import Name, Node, Num, walk
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.hessian import Forward, HessianStep, judge_matrix
from gradcli.kinds.network.shapes import ONE, Dim, Shape, fmt, is_scalarlike, times
from gradcli.results import Check, Verdict

if TYPE_CHECKING:
    from gradcli.kinds.network.graph import Graph

LAYOUT = ("Layout of a Jacobian: numerator layout, ∂h/∂x is m×n for h of size m and x of "
          "size n (dh = ∂h/∂x dx; row i is ∂hᵢ/∂x).")


@dataclass(frozen=True)
class Jacobian:
    of: str  # h
    wrt: str  # x
    label: str  # ∂h/∂x
    latex_label: str  # \frac{\partial h}{\partial x}
    expression: str  # pasteable
    display: str
    pretty: str
    latex: str
    shape: str  # "m×n"
    steps: tuple[HessianStep, ...] = ()
    check: Check | None = None
    note: str = ""  # "h does not depend on t"

    @property
    def key(self) -> str:
        return f"{self.of} by {self.wrt}"

    def to_json(self) -> dict[str, Any]:
        return {"of": self.of, "wrt": self.wrt, "expression": self.expression,
                "display": self.display, "pretty": self.pretty, "latex": self.latex,
                "shape": self.shape, "layout": "numerator", "note": self.note or None,
                "steps": [s.to_json() for s in self.steps],
                "check": self.check.to_json() if self.check else None}


VEC = re.compile(r"vec\(\s*(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*\)\Z")


def bare(text: str) -> tuple[str, bool]:
    """("W", True) for "vec(W)", ("x", False) for "x": the name, and whether it is vec'd."""
    said = VEC.match(text)
    return (said["name"], True) if said else (text, False)


def _hint(of: str, wrt: str) -> str:
    return (f"Jacobians are derived by the Hessian's rules (products, elementwise functions, "
            f"sums); list a smaller piece, e.g. an earlier line by {wrt}, or {of} by the line "
            "it is computed from")


def _size(graph: Graph, text: str) -> Dim:
    """The number of entries one side has: n for an n-vector, 1 for a scalar, m·n for
    vec(W) of an m×n matrix; a matrix is taken through vec() only when the request says so."""
    name, vec = bare(text)
    shape = graph.shape(name)
    matrix = bool(shape) and not shape[1].is_one
    if matrix and not vec:
        raise InputError(f"jacobians: {name} is a {fmt(shape)} matrix: its Jacobian is taken "
                         f"through vec({name}), its columns stacked",
                         hint=f"write vec({name}) in the request")
    if vec and not matrix:
        raise InputError(f"jacobians: {name} is not a matrix, so vec({name}) is {name} itself",
                         hint=f"write {name} in the request")
    if is_scalarlike(shape):
        return ONE
    return times(shape[0], shape[1]) if matrix else shape[0]


def inline_to(graph: Graph, node: Node, wrt: str) -> Node:
    """`node` with every forward name replaced by its line, except `wrt`, which stays a name:
    the line differentiated down to x but not through it."""
    lines: dict[str, Node] = {}
    for line in graph.forward:
        if line.name != wrt:
            lines[line.name] = A.substitute(line.node, lines)
    return A.substitute(node, lines)


def derive(graph: Graph, of: str, wrt: str, pretty) -> tuple[Node, list[HessianStep], str]:
    """(J, the forward-mode steps, a note) for ∂of/∂wrt; J is A.ZERO when of does not use wrt."""
    shape(graph, of, wrt)  # a matrix without vec() is refused before any work
    of, wrt = bare(of)[0], bare(wrt)[0]
    inlined = inline_to(graph, graph.line(of).node, wrt)
    if not any(isinstance(x, Name) and x.id == wrt for x in walk(inlined)):
        return A.ZERO, [], f"{of} does not depend on {wrt}: ∂{of}/∂{wrt} = 0"
    # the lines' names back where their inlined right-hand sides appear: diag(h ⊙ (1 − h)) W
    # rather than σ(W x) written out twice (each name is valued at the point, as the line is)
    names = {inline_to(graph, line.node, wrt): line.name for line in graph.forward
             if line.name != wrt and not isinstance(line.node, Name | Num)}
    fwd = Forward(graph, wrt, lambda node: pretty(A.reuse(node, names)))
    try:
        t = fwd(inlined)
    except InputError as err:
        raise InputError(err.message.replace("cannot be differentiated a second time",
                                             "cannot be differentiated in matrix form"),
                         hint=_hint(of, wrt)) from None
    return (A.ZERO if t is None else A.reuse(t, names)), fwd.steps, ""


def shape(graph: Graph, of: str, wrt: str) -> Shape:
    """m×n: h's entries by x's (a scalar counts as one, vec(W) of an m×n W as m·n)."""
    return (_size(graph, of), _size(graph, wrt))


def latex_label(of: str, wrt: str) -> str:
    from gradcli.kinds.network.matrix_print import latex_name

    def side(text: str) -> str:
        name, vec = bare(text)
        return rf"\operatorname{{vec}}({latex_name(name)})" if vec else latex_name(name)

    return rf"\frac{{\partial {side(of)}}}{{\partial {side(wrt)}}}"


def _rows(graph: Graph, of: str, wrt: str, node: Node, points):
    """(torch's Jacobian, our closed form's value, the point's label) at each point."""
    import torch

    from gradcli.kinds.network import verify as V

    m, n = (d.size for d in shape(graph, of, wrt))
    (h, h_vec), (x, x_vec) = bare(of), bare(wrt)
    for p in points:
        givens = {k: v.detach() for k, v in p.values.items()}
        env = V.forward(graph, givens)
        start = env[x].detach()

        def line(value, givens=givens, start=start):
            # vec(W) is Wᵀ flattened (columns stacked; torch's reshape is row-major)
            w = value.reshape(start.shape[1], start.shape[0]).T if x_vec else value
            # x a given: held in the givens; x a forward line: its computed value replaced
            out = V.forward(graph, {**givens, x: w}, overrides={x: w})[h]
            return out.T.reshape(-1) if h_vec else out

        truth = torch.autograd.functional.jacobian(
            line, start.T.reshape(-1) if x_vec else start).reshape(m, n)
        ours = torch.zeros_like(truth) if A.is_zero(node) else \
            V.closed_form(node, graph, env, shape(graph, of, wrt)).reshape(m, n)
        yield truth, ours, p.label


def check(graph: Graph, of: str, wrt: str, j: Node, points) -> tuple[Check, list]:
    """J's closed form against torch.autograd.functional.jacobian at every point: the check,
    and torch's Jacobians (the truth claims are judged against)."""
    from gradcli.kinds.network.hessian import _compare

    rows = list(_rows(graph, of, wrt, j, points))
    label = f"∂{of}/∂{wrt}: closed form vs torch.autograd.functional.jacobian"
    return _compare(label, "torch.autograd.functional.jacobian", rows), [r[0] for r in rows]


def judge(graph: Graph, problem, of: str, wrt: str, text: str, points, truth: list) -> Verdict:
    """A claimed Jacobian against torch's, entry by entry, at every point. A claim of the
    wrong shape is wrong, not bad input: the transpose (n×m) is the classic mix-up of the
    two layouts, and the hint says so."""
    want = shape(graph, of, wrt)
    wrong = _shape_verdict(graph, problem, of, wrt, text, want)
    if wrong is not None:
        return wrong
    m, n = (d.size for d in want)
    return judge_matrix(graph, problem, f"jacobian_claims.{of} by {wrt}", f"∂{of}/∂{wrt}",
                        "torch's Jacobian", text, (m, n), points, truth)


def _shape_verdict(graph: Graph, problem, of: str, wrt: str, text: str,
                   want: Shape) -> Verdict | None:
    from gradcli.expr.parse import parse
    from gradcli.kinds.network.graph import dim_numbers, dims_as_numbers
    from gradcli.kinds.network.shapes import same
    from gradcli.results import Counterexample

    key = f"jacobian_claims.{of} by {wrt}"
    try:
        node = parse(text, variables=graph.declared | set(problem.dims))
        got = graph.shapes(dims_as_numbers(node, dim_numbers(problem, graph.declared)))
    except InputError as err:
        raise problem.locate(key, err) from None
    if is_scalarlike(got) or same(got, want) or \
            all(g.same(w) or g.is_one for g, w in zip(got, want, strict=True)):
        return None  # broadcasts to m×n (a scalar times I is written as such)
    label = f"∂{of}/∂{wrt}"
    if got[0].same(want[1]) and got[1].same(want[0]):
        hint = (f"transposed: the claim is {fmt(got)}, the denominator layout; {label} is "
                f"printed in numerator layout, {fmt(want)} ({of} has {want[0]} entries, "
                f"{wrt} has {want[1]}; d{of} = {label} d{wrt}): transpose the claim")
    else:
        hint = f"{label} is {fmt(want)} in numerator layout; the claim is {fmt(got)}"
    return Verdict(label, text, False, Counterexample(
        inputs={}, claimed=f"a {fmt(got)} matrix", true=f"{label} is {fmt(want)}",
        where="shape"), hint, method="shape")
