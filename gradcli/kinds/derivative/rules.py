"""Differentiate a scalar expression by the rules a student uses, recording each one.

This works on gradcli's own syntax tree, not on SymPy: SymPy canonicalises as it builds
(`0.5*(a + b)` becomes `0.5*a + 0.5*b`, `sqrt(2/pi)` becomes `sqrt(2)/sqrt(pi)`), so a
derivation done there cannot keep the shape of the hand derivation it is meant to show.
Each rule is a method; each catalog function brings its own local derivative (the catalog's
text, parsed by the same safe parser), and the chain rule is applied once, for all of them
(SymPy's `fdiff` habit). An independent route, SymPy's own `diff`, cross-checks the result
in `derive.scalar`.

Inner functions of the chain rule are named u, v, w, ... so that steps and the final form
read like the worksheet's answer; every expression stored in a `Step` is still in terms of
the variable alone, so it can be pasted back as a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary, names
from gradcli.expr.parse import parse
from gradcli.expr.signature import argument
from gradcli.expr.tidy import add, div, is_num, mul, neg, num, power, sub, substitute, tidy

INNER_NAMES = ("u", "v", "w", "p", "q", "r", "s")
SHORT_INNER = 6  # characters


@dataclass
class RuleStep:
    """One application of a rule to `subject`, with the derivative it produced."""

    rule: str
    subject: Node
    result: Node | None = None
    pattern: str = ""  # the rule in words/symbols, e.g. "(f·g)' = f'·g + f·g'"
    inner: Node | None = None  # the chain rule's inner function
    by: str | None = None  # differentiated by an inner function's name (d/du) instead


@dataclass
class Derivation:
    """The rules' derivative of a target, with the steps that produced it."""

    variable: str
    target: Node
    result: Node
    steps: list[RuleStep]
    inner: dict[str, Node] = field(default_factory=dict)  # u -> its expression, in order


@cache
def _local_template(name: str) -> Node:
    entry = catalog.lookup(name)
    return parse(entry.derivative, variables={"x", *(p.name for p in entry.params)})


def local_derivative(call: Call) -> Node:
    """f'(arg) for a catalog function call: the catalog's derivative with x := arg."""
    entry = catalog.lookup(call.func)
    mapping: dict[str, Node] = {"x": call.args[0]}
    for param in entry.params:
        given = argument(call, param.name)
        mapping[param.name] = given if given is not None else num(param.default)
    return tidy(substitute(_local_template(call.func), mapping))


