"""Numbers for a network problem: sample points, the forward pass, and the three routes.

Route 1 is the derived closed form, printed in the expression language, parsed back and
evaluated by `verify.evaluate` (so the check also proves the printed text means what was
derived). Route 2 is torch autograd through the forward lines (evaluated by the same
evaluator on torch operations: torch's derivatives, not ours). When they disagree, route 3,
central finite differences on the loss, referees at the worst entries.

Inputs are float64, drawn from one seeded `torch.Generator`, non-uniform (every entry
different, so a transposed or mis-broadcast formula cannot pass by symmetry), and inside each
function's domain: positive where a given is a log's argument, probabilities for BCE
inputs, well-conditioned for inv/det/logdet. A given the file declares (class labels, one-hot
or distribution rows) is drawn so at every point; nothing else is assumed about a given.
The first point uses the file's `values` where given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import torch

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.ast import Binary, Call, Name, Node, Transpose, walk
from gradcli.expr.constant import constant_value
from gradcli.expr.parse import parse
from gradcli.expr.unparse import unparse
from gradcli.kinds.network.graph import Graph, LineFailed, dims_as_numbers
from gradcli.kinds.network.shapes import Shape, fmt, sizes
from gradcli.results import Check
from gradcli.verify.compare import (
    AUTOGRAD,
    FINITE_DIFFERENCE,
    Tolerance,
    describe_index,
    non_finite,
    worst,
)
from gradcli.verify.evaluate import Evaluator

Tensor = torch.Tensor
DTYPE = torch.float64
POINTS = 4  # sample points for checks and claims
REFEREE_ENTRIES = 3
MAX_KINKS = 16  # entries of one point tested for a kink before a disagreement is a failure


@dataclass(frozen=True)
class Point:
    values: dict[str, Tensor]  # the given names
    label: str  # "the file's values", "random point 2"


# -- domains and sampling ---------------------------------------------------------------

# an elementwise function's domain comes from its catalog entry (log, sqrt: positive; acosh:
# above one; atanh: inside (-1, 1); csch, coth: nonzero; tan, sec: off the poles)
_ARG_DOMAINS = {**{e.name: {0: e.domain} for e in catalog.ELEMENTWISE if e.domain != "real"},
                "bce": {0: "probability", 1: "probability"}, "bce_with_logits": {1: "probability"},
                "inv": {0: "invertible"}, "det": {0: "invertible"}, "logdet": {0: "invertible"}}


def domains(graph: Graph) -> dict[str, str]:
    """Where each given must be sampled. A declared given (labels, onehot, distribution) is
    drawn as the file declares it; an undeclared one only so that the lines are defined
    (positive under a log, a probability for bce, nonzero as a divisor): never so that an
    identity such as "the target's rows sum to 1" holds, which is the file's to declare."""
    out: dict[str, str] = {name: kind for name, (kind, _) in graph.shapes.kinds.items()}
    for line in graph.lines:
        for node in walk(line.node):
            for pos, dom in _ARG_DOMAINS.get(getattr(node, "func", None), {}).items():
                if isinstance(node, Call) and len(node.args) > pos:
                    arg = node.args[pos]
                    while isinstance(arg, Transpose):
                        arg = arg.operand
                    if isinstance(arg, Name):
                        out.setdefault(arg.id, dom)
            if isinstance(node, Binary) and isinstance(node.left, Name) and node.op == "**":
                p = constant_value(node.right)
                if p is None or p != int(p):
                    out.setdefault(node.left.id, "positive")
            if isinstance(node, Binary) and node.op == "/" and isinstance(node.right, Name):
                out.setdefault(node.right.id, "nonzero")
    return {k: v for k, v in out.items() if k in graph.given}


def constrained(graph: Graph) -> set[str]:
    """The givens whose values obey a declared constraint that a small move would break
    (labels, one-hot rows, distributions): held fixed where the others are moved."""
    return set(graph.shapes.kinds)


