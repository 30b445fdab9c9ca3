"""Layout of an exercise check (`kind: implementation`): cases, constraints, and how judged."""

from __future__ import annotations

from gradcli.render.blocks import Block, Formula, Heading, Table, Text
from gradcli.render.layouts.header import header

_TONE = {"passed": "good", "not run": "warn"}


def document(result) -> list[Block]:
    blocks = header(result)
    blocks.append(Text(f"function: {result.function}"))
    if result.reference.startswith("builtin:"):
        blocks.append(Text(f"reference: {result.reference_note}"))
    else:
        blocks.append(Formula("reference", result.reference))
    blocks.extend(Text(note, "note") for note in result.interpretation)
    blocks.extend(_cases(result))
    blocks.extend(_constraints(result))
    blocks.append(Heading("How it was judged", 2))
    blocks.extend(Text(rule, "note") for rule in result.rules)
    blocks.append(Text(f"seed: {result.seed} (cases are drawn from it; --seed changes them)", "note"))
    if result.shown_solution:
        blocks.append(Heading("Reference solution", 2))
        blocks.append(Text(result.shown_solution.rstrip("\n")))
    return blocks


def _cases(result) -> list[Block]:
    blocks: list[Block] = [Heading(f"Cases: {result.solution}", 2)]
    if result.load_error:
        blocks.append(Text(result.load_error, "bad"))
    missing = result.sandbox.get("missing") or {}
    if missing:
        blocks.append(Text("sandbox weaker than intended, missing: " + "; ".join(
            f"{name} ({why})" for name, why in missing.items()), "warn"))
    rows = tuple((c.name, c.shape, c.verdict, c.detail) for c in result.cases)
    tones = tuple(_TONE.get(c.verdict, "bad") for c in result.cases)
    blocks.append(Table(("case", "input", "verdict", "detail"), rows, tones=tones))
    return blocks


def _constraints(result) -> list[Block]:
    if not result.forbid and not result.one_line:
        return []
    blocks: list[Block] = [Heading("Constraints in the file", 2)]
    rules = []
    if result.forbid:
        rules.append("no " + ", ".join(result.forbid))
    if result.one_line:
        rules.append("one line")
    if not result.violations:
        blocks.append(Text(f"kept: {'; '.join(rules)}", "good"))
        return blocks
    for v in result.violations:
        where = f"line {v.line}, column {v.column}" if v.line else "the file"
        text = f"{where}: {v.what} — {v.detail}"
        blocks.append(Text(f"{text}\n    {v.source}" if v.source else text, "bad"))
    return blocks


def counts(result) -> str:
    """The counts on the verdict line (layouts/verdict.py): an exercise is judged by cases."""
    failed = [c for c in result.cases if not c.passed]
    total = len(result.cases)
    if result.passed:
        return f"{total} of {total} cases, constraints kept"
    parts = []
    if failed:
        parts.append(f"{len(failed)} of {total} cases failed")
    dynamic = [v for v in result.violations if v.rule == "dynamic"]
    if dynamic:
        parts.append(f"refused: dynamic code at line {dynamic[0].line}")
    if len(result.violations) > len(dynamic):
        n = len(result.violations) - len(dynamic)
        parts.append(f"{n} constraint violation{'s' if n > 1 else ''} in the file")
    if result.load_error:
        parts.append("the file did not load")
    return ", ".join(parts)


def payload(result) -> dict:
    out = result.header_json()
    out.update({
        "function": result.function,
        "reference": result.reference,
        "reference_note": result.reference_note,
        "interpretation": list(result.interpretation),
        "constraints": {"forbid": list(result.forbid), "one_line": result.one_line,
                        "violations": [v.to_json() for v in result.violations]},
        "rules": list(result.rules),
        "solution": result.solution,
        "load_error": result.load_error or None,
        "cases": [c.to_json() for c in result.cases],
        "limits": dict(result.limits),
        "sandbox": dict(result.sandbox),
    })
    if result.shown_solution:
        out["reference_solution"] = result.shown_solution
    return out
