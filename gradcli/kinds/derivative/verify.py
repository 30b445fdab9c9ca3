"""The torch route for scalar derivatives: autograd of torch's own implementation.

The derivative we print is parsed back from its printed text and evaluated by
`verify.evaluate`, so the check also proves that what we print means what we derived. The
reference is torch autograd of the catalog's torch function (`F.gelu(x, approximate="tanh")`
for `gelu`) or, for a typed expression, of that expression evaluated with torch ops.
Kinks are checked apart: there the question is which convention the formula follows, and
torch's is the one we name.
"""

from __future__ import annotations

import math

import torch

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Call, Node, walk
from gradcli.expr.parse import parse
from gradcli.expr.unparse import unparse
from gradcli.kinds.derivative.result import derivative_label
from gradcli.results import Check
from gradcli.verify.compare import AUTOGRAD, Tolerance, compare
from gradcli.verify.evaluate import evaluate


def _reference(target: Node, entry: catalog.Entry | None, env: dict[str, torch.Tensor],
               variable: str) -> tuple[torch.Tensor, str]:
    if entry is not None:
        params = {p.name: p.default for p in entry.params}
        return entry.reference(torch, env[variable], **params), f"autograd of {entry.torch}"
    return evaluate(target, env), "autograd of the expression, evaluated with torch ops"


def _autograd(target: Node, entry: catalog.Entry | None, points: list[float], variable: str,
              held: dict[str, float], order: int = 1) -> tuple[torch.Tensor, str, torch.Tensor]:
    """torch's order-th derivative at each point, its label, and the function's value there.

    Each output depends on its own point only, so the gradient of the sum is the derivative;
    differentiating that again (create_graph: double backward through torch's own kernels,
    F.gelu's included) gives the next order.
    """
    xs = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    env = {variable: xs, **{k: torch.tensor(v, dtype=torch.float64) for k, v in held.items()}}
    y, label = _reference(target, entry, env, variable)
    value = y.detach().expand(len(points))
    if order > 1:
        label = f"{label}, differentiated {order} times (double backward)"
    derivative = y
    for k in range(order):
        if not derivative.requires_grad:  # step(x), or relu′: piecewise constant, no graph
            return torch.zeros_like(xs).detach(), label, value
        (derivative,) = torch.autograd.grad(derivative.sum(), xs, allow_unused=True,
                                            create_graph=k < order - 1)
        if derivative is None:
            return torch.zeros_like(xs).detach(), label, value
    return derivative.detach(), label, value


def _ours(derivative: Node, points: list[float], variable: str, held: dict[str, float]) -> torch.Tensor:
    try:
        printed = parse(unparse(derivative), variables={variable, *held})
    except InputError:  # longer than a user may type (the parser's bounds): check the tree
        printed = derivative
    env = {variable: torch.tensor(points, dtype=torch.float64),
           **{k: torch.tensor(v, dtype=torch.float64) for k, v in held.items()}}
    return evaluate(printed, env).expand(len(points))


def check_against_torch(target: Node, derivative: Node, variable: str,
                        entry: catalog.Entry | None, points: list[float], held: dict[str, float],
                        *, kinks: tuple[float, ...] = (), order: int = 1) -> tuple[Check, list[str]]:
    expected, label, value = _autograd(target, entry, points, variable, held, order)
    got = _ours(derivative, points, variable, held)
    names = tuple(f"{variable} = {p:.6g}" for p in points)
    tol, notes = AUTOGRAD, ()
    # Where torch finds the function itself undefined (0/x at 0, x*log(x) at 0) there is no
    # derivative to compare: our tidied form may be defined there (0/x was folded to 0), but
    # a NaN reference judges nothing. Such points are named, not compared; SymPy's route
    # still covers them. When every point is outside, the comparison stands and fails.
    outside = torch.isnan(value)
    if bool(outside.any()) and not bool(outside.all()):
        keep = ~outside
        skipped = [n for n, out in zip(names, outside.tolist(), strict=True) if out]
        expected, got = expected[keep], got[keep]
        names = tuple(n for n, out in zip(names, outside.tolist(), strict=True) if not out)
        notes = (f"not compared where torch finds the function undefined (nan): "
                 f"{', '.join(skipped[:4])}" + (f" and {len(skipped) - 4} more"
                                                if len(skipped) > 4 else ""),)
    # A catalog function whose torch backward is less exact than float64 (hardsigmoid's 1/6 is
    # rounded to float32) loosens the check wherever it is used: hardsigmoid(2*x) as well.
    # Inside an expression the rounding is an absolute error (x*hardsigmoid(x) has a zero of
    # its derivative at x = -1.5, where no relative tolerance holds), so atol follows rtol.
    used = [entry] if entry is not None else \
        [catalog.lookup(n.func) for n in walk(target) if isinstance(n, Call)]
    loose = [e for e in used if e is not None and e.reference_rtol is not None]
    if loose:
        rtol = max(e.reference_rtol for e in loose)
        tol = Tolerance(rtol, AUTOGRAD.atol if entry is not None else rtol,
                        f"{AUTOGRAD.name}, loosened")
        notes = (*notes, *dict.fromkeys(e.reference_note for e in loose))
    check = compare(f"{derivative_label(order, variable)} = torch autograd", expected, got,
                    reference=label, where_names=names, tol=tol, notes=notes)
    # The kink notes compare one-sided first derivatives: for higher orders the sample points
    # stay off the kinks, and a note about f′ would answer a question not asked.
    return check, kink_notes(target, derivative, variable, entry, held, kinks) if order == 1 else []


def kink_notes(target: Node, derivative: Node, variable: str, entry: catalog.Entry | None,
               held: dict[str, float], kinks: tuple[float, ...]) -> list[str]:
    notes = []
    for k in kinks:
        expected, _, value = _autograd(target, entry, [k], variable, held)
        got = _ours(derivative, [k], variable, held)
        e, g = float(expected[0]), float(got[0])
        if not math.isfinite(float(value[0])):  # log(abs(x)) at 0: nothing to differentiate
            notes.append(f"undefined at {variable} = {k:g}, so not differentiable there")
            continue
        gap = 1e-6 * max(1.0, abs(k))
        left, right = (float(v) for v in _ours(derivative, [k - gap, k + gap], variable, held))
        if all(math.isfinite(v) and abs(v - g) <= 1e-4 * max(1.0, abs(g)) for v in (left, right)):
            continue  # relu(x)**2 at 0: the kink inside is smoothed out (derivative 0 both sides)
        convention = entry.kink_note if entry is not None and entry.kink_note else ""
        if abs(e - g) <= AUTOGRAD.atol + AUTOGRAD.rtol * abs(e):
            notes.append(f"not differentiable at {variable} = {k:g}: the formula gives {g:.6g}, "
                         f"torch's convention" + (f" ({convention})" if convention else ""))
        else:
            notes.append(f"not differentiable at {variable} = {k:g}: torch's convention gives "
                         f"{e:.6g}, the formula {g:.6g} (a one-sided choice, not a failure)"
                         + (f"; {convention}" if convention else ""))
    return notes
