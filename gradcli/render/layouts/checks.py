"""Blocks every kind of result shows the same way: its checks and its verdicts on claims."""

from __future__ import annotations

from gradcli.render.blocks import Block, Table, Text
from gradcli.results import Check, Outcome, Verdict


def _number(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def distinct_pair(a, b) -> tuple[str, str]:
    """Two numbers (claimed and true, got and expected) printed with 6 significant digits, or
    with as many more as it takes for them to read differently when they differ: a verdict
    "the claim gives 0.330048, the true value is 0.330048" contradicts itself."""
    if not (isinstance(a, float) and isinstance(b, float)):
        return _fmt(a), _fmt(b)
    a, b = a + 0.0, b + 0.0  # + 0.0: -0.0 prints as 0
    for digits in range(6, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb or a == b:
            return sa, sb
    return sa, sb


def checks_table(checks: tuple[Check, ...], seed: int | None) -> list[Block]:
    if not checks:
        return []
    rows = tuple((c.what, "PASS" if c.passed else "FAIL", f"{c.max_rel_error:.2e}",
                  f"{c.points}", c.where, c.reference) for c in checks)
    out: list[Block] = [Table(("check", "result", "max rel error", "points", "worst at", "reference"),
                              rows, title="Checks (float64)" + (f", seed {seed}" if seed is not None else ""),
                              tones=tuple("good" if c.passed else "bad" for c in checks))]
    for c in checks:
        if not c.passed and not c.where:  # no point compared: say why, not "failed at : ..."
            why = "; ".join(n for n in c.notes if not n.startswith("tolerance"))
            out.append(Text(f"{c.what} failed: {why or 'no point could be compared'}", "bad"))
        elif not c.passed:
            expected, got = (distinct_pair(c.expected, c.got) if c.expected is not None and c.got is not None
                             else (_number(c.expected), _number(c.got)))
            out.append(Text(f"{c.what} failed at {c.where}: expected {expected}, "
                            f"got {got} (relative error {c.max_rel_error:.2e})", "bad"))
    return out


def verdict_blocks(v: Verdict) -> list[Block]:
    if v.correct:
        return [Text(f"claim for {v.target}: correct ({v.method})", "good")]
    lines: list[Block] = [Text(f"claim for {v.target}: WRONG", "bad")]
    ce = v.counterexample
    if ce is not None:
        inputs = ", ".join(f"{k} = {_fmt(x)}" for k, x in ce.inputs.items())
        where = f" at entry {ce.where}" if ce.where and "=" not in ce.where else ""
        claimed, true = distinct_pair(ce.claimed, ce.true)
        lines.append(Text(f"counterexample: {inputs}{where}: the claim gives {claimed}, "
                          f"the true value is {true}", "bad"))
    if v.hint:
        lines.append(Text(f"hint: {v.hint}", "warn"))
    return lines


def _fmt(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def footer(result: Outcome) -> list[Block]:
    verdict = "PASSED" if result.passed else "FAILED"
    if not result.checks and not result.claims:  # --no-check: nothing was proved
        return [Text("PASSED (derived only: no check ran)", "warn")]
    return [Text(verdict, "good" if result.passed else "bad")]
