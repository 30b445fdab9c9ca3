"""The last line of every judged output: `PASSED` or `FAILED`, with the counts (issue 16).

A script or a student reads one place for the outcome: `... | tail -1` starts with PASSED or
FAILED whatever the command (check, derive, pool, vanish, exercise). Layouts therefore end
without a verdict of their own; `render` adds this line once, after everything. A kind may
word its counts itself (`counts(result)` in its layout: an exercise counts cases); the
default counts checks and claims.

`gradcli list` and `gradcli schema` judge nothing, so their output has no verdict line (a
listing is a result that always passes; saying PASSED there would claim a check that was not
made). Markdown and LaTeX get the same line; JSON has its `passed` key instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gradcli.render.blocks import Text

if TYPE_CHECKING:
    from gradcli.results import Outcome

UNJUDGED = frozenset({"catalog"})  # kinds with nothing to check: no verdict line


def checks(results: Sequence[Outcome]) -> str:
    passed = sum(c.passed for r in results for c in r.checks)
    total = sum(len(r.checks) for r in results)
    return f"{passed}/{total} checks" if total else "no checks"


def claims(results: Sequence[Outcome]) -> str:
    """`1/2 claims correct`, or `no claims` (never "0/0 claims")."""
    correct = sum(v.correct for r in results for v in r.claims)
    total = sum(len(r.claims) for r in results)
    return f"{correct}/{total} claims correct" if total else "no claims"


def default_counts(result: Outcome) -> str:
    return f"{checks([result])}, {claims([result])}"


def line(results: Sequence[Outcome],
         counts: Callable[[Outcome], str] = default_counts) -> Text | None:
    """`PASSED: 3/3 checks, 1/1 claims correct (seed 0)`; for several results the problems
    passed and the totals; None when nothing was judged. `counts` words one result's counts
    (`render.layouts.counts` asks the result's own layout; this module imports no layout)."""
    judged = [r for r in results if r.kind not in UNJUDGED]
    if not judged:
        return None
    ok = all(r.passed for r in judged)
    word = "PASSED" if ok else "FAILED"
    if len(judged) == 1:
        r = judged[0]
        seed = f" (seed {r.seed})" if r.seed is not None else ""
        return Text(f"{word}: {counts(r)}{seed}", "good" if ok else "bad")
    passed = sum(r.passed for r in judged)
    return Text(f"{word}: {passed} of {len(judged)} problems passed; {checks(judged)}, "
                f"{claims(judged)}", "good" if ok else "bad")
