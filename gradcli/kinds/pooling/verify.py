"""The torch side of pooling: forward and autograd references, and judging a claimed gradient.

Kept apart from `windows.py` so the derivation itself stays free of torch. Every
reference is torch's own `avg_pool2d`/`max_pool2d` in float64 on the same grid, with the same
kernel, stride, padding and `count_include_pad`; random upstreams come from one seeded
`torch.Generator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradcli.errors import InputError
from gradcli.kinds.pooling.windows import apply, coefficients, windows
from gradcli.problems.grid import Grid, number, shape
from gradcli.results import Check, Counterexample, Verdict

if TYPE_CHECKING:
    import torch

    from gradcli.kinds.pooling.windows import PoolingResult


def _tensor(g: Grid) -> torch.Tensor:
    import torch

    return torch.tensor(g, dtype=torch.float64)


def reference_name(r: PoolingResult) -> str:
    if r.mode == "max":
        return f"torch.nn.functional.max_pool2d(x, {r.kernel}, {r.stride}, {r.padding})"
    return (f"torch.nn.functional.avg_pool2d(x, {r.kernel}, {r.stride}, {r.padding}, "
            f"count_include_pad={r.count_include_pad})")


def pool(r: PoolingResult, x: torch.Tensor) -> torch.Tensor:
    """torch's pooling of a batch of grids (N, H, W) -> (N, oh, ow)."""
    import torch.nn.functional as F

    if r.mode == "max":
        return F.max_pool2d(x[:, None], r.kernel, r.stride, r.padding)[:, 0]
    return F.avg_pool2d(x[:, None], r.kernel, r.stride, r.padding,
                        count_include_pad=r.count_include_pad)[:, 0]


def autograd(r: PoolingResult, upstream: torch.Tensor) -> torch.Tensor:
    """dL/dx by torch autograd for a batch of upstreams (N, oh, ow), x the result's input."""
    x = _tensor(r.input).expand(upstream.shape[0], -1, -1).clone().requires_grad_(True)
    pool(r, x).backward(upstream)
    return x.grad


def checks(r: PoolingResult, seed: int) -> tuple[Check, ...]:
    import torch

    from gradcli.verify.compare import compare

    ref = reference_name(r)
    out = [compare("forward output y", pool(r, _tensor(r.input)[None])[0], _tensor(r.output),
                   reference=ref)]
    if r.upstream is not None:
        out.append(compare("dL/dx for the given upstream", autograd(r, _tensor(r.upstream)[None])[0],
                           _tensor(r.grad_input), reference="torch autograd through " + ref,
                           notes=_tie_notes(r)))
    generator = torch.Generator().manual_seed(seed)
    out.append(_formula_check(r, generator, ref))
    return tuple(out)


def _tie_notes(r: PoolingResult) -> tuple[str, ...]:
    if any(w.tied for w in r.windows):
        return ("max-pool ties: torch sends the gradient to the first maximum in row-major "
                "order; the check confirms we follow it",)
    return ()


