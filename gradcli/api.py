"""The one door into the core: `solve(problem) -> result`.

Each kind of problem has one package under `gradcli/kinds/`, and its `solve.py` has
`solve(problem, *, seed) -> result`. `SOLVERS` maps each kind to a small function that imports
that module when it is called: a reader (or a tool) follows the call from a kind to its
solver by plain reading, and a command pays only for the machinery its problem needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradcli.problems.model import Problem
    from gradcli.results import Outcome

Solver = Callable[..., "Outcome"]


def _derivative() -> Solver:
    from gradcli.kinds.derivative.solve import solve

    return solve


def _network() -> Solver:
    from gradcli.kinds.network.solve import solve

    return solve


def _pooling() -> Solver:
    from gradcli.kinds.pooling.solve import solve

    return solve


def _vanishing() -> Solver:
    from gradcli.kinds.vanishing.solve import solve

    return solve


def _implementation() -> Solver:
    from gradcli.kinds.implementation.solve import solve

    return solve


SOLVERS: dict[str, Callable[[], Solver]] = {
    "derivative": _derivative,
    "network": _network,
    "pooling": _pooling,
    "vanishing": _vanishing,
    "implementation": _implementation,
}


def solve(problem: Problem, *, seed: int = 0) -> Outcome:
    """Derive, verify and judge `problem`; checks that fail are data in the result."""
    result = SOLVERS[problem.kind]()(problem, seed=seed)
    # Each header field the solver left empty (the exercise fills its description, not its
    # source: q1/q2's source was lost).
    header = {key: getattr(problem, key) for key in ("source", "description")
              if getattr(problem, key) and not getattr(result, key)}
    return replace(result, **header) if header else result


# The kinds whose `solve` runs code in the sandbox (gradcli's reference solution or, with
# consent, the file's own).
SANDBOXED = ("implementation",)


def sandbox_session(problems: Iterable[Problem]) -> AbstractContextManager:
    """A block in which `solve` of `problems` shares one sandbox fork server (torch imported
    once, while the caller works), when any of them runs code; otherwise it does nothing."""
    if not any(p.kind in SANDBOXED for p in problems):
        return nullcontext()
    from gradcli.sandbox.process import shared_server

    return shared_server()


def _grade_implementation() -> Callable[..., Outcome]:
    from gradcli.kinds.implementation.grade import grade

    return grade


def _grade_network() -> Callable[..., Outcome]:
    from gradcli.kinds.network.grade import grade

    return grade


# `gradcli grade PROBLEM DIR`: the kinds whose students hand in code, each with its grader
# (`grade(problem, folder, *, jobs, seed, allow_weaker, progress) -> GradeResult`).
GRADERS: dict[str, Callable[[], Callable[..., Outcome]]] = {
    "implementation": _grade_implementation,
    "network": _grade_network,
}
