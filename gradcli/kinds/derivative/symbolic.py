"""The SymPy route for scalar derivatives: an independent diff, bounded simplify, claim proofs.

Everything here is evaluated at the same seeded points (`verify.points`) with the float64
dispatcher of `verify.floats`, so a comparison costs microseconds and never imports torch.
Symbolic work that can explode (simplify, proofs of equivalence) runs under a size limit and
a time budget; when either is exceeded the result says so instead of hanging.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import sympy as sp

from gradcli.budget import OverBudget, time_limit
from gradcli.expr.ast import Node
from gradcli.expr.to_sympy import build, symbol
from gradcli.results import Check, Counterexample, Verdict
from gradcli.verify import floats
from gradcli.verify.points import held_values, held_variations, sample

SIMPLIFY_MAX_OPS = 40
SIMPLIFY_SECONDS = 0.5
PROOF_MAX_OPS = 400
PROOF_SECONDS = 1.0
RULES_RTOL, RULES_ATOL = 1e-10, 1e-12
CLAIM_RTOL, CLAIM_ATOL = 1e-7, 1e-9
MIN_POINTS = 4
PROBE_FAR = (-40.0, -20.0, 20.0, 40.0)  # beyond the landmarks' ±10
PROBE_GAP = 1e-3  # relative distance of a probe from a switch (as points.KINK_GAP)
LIMIT_GAP = 1e-3  # where a claim is 0/0 (a removable singularity), judged this far each side
NOT_IDENTICAL_RTOL = 1e-12  # far above 30-digit noise, far below the claim tolerance
REFEREE_DIGITS = 30
MAX_REFEREED = 8
VARIED_REACH, VARIED_POINTS = 5.0, 12  # points judged again with the other variables varied
EXPANDED = "sympy.diff, catalog functions expanded"


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _factor(k: float) -> str:
    """Six digits, or as many as it takes not to read as 1 (a factor of 1.000001)."""
    for digits in (6, 9, 12, 15):
        text = f"{k:.{digits}g}"
        if float(text) != 1:
            return text
    return repr(k)


class Sample(NamedTuple):
    """One point a claim is judged at."""

    x: float
    held: dict[str, float]  # the other variables
    at: dict  # SymPy symbol -> value, for evaluation
    derivative: float  # the true derivative there
    function: float


class Route:
    def __init__(self, target: Node, derived: Node, variable: str, *, seed: int,
                 domain: str = "real", kinks: tuple[float, ...] = ()):
        self.variable = variable
        self.kinks = kinks
        self.symbols: dict[str, sp.Symbol] = {variable: symbol(variable)}
        self.x = self.symbols[variable]
        self.target = build(target, self.symbols)
        self.derived = build(derived, self.symbols)
        # SymPy leaves d/dx sign(x/y) unevaluated (not sign(x*y)); sign(u) = 2·H(u) − 1 has the
        # same values and a derivative SymPy writes out, 2·δ(u)·u'.
        self.reference = sp.diff(self.target.replace(
            sp.sign, lambda u: 2 * sp.Heaviside(u, sp.S.Half) - 1), self.x)
        others = [n for n in self.symbols if n != variable]
        self.held = held_values(seed, others)
        self.variations = held_variations(seed, others)
        candidates = sample(seed, domain=domain, kinks=kinks)
        at = [self._at(p) for p in candidates]
        f = floats.values(self.target, at)
        ref = floats.values(self.reference, at)
        keep = [i for i in range(len(at)) if f[i] is not None and ref[i] is not None]
        if len(keep) < MIN_POINTS and domain == "real":  # log(x), sqrt(x): try x > 0
            candidates = sample(seed, domain="positive", kinks=kinks)
            at = [self._at(p) for p in candidates]
            f, ref = floats.values(self.target, at), floats.values(self.reference, at)
            keep = [i for i in range(len(at)) if f[i] is not None and ref[i] is not None]
        self.points = [candidates[i] for i in keep]
        self._at_points = [at[i] for i in keep]
        self._reference_values = [ref[i] for i in keep]
        self._function_values = [f[i] for i in keep]

    def _at(self, p: float, held: dict[str, float] | None = None) -> dict[sp.Symbol, float]:
        at = {self.x: p}
        at.update({self.symbols[n]: v for n, v in (self.held if held is None else held).items()})
        return at

    def labels(self) -> list[str]:
        return [f"{self.variable} = {_fmt(p)}" for p in self.points]

    def _compare(self, what: str, expr: sp.Expr, reference: str) -> Check:
        got = floats.values(expr, self._at_points)
        pairs = [(r, g) for r, g in zip(self._reference_values, got, strict=True)]
        bad = [i for i, (_, g) in enumerate(pairs) if g is None]
        expected = [r for r, _ in pairs]
        got_f = [math.nan if g is None else g for _, g in pairs]
        notes: tuple[str, ...] = ()
        refereed = self._referee(expr, expected, got_f)
        resolved = 0
        for i, (e, g) in refereed.items():  # compare the exact values there instead
            expected[i], got_f[i] = e, g
            resolved += abs(g - e) <= RULES_ATOL + RULES_RTOL * abs(e)
        if resolved:  # float64 cancellation, not a wrong formula
            notes = (f"float64 cancellation at {resolved} point(s); there both sides were "
                     f"evaluated with {REFEREE_DIGITS} significant digits",)
        check = floats.compare(what, expected, got_f, labels=self.labels(), reference=reference,
                               rtol=RULES_RTOL, atol=RULES_ATOL, notes=notes)
        if bad:
            from dataclasses import replace

            where = ", ".join(self.labels()[i] for i in bad[:3])
            if len(bad) * 2 > len(pairs):
                check = replace(check, passed=False,
                                notes=(*check.notes, f"undefined at {len(bad)} of {len(pairs)} "
                                       f"points, e.g. {where}"))
            else:  # x/gelu(x) at 0: a removable singularity SymPy's form does not have
                check = replace(check, notes=(*check.notes, f"undefined at {where}, where "
                                              "SymPy's form is defined (a removable "
                                              "singularity); compared elsewhere"))
        return check

    def _referee(self, expr: sp.Expr, expected: list[float], got: list[float]
                 ) -> dict[int, tuple[float, float]]:
        """Where float64 disagrees, the same two trees evaluated by mpmath at 30 digits.

        `x/gelu(x)` near x = 7 subtracts nearly equal numbers: both routes are right and
        float64 loses eight digits. The referee looks at those points only (a handful), so
        a wrong formula still fails, just on exact values.
        """
        out = {}
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            if math.isnan(g) or abs(g - e) <= RULES_ATOL + RULES_RTOL * abs(e):
                continue
            if len(out) >= MAX_REFEREED:
                break
            at = self._at_points[i]
            try:
                exact_e = float(self.reference.evalf(REFEREE_DIGITS, subs=at))
                exact_g = float(expr.evalf(REFEREE_DIGITS, subs=at))
            except (TypeError, ValueError):
                continue
            out[i] = (exact_e, exact_g)
        return out

    def check_rules(self) -> Check:
        if not self.points:
            return Check("rules vs SymPy", False, math.inf, math.inf, 0, "sympy.diff",
                         notes=("the function is undefined at every sample point",))
        return self._compare("derivation = SymPy's diff", self.derived, EXPANDED)

    def check_form(self, label: str, tree: Node) -> Check:
        return self._compare(f"{label} = SymPy's diff", build(tree, self.symbols), EXPANDED)

    def simplified(self) -> tuple[Node | None, str]:
        ops = sp.count_ops(self.derived)
        if ops > SIMPLIFY_MAX_OPS:
            return None, (f"SymPy's simplify was not run: the derivative has {ops} operations, "
                          f"over the budget of {SIMPLIFY_MAX_OPS}; it is shown as derived")
        try:
            with time_limit(SIMPLIFY_SECONDS):
                simple = sp.simplify(self.derived)
        except OverBudget:
            return None, (f"SymPy's simplify ran over its {SIMPLIFY_SECONDS:g} s budget; "
                          "the derivative is shown as derived")
        from gradcli.expr.from_sympy import NotExpressible, to_tree  # only when simplify ran

        try:
            return to_tree(simple), ""
        except NotExpressible as exc:
            return None, (f"SymPy's simplest form uses {exc}, which the expression language "
                          "does not have; not shown")

    def values_at(self, points: tuple[float, ...]) -> tuple[tuple[float, float | None, float | None], ...]:
        at = [self._at(p) for p in points]
        # where the function is undefined (log at -1) so is its derivative, whatever the formula gives
        return tuple((p, f, None if f is None else d) for p, f, d in
                     zip(points, floats.values(self.target, at), floats.values(self.derived, at),
                         strict=True))

    def judge(self, claim: Node, text: str) -> Verdict:
        claimed_expr = build(claim, dict(self.symbols))
        samples = self._claim_samples(claimed_expr)
        # values from the claim as written: SymPy's exp(log(x)) = x would hide where it is undefined
        faithful = build(claim, dict(self.symbols), faithful=True)
        claimed = floats.values(faithful, [s.at for s in samples])
        target = f"d/d{self.variable}"
        varied = (", the other variables varied over both signs" if self.variations else "")
        limits: list[str] = []
        isolated = None  # a wrong limit at an isolated undefined point: shown if nothing else is
        for point, got in zip(samples, claimed, strict=True):
            x, held, want = point.x, point.held, point.derivative
            if got is None:
                sides = self._limit_agrees(faithful, x, held)
                if sides is True:
                    limits.append(f"{self.variable} = {_fmt(x)}")
                    continue
                if sides is False and isolated is None:
                    isolated = (point, got)
                    continue
            if got is None or abs(got - want) > CLAIM_ATOL + CLAIM_RTOL * abs(want):
                return self._wrong(target, text, point, got, claimed, samples, varied)
        if isolated is not None:
            return self._wrong(target, text, *isolated, claimed, samples, varied)
        by_limit = (f"; undefined at {', '.join(limits)} (0/0, a removable singularity), where "
                    f"it was judged by its limit: equal on both sides at ±{LIMIT_GAP:g} (relative)"
                    if limits else "")
        method = (f"equal at {len(samples)} points (float64, rtol {CLAIM_RTOL:g}, atol "
                  f"{CLAIM_ATOL:g}{varied}){by_limit}; "
                  + self._prove(claimed_expr))
        return Verdict(target, text, True, method=method)

    def _wrong(self, target: str, text: str, sample: Sample, got: float | None,
               claimed: list, samples: list[Sample], varied: str) -> Verdict:
        inputs = {self.variable: sample.x, **sample.held}
        where = ", ".join(f"{k} = {_fmt(v)}" for k, v in inputs.items())
        return Verdict(target, text, False,
                       Counterexample(inputs, got if got is not None else "undefined",
                                      sample.derivative, where=where),
                       hint=self._hint(claimed, samples),
                       method=f"compared at {len(samples)} points in float64{varied}")

    def _limit_agrees(self, claim: sp.Expr, x: float, held: dict[str, float]) -> bool | None:
        """A claim undefined at a point where the derivative is finite (`mish(x)/x + …` at
        x = 0) is judged by its limit there: it must equal the derivative just left and just
        right of the point (True). A pole (1/x) or a jump is far off on a side (False); None
        when the claim is undefined beside the point too (sqrt(x)/sqrt(x) for x ≤ 0): not an
        isolated point, so not a limit to take."""
        gap = LIMIT_GAP * max(1.0, abs(x))
        at = [self._at(x - gap, held), self._at(x + gap, held)]
        got, want = floats.values(claim, at), floats.values(self.reference, at)
        if any(g is None for g in got) or any(w is None for w in want):
            return None
        return all(abs(g - w) <= CLAIM_ATOL + CLAIM_RTOL * abs(w)
                   for g, w in zip(got, want, strict=True))

    def _claim_samples(self, claimed: sp.Expr) -> list[Sample]:
        """Where a claim is judged: the checks' sample points; probes a claim could hide behind, just past every switch
        of a step, sign, abs, max or min (in the claim or the derivative) and far beyond the
        landmarks (`sigmoid(x)*(1 - sigmoid(x))*(1 + step(x - 12))` agrees with σ′ at every
        sample point and is wrong for every x > 12); and the moderate points again with the
        other variables varied (`abs(y)` for ∂(x·y)/∂x agrees at every positive y)."""
        switches = sorted(self._switches(claimed, self.reference) | set(self.kinks))
        probes = set(PROBE_FAR) | {p for r in switches
                                   for p in (r - PROBE_GAP * max(1.0, abs(r)),
                                             r + PROBE_GAP * max(1.0, abs(r)))}
        # between two switches closer than the probes' gap (step(x + 0.0005) for relu′, whose
        # switch is at 0) only a point in the middle sees the difference
        probes |= {(a + b) / 2 for a, b in zip(switches, switches[1:], strict=False) if b > a}
        base = [Sample(x, self.held, at, r, f) for x, at, r, f in zip(
            self.points, self._at_points, self._reference_values, self._function_values,
            strict=True)]
        moderate = [x for x in self.points if abs(x) <= VARIED_REACH][:VARIED_POINTS]
        extra = [(x, self.held) for x in sorted(probes - set(self.points))] + \
                [(x, held) for held in self.variations for x in moderate]
        at = [self._at(x, held) for x, held in extra]
        f, ref = floats.values(self.target, at), floats.values(self.reference, at)
        extra_samples = [Sample(x, held, a, r, fv) for (x, held), a, fv, r in
                         zip(extra, at, f, ref, strict=True) if fv is not None and r is not None]
        # the smallest counterexample first: at the held values, then varied
        return sorted([*base, *extra_samples],
                      key=lambda s: (s.held is not self.held, abs(s.x), s.x))

    def _switches(self, *exprs: sp.Expr) -> set[float]:
        """Where a piecewise factor switches: the root of each step, sign or abs argument (and
        of max/min's difference) that is linear in the variable once the other variables take
        their held values; the first 20 such arguments."""
        arguments = []
        for expr in exprs:
            for atom in expr.atoms(sp.Heaviside, sp.sign, sp.Abs, sp.Max, sp.Min):
                if isinstance(atom, sp.Max | sp.Min):
                    if len(atom.args) == 2:
                        arguments.append(atom.args[0] - atom.args[1])
                else:
                    arguments.append(atom.args[0])
        held = {self.symbols[n]: v for n, v in self.held.items()}
        roots = set()
        for arg in arguments[:20]:
            arg = arg.subs(held) if held else arg
            poly = arg.as_poly(self.x) if arg.has(self.x) else None
            if poly is None or poly.degree() != 1:
                continue
            a, b = poly.all_coeffs()
            if a.is_number and b.is_number and a != 0:
                root = float(-b / a)
                if math.isfinite(root):
                    roots.add(root)
        return roots

    def _prove(self, claimed: sp.Expr) -> str:
        difference = claimed - self.reference
        if sp.count_ops(difference) > PROOF_MAX_OPS:
            return "too large for a symbolic proof"
        try:
            with time_limit(PROOF_SECONDS):
                zero = sp.simplify(difference) == 0
        except OverBudget:
            return f"no symbolic proof within {PROOF_SECONDS:g} s" + self._not_identical(difference)
        if zero:
            return "SymPy proves the difference is 0"
        return "SymPy could not simplify the difference to 0" + self._not_identical(difference)

    def _not_identical(self, difference: sp.Expr) -> str:
        """Within the claim tolerance yet not the same function: `exp(x)*(1 + 1e-9)`, or a
        constant rounded to ten digits. The verdict stands (the tolerance is the contract),
        but it must not read as proved: the 30-digit difference is named."""
        for p, at, want in list(zip(self.points, self._at_points, self._reference_values,
                                    strict=True))[:MAX_REFEREED]:
            try:
                gap = abs(float(difference.evalf(REFEREE_DIGITS, subs=at)))
            except (TypeError, ValueError, ArithmeticError):  # 0/0 at a removable singularity
                continue
            if gap > NOT_IDENTICAL_RTOL * max(1.0, abs(want)):
                return (f"; not identical: at {self.variable} = {_fmt(p)} the claim differs by "
                        f"{gap:.1e} ({REFEREE_DIGITS}-digit evaluation), within the tolerance "
                        "(a rounded constant?)")
        return ""

    def _hint(self, claimed: list[float | None], samples: list[Sample]) -> str:
        """A constant factor, a flipped sign, or the function for its derivative, when that
        holds at every sample (the other variables varied too: a factor that is 1/y is not
        a constant)."""
        pairs = [(g, s.derivative) for g, s in zip(claimed, samples, strict=True)
                 if g is not None and abs(s.derivative) > 1e-9]
        if len(pairs) >= 2:
            ratios = [g / w for g, w in pairs]
            k = ratios[0]
            # k = 1: the claim agrees wherever sampled and differs only at a probe (a step
            # hidden past the sample points), which no constant factor explains; k = 0 is a
            # claim of 0, which is no factor either.
            if all(math.isclose(r, k, rel_tol=1e-7) for r in ratios) and \
                    not math.isclose(k, 1, rel_tol=1e-7) and k != 0:
                if math.isclose(k, -1, rel_tol=1e-9):
                    return "the sign is flipped"
                return f"off by a constant factor: the claim is {_factor(k)} × the derivative"
        function = [s.function for s in samples]
        if any(abs(f) > 1e-9 for f in function) and all(
                g is not None and math.isclose(g, f, rel_tol=1e-9, abs_tol=1e-12)
                for g, f in zip(claimed, function, strict=True)):
            return "that is the function itself, not its derivative"
        return ""
