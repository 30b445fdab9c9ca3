"""Judging a network file's `claims`: the user's own gradients against the true ones.

A claim is correct when it equals the true gradient (torch autograd through the forward,
already cross-checked against the derived closed form) entry by entry at every sample point,
whatever its form: `y*(1-y)` and `sigmoid(z)*(1-sigmoid(z))` are both accepted. A wrong
claim gets a counterexample (the point, the entry, the claimed and the true value) and,
where the mistake has a recognisable pattern, a hint: a transposed gradient (numerator
layout), a flipped sign, a constant factor (a mean's 1/N), a missing activation derivative
(σ(z) where σ′(z) belongs, or no σ′ at all), a broadcast argument not summed back.
The patterns are tested numerically too, by evaluating the mistaken formula itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gradcli.errors import InputError
from gradcli.expr.ast import Node
from gradcli.expr.parse import parse
from gradcli.kinds.network.graph import Graph, LineFailed, dim_numbers, dims_as_numbers
from gradcli.kinds.network.shapes import Shape, fmt, is_scalarlike, same
from gradcli.kinds.network.verify import Point, fit
from gradcli.problems.model import NetworkProblem
from gradcli.results import Counterexample, Verdict
from gradcli.verify.compare import CLAIM, describe_index, non_finite, worst
from gradcli.verify.evaluate import Evaluator

Tensor = torch.Tensor
SMALL_INPUT = 16  # inputs with at most this many entries are shown in a counterexample
LIMIT_GAP = 1e-3  # a claim that is 0/0 at a point is judged this far (relative) beside it


@dataclass(frozen=True)
class Mistake:
    """A recognisable wrong answer: its formula's values per point and the hint it earns."""

    values: list[Tensor]
    hint: str


