"""The summary shown after several results (`gradcli check problems/`).

One line per problem, in the order they were solved (name, kind, verdict, checks, claims,
time), so a TA scanning a run of answer keys sees which one failed without scrolling; the
verdict line after it (layouts/verdict.py) is the total. A full report is shown above the
summary only for a problem that failed, or for every problem with --verbose: 26 passing
problems used to print 1,488 lines (issue 16). JSON needs no summary layout: several results
are already `{"results": [...], "passed": ...}`, and carry no times (same bytes every run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gradcli.render.blocks import Block, Heading, Table

if TYPE_CHECKING:
    from gradcli.results import Outcome

COLUMNS = ("problem", "kind", "verdict", "checks passed", "claims correct", "time")


def _checks(result: Outcome) -> str:
    return f"{sum(c.passed for c in result.checks)}/{len(result.checks)}"


def _claims(result: Outcome) -> str:
    if not result.claims:
        return "none"
    return f"{sum(v.correct for v in result.claims)}/{len(result.claims)}"


def _seconds(t: float | None) -> str:
    return "" if t is None else f"{t:.2f} s"


def row(result: Outcome, seconds: float | None = None) -> tuple[str, ...]:
    return (result.name or "(unnamed)", result.kind, "PASS" if result.passed else "FAIL",
            _checks(result), _claims(result), _seconds(seconds))


def shown_in_full(results: Sequence[Outcome], verbose: bool) -> list[Outcome]:
    """The results whose whole report precedes the summary: failures, or all with -v."""
    return [r for r in results if verbose or not r.passed]


def document(results: Sequence[Outcome], times: Sequence[float] | None = None) -> list[Block]:
    seconds = list(times) if times is not None and len(times) == len(results) else [None] * len(results)
    columns = COLUMNS if times is not None else COLUMNS[:-1]
    rows = tuple(row(r, t)[:len(columns)] for r, t in zip(results, seconds, strict=True))
    return [
        Heading("Summary", 1),
        Table(columns, rows, tones=tuple("good" if r.passed else "bad" for r in results)),
    ]
