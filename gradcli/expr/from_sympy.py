"""SymPy -> syntax tree, so a SymPy result prints in the expression language (and pastes back).

Only what the language can say is translated; anything else (cosh, DiracDelta, ...) raises
`NotExpressible` and the caller leaves that form out rather than printing something a user
could not paste back as a claim.
"""

from __future__ import annotations

import sympy as sp

from gradcli.expr.ast import Call, Name, Node
from gradcli.expr.tidy import add, div, mul, neg, num, power, sub


class NotExpressible(Exception):
    pass


_FUNCTIONS = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tanh: "tanh",
              sp.erf: "erf", sp.Abs: "abs", sp.sign: "sign", sp.cosh: "cosh", sp.sinh: "sinh",
              sp.asinh: "asinh", sp.acosh: "acosh", sp.atanh: "atanh", sp.tan: "tan",
              sp.sech: "sech", sp.csch: "csch", sp.coth: "coth", sp.sec: "sec"}


def _number(expr: sp.Number) -> Node:
    if expr.is_Integer:
        return num(int(expr))
    if expr.is_Rational:
        p, q = int(expr.p), int(expr.q)
        # A terminating decimal reads as one (0.134145); others as a fraction (1/3).
        d = q
        for f in (2, 5):
            while d % f == 0:
                d //= f
        if d == 1 and q <= 10**12:
            from decimal import Decimal

            return num(Decimal(p) / Decimal(q))
        return div(num(p), num(q))
    return num(float(expr))


def to_tree(expr: sp.Basic) -> Node:
    if expr.is_Symbol:
        return Name(expr.name)
    if expr is sp.pi:
        return Name("pi")
    if expr is sp.E:
        return Name("e")
    if expr.is_Number:
        return _number(expr)
    if expr.is_Add:
        terms = sorted(expr.args, key=lambda a: (a.could_extract_minus_sign(), sp.default_sort_key(a)))
        out = to_tree(terms[0])
        for t in terms[1:]:
            out = sub(out, to_tree(-t)) if t.could_extract_minus_sign() else add(out, to_tree(t))
        return out
    if expr.is_Mul:
        numer, denom = sp.fraction(expr, exact=True)
        if denom != 1:
            return div(to_tree(numer), to_tree(denom))
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_negative:
            return neg(to_tree(-expr))
        factors = [to_tree(a) for a in sp.Mul.make_args(rest)]
        out = to_tree(coeff) if coeff != 1 else factors.pop(0)
        for f in factors:
            out = mul(out, f)
        return out
    if expr.is_Pow:
        base, exp = expr.args
        if exp == sp.Rational(1, 2):
            return Call("sqrt", (to_tree(base),))
        if exp == -sp.Rational(1, 2):
            return div(num(1), Call("sqrt", (to_tree(base),)))
        if exp.is_number and exp.is_negative:
            return div(num(1), to_tree(base ** -exp))
        if base is sp.E:
            return Call("exp", (to_tree(exp),))
        return power(to_tree(base), to_tree(exp))
    if isinstance(expr, sp.Heaviside):
        return Call("step", (to_tree(expr.args[0]),))
    name = _FUNCTIONS.get(expr.func)
    if name is None:
        raise NotExpressible(expr.func.__name__)
    return Call(name, tuple(to_tree(a) for a in expr.args))
