"""The summary table shown after several results (`gradcli check problems/`).

One row per result, in the order they were solved, so a TA scanning a run of answer keys sees
which one failed without scrolling back. JSON needs no summary layout: several results are
already `{"results": [...], "passed": ...}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gradcli.render.blocks import Block, Heading, Table, Text

if TYPE_CHECKING:
    from gradcli.results import Outcome

COLUMNS = ("problem", "kind", "checks passed", "claims", "verdict")


def _checks(result: Outcome) -> str:
    return f"{sum(c.passed for c in result.checks)}/{len(result.checks)}"


def _claims(result: Outcome) -> str:
    if not result.claims:
        return "-"
    return f"{sum(v.correct for v in result.claims)}/{len(result.claims)} correct"


def row(result: Outcome) -> tuple[str, ...]:
    return (result.name or "(unnamed)", result.kind, _checks(result), _claims(result),
            "PASS" if result.passed else "FAIL")


def document(results: Sequence[Outcome]) -> list[Block]:
    passed = sum(r.passed for r in results)
    total = f"{passed} of {len(results)} problems passed"
    return [
        Heading("Summary", 1),
        Table(COLUMNS, tuple(row(r) for r in results),
              tones=tuple("good" if r.passed else "bad" for r in results)),
        Text(total, "good" if passed == len(results) else "bad"),
    ]
