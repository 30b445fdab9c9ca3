"""Layout of a pooling result: the grids with their windows coloured, forward, backward, claim.

Colour groups are window numbers (0-based, row-major over the output), the same number on
the input cells of a window, on its output cell, on its upstream gradient and on the cells that
gradient reaches, so a student can follow each g_ij to where it lands. A cell shared by several
windows (stride < kernel) gets no single colour; its formula names every window that reaches it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gradcli.problems.grid import number, shape
from gradcli.render.blocks import Block, Grid, Heading, Table, Text
from gradcli.render.layouts.header import header

if TYPE_CHECKING:
    from gradcli.kinds.pooling.windows import PoolingResult, Window

MAX_WINDOW_ROWS = 36  # the forward table lists at most this many windows
MAX_DENOMINATOR = 10_000  # fractions shown instead of long decimals
SNAP = 1e-12  # relative distance below which a float is shown as that fraction
MAX_LISTED = 8  # ties, wrong cells, ... named one by one before "and N more"


def _at(cell: tuple[int, int]) -> str:
    return f"({cell[0] + 1}, {cell[1] + 1})"


def _listed(items: list[str], sep: str = ", ") -> str:
    more = len(items) - MAX_LISTED
    return sep.join(items[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def show(value: float) -> str:
    """A number for reading: `17/9` rather than `1.8888888888888888` (or float noise such as
    `1.8888888888888886`) when a small fraction is within 1e-12; else 12 significant digits.
    Grids accept fractions, so what is shown can be typed back; JSON keeps the exact floats."""
    text = number(value)
    if len(text) <= 8:
        return text
    frac = Fraction(value).limit_denominator(MAX_DENOMINATOR)
    if abs(frac.numerator / frac.denominator - value) <= SNAP * max(1.0, abs(value)):
        short = number(frac.numerator / frac.denominator)
        return short if len(short) <= 8 else str(frac)
    return f"{value:.12g}"


def _cells(g) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(show(v) for v in row) for row in g)


def _latex_number(text: str) -> str:
    if "/" not in text:
        return text
    num, den = text.split("/")
    sign = "-" if num.startswith("-") else ""
    return rf"{sign}\frac{{{num.lstrip('-')}}}{{{den}}}"


def _numbers(title: str, g, groups, marks=None) -> Grid:
    cells = _cells(g)
    return Grid(title, cells, groups=groups, marks=marks,
                latex_cells=tuple(tuple(_latex_number(c) for c in row) for row in cells))


def _owner(r: PoolingResult, padded: bool) -> list[list[int | None]]:
    """The one window covering each cell (padded coordinates if `padded`), None if 0 or 2+."""
    p = r.padding if padded else 0
    h, w = shape(r.input)
    count = [[0] * (w + 2 * p) for _ in range(h + 2 * p)]
    owner: list[list[int | None]] = [[None] * (w + 2 * p) for _ in range(h + 2 * p)]
    ow = shape(r.output)[1]
    for n in range(len(r.windows)):
        i, j = divmod(n, ow)
        top, left = i * r.stride - r.padding + p, j * r.stride - r.padding + p
        for a in range(max(top, 0), min(top + r.kernel, h + 2 * p)):
            for b in range(max(left, 0), min(left + r.kernel, w + 2 * p)):
                count[a][b] += 1
                owner[a][b] = n
    return [[o if c == 1 else None for o, c in zip(orow, crow, strict=True)]
            for orow, crow in zip(owner, count, strict=True)]


def _input_grid(r: PoolingResult) -> Grid:
    h, w = shape(r.input)
    p = r.padding
    groups = _owner(r, padded=True)
    cells = [["·"] * (w + 2 * p) for _ in range(h + 2 * p)]
    for i in range(h):
        for j in range(w):
            cells[i + p][j + p] = show(r.input[i][j])
    latex = tuple(tuple(r"\cdot" if c == "·" else _latex_number(c) for c in row) for row in cells)
    pad = f"; padding {p} shown as ·" if p else ""
    return Grid(f"input x ({h}×{w}{pad})", tuple(map(tuple, cells)),
                groups=tuple(map(tuple, groups)), latex_cells=latex)


def _output_groups(r: PoolingResult):
    oh, ow = shape(r.output)
    return tuple(tuple(i * ow + j for j in range(ow)) for i in range(oh))


def _grad_groups(r: PoolingResult):
    """Each input cell coloured by the one window whose gradient reaches it."""
    return tuple(tuple(t[0][0] if len(t) == 1 else None for t in row) for row in r.terms)


def _computation(r: PoolingResult, win: Window) -> str:
    values = [show(r.input[i][j]) for i, j in win.cells()]
    listed = ", ".join(values) if len(values) <= 16 else None
    if r.mode == "max":
        where = f" at {_at(win.argmax)}" + (" (tie: first in row-major order)" if win.tied else "")
        return (f"max({listed})" if listed else f"max of {len(values)} cells") + where
    total = f"({' + '.join(values)})" if listed else f"(sum of {len(values)} cells)"
    pad = ""
    if win.padded:
        pad = " (padding counts as 0)" if r.count_include_pad else " (padding not counted)"
    return f"{total}/{win.divisor}{pad}"


def _span(a: tuple[int, int]) -> str:
    return f"{a[0] + 1}" if a[1] - a[0] == 1 else f"{a[0] + 1}–{a[1]}"


def _forward(r: PoolingResult) -> list[Block]:
    ow = shape(r.output)[1]
    rows = [(f"y{r.names[w.out[0]][w.out[1]][1:]}", f"rows {_span(w.rows)}, columns {_span(w.cols)}",
             _computation(r, w), show(w.value)) for w in r.windows[:MAX_WINDOW_ROWS]]
    blocks: list[Block] = [Heading("Forward", 2),
                           Table(("output", "window", "computation", "value"), tuple(rows))]
    if len(r.windows) > MAX_WINDOW_ROWS:
        blocks.append(Text(f"... and {len(r.windows) - MAX_WINDOW_ROWS} more windows", "note"))
    oh = shape(r.output)[0]
    blocks.append(_numbers(f"output y ({oh}×{ow})", r.output, _output_groups(r)))
    return blocks


def _rule(r: PoolingResult) -> str:
    g = r.names[0][0]
    if r.mode == "max":
        return (f"Each output is its window's maximum, so its upstream gradient ({g} for y"
                f"{g[1:]}) goes entirely to the cell holding that maximum; every other cell of "
                "the window gets 0.")
    d = r.kernel * r.kernel
    divisors = sorted({w.divisor for w in r.windows})
    n = str(d) if divisors == [d] else "n"
    real = "" if divisors == [d] else (
        f" (n = its number of real cells: {', '.join(map(str, divisors))} here)")
    text = (f"Each output is the mean of its window, so dy/dx = 1/{n} for each of its cells"
            f"{real}: the upstream gradient ({g} for y{g[1:]}) is spread equally over its "
            f"window, every cell receiving {g}/{r.windows[0].divisor}.")
    if r.padding:
        text += (f" With count_include_pad={r.count_include_pad} "
                 + ("(torch's default), padded cells count in the divisor, so an edge window "
                    f"still divides by {d} and the padding's share is lost; "
                    "--no-count-include-pad divides by the real cells only."
                    if r.count_include_pad else
                    "an edge window divides by its real cells only; --count-include-pad "
                    f"(torch's default) would divide by {d}."))
    return text


def _conventions(r: PoolingResult) -> list[Block]:
    blocks: list[Block] = []
    if r.overlapping:
        shared = max((t for row in r.formulas for t in row), key=lambda f: f.count("g"))
        blocks.append(Text(f"Windows overlap (stride {r.stride} < kernel {r.kernel}): a cell in "
                           f"several windows accumulates all their shares, e.g. {shared}."))
        counts = tuple(tuple(str(len(t)) for t in row) for row in r.terms)
        reach = "windows covering" if r.mode == "avg" else "windows whose maximum is"
        blocks.append(Grid(f"number of {reach} each cell", counts, groups=_grad_groups(r),
                           latex_cells=counts))
    for win in [w for w in r.windows if w.tied][:MAX_LISTED]:
        g = r.names[win.out[0]][win.out[1]]
        blocks.append(Text(
            f"Tie in window y{g[1:]}: the maximum {show(win.value)} is at "
            f"{', '.join(_at(c) for c in win.tied)}; following torch, {g} goes only to the "
            f"first in row-major order, {_at(win.argmax)}.", "warn"))
    uncovered = r.uncovered()
    if uncovered and r.mode == "avg":
        blocks.append(Text(f"Cells in no window get 0: {_listed([_at(c) for c in uncovered])} "
                           "(torch drops a partial window at the edge, ceil_mode=False).", "note"))
    return blocks


def _backward(r: PoolingResult) -> list[Block]:
    oh, ow = shape(r.output)
    h, w = shape(r.input)
    blocks: list[Block] = [Heading("Backward", 2), Text(_rule(r))]
    if r.symbolic:
        blocks.append(Grid(f"upstream dL/dy ({oh}×{ow})", r.names,
                           groups=_output_groups(r),
                           latex_cells=tuple(tuple("g_{" + n[1:].replace("_", ",") + "}"
                                                   for n in row) for row in r.names)))
        blocks.append(Grid(f"dL/dx ({h}×{w})", r.formulas, groups=_grad_groups(r),
                           latex_cells=r.latex))
    else:
        blocks.append(_numbers(f"upstream dL/dy ({oh}×{ow})", r.upstream, _output_groups(r)))
        blocks.append(_numbers(f"dL/dx ({h}×{w})", r.grad_input, _grad_groups(r)))
    return blocks + _conventions(r)


def _claim(r: PoolingResult) -> list[Block]:
    if r.claim is None:
        return []
    v = r.claims[0]
    h, w = shape(r.input)
    ones = "" if r.upstream is not None else " (judged for an upstream of all ones)"
    blocks: list[Block] = [Heading("Your claim", 2),
                           _numbers(f"claimed dL/dx{ones}", r.claim, _grad_groups(r),
                                    marks=tuple(tuple((i, j) in r.wrong_cells for j in range(w))
                                                for i in range(h)))]
    if v.correct:
        return [*blocks, Text(f"Correct: {v.method}.", "good")]
    wrong = [f"{_at(c)} claimed {show(r.claim[c[0]][c[1]])}, true "
             f"{show(r.claim_expected[c[0]][c[1]])}" for c in r.wrong_cells]
    blocks.append(Text(f"Wrong in {len(wrong)} of {h * w} cells: {_listed(wrong, '; ')}.", "bad"))
    if v.hint:
        blocks.append(Text(f"Likely mistake: {v.hint}.", "bad"))
    blocks.append(_numbers(f"true dL/dx{ones}", r.claim_expected, _grad_groups(r)))
    return blocks


def _error(value: float) -> str:
    return "0" if value == 0 else f"{value:.1e}"


def checks_table(r: PoolingResult) -> list[Block]:
    rows = tuple((c.what, "pass" if c.passed else "FAIL", _error(c.max_abs_error),
                  _error(c.max_rel_error), c.where if c.max_abs_error else "")
                 for c in r.checks)
    tones = tuple("good" if c.passed else "bad" for c in r.checks)
    blocks: list[Block] = [
        Heading("Checks", 2),
        Table(("check", "result", "max abs error", "max rel error", "worst at"), rows,
              tones=tones)]
    notes = dict.fromkeys([*(f"reference: {c.reference}, float64" for c in r.checks),
                           *(n for c in r.checks for n in c.notes)])
    blocks.extend(Text(n, "note") for n in notes)
    blocks.append(Text(f"seed {r.seed} (random upstream values for the formula check; "
                       "--seed to change)", "note"))
    return blocks


def document(r: PoolingResult) -> list[Block]:
    h, w = shape(r.input)
    oh, ow = shape(r.output)
    summary = (f"{r.mode} pooling: kernel {r.kernel}×{r.kernel}, stride {r.stride}, padding "
               f"{r.padding}" + (f", count_include_pad={r.count_include_pad}"
                                 if r.mode == "avg" else "")
               + f"; input {h}×{w} -> output {oh}×{ow}")
    return [*header(r), Text(summary), _input_grid(r), *_forward(r), *_backward(r),
            *_claim(r), *checks_table(r)]


def _window_json(r: PoolingResult, win: Window) -> dict[str, Any]:
    out = {"output": [win.out[0] + 1, win.out[1] + 1], "rows": [win.rows[0] + 1, win.rows[1]],
           "columns": [win.cols[0] + 1, win.cols[1]], "value": win.value,
           "upstream": r.names[win.out[0]][win.out[1]]}
    if r.mode == "max":
        out["argmax"] = [win.argmax[0] + 1, win.argmax[1] + 1]
        out["tie"] = [[i + 1, j + 1] for i, j in win.tied]
    else:
        out["divisor"] = win.divisor
    return out


def _grid_json(g) -> list[list[float]] | None:
    return None if g is None else [list(row) for row in g]


def payload(r: PoolingResult) -> dict[str, Any]:
    out = r.header_json()
    out.update({
        "mode": r.mode, "kernel": r.kernel, "stride": r.stride, "padding": r.padding,
        "count_include_pad": r.count_include_pad, "input": _grid_json(r.input),
        "output": _grid_json(r.output), "symbolic": r.symbolic,
        "upstream": [list(row) for row in r.names] if r.symbolic else _grid_json(r.upstream),
        "grad_input": ([list(row) for row in r.formulas] if r.symbolic
                       else _grid_json(r.grad_input)),
        "grad_input_formulas": [list(row) for row in r.formulas],
        "upstream_names": [list(row) for row in r.names],
        "windows": [_window_json(r, w) for w in r.windows],
        "ties": [{"output": [w.out[0] + 1, w.out[1] + 1],
                  "cells": [[i + 1, j + 1] for i, j in w.tied],
                  "gradient_to": [w.argmax[0] + 1, w.argmax[1] + 1]} for w in r.windows if w.tied],
        "claim": _claim_json(r),
        "claims": [v.to_json() for v in r.claims],
    })
    return out


def _claim_json(r: PoolingResult) -> dict[str, Any] | None:
    if r.claim is None:
        return None
    out = r.claims[0].to_json()
    out.update({"grid": _grid_json(r.claim), "upstream": _grid_json(r.claim_upstream),
                "expected": _grid_json(r.claim_expected),
                "wrong_cells": [[i + 1, j + 1] for i, j in r.wrong_cells]})
    return out
