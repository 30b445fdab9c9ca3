"""Forward and backward of 2-D pooling on one grid, symbolic or numeric (worksheet question 6).

The backward of pooling is linear in the upstream gradient: input cell (r, c) receives
`sum over windows w containing it of coef[w] * g_w`, with coef = 1/divisor for average
pooling and 1 for the cell that is its window's maximum (0 for the others). So no SymPy is
needed: the coefficient table is built exactly (integers and fractions) and printed as text
in the expression language (`g11/4`, `(g11 + g12)/4`), which can be pasted back.

Conventions are torch's (`torch.nn.functional.avg_pool2d` / `max_pool2d`, ceil_mode=False):
windows start at -padding and step by stride; a trailing partial window is dropped; padded
cells count in the average's divisor when `count_include_pad` (torch's default) and never
receive gradient; max pooling pads with -inf, and a tie goes to the first maximum in
row-major order of the window (what torch's CPU kernel does, checked in every run).

Verification (two routes, float64): the forward against torch, the numeric gradient from the
coefficient table against torch autograd with the same upstream, and the printed formulas
parsed back and evaluated at seeded random upstream values against autograd again.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from gradcli.errors import InputError
from gradcli.problems.grid import MAX_CELLS, Grid, shape
from gradcli.problems.model import PoolingProblem
from gradcli.results import Outcome

Cell = tuple[int, int]  # 0-based (row, column) in the input
MODES = ("avg", "max")
FORMULA_CHECK_CELLS = 10_000  # parse back at most this many printed formulas (a 100×100 grid)
RANDOM_UPSTREAMS = 3  # seeded upstream draws for the symbolic check
# Window cells summed over all windows (the terms of the backward's formulas), which sets the
# time: overlapping big windows (a 200×200 grid, kernel 100, stride 1) would be 10^8 of them.
MAX_TERMS = 100_000


@dataclass(frozen=True)
class Window:
    """One pooling window, which produces output cell `out` (0-based)."""

    out: Cell
    rows: tuple[int, int]  # real input rows [start, stop) after clipping the padding
    cols: tuple[int, int]
    padded: bool  # does the window reach into the padding?
    divisor: int  # average pooling's denominator; 1 for max pooling
    value: float  # the forward output
    argmax: Cell | None = None  # max pooling: the cell the gradient goes to
    tied: tuple[Cell, ...] = ()  # max pooling: every cell equal to the maximum, when several

    def cells(self) -> list[Cell]:
        return [(r, c) for r in range(*self.rows) for c in range(*self.cols)]


@dataclass(frozen=True)
class PoolingResult(Outcome):
    mode: str = "avg"
    kernel: int = 2
    stride: int = 2
    padding: int = 0
    count_include_pad: bool = True
    input: Grid = ()
    output: Grid = ()
    windows: tuple[Window, ...] = ()
    names: tuple[tuple[str, ...], ...] = ()  # upstream symbols g11, g12, ... per output cell
    formulas: tuple[tuple[str, ...], ...] = ()  # each input cell's gradient, expression language
    latex: tuple[tuple[str, ...], ...] = ()
    terms: tuple[tuple[tuple[tuple[int, Fraction], ...], ...], ...] = ()  # (window, coef) per cell
    upstream: Grid | None = None  # given upstream numbers; None: symbolic
    grad_input: Grid | None = None  # numbers for `upstream`
    claim: Grid | None = None
    claim_upstream: Grid | None = None  # what the claim was judged with (ones if none given)
    claim_expected: Grid | None = None
    wrong_cells: tuple[Cell, ...] = ()

    @property
    def symbolic(self) -> bool:
        return self.upstream is None

    @property
    def overlapping(self) -> bool:
        return self.stride < self.kernel

    def uncovered(self) -> list[Cell]:
        return [(r, c) for r, row in enumerate(self.terms) for c, t in enumerate(row) if not t]


# -- validation -------------------------------------------------------------------------------

def _bad(problem: PoolingProblem, key: str, message: str, hint: str | None = None) -> InputError:
    return problem.locate(key, InputError(message, hint=hint))


def _integer(problem: PoolingProblem, key: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(problem, key, f"{key}: expected a whole number, got {value!r}")
    if value < least:
        raise _bad(problem, key, f"{key} must be at least {least}, got {value}")
    return value


def validate(problem: PoolingProblem) -> tuple[int, int, int]:
    """(kernel, stride, padding) once the problem is one torch would accept; else InputError."""
    if problem.mode not in MODES:
        raise _bad(problem, "mode", f"mode: expected avg or max, got {problem.mode!r}")
    if not problem.input or not problem.input[0]:
        raise _bad(problem, "input", "input: the grid is empty")
    kernel = _integer(problem, "kernel", problem.kernel, 1)
    stride = kernel if problem.stride is None else _integer(problem, "stride", problem.stride, 1)
    padding = _integer(problem, "padding", problem.padding, 0)
    if 2 * padding > kernel:
        raise _bad(problem, "padding", f"padding {padding} is more than half the kernel size "
                   f"{kernel}; torch refuses it", hint=f"use padding at most {kernel // 2}")
    h, w = shape(problem.input)
    if kernel > min(h, w) + 2 * padding:
        padded = f" ({h + 2 * padding}×{w + 2 * padding} with padding)" if padding else ""
        raise _bad(problem, "kernel", f"kernel {kernel}×{kernel} is larger than the {h}×{w} "
                   f"input grid{padded}", hint=f"use a kernel of at most {min(h, w) + 2 * padding}")
    if h * w > MAX_CELLS:
        raise _bad(problem, "input", f"input: the {h}×{w} grid has {h * w:,} cells; pooling "
                   f"takes at most {MAX_CELLS:,} (a 256×256 grid)", hint="crop or downsample it")
    windows = ((h + 2 * padding - kernel) // stride + 1) * ((w + 2 * padding - kernel) // stride + 1)
    if windows * kernel * kernel > MAX_TERMS:
        raise _bad(problem, "kernel", f"{windows:,} windows of {kernel}×{kernel} cells make "
                   f"{windows * kernel * kernel:,} gradient terms; at most {MAX_TERMS:,} are "
                   "derived and checked", hint="use a larger stride, a smaller kernel or grid")
    return kernel, stride, padding


def check_shape(problem: PoolingProblem, key: str, g: Grid | None, want: tuple[int, int],
                 what: str) -> None:
    if g is None:
        return
    if not g or not g[0]:
        raise _bad(problem, key, f"{key}: the grid is empty")
    if shape(g) != want:
        got = "×".join(map(str, shape(g)))
        raise _bad(problem, key, f"{key} is {got} but {what} is {want[0]}×{want[1]}",
                   hint=f"give a {want[0]}×{want[1]} grid")


# -- windows and the coefficient table --------------------------------------------------------

def _span(out: int, kernel: int, stride: int, padding: int, size: int) -> tuple[int, int, bool]:
    start = out * stride - padding
    stop = start + kernel
    return max(start, 0), min(stop, size), start < 0 or stop > size


def _window(x: Grid, mode: str, out: Cell, k: int, s: int, p: int, include_pad: bool) -> Window:
    h, w = shape(x)
    r0, r1, pad_r = _span(out[0], k, s, p, h)
    c0, c1, pad_c = _span(out[1], k, s, p, w)
    cells = [(r, c) for r in range(r0, r1) for c in range(c0, c1)]
    values = [x[r][c] for r, c in cells]
    if mode == "max":
        best = max(values)
        ties = tuple(cell for cell, v in zip(cells, values, strict=True) if v == best)
        return Window(out, (r0, r1), (c0, c1), pad_r or pad_c, 1, best, ties[0],
                      ties if len(ties) > 1 else ())
    divisor = k * k if include_pad else len(cells)
    return Window(out, (r0, r1), (c0, c1), pad_r or pad_c, divisor, sum(values) / divisor)


def windows(x: Grid, mode: str, k: int, s: int, p: int, include_pad: bool) -> tuple[Window, ...]:
    h, w = shape(x)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return tuple(_window(x, mode, (i, j), k, s, p, include_pad) for i in range(oh) for j in range(ow))


def coefficients(h: int, w: int, wins: tuple[Window, ...], mode: str):
    """Per input cell, the (window index, coefficient) pairs of its gradient, in window order."""
    terms: list[list[list[tuple[int, Fraction]]]] = [[[] for _ in range(w)] for _ in range(h)]
    for n, win in enumerate(wins):
        targets = [win.argmax] if mode == "max" else win.cells()
        for r, c in targets:
            terms[r][c].append((n, Fraction(1, win.divisor)))
    return tuple(tuple(tuple(t) for t in row) for row in terms)


def upstream_names(oh: int, ow: int) -> tuple[tuple[str, ...], ...]:
    """g11, g12, ... (1-based); g1_10 style once an index has two digits, to stay unambiguous."""
    sep = "_" if max(oh, ow) > 9 else ""
    return tuple(tuple(f"g{i + 1}{sep}{j + 1}" for j in range(ow)) for i in range(oh))


def _latex_name(name: str) -> str:
    return "g_{" + (name[1:].replace("_", ",")) + "}"


def formula(terms, names: list[str], *, latex: bool = False) -> str:
    """`(g11 + g12)/4 + g21/2`: terms grouped by coefficient, in order of first appearance."""
    if not terms:
        return "0"
    groups: dict[Fraction, list[str]] = {}
    for n, coef in terms:
        groups.setdefault(coef, []).append(_latex_name(names[n]) if latex else names[n])
    parts = [_group(syms, coef, latex) for coef, syms in groups.items()]
    return " + ".join(parts)


def _group(syms: list[str], coef: Fraction, latex: bool) -> str:
    total = " + ".join(syms)
    if coef == 1:
        return total
    num = "" if coef.numerator == 1 else f"{coef.numerator}*"  # numerators are 1 for pooling
    if latex:
        return rf"\frac{{{num.rstrip('*')}{' ' if num else ''}{total}}}{{{coef.denominator}}}"
    body = f"({total})" if len(syms) > 1 else total
    return f"{num}{body}/{coef.denominator}"


def apply(terms, upstream: Grid, ow: int) -> Grid:
    """The gradient as numbers: each group's upstream sum divided once, as the formula reads."""
    def cell(t) -> float:
        groups: dict[Fraction, float] = {}
        for n, coef in t:
            groups[coef] = groups.get(coef, 0.0) + upstream[n // ow][n % ow]
        return sum(total * coef.numerator / coef.denominator for coef, total in groups.items()) \
            if groups else 0.0
    return tuple(tuple(cell(t) for t in row) for row in terms)


# -- solve ------------------------------------------------------------------------------------

def default_name(mode: str, k: int, s: int, p: int) -> str:
    kind = "Average" if mode == "avg" else "Max"
    pad = f", padding {p}" if p else ""
    return f"{kind} pooling, {k}×{k} kernel, stride {s}{pad}"