class Differentiator:
    def __init__(self, variable: str, *, reserved: set[str] = frozenset()):
        self.x = variable
        self.steps: list[RuleStep] = []
        self.inner: dict[str, Node] = {}
        self.reserved = set(reserved) | {variable}

    def depends(self, node: Node) -> bool:
        return self.x in names(node)

    def record(self, rule: str, subject: Node, pattern: str = "", inner: Node | None = None) -> RuleStep:
        step = RuleStep(rule, subject, pattern=pattern, inner=inner)
        self.steps.append(step)
        return step

    def name_inner(self, node: Node) -> str:
        for name, expr in self.inner.items():
            if expr == node:
                return name
        free = (n for n in (*INNER_NAMES, *(f"u{i}" for i in range(1, 100)))
                if n not in self.reserved and n not in self.inner)
        name = next(free)
        self.inner[name] = node
        return name

    def d(self, node: Node) -> Node:
        if not self.depends(node):
            return num(0)
        if isinstance(node, Name):
            return num(1)
        if isinstance(node, Unary):
            if node.op == "+":
                return self.d(node.operand)
            step = self.record("constant multiple", node, "(−f)' = −f'")
            step.result = neg(self.d(node.operand))
            return step.result
        if isinstance(node, Transpose):
            return self.d(node.operand)  # a scalar is its own transpose
        if isinstance(node, Binary):
            return getattr(self, {"+": "sum", "-": "sum", "*": "product", "/": "quotient",
                                  "**": "power", "@": "matmul"}[node.op])(node)
        if isinstance(node, Call):
            return self.call(node)
        raise InputError(f"cannot differentiate {type(node).__name__}", column=node.column)

    def sum(self, node: Binary) -> Node:
        step = self.record("sum rule", node, "(f ± g)' = f' ± g'")
        a, b = self.d(node.left), self.d(node.right)
        step.result = add(a, b) if node.op == "+" else sub(a, b)
        return step.result

    def product(self, node: Binary) -> Node:
        factors = _factors(node)
        constants = [f for f in factors if not self.depends(f)]
        varying = [f for f in factors if self.depends(f)]
        if constants:
            c = _product(constants)
            step = self.record("constant multiple", node, "(c·f)' = c·f'")
            if len(varying) == 1:
                step.result = mul(c, self.d(varying[0]))
            else:
                # c·(f·g)' reads as c·f'·g + c·f·g': the constant goes into each term.
                terms = self._product_terms(_product(varying))
                step.result = _sum([mul(c, t) for t in terms])
            return step.result
        return _sum(self._product_terms(node))

    def _product_terms(self, node: Binary) -> list[Node]:
        left, right = node.left, node.right
        step = self.record("product rule", node, "(f·g)' = f'·g + f·g'")
        da, db = self.d(left), self.d(right)
        terms = [t for t in (mul(da, right), mul(left, db)) if not is_num(t, 0)]
        step.result = _sum(terms)
        return terms

    def quotient(self, node: Binary) -> Node:
        a, b = node.left, node.right
        if not self.depends(b):
            step = self.record("constant multiple", node, "(f/c)' = f'/c")
            step.result = div(self.d(a), b)
            return step.result
        if not self.depends(a):
            step = self.record("reciprocal rule", node, "(c/g)' = −c·g'/g²")
            db = self.d(b)
            step.result = neg(div(mul(a, db), power(b, num(2))))
            return step.result
        step = self.record("quotient rule", node, "(f/g)' = (f'·g − f·g')/g²")
        da, db = self.d(a), self.d(b)
        step.result = div(sub(mul(da, b), mul(a, db)), power(b, num(2)))
        return step.result

    def power(self, node: Binary) -> Node:
        base, exponent = node.left, node.right
        if not self.depends(exponent):
            chained = not (isinstance(base, Name) and base.id == self.x)
            step = self.record("power rule" + (" with the chain rule" if chained else ""), node,
                               "(fⁿ)' = n·fⁿ⁻¹·f'", inner=base if chained else None)
            reduced = sub(exponent, num(1)) if not isinstance(exponent, Num) else \
                add(exponent, num(-1))
            outer = mul(exponent, power(base, reduced))
            step.result = self._chain(outer, base)
            return step.result
        if not self.depends(base):
            e_base = isinstance(base, Name) and base.id == "e"
            step = self.record("exponential rule", node, inner=exponent,
                               pattern=
                               "(eᶠ)' = eᶠ·f'" if e_base else "(cᶠ)' = cᶠ·log(c)·f'")
            outer = node if e_base else mul(node, Call("log", (base,)))
            step.result = self._chain(outer, exponent)
            return step.result
        step = self.record("general power rule", node, "(fᵍ)' = fᵍ·(g'·log(f) + g·f'/f)")
        df, dg = self.d(base), self.d(exponent)
        step.result = mul(node, add(mul(dg, Call("log", (base,))), div(mul(exponent, df), base)))
        return step.result

    def matmul(self, node: Binary) -> Node:
        raise InputError("@ needs matrices; a derivative target is a scalar function "
                         "(write a network problem for matrices)", column=node.column)

    def call(self, node: Call) -> Node:
        entry = catalog.lookup(node.func)
        if catalog.is_pairwise(node):
            return self.pairwise(node)
        if entry is None or entry.group != "elementwise":
            raise InputError(f"{node.func} works on vectors and matrices; a derivative target "
                             "is a scalar function (write a network problem)", column=node.column)
        if any(self.depends(a) for a in (*node.args[1:], *(v for _, v in node.kwargs))):
            raise InputError(f"gradcli differentiates {node.func} in its first argument only; "
                             f"its options must not depend on {self.x}", column=node.column)
        outer = local_derivative(node)
        return self._chain(outer, node.args[0], known=node)

    def pairwise(self, node: Call) -> Node:
        """max(f, g)' = f' where f > g, g' where g > f, and (f' + g')/2 at a tie: torch's
        convention for torch.maximum (min: the other way round), written with step."""
        a, b = node.args
        wins, loses = (sub(a, b), sub(b, a)) if node.func == "max" else (sub(b, a), sub(a, b))
        up, down = Call("step", (wins,)), Call("step", (loses,))
        share_a = div(sub(add(num(1), up), down), num(2))
        share_b = div(add(sub(num(1), up), down), num(2))
        word = "maximum" if node.func == "max" else "minimum"
        step = self.record(f"elementwise {word}", node,
                           f"{node.func}(f, g)' = f'·[f {'>' if node.func == 'max' else '<'} g] "
                           f"+ g'·[g {'>' if node.func == 'max' else '<'} f], "
                           "(f' + g')/2 at a tie (torch's convention)")
        terms = [t for t in (mul(share_a, self.d(a)), mul(share_b, self.d(b))) if not is_num(t, 0)]
        step.result = _sum(terms)
        return step.result

    def _chain(self, outer: Node, inner: Node, known: Call | None = None) -> Node:
        """outer(inner)·inner'; a plain known derivative when inner is the variable itself.

        For a call the chain rule is its own step (the inner function gets a name); for
        powers and exponentials the rule that called us already names the chain.
        """
        if isinstance(inner, Name) and inner.id == self.x:
            if known is not None:
                self.record(f"known derivative of {known.func}", known,
                            _known_pattern(known.func, self.x)).result = outer
            return outer
        from gradcli.expr.unparse import unparse

        # Short inner functions (-x, x - 1) read better spelled out than named.
        named = len(unparse(inner)) > SHORT_INNER
        step = None
        if known is not None:
            if named:
                name = self.name_inner(inner)
                pattern = f"d/dx f({name}) = f'({name})·d{name}/dx"
            else:
                name, pattern = unparse(inner), "d/dx f(g) = f'(g)·g'"
            step = self.record("chain rule", known, pattern, inner=inner if named else None)
            local = self.record(f"known derivative of {known.func}", known,
                                _known_pattern(known.func, name))
            local.result, local.by = outer, name if named else f"{known.func}'"
        elif named:
            self.name_inner(inner)
        result = mul(outer, self.d(inner))
        if step is not None:
            step.result = result
        return result


def _known_pattern(func: str, variable: str) -> str:
    entry = catalog.lookup(func)
    from gradcli.expr.unparse import unparse

    derivative = unparse(tidy(substitute(_local_template(func), {"x": Name(variable)})))
    if not variable.isidentifier():
        return f"{func}'({variable}) = {derivative}"
    return f"d/d{variable} {entry.call.replace('(x', '(' + variable)} = {derivative}"


def _factors(node: Node) -> list[Node]:
    if isinstance(node, Binary) and node.op == "*":
        return _factors(node.left) + _factors(node.right)
    return [node]


def _product(factors: list[Node]) -> Node:
    out = factors[0]
    for f in factors[1:]:
        out = mul(out, f)
    return out


def _sum(terms: list[Node]) -> Node:
    out = num(0)
    for t in terms:
        out = add(out, t)
    return out


def differentiate(target: Node, variable: str, *, reserved: set[str] = frozenset()) -> Derivation:
    """d target / d variable, with the rules applied in order (outermost first)."""
    target = tidy(target)
    engine = Differentiator(variable, reserved=reserved | names(target))
    result = tidy(engine.d(target))
    return Derivation(variable, target, result, engine.steps, engine.inner)
