"""A network problem as a checked computation graph: parsed lines with shapes.

Everything a user can get wrong in a `kind: network` file is found here, before any
derivation, and reported as an `InputError` located at the key it came from (`forward.z`,
`loss.L`, `wrt`, `given.W`, `claims.W`, `values.x`): undeclared names, shape mismatches, a
loss that is not a scalar, `wrt` naming nothing.

A file without a loss checks its last layer alone: the loss becomes `sum(grad_y * y)` for a
random upstream `grad_y` (= ∂L/∂y), so every gradient is a vector-Jacobian product with a
non-uniform upstream, as when a layer sits inside a larger network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gradcli import catalog
from gradcli.errors import InputError, suggest
from gradcli.expr.ast import Binary, Call, Name, Node, Num, Str, Transpose, Unary, names, walk
from gradcli.expr.parse import parse
from gradcli.kinds.network.shapes import (
    SCALAR,
    Dim,
    Shape,
    Shapes,
    declared,
    fmt,
    is_scalarlike,
    literal,
    same,
)
from gradcli.problems import schema
from gradcli.problems.model import NetworkProblem

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Line:
    name: str
    node: Node
    text: str
    key: str  # where it sits in the file: "forward.z", "loss.L"
    shape: Shape


class LineFailed(Exception):
    """A line torch refused at a sample point (bce of a value outside [0, 1]): the solver,
    which knows the file, places `error` at the line `key` ("loss.L"). Defined here, not in
    verify.network, so catching it does not import torch."""

    def __init__(self, key: str, error: InputError):
        super().__init__(error.message)
        self.key, self.error = key, error


@dataclass
class Graph:
    given: dict[str, Shape]
    lines: tuple[Line, ...]  # the forward lines, then the loss line
    loss: str
    shapes: Shapes
    wrt: tuple[str, ...]
    upstream: str | None = None  # the random upstream's name when a layer is checked alone
    notes: list[str] = field(default_factory=list)

    @property
    def forward(self) -> tuple[Line, ...]:
        return self.lines[:-1]

    @property
    def declared(self) -> set[str]:
        return set(self.given) | {line.name for line in self.forward}

    def line(self, name: str) -> Line | None:
        return next((x for x in self.lines if x.name == name), None)

    def shape(self, name: str) -> Shape:
        return self.shapes.names[name]

    @property
    def definitions(self) -> dict[Node, str]:
        """Forward right-hand sides -> their names, so derivatives can say y for sigmoid(z)."""
        return {line.node: line.name for line in self.forward if not isinstance(line.node, Name)}

    def broadcast(self, name: str) -> bool:
        """Whether `name` is stretched by an elementwise operation somewhere (`W @ x + b` with b
        a column and the sum a matrix): only then is its gradient a sum over axes."""
        own = self.shape(name)
        return any(isinstance(n, Binary) and n.op != "@" and Name(name) in (n.left, n.right)
                   and not same(self.shapes(n), own)
                   for line in self.lines for n in walk(line.node))


def dim_numbers(problem: NetworkProblem, declared: set[str]) -> dict[str, int]:
    """The dims a line or claim may use as numbers (`/N`, `sqrt(d)`): every dim not shadowed
    by a given or forward name of the same spelling."""
    return {d: v for d, v in problem.dims.items() if d not in declared}


def dims_as_numbers(node: Node, dims: dict[str, int], named: bool = False) -> Node:
    """`node` with each dim name replaced by its size, and nothing else touched: no folding,
    so `diag(1 + 0*w)` keeps its shape (the algebra's `substitute` would simplify it to 1).
    `named`: the size keeps the dim's name for course notation (√d), as a 1/N does."""
    if not dims:
        return node
    where = {"start": node.start, "end": node.end}

    def again(n: Node) -> Node:
        return dims_as_numbers(n, dims, named)

    if isinstance(node, Name) and node.id in dims:
        if named:
            from gradcli.kinds.network.algebra import DimNum

            return DimNum(dims[node.id], str(dims[node.id]), symbol=node.id, **where)
        return Num(dims[node.id], str(dims[node.id]), **where)
    if isinstance(node, Unary):
        return Unary(node.op, again(node.operand), **where)
    if isinstance(node, Transpose):
        return Transpose(again(node.operand), **where)
    if isinstance(node, Binary):
        return Binary(node.op, again(node.left), again(node.right), **where)
    if isinstance(node, Call):
        return Call(node.func, tuple(again(a) for a in node.args),
                    tuple((k, again(v)) for k, v in node.kwargs), **where)
    return node


def _check_name(problem: NetworkProblem, key: str, name: str, what: str) -> None:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise problem.locate(key, InputError(
            f"{what} {name!r} is not a valid name (letters, digits and _, starting with a letter)"))
    if catalog.lookup(name) or name in ("pi", "e"):
        raise problem.locate(key, InputError(
            f"{what} {name!r} shadows the catalog's {name!r}", hint="choose another name"))


def _given(problem: NetworkProblem) -> dict[str, Shape]:
    dims = {}
    for d, size in problem.dims.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise problem.locate(f"dims.{d}", InputError(f"dims: {d} must be a positive integer, not {size!r}"))
        dims[d] = size
    given = {}
    for name, spec in problem.given.items():
        _check_name(problem, f"given.{name}", name, "given name")
        try:
            given[name] = declared(tuple(spec), dims, name)
        except InputError as err:
            raise problem.locate(f"given.{name}", err) from None
    return given


def _parse_line(problem, key: str, name: str, text: str, shapes: Shapes) -> Line:
    dims = dim_numbers(problem, set(shapes.names) | {n for n, _ in problem.forward})
    try:
        # eye(d) keeps its dim's name (a size argument); every other dim is a number (/N)
        node = dims_as_numbers(_sized(parse(text, variables=set(shapes.names) | set(dims)),
                                      shapes.dims), dims, named=True)
        shape = shapes(node)
    except InputError as err:
        if err.message.startswith("unknown name"):
            later = [n for n, _ in problem.forward if n not in shapes.names]
            bad = err.message.split("'")[1] if "'" in err.message else ""
            if bad in later:
                err = InputError(f"{bad!r} is used before the line that defines it",
                                 column=err.column, hint="forward lines run in order")
        raise problem.locate(key, err) from None
    return Line(name, node, text, key, shape)


def _sized(node: Node, dims: dict[str, int]) -> Node:
    """eye(d), ones(N, m): a dim's name as an argument of kind size becomes a number that
    still prints as the name (Num(3, "d")), so the evaluator knows the size and every printed
    expression keeps `eye(d)` (pasteable: a claim may name the dims)."""
    from dataclasses import replace

    from gradcli.expr.ast import Call, Unary

    if isinstance(node, Call):
        entry = catalog.lookup(node.func)
        args = tuple(
            Num(dims[a.id], a.id, start=a.start, end=a.end)
            if spec.kind == catalog.SIZE and isinstance(a, Name) and a.id in dims
            else _sized(a, dims)
            for spec, a in zip(entry.sig.args, node.args, strict=False))
        return replace(node, args=args, kwargs=tuple((k, _sized(v, dims)) for k, v in node.kwargs))
    if isinstance(node, Unary | Transpose):
        return replace(node, operand=_sized(node.operand, dims))
    if isinstance(node, Binary):
        return replace(node, left=_sized(node.left, dims), right=_sized(node.right, dims))
    return node


def _kinds(problem: NetworkProblem, given: dict[str, Shape]) -> dict[str, tuple]:
    """The declared givens with their number of classes as a Dim (a dim name or a literal)."""
    out = {}
    for name, (kind, classes) in problem.given_kinds.items():
        if name not in given:
            continue
        spec = tuple(problem.given[name])
        if kind not in ("labels", "onehot", "distribution") or \
                (len(spec) != 1 if kind == "labels" else given[name][1].is_one):
            raise problem.locate(f"given.{name}", InputError(
                f"given: {name} cannot be declared {kind} with the shape {fmt(given[name])}",
                hint="labels: C takes [N]; onehot and distribution take [N, C]"))
        if kind == "labels":
            size = problem.dims.get(classes) if isinstance(classes, str) else classes
            if not isinstance(size, int) or size < 2:
                raise problem.locate(f"given.{name}", InputError(
                    f"given: {name}: labels needs the number of classes, a declared dim or a "
                    f"whole number of at least 2, not {classes!r}"))
            out[name] = (kind, Dim(classes, size) if isinstance(classes, str) else literal(size))
        else:
            out[name] = (kind, None)
    return out


def build(problem: NetworkProblem) -> Graph:
    given = _given(problem)
    shapes = Shapes(given, problem.dims, _kinds(problem, given))
    lines: list[Line] = []
    for name, text in problem.forward:
        key = f"forward.{name}"
        _check_name(problem, key, name, "forward name")
        if name in shapes.names:
            raise problem.locate(key, InputError(f"{name!r} is already declared",
                                                 hint="each name is given or computed once"))
        line = _parse_line(problem, key, name, text, shapes)
        shapes.names[name] = line.shape
        lines.append(line)
    graph = Graph(given, (), "", shapes, ())
    loss_name, loss_text = problem.loss
    if str(loss_text).strip() in ("", "0") and loss_name == "L":
        if not lines:
            raise problem.locate("loss", InputError("no loss and no forward lines: nothing to differentiate"))
        loss_name, loss_text = _layer_alone(graph, lines[-1], given, shapes)
    key = f"loss.{loss_name}"
    _check_name(problem, key, loss_name, "loss name")
    if loss_name in shapes.names:
        raise problem.locate(key, InputError(f"the loss name {loss_name!r} is already declared"))
    loss = _parse_line(problem, key, loss_name, str(loss_text), shapes)
    if not is_scalarlike(loss.shape):
        raise problem.locate(key, InputError(
            f"the loss must be a scalar; {loss_name} = {loss_text} is {fmt(loss.shape)}",
            hint=f"reduce it, e.g. sum({loss_text})"))
    shapes.names[loss_name] = SCALAR
    graph.lines = (*lines, loss)
    graph.loss = loss_name
    graph.wrt = _wrt(problem, graph)
    for name in problem.claims:
        if name not in graph.declared:
            raise problem.locate(f"claims.{name}", InputError(
                f"claims: {name!r} is not a given or forward name",
                hint=suggest(name, graph.declared) or "a claim is keyed by the variable it differentiates by"))
    return graph


def check_bytes(problem: NetworkProblem, graph: Graph) -> int:
    """Estimated peak bytes of checking the problem numerically, from the shapes alone."""
    def entries(shape: Shape) -> int:
        out = 1
        for d in shape:
            out *= d.size
        return out

    total = sum(entries(s) for s in graph.given.values())
    for line in graph.lines:
        for node in walk(line.node):  # every value the line computes (a transpose is a view)
            if not isinstance(node, Name | Num | Str | Transpose):
                total += entries(graph.shapes(node))
    targets = dict.fromkeys((*graph.wrt, *problem.claims))
    total += sum(entries(graph.shape(n)) for n in targets)
    return 8 * total * _live_copies(problem)


def _live_copies(problem: NetworkProblem) -> int:
    """Copies alive at once: both routes, and every sample point's when claims are judged."""
    return schema.LIVE_COPIES * (schema.CLAIM_POINTS if problem.claims else 1)


def check_budget(problem: NetworkProblem, graph: Graph) -> None:
    """Refuse, before a single tensor is allocated, a problem too big to check in memory.
    (`build` itself stays size-blind: the derivation never touches an entry.)"""
    need = check_bytes(problem, graph)
    if need <= schema.MAX_CHECK_BYTES:
        return
    held = f"× {schema.LIVE_COPIES} live copies" + (
        f" × {schema.CLAIM_POINTS} sample points kept to judge the claims" if problem.claims else "")
    entries = need // (8 * _live_copies(problem))
    key = "dims" if problem.dims and "dims" in problem.origin.positions else "given"
    raise problem.locate(key, InputError(
        f"too big to check numerically: about {_size(need)} ({_count(entries)} float64 entries of "
        f"inputs, forward values and gradients {held}); the limit is "
        f"{_size(schema.MAX_CHECK_BYTES)}",
        hint="the derivation does not depend on the size: use smaller dims"))


def _size(n: int) -> str:
    mib = n / 2**20
    if mib >= 2**20:
        return f"{mib / 2**20:.3g} TiB"
    return f"{mib / 1024:,.1f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"{n:.3g}"


def _layer_alone(graph: Graph, out: Line, given: dict, shapes: Shapes) -> tuple[str, str]:
    upstream = f"grad_{out.name}"
    given[upstream] = out.shape
    shapes.names[upstream] = out.shape
    graph.upstream = upstream
    graph.notes.append(f"No loss given: {out.name} is checked alone against a random, non-uniform "
                       f"upstream {upstream} = ∂L/∂{out.name}, i.e. L = sum({upstream} * {out.name}).")
    return "L", f"sum({upstream} * {out.name})"


def _wrt(problem: NetworkProblem, graph: Graph) -> tuple[str, ...]:
    wrt = tuple(problem.wrt)
    if not wrt:
        used = set().union(*(names(line.node) for line in graph.lines))
        wrt = tuple(n for n in graph.given if n in used and n != graph.upstream
                    and n not in graph.shapes.kinds)
    for name in wrt:
        if name in graph.shapes.kinds:
            raise problem.locate("wrt", InputError(
                f"wrt: {name!r} is declared {graph.shapes.kinds[name][0]}: it is never "
                "differentiated", hint=f"remove {name} from wrt"))
        if name == graph.loss:
            raise problem.locate("wrt", InputError(f"wrt: {name!r} is the loss itself",
                                                   hint="list the variables to differentiate by"))
        if name not in graph.declared:
            raise problem.locate("wrt", InputError(
                f"wrt: {name!r} names nothing (not a given or forward name)",
                hint=suggest(name, graph.declared)))
    return tuple(dict.fromkeys(wrt))
