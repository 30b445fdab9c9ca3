"""Result types shared by every kind of problem.

Results are pure data: derivation and verification produce them, renderers read them, and
only the CLI turns `passed` into an exit code. A failed check or a wrong claim is a result,
never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One step of a derivation: which rule was applied, and what it produced.

    `expression` is in gradcli's expression language (pasteable as a claim) wherever the step
    produces a value; `detail` says what the rule was applied to, in words and symbols.
    """

    rule: str
    expression: str
    detail: str = ""
    latex: str = ""
    shape: str = ""  # e.g. "n×1", for matrix steps
    pretty: str = ""  # course notation (Unicode) for the terminal; falls back to detail

    def to_json(self) -> dict[str, Any]:
        out = {"rule": self.rule, "expression": self.expression, "detail": self.detail}
        if self.shape:
            out["shape"] = self.shape
        return out


@dataclass(frozen=True)
class Check:
    """Two independent routes to the same numbers, compared at `points` sample points.

    `where`, `expected` and `got` describe the worst entry, so a failure names one place and
    both values instead of dumping two arrays (gradcheck's lesson).
    """

    what: str
    passed: bool
    max_abs_error: float
    max_rel_error: float
    points: int
    reference: str
    where: str = ""
    expected: float | None = None
    got: float | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "passed": self.passed, "max_abs_error": self.max_abs_error,
                "max_rel_error": self.max_rel_error, "points": self.points,
                "reference": self.reference, "where": self.where, "expected": self.expected,
                "got": self.got, "notes": list(self.notes)}


@dataclass(frozen=True)
class Counterexample:
    """Where a claim is wrong: the inputs, the claimed value and the true one."""

    inputs: dict[str, Any]
    claimed: Any
    true: Any
    where: str = ""  # for tensors: the index of the differing entry

    def to_json(self) -> dict[str, Any]:
        out = {"inputs": self.inputs, "claimed": self.claimed, "true": self.true}
        if self.where:
            out["where"] = self.where
        return out


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim: the user's own answer against the derived one."""

    target: str  # what was claimed: "d/dx", "W", "grad_input"
    expression: str
    correct: bool
    counterexample: Counterexample | None = None
    hint: str = ""
    method: str = ""  # how it was decided, e.g. "equal at 64 sample points"

    @property
    def verdict(self) -> str:
        return "correct" if self.correct else "wrong"

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "expression": self.expression, "verdict": self.verdict,
                "counterexample": self.counterexample.to_json() if self.counterexample else None,
                "hint": self.hint, "method": self.method}


@dataclass(frozen=True)
class Outcome:
    """Fields every result carries; kind-specific results extend it."""

    kind: str
    name: str
    checks: tuple[Check, ...] = ()
    claims: tuple[Verdict, ...] = ()
    seed: int | None = None
    notes: tuple[str, ...] = field(default=())
    source: str = ""  # the problem's own header, copied by api.solve
    description: str = ""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and all(v.correct for v in self.claims)

    def header_json(self) -> dict[str, Any]:
        out = {"kind": self.kind, "name": self.name, "passed": self.passed, "seed": self.seed,
               "checks": [c.to_json() for c in self.checks], "notes": list(self.notes)}
        if self.source:
            out["source"] = self.source
        if self.description:
            out["description"] = self.description
        return out