def random_value(shape: Shape, domain: str, gen: torch.Generator, classes: int = 0) -> Tensor:
    size = sizes(shape)

    def uniform(lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * torch.rand(size, generator=gen, dtype=DTYPE)

    if domain == "positive":
        return uniform(0.5, 2.0)
    if domain == "probability":
        return uniform(0.05, 0.95)
    if domain == "nonzero":
        sign = torch.where(torch.rand(size, generator=gen, dtype=DTYPE) < 0.5, -1.0, 1.0)
        return sign * uniform(0.5, 2.0)
    if domain == "above_one":
        return uniform(1.5, 3.0)
    if domain in ("unit", "nonpole"):  # atanh: |x| < 1; tan, sec: |x| < pi/2
        return uniform(-0.8, 0.8)
    if domain == "labels":  # integer classes 0..C-1, held in float64 like every value
        return torch.randint(0, classes, size, generator=gen).to(DTYPE)
    if domain == "onehot":
        picks = torch.randint(0, size[1], (size[0],), generator=gen)
        return torch.nn.functional.one_hot(picks, size[1]).to(DTYPE)
    if domain == "distribution":
        return torch.softmax(torch.randn(size, generator=gen, dtype=DTYPE), dim=1)
    if domain == "invertible" and len(size) == 2:
        n = size[0]
        return torch.eye(n, dtype=DTYPE) + torch.randn(size, generator=gen, dtype=DTYPE) / (2 * n ** 0.5)
    return torch.randn(size, generator=gen, dtype=DTYPE)


def file_value(graph: Graph, problem, name: str, value) -> Tensor:
    """A `values:` entry as a tensor of its declared shape (a 1-D list is a column)."""
    def bad(message: str) -> InputError:
        return problem.locate(f"values.{name}", InputError(f"values: {message}"))

    if name not in graph.given:
        raise bad(f"{name!r} is not a given name" + (" (it is computed by the forward)"
                                                      if name in graph.declared else ""))
    shape = graph.given[name]
    try:
        t = torch.tensor(value, dtype=DTYPE)
    except (TypeError, ValueError, RuntimeError):
        raise bad(f"{name} must be a number or a (nested) list of numbers") from None
    want = sizes(shape)
    got = "a scalar" if t.dim() == 0 else f"{len(t)} numbers" if t.dim() == 1 else \
        "×".join(str(s) for s in t.shape)
    if t.dim() == 1 and len(want) == 2 and want[1] == 1:
        t = t.reshape(-1, 1)
    if tuple(t.shape) != want:
        raise bad(f"{name} is declared {fmt(shape)} = {'×'.join(map(str, want)) or 'scalar'} but "
                  f"the values are {got}")
    if not torch.isfinite(t).all():
        raise bad(f"{name} has a value that is not a finite number")
    kind, classes = graph.shapes.kinds.get(name, (None, None))
    broken = _breaks(t, kind, classes.size if classes is not None else 0)
    if broken:
        raise bad(f"{name} is declared {kind}, so {broken}")
    return t


def _breaks(t: Tensor, kind: str | None, classes: int) -> str:
    """What a file's values for a declared given get wrong ('' when nothing). The reader
    checks a file at each entry's line; this catches a problem built in Python too."""
    if kind == "labels" and not bool(((t == t.round()) & (t >= 0) & (t < classes)).all()):
        return f"each value must be a whole number from 0 to {classes - 1}"
    if kind == "onehot" and not bool(((t == 0) | (t == 1)).all() and (t.sum(dim=1) == 1).all()):
        return "each row must have a single 1 and 0 elsewhere"
    if kind == "distribution" and not bool((t >= 0).all() and torch.allclose(
            t.sum(dim=1), torch.ones((), dtype=DTYPE), atol=1e-9)):
        return "each row must be non-negative and sum to 1"
    return ""


def points(graph: Graph, problem, seed: int, count: int = POINTS) -> list[Point]:
    return list(each_point(graph, problem, seed, count))


def each_point(graph: Graph, problem, seed: int, count: int = POINTS) -> Iterator[Point]:
    """The sample points one at a time (the same numbers as `points`), so a caller that
    finishes with a point before asking for the next keeps one point's tensors alive, not all."""
    gen = torch.Generator().manual_seed(seed)
    doms = domains(graph)
    fixed = {name: file_value(graph, problem, name, v) for name, v in problem.values.items()}
    _check_probabilities(problem, fixed, doms)
    classes = {name: c.size for name, (kind, c) in graph.shapes.kinds.items() if c is not None}
    for k in range(count):
        values = {name: random_value(shape, doms.get(name, "real"), gen, classes.get(name, 0))
                  for name, shape in graph.given.items()}
        if k == 0 and fixed:
            values.update(fixed)
            label = "the file's values" + (" (other inputs random)" if len(fixed) < len(values) else "")
        else:
            label = f"random point {k + 1}" if fixed or k else "random point 1"
        yield Point(values, label)
        del values


def _check_probabilities(problem, fixed: dict, doms: dict) -> None:
    """A file's values for a bce argument lie in [0, 1]. (Declared givens, labels, one-hot
    and distribution rows, are checked where the file is read, at their line.)"""
    for name, t in fixed.items():
        if doms.get(name) == "probability" and not ((t >= 0) & (t <= 1)).all():
            raise problem.locate(f"values.{name}", InputError(
                f"values: {name} is a probability (used by bce), so it must lie in [0, 1]"))


# -- the forward pass and the routes ----------------------------------------------------

def forward(graph: Graph, givens: Mapping[str, Tensor],
            overrides: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
    """Every name's value, the loss as a 0-d tensor; `overrides` replace computed lines."""
    env = dict(givens)
    for line in graph.lines:
        if overrides and line.name in overrides:
            env[line.name] = overrides[line.name]
            continue
        try:
            value = Evaluator(env)(line.node)
        except InputError as err:
            raise LineFailed(line.key, err) from None
        env[line.name] = value.reshape(()) if line.name == graph.loss else value
    return env


def autograd(graph: Graph, point: Point, wanted: list[str]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(∂L/∂name by torch autograd, the forward values, detached). The leaves share the
    point's storage (nothing writes to them), so a given is not copied per call.

    A forward name (attention's S, a cell's gate) is made a leaf of its own pass: its value
    is detached, marked to require grad, and every later line is rebuilt from it, so autograd
    differentiates the loss through everything downstream of it. (Asking torch for the
    gradient of a non-leaf that no wanted given feeds fails, or silently gives zeros.)"""
    givens = [name for name in wanted if name in point.values]
    leaves = {k: v.detach().requires_grad_(k in givens) for k, v in point.values.items()}
    env = forward(graph, leaves)
    out = dict(zip(givens, _grads(env[graph.loss], [env[n] for n in givens]), strict=True))
    values = {k: v.detach() for k, v in env.items()}
    for name in wanted:
        if name not in point.values:
            out[name] = _intermediate_grad(graph, point, values, name)
    return {name: out[name] for name in wanted}, values


def _grads(loss: Tensor, inputs: list[Tensor]) -> list[Tensor]:
    """∂loss/∂each input; zeros for an input the loss does not depend on."""
    grads = torch.autograd.grad(loss, inputs, allow_unused=True) \
        if inputs and loss.requires_grad else [None] * len(inputs)
    return [g if g is not None else torch.zeros_like(x) for x, g in zip(inputs, grads, strict=True)]


def _intermediate_grad(graph: Graph, point: Point, values: Mapping[str, Tensor],
                       name: str) -> Tensor:
    """∂L/∂name for a forward line: its value becomes a leaf, the lines before it keep their
    (detached) values, and the lines after it are evaluated again from the leaf."""
    leaf = values[name].clone().requires_grad_(True)
    earlier: dict[str, Tensor] = {}
    for line in graph.forward:
        if line.name == name:
            break
        earlier[line.name] = values[line.name]
    env = forward(graph, point.values, overrides={**earlier, name: leaf})
    return _grads(env[graph.loss], [leaf])[0]


def closed_form(expression: Node, graph: Graph, env: Mapping[str, Tensor], shape: Shape) -> Tensor:
    """Evaluate a derived expression from its printed text, broadcast to the variable's shape.

    The text is read as a claim is: a dim's name (eye(N)) is its size."""
    return fit(Evaluator(env)(read_back(unparse(expression), graph)), shape)


def read_back(text: str, graph: Graph) -> Node:
    """A printed form parsed as a claim is: the givens are variables, a dim's name its size."""
    dims = {d: v for d, v in graph.shapes.dims.items() if d not in graph.declared}
    return dims_as_numbers(parse(text, variables=graph.declared | set(dims)), dims)


def fit(value: Tensor, shape: Shape) -> Tensor:
    """A value broadcast to a variable's shape (a 1×1 result is a scalar variable's value)."""
    if not shape and value.numel() == 1:
        return value.reshape(())
    want = sizes(shape)
    if tuple(value.shape) == want:
        return value  # already the variable's shape: no copy (nothing writes to it)
    return torch.broadcast_to(value, want).clone()


def finite_difference(graph: Graph, point: Point, name: str, index: tuple[int, ...],
                      side: int = 0) -> float:
    """Central difference of the loss in one entry of `name` (a given or a forward value);
    `side` +1 or −1 for a one-sided difference (a kink has two different ones)."""
    base = forward(graph, point.values)
    x = base[name]
    h = 1e-6 * max(1.0, abs(float(x[index] if index else x)))

    def loss_at(delta: float) -> float:
        moved = x.clone()
        if index:
            moved[index] += delta
        else:
            moved = moved + delta
        if name in graph.given:
            return float(forward(graph, {**point.values, name: moved})[graph.loss])
        return float(forward(graph, point.values, overrides={name: moved})[graph.loss])

    if side:
        return side * (loss_at(side * h) - float(base[graph.loss])) / h
    return (loss_at(h) - loss_at(-h)) / (2 * h)


KINK_GAP = 1e-3  # one-sided differences this far apart (relative) mean a kink, not noise


def is_kink(graph: Graph, point: Point, name: str, index: tuple[int, ...]) -> bool:
    """Whether the loss has a corner in this entry at this point (a max tie, relu at 0):
    the derivatives from the left and from the right differ, so there is no derivative to
    check and torch's choice is a convention."""
    left = finite_difference(graph, point, name, index, side=-1)
    right = finite_difference(graph, point, name, index, side=+1)
    return abs(left - right) > KINK_GAP * max(1.0, abs(left), abs(right))


def directional(graph: Graph, point: Point, name: str, direction: Tensor) -> float:
    """Central difference of the loss along `direction` in the value of `name`."""
    base = forward(graph, point.values)[name]
    h = 1e-6 * max(1.0, float(base.abs().max()) if base.numel() else 1.0)

    def loss_at(step: float) -> float:
        moved = base + step * direction
        if name in graph.given:
            return float(forward(graph, {**point.values, name: moved})[graph.loss])
        return float(forward(graph, point.values, overrides={name: moved})[graph.loss])

    return (loss_at(h) - loss_at(-h)) / (2 * h)


FD_ENTRIES = 64  # up to this many entries each gets its own difference; beyond, directions


@dataclass
class DifferenceCheck:
    """For a gradient known only in index notation: autograd against central differences,
    entry by entry when small, else along random non-uniform directions. One point at a
    time: `add` each point's autograd gradient (it can be freed afterwards), then `result`."""

    graph: Graph
    name: str
    label: str
    seed: int
    labels: list[str] = field(default_factory=list)
    worst_k: int = 0
    worst_w: object = None
    passed: bool = True
    how: str = ""
    worsts: list = field(default_factory=list)  # each point's comparison
    kinks: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.gen = torch.Generator().manual_seed(self.seed + 1)

    def add(self, p: Point, a: Tensor) -> None:
        graph, name, k = self.graph, self.name, len(self.labels)
        self.labels.append(p.label)
        if a.numel() <= FD_ENTRIES:
            fd = torch.zeros_like(a)
            for index in ([()] if a.dim() == 0 else [tuple(int(i) for i in ix)
                                                     for ix in torch.cartesian_prod(*[torch.arange(s) for s in a.shape]).reshape(-1, a.dim())]):
                fd[index] = finite_difference(graph, p, name, index)
            got, expected, self.how = a, fd, "every entry"
        else:
            dirs = [torch.randn(a.shape, generator=self.gen, dtype=DTYPE) for _ in range(4)]
            expected = torch.tensor([directional(graph, p, name, v) for v in dirs], dtype=DTYPE)
            got = torch.stack([(a * v).sum() for v in dirs])
            self.how = "4 random directions"
        w, ok = worst(expected, got, FINITE_DIFFERENCE)
        self.worsts.append(w)
        if not ok and self.how == "every entry":
            ok = self._kink(p, a, expected)
        if self.worst_w is None or (self.passed and not ok) or \
                (ok == self.passed and w.abs_error > self.worst_w.abs_error):
            self.worst_k, self.worst_w = k, w
        self.passed = self.passed and ok

    def _kink(self, p: Point, a: Tensor, fd: Tensor) -> bool:
        """A point where autograd and central differences disagree: every disagreeing entry
        must be a kink (then autograd's value is torch's convention, named in a note)."""
        bad = ~torch.isclose(a, fd, rtol=FINITE_DIFFERENCE.rtol, atol=FINITE_DIFFERENCE.atol)
        entries = [tuple(int(i) for i in ix) for ix in bad.nonzero()]
        if not entries or len(entries) > MAX_KINKS or \
                not all(is_kink(self.graph, p, self.name, e) for e in entries):
            return False
        where = ", ".join(describe_index(e) or "the value" for e in entries)
        self.kinks.append(f"not differentiable at {where} at {p.label} (the left and right "
                          f"derivatives differ, e.g. a tie for a maximum): torch's value there "
                          f"is its convention, not checked")
        return True

    def result(self) -> Check:
        worst_w, how = self.worst_w, self.how
        where = describe_index(worst_w.index) if how == "every entry" else "a random direction"
        at = self.labels[self.worst_k]
        empty, unfinite = non_finite(self.worsts)
        return Check(what=self.label, passed=self.passed and not empty,
                     max_abs_error=worst_w.abs_error,
                     max_rel_error=worst_w.rel_error, points=len(self.labels),
                     reference=f"central finite differences of the loss ({how})",
                     where=f"{where} at {at}" if where else at,
                     expected=worst_w.expected, got=worst_w.got,
                     notes=(f"tolerance: {FINITE_DIFFERENCE.name} (rtol {FINITE_DIFFERENCE.rtol:g}, "
                            f"atol {FINITE_DIFFERENCE.atol:g})",
                            "no closed form in the expression language (index notation): torch "
                            "autograd is checked against finite differences instead",
                            *self.kinks, *([unfinite] if unfinite else [])))


# -- checks -----------------------------------------------------------------------------

def _top_entries(expected: Tensor, got: Tensor, count: int) -> list[tuple[int, ...]]:
    excess = (got - expected).abs() - (AUTOGRAD.atol + AUTOGRAD.rtol * expected.abs())
    flat = torch.topk(excess.reshape(-1), min(count, excess.numel())).indices
    return [tuple(int(i) for i in torch.unravel_index(f, expected.shape)) for f in flat] \
        if expected.dim() else [()]


@dataclass
class RouteCheck:
    """The closed form against torch autograd for one gradient, one point at a time: `add`
    each point's two routes (they can be freed afterwards), then `result` gives the Check and
    which route is the truth ("autograd" or "closed"). The worst entry is the first failing
    point's (refereed by finite differences there, while its tensors are alive), else the
    largest error."""

    graph: Graph
    name: str
    label: str
    results: list = field(default_factory=list)  # (Worst, ok, point label) per point
    verdict: str = ""
    note: str = ""

    def __post_init__(self):
        self.tol, self.tol_notes = route_tolerance(self.graph)

    def add(self, p: Point, auto: Tensor, closed: Tensor) -> None:
        w, ok = worst(auto, closed, self.tol)
        if not ok and not any(not r[1] for r in self.results):  # the first failing point
            self.verdict, self.note = referee(self.graph, p, self.name, auto, closed)
        self.results.append((w, ok, p.label))

    def result(self) -> tuple[Check, str]:
        failing = [i for i, r in enumerate(self.results) if not r[1]]
        k = failing[0] if failing else max(range(len(self.results)),
                                           key=lambda i: self.results[i][0].abs_error)
        w, _, at = self.results[k]
        passed, truth, notes = not failing, "autograd", []
        if failing:
            notes.append(self.note)
            if self.verdict == "closed":
                passed, truth = True, "closed"
        empty, unfinite = non_finite(r[0] for r in self.results)
        if unfinite:
            notes.append(unfinite)
            passed = passed and not empty
        where = describe_index(w.index)
        where = f"{where} at {at}" if where else at
        c = Check(what=self.label, passed=passed, max_abs_error=w.abs_error,
                  max_rel_error=w.rel_error, points=len(self.results),
                  reference="torch autograd through the forward (float64)",
                  where=where, expected=w.expected, got=w.got,
                  notes=(f"tolerance: {self.tol.name} (rtol {self.tol.rtol:g}, atol "
                         f"{self.tol.atol:g}), per entry", *self.tol_notes, *notes))
        return c, truth


def route_tolerance(graph: Graph) -> tuple[Tolerance, tuple[str, ...]]:
    """AUTOGRAD, or looser where a line uses a catalog function whose torch backward is less
    exact than float64 (hardsigmoid's 1/6 is rounded to float32: 3e-8 relative), with why.
    Inside a network the rounding is an absolute error too, so atol follows rtol."""
    from gradcli import catalog

    loose = {e.name: e for line in graph.lines for n in walk(line.node) if isinstance(n, Call)
             and (e := catalog.lookup(n.func)) is not None and e.reference_rtol is not None}
    if not loose:
        return AUTOGRAD, ()
    rtol = max(e.reference_rtol for e in loose.values())
    return (Tolerance(rtol, rtol, f"{AUTOGRAD.name}, loosened"),
            tuple(dict.fromkeys(e.reference_note for e in loose.values())))


def referee(graph: Graph, point: Point, name: str, auto: Tensor, closed: Tensor) -> tuple[str, str]:
    """Finite differences at the worst entries: which of the two routes do they side with?"""
    entries = _top_entries(auto, closed, REFEREE_ENTRIES)
    fd = torch.tensor([finite_difference(graph, point, name, i) for i in entries], dtype=DTYPE)
    pick = (lambda t: torch.stack([t[i] for i in entries])) if entries != [()] else (lambda t: t.reshape(1))
    a_ok = worst(fd, pick(auto), FINITE_DIFFERENCE)[1]
    c_ok = worst(fd, pick(closed), FINITE_DIFFERENCE)[1]
    where = ", ".join(describe_index(i) or "the value" for i in entries)
    if c_ok and not a_ok:
        return "closed", (f"referee: finite differences at {where} agree with the closed form, not "
                          "with torch autograd (a kink or a torch convention?)")
    if a_ok and not c_ok:
        return "autograd", (f"referee: finite differences at {where} agree with torch autograd: "
                            "the closed form is wrong there")
    return "neither", f"referee: finite differences at {where} are inconclusive"