def _formula_check(r: PoolingResult, generator: torch.Generator, ref: str) -> Check:
    """Parse the printed formulas back and evaluate them at random upstreams: the printed text
    must mean what torch computes."""
    import torch

    from gradcli.expr.parse import parse
    from gradcli.kinds.pooling.windows import FORMULA_CHECK_CELLS, RANDOM_UPSTREAMS
    from gradcli.verify.compare import compare
    from gradcli.verify.evaluate import evaluate

    oh, ow = shape(r.output)
    g = torch.randn((RANDOM_UPSTREAMS, oh, ow), generator=generator, dtype=torch.float64)
    names = [n for row in r.names for n in row]
    values = {n: g[:, i // ow, i % ow] for i, n in enumerate(names)}
    h, w = shape(r.input)
    count = min(h * w, FORMULA_CHECK_CELLS)
    cells, trees = [], []
    for i, j in ((k // w, k % w) for k in range(count)):
        # Each formula may use only the names of the windows that reach its cell (a small set:
        # the parser copies it per call, so passing all names is quadratic on big grids).
        try:
            trees.append(parse(r.formulas[i][j], variables={names[n] for n, _ in r.terms[i][j]}))
        except InputError:  # a cell in hundreds of windows: longer than the language allows
            continue
        cells.append((i, j))
    got = torch.stack([evaluate(t, values).expand(RANDOM_UPSTREAMS) for t in trees], dim=1)
    expected = autograd(r, g).reshape(RANDOM_UPSTREAMS, h * w)[:, [i * w + j for i, j in cells]]
    notes = () if count == h * w else (f"formulas parsed back for the first {count} of "
                                       f"{h * w} cells",)
    if len(cells) < count:
        notes += (f"{count - len(cells)} formulas are longer than the expression language "
                  "allows and were not parsed back",)
    check = compare(f"dL/dx formulas at {RANDOM_UPSTREAMS} seeded random upstreams",
                    expected.T, got.T, reference="torch autograd through " + ref,
                    notes=(*notes, *_tie_notes(r)))
    return _name_cell(check, cells)


def _name_cell(check: Check, cells: list[tuple[int, int]]) -> Check:
    """compare() names (cell number, draw); say which grid cell and which draw instead."""
    from dataclasses import replace

    if not check.where:
        return check
    flat, draw = (int(v) - 1 for v in check.where.strip("()").split(", "))
    i, j = cells[flat]
    return replace(check, where=f"({i + 1}, {j + 1}), random upstream {draw + 1}")


# -- claims -----------------------------------------------------------------------------------

def judge(r: PoolingResult, claim: Grid):
    """(Verdict, wrong cells, upstream used, true gradient) for a claimed dL/dx."""
    import torch

    from gradcli.verify.compare import CLAIM, errors, worst

    oh, ow = shape(r.output)
    upstream = r.upstream or tuple((1.0,) * ow for _ in range(oh))
    truth = autograd(r, _tensor(upstream)[None])[0]
    claimed = _tensor(claim)
    abs_err, _ = errors(truth, claimed)
    bad = abs_err > CLAIM.atol + CLAIM.rtol * truth.abs()
    wrong = tuple((int(i), int(j)) for i, j in torch.nonzero(bad).tolist())
    expected = tuple(tuple(float(v) for v in row) for row in truth.tolist())
    w, _ = worst(truth, claimed, CLAIM)
    where = f"({w.index[0] + 1}, {w.index[1] + 1})"
    given = "the given upstream" if r.upstream else "an upstream of all ones"
    verdict = Verdict(
        target="grad_input", expression=_grid_text(claim), correct=not wrong,
        counterexample=None if not wrong else Counterexample(
            inputs={"upstream": [list(row) for row in upstream]}, claimed=w.got, true=w.expected,
            where=where),
        hint="" if not wrong else _hint(r, claim, upstream, wrong),
        method=f"compared cell by cell with torch autograd for {given} "
               f"(float64, rtol {CLAIM.rtol:g}, atol {CLAIM.atol:g})")
    return verdict, wrong, upstream, expected


def _grid_text(g: Grid) -> str:
    return "; ".join(" ".join(number(v) for v in row) for row in g)


def _close(a: Grid, b: Grid) -> bool:
    from gradcli.verify.compare import CLAIM, worst

    return worst(_tensor(a), _tensor(b), CLAIM)[1]


def _hint(r: PoolingResult, claim: Grid, upstream: Grid, wrong: tuple = ()) -> str:
    """Name a common mistake when the claim is exactly what that mistake gives."""
    for label, grid in _mistakes(r, upstream):
        if _close(grid, claim):
            return label
    tied = {cell for win in r.windows for cell in win.tied}
    if r.mode == "max" and wrong and all(cell in tied for cell in wrong):
        return ("every wrong cell is in a tied window: the claim sends the upstream value to "
                "another of the tied maxima, a valid subgradient, but torch (and this answer) "
                "sends it to the first maximum in row-major order")
    return ""


def _mistakes(r: PoolingResult, upstream: Grid):
    h, w = shape(r.input)
    ow = shape(r.output)[1]
    other = "max" if r.mode == "avg" else "avg"
    wins = windows(r.input, other, r.kernel, r.stride, r.padding, r.count_include_pad)
    yield (f"this is the {other}-pooling gradient; {r.mode} pooling "
           + ("spreads each upstream value equally over its window" if r.mode == "avg"
              else "sends each upstream value only to its window's maximum"),
           apply(coefficients(h, w, wins, other), upstream, ow))
    if r.mode == "avg":
        ones = tuple(tuple(tuple((n, type(c)(1)) for n, c in t) for t in row) for row in r.terms)
        yield (f"each upstream value was copied to its window without dividing by the window "
               f"size ({r.kernel}×{r.kernel} = {r.kernel * r.kernel})", apply(ones, upstream, ow))
    if r.padding and r.mode == "avg":
        alt = windows(r.input, "avg", r.kernel, r.stride, r.padding, not r.count_include_pad)
        yield (f"this divides as count_include_pad={not r.count_include_pad} would; the answer "
               f"uses count_include_pad={r.count_include_pad}",
               apply(coefficients(h, w, alt, "avg"), upstream, ow))
    if r.overlapping:
        last = tuple(tuple(t[-1:] for t in row) for row in r.terms)
        yield ("overlapping windows: a cell in several windows receives the sum of their "
               "shares, not only one of them", apply(last, upstream, ow))
    if r.mode == "max" and any(win.tied for win in r.windows):
        yield (("ties: torch sends the whole upstream value to the first maximum of the window "
                "in row-major order, not to every tied cell"), _tie_all(r, upstream))


def _tie_all(r: PoolingResult, upstream: Grid) -> Grid:
    ow = shape(r.output)[1]
    h, w = shape(r.input)
    out = [[0.0] * w for _ in range(h)]
    for n, win in enumerate(r.windows):
        for i, j in win.tied or (win.argmax,):
            out[i][j] += upstream[n // ow][n % ow]
    return tuple(tuple(row) for row in out)
