"""Evaluate SymPy trees in float64 with a small dispatcher, and compare lists of floats.

This is the numeric side of the symbolic route: `sympy.diff`'s result is evaluated here
(no `lambdify`, no `exec`, no torch), so `derive --no-check` can still compare two routes
without importing torch. Evaluation is a recursive walk over SymPy's node classes; anything
not in the table raises `Unsupported`, and a point where the value is not a finite real
number is reported as `None` (outside the domain), never as a crash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import sympy as sp

from gradcli.results import Check


class Unsupported(Exception):
    pass


def _heaviside(x: float, h0: float = 0.0) -> float:
    return 1.0 if x > 0 else 0.0 if x < 0 else h0


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _overflowing(f):
    """f, with an overflow as the infinity of its sign: sigmoid(x - 1296) is 1/(1 + exp(1296 - x)),
    which is 0, not undefined, when exp overflows."""
    def safe(x: float) -> float:
        try:
            return f(x)
        except OverflowError:
            return math.copysign(math.inf, x) if f is math.sinh else math.inf
    return safe


_FUNCTIONS = {
    sp.exp: _overflowing(math.exp), sp.log: math.log, sp.sin: math.sin, sp.cos: math.cos,
    sp.tanh: math.tanh, sp.erf: math.erf, sp.Abs: abs, sp.sign: _sign,
    sp.cosh: _overflowing(math.cosh), sp.sinh: _overflowing(math.sinh),
    sp.asinh: math.asinh, sp.acosh: math.acosh, sp.atanh: math.atanh, sp.tan: math.tan,
}


_NOT_FINITE = frozenset((sp.zoo, sp.nan, sp.oo, -sp.oo))  # a set: a tuple's `in` calls SymPy's __eq__


def value(expr: sp.Basic, at: Mapping[sp.Symbol, float], memo: dict | None = None) -> float:
    """`expr` at the point `at`; raises ValueError/OverflowError/ZeroDivisionError off-domain.

    `memo` (one per point) evaluates a subexpression that SymPy shares between branches once:
    the derivative of a nested function repeats its inner parts, and a walk that does not
    share them costs exponential time in the nesting depth.
    """
    if memo is None:
        memo = {}
    hit = memo.get(expr)
    if hit is None:
        hit = memo[expr] = _evaluate(expr, at, memo)
    return hit


def _evaluate(expr: sp.Basic, at: Mapping[sp.Symbol, float], memo: dict) -> float:
    if expr.is_Symbol:
        return at[expr]
    if expr in _NOT_FINITE:
        raise ValueError("not a finite number")
    if expr.is_Number:
        return float(expr)
    if expr is sp.pi:
        return math.pi
    if expr is sp.E:
        return math.e
    if expr.is_Add:
        return math.fsum(value(a, at, memo) for a in expr.args)
    if expr.is_Mul:
        out = 1.0
        for a in expr.args:
            out *= value(a, at, memo)
        return out
    if expr.is_Pow:
        base, exp = value(expr.args[0], at, memo), value(expr.args[1], at, memo)
        if base < 0 and exp != int(exp):
            raise ValueError("negative base to a fractional power")
        return math.pow(base, exp)
    if isinstance(expr, sp.Heaviside):
        h0 = float(expr.args[1]) if len(expr.args) > 1 else 0.5
        return _heaviside(value(expr.args[0], at, memo), h0)
    if isinstance(expr, sp.DiracDelta):
        if value(expr.args[0], at, memo) == 0:
            raise ValueError("DiracDelta at its singular point")
        return 0.0
    fn = _FUNCTIONS.get(expr.func)
    if fn is None:
        raise Unsupported(f"cannot evaluate {expr.func.__name__}")
    return float(fn(*(value(a, at, memo) for a in expr.args)))


def values(expr: sp.Basic, points: Sequence[Mapping[sp.Symbol, float]]) -> list[float | None]:
    """`expr` at each point, None where it is undefined or not finite."""
    out: list[float | None] = []
    for at in points:
        try:
            v = value(expr, at)
        except (ValueError, OverflowError, ZeroDivisionError):
            v = None
        out.append(v if v is not None and math.isfinite(v) else None)
    return out


def worst(expected: Sequence[float], got: Sequence[float], rtol: float, atol: float
          ) -> tuple[int, float, float, bool]:
    """(index of the worst entry, max abs error, max rel error, all within tolerance)."""
    worst_i, worst_excess, max_abs, max_rel, passed = 0, -math.inf, 0.0, 0.0, True
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        err = abs(g - e)
        rel = err / abs(e) if e != 0 else (0.0 if err == 0 else math.inf)
        excess = err - (atol + rtol * abs(e))
        max_abs, max_rel = max(max_abs, err), max(max_rel, rel)
        if excess > 0:
            passed = False
        if excess > worst_excess:
            worst_i, worst_excess = i, excess
    return worst_i, max_abs, max_rel, passed


def compare(what: str, expected: Sequence[float], got: Sequence[float], *, labels: Sequence[str],
            reference: str, rtol: float, atol: float, notes: tuple[str, ...] = ()) -> Check:
    i, max_abs, max_rel, passed = worst(expected, got, rtol, atol)
    return Check(what=what, passed=passed, max_abs_error=max_abs, max_rel_error=max_rel,
                 points=len(expected), reference=reference, where=labels[i] if labels else "",
                 expected=expected[i] if expected else None, got=got[i] if got else None,
                 notes=(f"tolerance: rtol {rtol:g}, atol {atol:g}", *notes))
