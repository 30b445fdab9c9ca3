"""`kind: derivative`: the derivative of a scalar function, derived, cross-checked, verified.

Three routes meet here:
1. our rules (`rules.py`) produce the derivation a student would write, step by step;
2. SymPy's `diff` of the same target, with every catalog function expanded to its definition,
   is an independent symbolic route: the two are compared in float64 at seeded points
   (`gradcli.verify.floats`, no torch, so `--no-check` still proves the algebra);
3. torch autograd of torch's own implementation (`torch.nn.functional.gelu(x,
   approximate="tanh")` for `gelu`), or of the expression itself, is the numeric reference
   (`verify.py`), unless `--no-check`.
A claim is judged against route 1 at the same points, then proved symbolically when SymPy
can do so within its budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gradcli import catalog
from gradcli.errors import InputError, closest
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose, Unary, walk
from gradcli.expr.ast import names as names_in
from gradcli.expr.notation import latex, pretty
from gradcli.expr.parse import parse
from gradcli.expr.tidy import num, replace_subtree, substitute, tidy
from gradcli.expr.unparse import unparse
from gradcli.kinds.derivative.result import DerivativeResult, Form, Inner, Lower, derivative_label
from gradcli.results import Step

if TYPE_CHECKING:
    from gradcli.kinds.derivative.rules import Derivation
    from gradcli.problems.model import DerivativeProblem

CONSTANTS = frozenset({"pi", "e"})
# Budgets: a derivative too long to read is refused (a product of 59 sines has 9,000 parts), and
# SymPy's own diff, which cannot be bounded by size (nested gelu(gelu(...)) runs for minutes
# in its assumption system), gets a time limit; either is exit 2 with a message, never a hang.
MAX_DERIVATIVE_NODES = 10_000
MAX_DERIVATIVE_DEPTH = 200  # the printers recurse; Python's stack allows about 1000 frames
ROUTE_SECONDS = 4.0
UNCHECKED = ("not checked (--no-check): neither SymPy's diff nor torch autograd was run, so "
             "this derivation is unverified")
MAX_AT_POINTS = 1_000  # each is a table row, about a millisecond (20,000 took 24 s)


@dataclass
class Target:
    """The function to differentiate: its text, tree, variable and catalog entry if any."""

    text: str
    tree: Node
    variable: str
    entry: catalog.Entry | None  # when the target is a catalog name
    variables: list[str] = field(default_factory=list)


def resolve(problem: DerivativeProblem) -> Target:
    """The function to differentiate: a catalog name (its definition) or an expression."""
    text = problem.function.strip()
    entry = catalog.lookup(text)
    if entry is not None and entry.group != "elementwise":
        raise problem.locate("function", InputError(
            f"{text} works on vectors and matrices, so it has no scalar derivative",
            hint="write a network problem (gradcli check) for it"))
    if entry is not None and entry.sig.fewest > 1:  # clamp: its bounds are never guessed
        needed = [a.name for a in entry.sig.args[1:] if a.required]
        raise problem.locate("function", InputError(
            f"{text} needs {' and '.join(needed)}: write it as an expression",
            hint=f"e.g. \"{text}(x, -1, 1)\" (usage: {entry.call})"))
    if entry is not None:
        defaults = {p.name: num(p.default) for p in entry.params}
        if entry.definition is not None:
            tree = parse(entry.definition, variables={"x", *defaults})
            tree = substitute(tree, defaults)
        else:
            tree = Call(entry.name, (Name("x"),))
    else:
        try:
            tree = parse(text)
        except InputError as err:
            raise problem.locate("function", err) from None
        _refuse_misspelt_name(problem, tree)
    variables = sorted(names_in(tree) - CONSTANTS) if entry is None else ["x"]
    variable = _choose_variable(problem, variables)
    return Target(text, tree, variable, entry, variables)


def _refuse_misspelt_name(problem: DerivativeProblem, tree: Node) -> None:
    """`derive sigmod` is a typo for sigmoid, not the variable `sigmod` (whose derivative is 1)."""
    if not isinstance(tree, Name):
        return
    match = closest(tree.id, catalog.ENTRIES)
    if match:
        example = (f"; an expression names its variable, e.g. \"{match}(x)\""
                   if catalog.is_elementwise(match) else "")
        raise problem.locate("function", InputError(
            f"unknown function {tree.id!r} (did you mean {match!r}?)",
            hint=f"gradcli list shows the catalog{example}"))


def _choose_variable(problem: DerivativeProblem, variables: list[str]) -> str:
    if problem.wrt is not None:
        if problem.wrt not in variables:
            have = ", ".join(variables) if variables else "none (it is a constant)"
            raise problem.locate("wrt", InputError(
                f"cannot differentiate with respect to {problem.wrt!r}: the function does not "
                f"use it (its variables: {have})",
                hint="--wrt must name a variable of the target; its derivative would be 0"))
        return problem.wrt
    if len(variables) == 1:
        return variables[0]
    if "x" in variables:
        return "x"
    if not variables:
        raise problem.locate("function", InputError(
            "the function has no variable, so its derivative is 0 everywhere",
            hint="write a function of x, e.g. \"x*sigmoid(x)\""))
    raise problem.locate("function", InputError(
        f"the function has several variables ({', '.join(variables)}); choose one with --wrt"))


def _with_inner(node: Node, derivation: Derivation) -> Node:
    """Inner functions replaced by their names, largest first, so u wraps what v names."""
    ordered = sorted(derivation.inner.items(), key=lambda kv: -len(unparse(kv[1])))
    for name, expr in ordered:
        node = replace_subtree(node, expr, Name(name))
    return node


def form(label: str, tree: Node, note: str = "") -> Form:
    return Form(label, unparse(tree), pretty(tree), latex(tree), note)


def _steps(derivation: Derivation, variable: str) -> tuple[Step, ...]:
    out = []
    for s in derivation.steps:
        if s.result is None:
            continue
        subject, result = _with_inner(s.subject, derivation), _with_inner(s.result, derivation)
        inner = next((n for n, e in derivation.inner.items() if e == s.inner), None)
        where = f", where {inner} = {unparse(s.inner)}" if inner else ""
        pwhere = f",  where {inner} = {pretty(s.inner)}" if inner else ""
        lwhere = rf",\quad \text{{where }} {inner} = {latex(s.inner)}" if inner else ""
        if s.by is not None and s.by.endswith("'"):  # f'(g) for a short inner g
            arg = subject.args[0] if isinstance(subject, Call) else subject
            lhs, plhs = f"{s.by}({unparse(arg)})", f"{s.by}({pretty(arg)})"
            llhs = rf"\operatorname{{{s.by[:-1]}}}'\left({latex(arg)}\right)"
        else:
            by = s.by or variable
            lhs, plhs = f"d/d{by}[{unparse(subject)}]", f"d/d{by}[{pretty(subject)}]"
            llhs = rf"\frac{{d}}{{d{by}}}\left[{latex(subject)}\right]"
        out.append(Step(
            rule=s.rule,
            expression=unparse(s.result),
            detail=f"{lhs} = {unparse(result)}{where}    by {s.pattern}",
            pretty=f"{plhs} = {pretty(result)}{pwhere}",
            latex=f"{llhs} = {latex(result)}{lwhere}",
        ))
    return tuple(out)


def explain_constants(target: Node, result: Node) -> tuple[str, ...]:
    """Numbers in the answer that are not in the question, as the products that made them."""
    given = {float(n.value): (n.text or str(n.value)) for n in walk(target) if isinstance(n, Num)}
    notes = []
    seen = set()
    for n in walk(result):
        if not isinstance(n, Num) or float(n.value) in given or n.value in seen:
            continue
        seen.add(n.value)
        v = float(n.value)
        if v == int(v):  # 1 = 5·0.2 in leaky_relu′ is a coincidence, not an explanation
            continue
        for c, text in given.items():
            if c in (0, 1):
                continue
            for k in range(2, 10):
                if math.isclose(v, k * c, rel_tol=1e-12):
                    notes.append(f"{n.text or v} = {k}·{text}")
                    break
            else:
                continue
            break
    return tuple(notes)


def _recognise(target: Target) -> catalog.Entry | None:
    """A typed expression that is a catalog function's definition: `1/(1 + exp(-x))` is sigmoid."""
    if target.entry is not None:
        return target.entry
    if set(target.variables) - {target.variable}:  # x*sigmoid(y) by y is not silu(y)
        return None
    renamed = tidy(substitute(target.tree, {target.variable: Name("x")}))
    for entry in catalog.ELEMENTWISE:
        if entry.definition is None or entry.params:
            continue
        if tidy(parse(entry.definition, variables={"x"})) == renamed:
            return entry
    return None