@dataclass
class Judge:
    graph: Graph
    problem: NetworkProblem
    points: list[Point]
    envs: list[dict[str, Tensor]]  # every name's value at each point
    truth: dict[str, list[Tensor]]  # ∂L/∂name at each point
    pretty: dict[str, str]  # name -> the derived gradient in course notation
    mistakes: Callable[[str], list[Mistake]]  # name -> known wrong formulas for it
    seed: int = 0

    def judge(self, name: str, text: str) -> Verdict:
        key = f"claims.{name}"
        # A dim is a number in a claim (`X.T @ (2*(p - y)/N)`, as the hints write the 1/N)
        dims = dim_numbers(self.problem, self.graph.declared)
        try:
            node = dims_as_numbers(parse(str(text), variables=self.graph.declared | set(dims)), dims)
            shape = self.graph.shapes(node)
        except InputError as err:
            raise self.problem.locate(key, err) from None
        want = self.graph.shape(name)
        wrong_shape = self._shape_verdict(name, str(text), shape, want)
        if wrong_shape is not None:
            return wrong_shape
        # Where the true gradient is NaN or infinite (outside the domain) there is nothing to
        # judge a claim against: those entries take the truth's value and count as unjudged.
        claimed = [torch.where(torch.isfinite(t), c, t) for t, c in zip(
            self.truth[name], (self._evaluate(node, env, want, key) for env in self.envs),
            strict=True)]
        limits = self._by_limit(name, node, want, key, claimed)
        results = [worst(t, c, CLAIM) for t, c in zip(self.truth[name], claimed, strict=True)]
        failing = [k for k, (_, ok) in enumerate(results) if not ok]
        empty, unfinite = non_finite(w for w, _ in results)
        if not failing and empty:
            return Verdict(name, str(text), False,
                           method=f"cannot be judged: ∂{self.graph.loss}/∂{name} is NaN or "
                                  f"infinite at every sample point (the function is undefined "
                                  f"or overflows there)")
        if not failing:
            skipped = f"; {unfinite}" if unfinite else ""
            if limits:
                skipped += (f"; the claim is 0/0 at {', '.join(limits)}, where it was judged by "
                            f"its limit: equal to ∂{self.graph.loss}/∂{name} at two points "
                            f"just beside it (every real given moved ±{LIMIT_GAP:g}, relative)")
            return Verdict(name, str(text), True,
                           method=f"equal to ∂{self.graph.loss}/∂{name} entry by entry at "
                                  f"{len(self.points)} sample points ({CLAIM.name}: rtol "
                                  f"{CLAIM.rtol:g}, atol {CLAIM.atol:g}){skipped}")
        k = failing[0]
        w = results[k][0]
        where = describe_index(w.index)
        example = Counterexample(inputs=self._inputs(self.points[k]), claimed=w.got, true=w.expected,
                                 where=f"{where} at {self.points[k].label}" if where else self.points[k].label)
        return Verdict(name, str(text), False, example,
                       self._hint(name, claimed) or self._stretched_hint(name, shape, want),
                       method=f"differs from ∂{self.graph.loss}/∂{name} (torch autograd) at "
                              f"{len(failing)} of {len(self.points)} sample points; {_error(w)} "
                              f"(tolerance: {CLAIM.name}, rtol {CLAIM.rtol:g}, atol {CLAIM.atol:g})")

    def _by_limit(self, name: str, node: Node, want: Shape, key: str,
                  claimed: list[Tensor]) -> list[str]:
        """Where the claim is NaN (0/0: Mish's `mish(z)/z` at z = 0) and the truth is finite,
        judge it by its limit: at two points just beside the sample point (every unconstrained
        given moved by ±LIMIT_GAP along one fixed non-uniform direction), the claim must equal
        the true gradient, recomputed there by autograd. Then those entries take the truth's
        value; otherwise they stay NaN and the claim is wrong. Returns where it was needed."""
        out = []
        for k, (t, c) in enumerate(zip(self.truth[name], claimed, strict=True)):
            hole = torch.isnan(c) & torch.isfinite(t)
            if bool(hole.any()) and self._sides_agree(name, node, want, key, k):
                claimed[k] = torch.where(hole, t, c)
                out.append(self.points[k].label)
        return out

    def _sides_agree(self, name: str, node: Node, want: Shape, key: str, k: int) -> bool:
        from gradcli.kinds.network.verify import autograd, constrained

        point = self.points[k]
        gen = torch.Generator().manual_seed(self.seed + 7)
        fixed = constrained(self.graph)
        steps = {n: LIMIT_GAP * torch.randn(v.shape, generator=gen, dtype=v.dtype)
                 * v.abs().clamp(min=1.0) for n, v in point.values.items() if n not in fixed}
        if not steps:
            return False
        for side in (-1.0, 1.0):
            moved = {n: v + side * steps[n] if n in steps else v for n, v in point.values.items()}
            try:
                truth, env = autograd(self.graph, Point(moved, point.label), [name])
            except LineFailed:  # the move left a line's domain: no limit to take there
                return False
            c = self._evaluate(node, env, want, key)
            t = truth[name]
            if not bool(torch.isfinite(t).all()) or not worst(t, c, CLAIM)[1]:
                return False
        return True

    def hint(self, name: str, values: list[Tensor]) -> str:
        """The catalogue's hint for wrong values of ∂L/∂name (one per point, shaped like
        name), or "": a student's returned gradient is judged by the same patterns as a claim."""
        return self._hint(name, values)

    def answer(self, name: str) -> str:
        return self._answer(name)

    def _evaluate(self, node: Node, env, want: Shape, key: str) -> Tensor:
        try:
            value = Evaluator(env)(node)
        except InputError as err:
            raise self.problem.locate(key, err) from None
        return fit(value, want)

    def _shape_verdict(self, name: str, text: str, shape: Shape, want: Shape) -> Verdict | None:
        if same(shape, want) or is_scalarlike(shape):
            return None
        if not is_scalarlike(want) and \
                all(s.same(w) or s.is_one for s, w in zip(shape, want, strict=True)):
            return None  # broadcasts up to the variable's shape
        label = self._label(name)
        example = Counterexample(inputs={}, claimed=f"a {fmt(shape)} matrix",
                                 true=f"{label} is {fmt(want)}", where="shape")
        if is_scalarlike(want):
            summed = (f"{name} was broadcast in the forward, so its gradient is the upstream "
                      f"summed over every entry; " if self.graph.broadcast(name) else "")
            hint = (f"{label} is a scalar, as {name} is; the claim is {fmt(shape)}: {summed}"
                    f"{self._answer(name)}")
        elif shape[0].same(want[1]) and shape[1].same(want[0]):
            hint = (f"transposed: the claim is {fmt(shape)} but {label} has the shape of {name}, "
                    f"{fmt(want)} (denominator layout); transpose it: {self._answer(name)}")
        elif shape and self.graph.broadcast(name) and \
                all(w.is_one or s.same(w) for s, w in zip(shape, want, strict=True)):
            axes = [i for i in (0, 1) if want[i].is_one and not shape[i].is_one]
            dims = " and ".join(f"dim={i}" for i in axes)
            hint = (f"{name} was broadcast in the forward, so its gradient is the upstream summed "
                    f"over the broadcast axes: sum(..., {dims}) gives {fmt(want)}; "
                    f"{self._answer(name)}")
        else:
            hint = (f"{label} has the shape of {name}, {fmt(want)}; the claim is {fmt(shape)}; "
                    f"{self._answer(name)}")
        return Verdict(name, text, False, example, hint, method="shape")

    def _stretched_hint(self, name: str, shape: Shape, want: Shape) -> str:
        """A wrong claim smaller than the gradient was broadcast up to it before comparing:
        an n×1 claim for an n×n ∂L/∂W repeats one column, which is seldom what was meant."""
        if same(shape, want) or is_scalarlike(shape) or len(shape) != len(want):
            return ""
        repeated = ("every column" if shape[1].is_one and not want[1].is_one else
                    "every row" if shape[0].is_one and not want[0].is_one else "")
        label = self._label(name)
        return (f"the claim is {fmt(shape)}, broadcast to {fmt(want)} ({repeated} the same) to "
                f"compare it; {label} has the shape of {name}: {self._answer(name)}")

    def _hint(self, name: str, claimed: list[Tensor]) -> str:
        truth = self.truth[name]
        label = self._label(name)
        right = self._answer(name)
        if _matches([t.T if t.dim() == 2 else t for t in truth], claimed) and \
                not _matches(truth, claimed):
            return (f"transposed: the claim is ({label})ᵀ. A gradient has the shape of its "
                    f"variable (denominator layout), so {right}")
        for m in self.mistakes(name):
            if _matches(m.values, claimed):
                return f"{m.hint}; {right}"
        k = _factor(truth, claimed)
        if k is not None and k == -1:
            return f"sign flipped: the claim is −{label}; {right}"
        if k is not None:
            return f"off by a constant factor: the claim is {k:.6g} × {label}; {right}"
        return ""

    def _label(self, name: str) -> str:
        return f"∂{self.graph.loss}/∂{name}"

    def _answer(self, name: str) -> str:
        """`∂L/∂W = δ xᵀ` for a hint, or where to find it when it has no closed form."""
        label = self._label(name)
        pretty = self.pretty.get(name, label)
        if pretty == label:
            return f"{label} has no closed form in the expression language (see its index form)"
        return f"{label} = {pretty}"

    def _inputs(self, point: Point) -> dict:
        out: dict = {}
        for name, value in point.values.items():
            if value.numel() <= SMALL_INPUT:
                v = value.reshape(-1) if value.dim() == 2 and value.shape[1] == 1 else value
                out[name] = v.tolist()
            else:
                out[name] = (f"{fmt(self.graph.given[name])} = {'×'.join(map(str, value.shape))}, "
                             f"seeded random (seed {self.seed}), {point.label}")
        return out


def _error(w) -> str:
    """The worst error as a reader can use it: relative, or absolute where the truth is 0
    (a relative error there reads 1.5e+308)."""
    if w.expected == 0 or not math.isfinite(w.rel_error):
        return f"worst absolute error {w.abs_error:.3g}"
    return f"worst relative error {w.rel_error:.3g}"


def _matches(expected: list[Tensor], got: list[Tensor]) -> bool:
    return all(e.shape == g.shape and worst(e, g, CLAIM)[1] for e, g in zip(expected, got, strict=True))


def _factor(truth: list[Tensor], claimed: list[Tensor]) -> float | None:
    """k if claimed == k·truth at every point, for one constant k ≠ 1 (rounded when near a nice number)."""
    t0 = truth[0].reshape(-1)
    denom = float(t0 @ t0)
    if denom == 0:
        return None
    k = float(claimed[0].reshape(-1) @ t0) / denom
    if not math.isfinite(k) or k == 0 or abs(k - 1) < 1e-9:
        return None
    for nice in (round(k), round(1 / k) and 1 / round(1 / k)):
        if nice and abs(k - nice) <= 1e-9 * abs(nice):
            k = float(nice)
    if not _matches([k * t for t in truth], claimed):
        return None
    return k
