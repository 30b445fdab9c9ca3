"""The result of checking a solution: one verdict per case, and the constraint findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.kinds.implementation.constraints import Violation
from gradcli.results import Outcome

# What a case can come to. Only "passed" passes.
VERDICTS = ("passed", "wrong", "constraint broken", "error", "timed out", "crashed", "not run")


@dataclass(frozen=True)
class CaseResult:
    name: str
    why: str  # what the case probes
    shape: str  # the input shapes, e.g. "X 4×3"
    verdict: str  # one of VERDICTS
    detail: str = ""  # one line: the first differing entry, the call, the error
    where: str = ""  # 1-based index of the first differing entry, e.g. "(2, 1)"
    expected: float | None = None
    got: float | None = None
    line: int | None = None  # the solution's line (forbidden call, exception)
    undefined: int = 0  # entries where the reference is NaN (0/0): not judged
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    entries: int = 0

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "why": self.why, "shape": self.shape, "verdict": self.verdict,
                "passed": self.passed, "detail": self.detail, "where": self.where,
                "expected": self.expected, "got": self.got, "line": self.line,
                "undefined_entries": self.undefined, "max_abs_error": self.max_abs_error,
                "max_rel_error": self.max_rel_error}


@dataclass(frozen=True)
class ExerciseResult(Outcome):
    function: str = ""
    description: str = ""
    reference: str = ""  # the expression, or builtin:NAME
    reference_note: str = ""  # what the reference is, in words
    interpretation: tuple[str, ...] = ()  # how the exercise's wording is read
    forbid: tuple[str, ...] = ()
    one_line: bool = False
    rules: tuple[str, ...] = ()  # how the constraints and the comparison are defined
    solution: str = ""  # the path checked, or "gradcli's reference solution"
    violations: tuple[Violation, ...] = ()  # found statically, in the file
    cases: tuple[CaseResult, ...] = ()
    load_error: str = ""  # the file failed to load (its own exception, time limit, crash)
    shown_solution: str = ""  # the reference solution's code, with --show-solution
    limits: dict[str, float] = field(default_factory=dict)
    sandbox: dict = field(default_factory=dict)  # the child's protections (isolation.Protections)

    @property
    def passed(self) -> bool:
        return (super().passed and not self.violations and not self.load_error
                and all(c.passed for c in self.cases))