def _catalog_form(entry: catalog.Entry, variable: str) -> Node:
    tree = parse(entry.derivative, variables={"x", *(p.name for p in entry.params)})
    mapping: dict[str, Node] = {"x": Name(variable)}
    mapping.update({p.name: num(p.default) for p in entry.params})
    return tidy(substitute(tree, mapping))


def _differentiate(problem: DerivativeProblem, tree: Node, variable: str) -> Derivation:
    from gradcli.kinds.derivative.rules import differentiate

    try:
        derivation = differentiate(tree, variable)
    except InputError as err:
        raise problem.locate("function", err) from None
    size, depth = measure(derivation.result)
    if size > MAX_DERIVATIVE_NODES or depth > MAX_DERIVATIVE_DEPTH:
        what = (f"{size:,} parts, more than the {MAX_DERIVATIVE_NODES:,}"
                if size > MAX_DERIVATIVE_NODES else
                f"{depth} levels of nesting, more than the {MAX_DERIVATIVE_DEPTH}")
        raise problem.locate("function", InputError(
            f"the derivative has {what} gradcli derives and checks",
            hint="differentiate smaller pieces and combine them"
            + (", or ask for a lower --order" if problem.order > 1 else "")))
    return derivation


def solve(problem: DerivativeProblem, *, seed: int = 0) -> DerivativeResult:
    target = resolve(problem)
    if len(problem.at) > MAX_AT_POINTS:
        raise problem.locate("at", InputError(
            f"{len(problem.at):,} points to evaluate at; at most {MAX_AT_POINTS:,}",
            hint="the numeric check already samples the function; --at is for a few points"))
    for key, given, what in (("claim", problem.claim is not None, "a claim is judged"),
                             ("at", bool(problem.at), "values are computed")):
        if given and not problem.check:
            raise problem.locate(key, InputError(
                f"{what} on the numeric routes, which --no-check turns off",
                hint="drop --no-check"))
    claim_tree = None
    if problem.claim is not None:  # a bad claim is refused before any symbolic or torch work
        try:
            claim_tree = parse(problem.claim, variables=set(target.variables) | {target.variable})
        except InputError as err:
            raise problem.locate("claim", err) from None
    # Each order is derived from the one before, tidied: the steps a student would write.
    lower: list[Lower] = []
    tree, defined = target.tree, None  # `defined`: f as the first derivation read it
    for k in range(1, problem.order):
        below = _differentiate(problem, tree, target.variable)
        defined = defined or below.target
        lower.append(Lower(k, form(derivative_label(k, target.variable), below.result),
                           _steps(below, target.variable) if problem.steps else ()))
        tree = tidy(below.result)
    derivation = _differentiate(problem, tree, target.variable)
    result = derivation.result
    defined = defined or derivation.target
    compact = _with_inner(result, derivation)
    inner = tuple(Inner(n, unparse(e), pretty(e), latex(e)) for n, e in derivation.inner.items()
                  if n in names_in(compact))

    forms: list[Form] = []
    recognised = _recognise(target)
    if recognised is not None and problem.order == 1:  # the catalog knows f′ only
        catalog_tree = _catalog_form(recognised, target.variable)
        if catalog_tree != result:
            note = "" if target.entry else f"the function is {recognised.name}({target.variable})"
            forms.append(form(f"catalog form ({recognised.name}')", catalog_tree, note))

    if not problem.check:
        return _result(problem, target, derivation, compact, inner, forms, defined, tuple(lower),
                       seed=seed, route=None, checks=(), claim=None, notes=(UNCHECKED,),
                       simplification="")

    from gradcli.budget import OverBudget, time_limit
    from gradcli.kinds.derivative import symbolic
    from gradcli.verify import floats

    kinks = _kinks(target)
    try:
        with time_limit(ROUTE_SECONDS):
            route = symbolic.Route(target.tree, result, target.variable, seed=seed,
                                   domain=recognised.domain if recognised else "real",
                                   kinks=kinks, order=problem.order)
    except (OverBudget, RecursionError, floats.Unsupported) as exc:
        why = (f"did not finish within {ROUTE_SECONDS:g} s" if isinstance(exc, OverBudget)
               else "is nested too deeply for it" if isinstance(exc, RecursionError)
               else f"cannot be evaluated ({exc})")
        raise problem.locate("function", InputError(
            f"too complex to check: SymPy's independent derivative of it {why}",
            hint="nest fewer functions, or differentiate the inner part separately")) from None
    if (where := route.overflow()) is not None:  # exit 2, not a failed check (issue 16)
        raise problem.locate("function", InputError(
            f"cannot be evaluated in float64 near the sample points: {where}, outside "
            "float64's range (±1.8e308)",
            hint="scale or shift the function so its values are moderate for |x| <= 10"))
    simplified, simplification = route.simplified()
    if simplified is not None and len(unparse(simplified)) < len(unparse(result)) and \
            unparse(simplified) not in {f.expression for f in forms}:
        forms.append(form("simplified by SymPy", simplified))
    elif simplified is not None:
        simplification = "SymPy's simplify found nothing shorter"
    checks = [route.check_rules()]
    for f in list(forms):
        try:  # a form is shown only if it reads back (a claim can be pasted from it)
            tree = parse(f.expression, variables=target.variables or None)
        except InputError as err:  # SymPy's x**110 is over the parser's bounds
            forms.remove(f)
            simplification = (f"{f.label}: {f.expression[:60]} is not shown; it is outside the "
                              f"expression language's bounds ({err.message})")
            continue
        checks.append(route.check_form(f.label, tree))
    from gradcli.kinds.derivative.verify import check_against_torch

    torch_check, kink_notes = check_against_torch(
        target.tree, result, target.variable, target.entry, route.points, route.held,
        kinks=kinks, order=problem.order)
    checks.append(torch_check)

    claim = None
    if claim_tree is not None:
        try:
            claim = route.judge(claim_tree, problem.claim)
        except InputError as err:  # sum(2*x), x@x: matrix functions in a scalar claim
            raise problem.locate("claim", err) from None

    return _result(problem, target, derivation, compact, inner, forms, defined, tuple(lower),
                   seed=seed, route=route, checks=tuple(checks), claim=claim,
                   notes=tuple(kink_notes), simplification=simplification)


