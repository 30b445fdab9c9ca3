"""The result of checking a student's `backward(**given)` against a network problem.

Pure data for `render/layouts/backward.py`, kept apart from the judge (`exercise.py`) so that
rendering imports no torch. The result's kind is "backward": it is laid out differently
from a network derivation, though it comes from a `kind: network` problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcli.results import Outcome

# What one returned gradient can come to. Only "correct" passes.
MARKS = ("correct", "wrong", "wrong shape", "not run")


@dataclass(frozen=True)
class GradientMark:
    """One gradient the student returned, judged at every sample point.

    `where`, `expected` and `got` describe one entry: the first failing point's worst entry,
    or the largest error when every point passed (gradcheck's lesson: one place, both values).
    """

    name: str  # the variable: "z"
    label: str  # "∂L/∂z"
    shape: str  # the variable's shape: "n×1"
    mark: str  # one of MARKS
    size: str = ""  # the variable's shape in numbers: "3×1"
    returned_shape: str = ""  # as the student's tensor came: "3" or "3×1"
    points: int = 0  # sample points judged
    failing: int = 0  # of them, where it was wrong
    where: str = ""  # "(2, 1) at random point 2"
    expected: float | None = None
    got: float | None = None
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    hint: str = ""  # why it is wrong, from the mistake catalogue, when recognised
    answer: str = ""  # the derived gradient in course notation: "δ xᵀ"
    dtype: str = "float64"  # as the student's tensor came

    @property
    def passed(self) -> bool:
        return self.mark == "correct"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "shape": self.shape, "size": self.size,
                "mark": self.mark,
                "passed": self.passed, "returned_shape": self.returned_shape or None,
                "dtype": self.dtype, "points": self.points, "failing_points": self.failing,
                "where": self.where, "expected": self.expected, "got": self.got,
                "max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error,
                "hint": self.hint or None}


@dataclass(frozen=True)
class BackwardResult(Outcome):
    solution: str = ""  # the file checked
    function: str = "backward"
    arguments: tuple[tuple[str, str], ...] = ()  # (given name, shape as passed: "3" or "3×3")
    loss: str = "L"
    gradients: tuple[GradientMark, ...] = ()  # in reverse-mode order: the loss's side first
    first_wrong: str | None = None  # the first wrong gradient in that order
    hint: str = ""  # first_wrong's hint
    error: str = ""  # the function failed (its exception, a time limit, a crash): no gradients
    points: tuple[str, ...] = ()  # what the sample points were
    ignored: tuple[str, ...] = ()  # returned keys that name no gradient, and why
    rules: tuple[str, ...] = ()  # how gradients were judged
    limits: dict[str, float] = field(default_factory=dict)
    sandbox: dict = field(default_factory=dict)  # the child's protections (isolation.Protections)

    @property
    def passed(self) -> bool:
        return (super().passed and not self.error and self.first_wrong is None
                and all(g.passed for g in self.gradients))
