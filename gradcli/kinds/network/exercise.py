"""Judging a student's backward pass: the parent's side of `gradcli exercise NETWORK --solution`.

The student writes `backward(**given)` returning a dict of gradients by name: every `wrt`
name, and any forward or given name they like (`"z"` for δ, `"y"` for ∂L/∂y). Their code
runs elsewhere (`exercise_run.py`, in the sandbox's child process); this module never sees
it. It draws the sample points (`Exercise.inputs`: what the child receives), and judges
the dicts that come back (`Exercise.judge`): each gradient against the derived closed form
at every point (the closed form itself checked against torch autograd there; autograd is the
truth where the two disagree or no closed form exists), in reverse-mode order, the first
wrong one named, with a hint from the mistake catalogue the claims use (`claims.Judge`)
plus what only a returned tensor shows: a wrong shape, the gradient of another variable,
a batch not summed over.

Decisions, for students and graders alike:
- Bad input (exit 2): the file or its function missing, the function returning something
  other than a dict of tensors, or a dict without a `wrt` name. The code cannot be judged.
- A wrong gradient (exit 1): wrong values, a wrong shape, NaN where the truth is a number,
  a key missing at some points only; and the function raising, running out of time or
  crashing at a point (then `error` says so and no gradient from that point is judged).
- Shapes: a variable declared `[n]` (a column in the problem's notation) arrives as an
  `(n,)` tensor; its gradient may come back `(n,)` or `(n, 1)`. Any vector (`[n, 1]` or a
  `[1, n]` row) may come back flat; a scalar as `()`, `(1,)` or `(1, 1)`; a matrix exactly.
- Keys that name no given or forward value (`"dW"`, the loss itself) are ignored, and said so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import torch

from gradcli.errors import InputError, suggest
from gradcli.expr.ast import Name, walk
from gradcli.kinds.network import verify as V
from gradcli.kinds.network.algebra import has_index_form
from gradcli.kinds.network.claims import Judge
from gradcli.kinds.network.exercise_result import BackwardResult, GradientMark
from gradcli.kinds.network.graph import Graph, build, check_budget
from gradcli.kinds.network.shapes import fmt, sizes
from gradcli.problems.model import NetworkProblem
from gradcli.verify.compare import CLAIM, describe_index, worst

Tensor = torch.Tensor
FUNCTION = "backward"


@dataclass(frozen=True)
class Returned:
    """What the student's function gave at one sample point, validated and decoded by the
    parent: tensors by key (any real dtype, as the student shaped them), or why there are none."""

    gradients: Mapping[str, Tensor] = field(default_factory=dict)
    failure: str = ""  # the function raised, ran out of time, crashed: one line, already escaped


def reverse_order(graph: Graph) -> list[str]:
    """Every name in reverse-mode order: a forward value once every later line has sent it its
    gradient (the last line first), a given once the first line that uses it has; givens no
    line uses (their gradient is 0) last."""
    first_use: dict[str, str] = {}
    for line in graph.lines:
        for node in walk(line.node):
            if isinstance(node, Name) and node.id in graph.given:
                first_use.setdefault(node.id, line.name)
    out: list[str] = []
    for line in reversed(graph.lines):
        if line.name != graph.loss:
            out.append(line.name)
        for node in walk(line.node):
            if isinstance(node, Name) and first_use.get(node.id) == line.name and node.id not in out:
                out.append(node.id)
    return out + [n for n in graph.given if n not in out]


class Exercise:
    """One backward exercise: the points the student's function is called at, and the judge.

    `derive` is `solve.Solver` (the network's derivation and its mistake catalogue), passed in
    by `solve.py` rather than imported: solve.py dispatches to the exercise, so importing it
    back would be a loop."""

    def __init__(self, problem: NetworkProblem, seed: int, solution: str, derive):
        self.problem, self.seed, self.solution, self.derive = problem, seed, solution, derive
        self.graph = build(problem)
        check_budget(problem, self.graph)
        self.points = V.points(self.graph, problem, seed)

    def inputs(self) -> list[dict[str, Tensor]]:
        """The keyword arguments at each point: a 1-D given (an n×1 column) as an (n,) tensor."""
        return [{name: value.reshape(-1) if self._flat(name) else value
                 for name, value in p.values.items()} for p in self.points]

    def _flat(self, name: str) -> bool:
        """A given declared [n] (or a layer's upstream shaped like a column) goes as (n,)."""
        if name in self.problem.given:
            return len(tuple(self.problem.given[name])) == 1
        shape = self.graph.given[name]
        return len(shape) == 2 and shape[1].is_one and not shape[0].is_one

    def arguments(self) -> tuple[tuple[str, str], ...]:
        return tuple((n, "×".join(map(str, t.shape)) or "scalar")
                     for n, t in (self.inputs()[0].items() if self.points else ()))

    # -- judging ------------------------------------------------------------------------
    def judge(self, returned: list[Returned], *, limits: Mapping[str, float] | None = None) -> BackwardResult:
        ran = [(k, r) for k, r in enumerate(returned) if not r.failure]
        keys = list(dict.fromkeys(key for _, r in ran for key in r.gradients))
        if ran:
            self._require_wrt(ran)
        judged = [n for n in reverse_order(self.graph) if n in keys]
        ignored = tuple(self._ignored(k) for k in keys if k not in judged)
        error = next((f"{FUNCTION}(**given) at {self.points[k].label}: {r.failure}"
                      for k, r in enumerate(returned) if r.failure), "")
        marks = self._marks(judged, ran) if ran else ()
        first = next((m for m in marks if not m.passed), None)
        return BackwardResult(
            kind="backward", name=self.problem.name or "backward exercise", seed=self.seed,
            checks=tuple(_check(m) for m in marks),
            notes=(*self.graph.notes, *_float_notes(ran)), source=self.problem.source,
            description=self.problem.description, solution=self.solution,
            arguments=self.arguments(), loss=self.graph.loss, gradients=marks,
            first_wrong=first.name if first else None, hint=first.hint if first else "",
            error=error, points=tuple(p.label for p in self.points), ignored=ignored,
            rules=self._rules(), limits=dict(limits or {}))

    def _require_wrt(self, ran: list[tuple[int, Returned]]) -> None:
        for k, r in ran:
            missing = [n for n in self.graph.wrt if n not in r.gradients]
            if missing:
                got = ", ".join(repr(key) for key in r.gradients) or "nothing"
                close = [s for key in r.gradients if (s := suggest(key, missing))]
                raise InputError(
                    f"{FUNCTION} returned no gradient for {', '.join(map(repr, missing))} at "
                    f"{self.points[k].label} (it returned {got})", file=self.solution,
                    hint=(close[0] + " " if close else "") +
                    f"return a dict keyed by variable name with every wrt name: "
                    f"{', '.join(self.graph.wrt)}")

    def _ignored(self, key: str) -> str:
        if key == self.graph.loss:
            return f"{key!r}: the loss itself (∂{key}/∂{key} = 1), not judged"
        close = suggest(key, self.graph.declared)
        return (f"{key!r}: not a given or forward name of the problem, not judged"
                + (f" ({close})" if close else ""))

    def _marks(self, judged: list[str], ran: list[tuple[int, Returned]]) -> tuple[GradientMark, ...]:
        # Every name's gradient, not only the returned ones: a wrong answer is often another
        # variable's gradient (Wᵀδ, which is ∂L/∂x, returned as ∂L/∂W).
        everything = reverse_order(self.graph)
        solver = self.derive(replace(self.problem, wrt=tuple(everything), claims={}), self.seed)
        points = [self.points[k] for k, _ in ran]
        truth, envs, notes = _truths(solver, points, everything)
        solver.envs = envs  # Solver.mistakes evaluates each wrong formula at these points
        judge = Judge(solver.graph, self.problem, points, envs, truth,
                      {n: solver.bp.pretty(solver.expanded[n]) for n in everything},
                      solver.mistakes, self.seed)
        grader = _Grader(solver.graph, points, truth, judge, notes)
        return tuple(grader.mark(name, [r.gradients.get(name) for _, r in ran]) for name in judged)

    def _rules(self) -> tuple[str, ...]:
        return (f"each gradient is compared with gradcli's derived closed form at "
                f"{len(self.points)} sample points (the closed form checked against torch "
                f"autograd there), entry by entry: |yours − true| ≤ {CLAIM.atol:g} + "
                f"{CLAIM.rtol:g}·|true| ({CLAIM.name}); where the truth is NaN or infinite the "
                f"entry is not judged",
                "order: reverse mode, from the loss back to the inputs; the first wrong gradient "
                "is where the backward pass first goes wrong (later ones may be wrong only "
                "because they build on it)",
                "shapes: a gradient has the shape of its variable; a vector's may come back "
                "flat, (n,), or as a column, (n, 1)")


def _truths(solver, points, judged):
    """∂L/∂name at each point, the forward values there, and a note per gradient whose closed
    form disagreed with autograd (autograd is then the truth: gradcli's error, not yours)."""
    graph = solver.graph
    truth: dict[str, list[Tensor]] = {n: [] for n in judged}
    envs, notes = [], {}
    tol, _ = V.route_tolerance(graph)
    for p in points:
        auto, env = V.autograd(graph, p, judged)
        envs.append(env)
        for name in judged:
            expr = solver.expanded[name]
            if has_index_form(expr):
                truth[name].append(auto[name])
                notes[name] = "no closed form in the expression language: compared with torch autograd"
                continue
            closed = V.closed_form(expr, graph, env, graph.shape(name))
            if not worst(auto[name], closed, tol)[1]:
                notes[name] = ("gradcli's closed form disagrees with torch autograd here; "
                               "compared with autograd")
                closed = auto[name]
            truth[name].append(closed)
    return truth, envs, notes


def _check(mark: GradientMark):
    from gradcli.results import Check

    return Check(what=f"{mark.label}: {FUNCTION} vs gradcli", passed=mark.passed,
                 max_abs_error=mark.max_abs_error, max_rel_error=mark.max_rel_error,
                 points=mark.points, reference="gradcli's derived closed form (checked against "
                                               "torch autograd)",
                 where=mark.where, expected=mark.expected, got=mark.got,
                 notes=(f"{mark.mark}: {mark.hint}" if mark.hint else mark.mark,))


def _float_notes(ran) -> tuple[str, ...]:
    odd = sorted({f"{key} ({str(t.dtype).replace('torch.', '')})" for _, r in ran
                  for key, t in r.gradients.items() if t.dtype != torch.float64})
    if not odd:
        return ()
    return (f"not float64: {', '.join(odd)}; converted to float64 to compare (float32 rounding, "
            f"about 1e-7 relative, can exceed the tolerance: compute in float64)",)


@dataclass
class _Grader:
    graph: Graph
    points: list
    truth: dict[str, list[Tensor]]
    judge: Judge
    notes: dict[str, str]

    def mark(self, name: str, got: list[Tensor | None]) -> GradientMark:
        shape = self.graph.shape(name)
        base = GradientMark(name=name, label=f"∂{self.graph.loss}/∂{name}", shape=fmt(shape),
                            size="×".join(map(str, sizes(shape))) or "scalar", mark="correct",
                            points=len(got), answer=self.judge.answer(name))
        present = [g for g in got if g is not None]
        base = replace(base, returned_shape="×".join(map(str, present[0].shape)) or "scalar",
                       dtype=str(present[0].dtype).replace("torch.", ""))
        missing = [self.points[k].label for k, g in enumerate(got) if g is None]
        if missing:
            return replace(base, mark="wrong", failing=len(missing),
                           hint=f"not returned at {', '.join(missing)} (returned at the others)")
        want = sizes(shape)
        fitted = [_fit(g.to(torch.float64), want) for g in got]
        if any(f is None for f in fitted):
            return replace(base, mark="wrong shape", failing=len(got),
                           hint=self._shape_hint(name, got[0].to(torch.float64), want))
        return self._values(base, name, fitted)

    def _values(self, base: GradientMark, name: str, got: list[Tensor]) -> GradientMark:
        truth = self.truth[name]
        # Where the truth is NaN or infinite there is nothing to judge: those entries take its value.
        got = [torch.where(torch.isfinite(t), g, t) for t, g in zip(truth, got, strict=True)]
        results = [worst(t, g, CLAIM) for t, g in zip(truth, got, strict=True)]
        failing = [k for k, (_, ok) in enumerate(results) if not ok]
        k = failing[0] if failing else max(range(len(results)), key=lambda i: results[i][0].abs_error)
        w = results[k][0]
        where = describe_index(w.index)
        where = f"{where} at {self.points[k].label}" if where else self.points[k].label
        out = replace(base, where=where, expected=w.expected, got=w.got,
                      max_abs_error=max(r[0].abs_error for r in results),
                      max_rel_error=max(r[0].rel_error for r in results), failing=len(failing))
        if not failing:
            return out
        return replace(out, mark="wrong", hint=self._value_hint(name, got))

    # -- hints ----------------------------------------------------------------------------
    def _value_hint(self, name: str, got: list[Tensor]) -> str:
        # The catalogue speaks of claims; here the values are the student's own.
        known = self.judge.hint(name, got).replace("the claim is", "yours is")
        return known or self._other_variable(name, got) or (
            f"no known mistake matches; {self.judge.answer(name)}" + self._note(name))

    def _other_variable(self, name: str, got: list[Tensor]) -> str:
        """Returned as ∂L/∂name: the gradient of another variable (δ as ∂L/∂y, Wᵀδ as ∂L/∂W)."""
        for other, values in self.truth.items():
            if other == name or _zero(values):
                continue
            for transposed in (False, True):
                if transposed and values[0].dim() != 2:
                    continue
                want = [v.T if transposed else v for v in values]
                if all(w.shape == g.shape and worst(w, g, CLAIM)[1] for w, g in zip(want, got, strict=True)):
                    label = f"∂{self.graph.loss}/∂{other}"
                    return (f"the gradient of the wrong variable: this is {label}"
                            f"{'ᵀ' if transposed else ''} = {self.judge.pretty.get(other, label)}, not "
                            f"{self.judge.answer(name)}")
        return ""

    def _shape_hint(self, name: str, got: Tensor, want: tuple[int, ...]) -> str:
        label = f"∂{self.graph.loss}/∂{name}"
        shown = "×".join(map(str, got.shape)) or "a scalar"
        truth = self.truth[name][0]
        if got.dim() == 2 and tuple(got.shape) == want[::-1] and _same(got.T, truth):
            return (f"transposed: yours is {shown}, ({label})ᵀ; a gradient has the shape of its "
                    f"variable (denominator layout), so {self.judge.answer(name)}")
        for axis in range(got.dim()):
            summed = _fit(got.sum(dim=axis), want)
            if summed is not None and _same(summed, truth):
                return (f"missing the sum over the batch: {name} is shared by every "
                        f"{'row' if axis == 0 else 'column'} (broadcast in the forward), so its "
                        f"gradient sums theirs over dim={axis}; yours is {shown}, one per "
                        f"{'row' if axis == 0 else 'column'}. {self.judge.answer(name)}")
        other = self._other_variable_shaped(name, got)
        if other:
            return other
        return (f"{label} has the shape of {name}, {fmt(self.graph.shape(name))} = "
                f"{'×'.join(map(str, want)) or 'a scalar'}; yours is {shown}. "
                f"{self.judge.answer(name)}")

    def _other_variable_shaped(self, name: str, got: Tensor) -> str:
        for other, values in self.truth.items():
            fitted = _fit(got, tuple(values[0].shape))
            if other != name and not _zero(values) and fitted is not None and _same(fitted, values[0]):
                label = f"∂{self.graph.loss}/∂{other}"
                return (f"the gradient of the wrong variable: this is {label} "
                        f"= {self.judge.pretty.get(other, label)} (shaped like {other}), not "
                        f"{self.judge.answer(name)}")
        return ""

    def _note(self, name: str) -> str:
        return f" ({self.notes[name]})" if name in self.notes else ""


def _fit(value: Tensor, want: tuple[int, ...]) -> Tensor | None:
    """The value in the variable's shape, or None: exact; a vector (n×1 or 1×n) flat too;
    a scalar as (), (1,) or (1, 1). A (1, n) row for an n×1 column is not a vector's other
    form but a transposed gradient."""
    if tuple(value.shape) == want:
        return value
    if value.numel() != math.prod(want):
        return None
    if value.numel() == 1 and value.dim() <= 2:
        return value.reshape(want)
    if value.dim() == 1 and len(want) == 2 and 1 in want:
        return value.reshape(want)
    return None


def _zero(values: list[Tensor]) -> bool:
    """A gradient that is 0 everywhere (a given nothing uses) names no mistake: zeros returned
    for ∂L/∂W are not "the gradient of u"."""
    return all(not bool(v.ne(0).any()) for v in values)


def _same(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and worst(b, a, CLAIM)[1]

