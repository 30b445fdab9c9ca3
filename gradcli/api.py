"""The one door into the core: `solve(problem) -> result`.

Each kind of problem has one solver module; this maps kinds to them and imports lazily, so a
command pays only for the machinery its problem needs.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradcli.problems.model import Problem
    from gradcli.results import Outcome

SOLVERS = {
    "derivative": "gradcli.derive.scalar",
    "network": "gradcli.derive.network",
    "pooling": "gradcli.derive.pooling",
    "vanishing": "gradcli.vanishing",
    "implementation": "gradcli.exercise",
}


def solve(problem: Problem, *, seed: int = 0) -> Outcome:
    """Derive, verify and judge `problem`; checks that fail are data in the result."""
    module = importlib.import_module(SOLVERS[problem.kind])
    result = module.solve(problem, seed=seed)
    # Each header field the solver left empty (the exercise fills its description, not its
    # source: q1/q2's source was lost).
    header = {key: getattr(problem, key) for key in ("source", "description")
              if getattr(problem, key) and not getattr(result, key)}
    return replace(result, **header) if header else result