def _result(problem, target, derivation, compact, inner, forms, defined, lower, *, seed, route,
            checks, claim, notes, simplification) -> DerivativeResult:
    """The result, with or without the check routes (`route` is None under --no-check)."""
    result = derivation.result
    d = derivative_label(problem.order, target.variable)
    values = route.values_at(problem.at) if route is not None and problem.at else ()
    definition_note = target.entry.doc if target.entry else ""
    return DerivativeResult(
        kind="derivative", name=problem.name or f"{d} {target.text}",
        checks=checks, claims=(claim,) if claim else (), seed=seed, notes=notes,
        function=target.text,
        definition=form(f"{target.entry.name}({target.variable})" if target.entry
                        else "f", defined, definition_note),
        wrt=target.variable,
        derivative=form(d, result),
        compact=form(d, compact) if inner else None,
        inner=inner, forms=tuple(forms),
        steps=_steps(derivation, target.variable) if problem.steps else (),
        constants=explain_constants(target.tree, result),
        values=values, held=tuple(route.held.items()) if route is not None else (), claim=claim,
        simplification=simplification, order=problem.order, lower=lower)


def measure(node: Node) -> tuple[int, int]:
    """(number of nodes, depth) of a tree, without recursion (the tree may be deep)."""
    size = depth = 0
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        size, depth = size + 1, max(depth, d)
        children = ((n.operand,) if isinstance(n, Unary | Transpose) else
                    (n.left, n.right) if isinstance(n, Binary) else
                    (*n.args, *(v for _, v in n.kwargs)) if isinstance(n, Call) else ())
        stack.extend((c, d + 1) for c in children)
    return size, depth


def _kinks(target: Target) -> tuple[float, ...]:
    """Where the target is not differentiable, when the catalog knows (relu(x) at 0)."""
    if target.entry is not None:
        return target.entry.kinks
    from gradcli.expr.constant import constant_value

    kinks: set[float] = set()
    x = Name(target.variable)
    for n in walk(target.tree):
        if not isinstance(n, Call) or not n.args:
            continue
        if catalog.is_pairwise(n) and x in n.args:  # max(x, 0): the tie at x = 0
            other = constant_value(n.args[1] if n.args[0] == x else n.args[0])
            if other is not None:
                kinks.add(other)
        elif n.args[0] == x and n.func == "clamp":  # clamp(x, lo, hi): at lo and at hi
            kinks.update(v for v in map(constant_value, n.args[1:]) if v is not None)
        elif n.args[0] == x:
            entry = catalog.lookup(n.func)
            if entry is not None:
                kinks.update(entry.kinks)
    return tuple(sorted(kinks))

