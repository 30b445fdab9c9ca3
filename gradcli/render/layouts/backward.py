"""Layout of a backward-code exercise: the student's gradients in reverse-mode order, each
pass or fail with its worst entry, then the first wrong one and its hint.

The first wrong gradient is the answer to "which part of my backward pass is wrong?": in
reverse-mode order, the gradients after it may be wrong only because they build on it.
"""

from __future__ import annotations

from gradcli.render.blocks import Block, Heading, Table, Text
from gradcli.render.layouts.checks import distinct_pair
from gradcli.render.layouts.header import header

_TONE = {"correct": "good", "not run": "warn"}


def document(result) -> list[Block]:
    blocks = header(result)
    call = ", ".join(f"{n}" for n, _ in result.arguments)
    shapes = ", ".join(f"{n} {s}" for n, s in result.arguments)
    blocks.append(Text(f"function: {result.function}({call}) -> dict of gradients by name"
                       + (f"; arguments: {shapes} (float64)" if shapes else "")))
    blocks.append(Heading(f"Gradients of {result.loss}, reverse mode: {result.solution}", 2))
    if result.error:
        blocks.append(Text(result.error, "bad"))
    missing = result.sandbox.get("missing") or {}
    if missing:  # as the implementation exercise says it
        blocks.append(Text("sandbox weaker than intended, missing: " + "; ".join(
            f"{name} ({why})" for name, why in missing.items()), "warn"))
    if result.gradients:
        blocks.append(_table(result))
    blocks.extend(_failures(result))
    blocks.extend(Text(f"ignored: {why}", "warn") for why in result.ignored)
    if result.first_wrong is not None:
        blocks.append(Text(f"first wrong gradient: {_label(result, result.first_wrong)}", "bad"))
        if result.hint:
            blocks.append(Text(f"hint: {result.hint}", "warn"))
    blocks.append(Heading("How it was judged", 2))
    blocks.extend(Text(rule, "note") for rule in result.rules)
    blocks.extend(Text(note, "note") for note in result.notes)
    if result.points:
        blocks.append(Text(f"points: {'; '.join(result.points)}", "note"))
    blocks.append(Text(f"seed: {result.seed} (the points are drawn from it; --seed changes them)",
                       "note"))
    return blocks


def _label(result, name: str) -> str:
    return f"∂{result.loss}/∂{name} (key {name!r})"


def _table(result) -> Table:
    rows = tuple((g.label, g.shape if g.shape == g.size else f"{g.shape} = {g.size}",
                  g.returned_shape, "pass" if g.passed else "FAIL",
                  f"{g.failing} of {g.points}",
                  f"{g.max_rel_error:.1e}" if g.mark in ("correct", "wrong") else "")
                 for g in result.gradients)
    return Table(("gradient", "shape", "yours", "result", "points failing", "max rel error"),
                 rows, tones=tuple(_TONE.get(g.mark, "bad") for g in result.gradients))


def _failures(result) -> list[Block]:
    blocks: list[Block] = []
    for g in result.gradients:
        if g.passed:
            continue
        if g.mark == "wrong" and g.expected is not None and g.where:
            got, expected = distinct_pair(g.got, g.expected)
            blocks.append(Text(f"{g.label} wrong at {g.where}: yours {got}, true {expected}", "bad"))
        elif g.mark == "wrong shape":
            blocks.append(Text(f"{g.label} has the wrong shape: yours is {g.returned_shape}, "
                               f"{g.name} is {g.size}", "bad"))
        else:
            blocks.append(Text(f"{g.label} wrong: {g.hint}", "bad"))
    return blocks


def counts(result) -> str:
    """The verdict line's counts (render adds the line): gradients, and where it stopped."""
    total = len(result.gradients)
    if result.passed:
        return f"{total} of {total} gradients correct"
    parts = []
    wrong = [g for g in result.gradients if not g.passed]
    if wrong:
        parts.append(f"{len(wrong)} of {total} gradients wrong, the first {_label(result, wrong[0].name)}")
    if result.error:
        parts.append(f"{result.function} failed at "
                     f"{'a sample point' if result.gradients else 'every sample point'}")
    return ", ".join(parts)


def payload(result) -> dict:
    out = result.header_json()
    out.update({
        "solution": result.solution,
        "function": result.function,
        "arguments": {n: s for n, s in result.arguments},
        "loss": result.loss,
        "gradients": [g.to_json() for g in result.gradients],
        "first_wrong": result.first_wrong,
        "hint": result.hint or None,
        "error": result.error or None,
        "ignored": list(result.ignored),
        "points": list(result.points),
        "rules": list(result.rules),
        "limits": dict(result.limits),
        "sandbox": dict(result.sandbox),
    })
    return out
