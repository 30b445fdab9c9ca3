"""The analytic side of the experiment: what the catalog's f′ says, computed on a grid.

The catalog's derivative text is parsed with `gradcli.expr.parse`, evaluated on a dense
float64 grid and refined, giving sup|f′| (¼ for the sigmoid, 1 for tanh, {0, 1} for ReLU),
the depth factor sup|f′|^D, and the Gaussian moment E[f′(z)²]. Computed, never typed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from gradcli import catalog
from gradcli.kinds.vanishing.result import Bound

if TYPE_CHECKING:
    import torch

# The grid on which sup|f′| is found; then refined around the maximum.
GRID_HALF_WIDTH = 40.0
GRID_POINTS = 400_001
REFINE_POINTS = 2001
REFINE_ROUNDS = 4
PLATEAU_RTOL = 1e-12  # |f′| within this of its sup counts as attaining it
PIECEWISE_CONSTANT_MAX_VALUES = 4  # at most this many distinct values: list them

def derivative_function(entry: catalog.Entry) -> Callable[[torch.Tensor], torch.Tensor]:
    """f′ from the catalog's derivative text (parsed, never eval'd), params at defaults."""
    import torch

    from gradcli.expr.parse import parse
    from gradcli.verify.evaluate import evaluate

    node = parse(entry.derivative or "0", variables={"x", *(p.name for p in entry.params)})
    params = {p.name: torch.tensor(float(p.default), dtype=torch.float64) for p in entry.params}

    def fprime(x: torch.Tensor) -> torch.Tensor:
        return torch.broadcast_to(evaluate(node, {"x": x, **params}), x.shape)
    return fprime


def _refine_point(g: Callable, center: float, half: float) -> tuple[float, float]:
    """Zoom in on a local maximum of g: a few rounds of small dense grids."""
    import torch

    best_x, best = center, float(g(torch.tensor([center], dtype=torch.float64))[0])
    for _ in range(REFINE_ROUNDS):
        xs = torch.linspace(best_x - half, best_x + half, REFINE_POINTS, dtype=torch.float64)
        ys = g(xs)
        j = int(torch.argmax(ys))
        if float(ys[j]) >= best:
            best_x, best = float(xs[j]), float(ys[j])
        half = 4 * half / (REFINE_POINTS - 1)
    return best_x, best


def _edge(g: Callable, inside: float, outside: float, level: float) -> float:
    """Bisect for the end of {x : g(x) ≥ level} between a point in it and one outside it."""
    import torch

    for _ in range(80):
        mid = (inside + outside) / 2
        if float(g(torch.tensor([mid], dtype=torch.float64))[0]) >= level:
            inside = mid
        else:
            outside = mid
    return inside


def _snap(x: float) -> float:
    """Six decimals: near a smooth maximum |f′| is flat to float64 within ~√eps ≈ 1.5e-8
    (σ′(x) = ¼ − x²/16 + …), so more digits of the argmax would be noise; and 0 not -0."""
    return round(x, 6) + 0.0


def _interval(g: Callable, x: torch.Tensor, at: torch.Tensor, level: float) -> tuple[float, float]:
    """The run of grid points at the maximum, its ends bisected; ∞ where it reaches the edge."""
    lo, hi = int(at[0]), int(at[-1])
    left = -math.inf if lo == 0 else _snap(_edge(g, float(x[lo]), float(x[lo - 1]), level))
    right = math.inf if hi == len(x) - 1 else _snap(_edge(g, float(x[hi]), float(x[hi + 1]), level))
    return left, right


def _gaussian_moment(g: Callable, x: torch.Tensor, spacing: float) -> float:
    """E[f′(z)²], z ~ N(0, 1), by the midpoint rule: kinks (ReLU's at 0) sit on grid nodes,
    never at a midpoint, so a jump costs nothing (the trapezoid rule would be off by h·φ(0)/2)."""
    import torch

    mid = (x[1:] + x[:-1]) / 2
    return float((g(mid) ** 2 * torch.exp(-mid ** 2 / 2)).sum()) * spacing / math.sqrt(2 * math.pi)


def derivative_bound(entry: catalog.Entry, depth: int) -> Bound:
    import torch

    fprime = derivative_function(entry)

    def g(x: torch.Tensor) -> torch.Tensor:
        return fprime(x).abs()

    x = torch.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, GRID_POINTS, dtype=torch.float64)
    y = g(x)
    spacing = 2 * GRID_HALF_WIDTH / (GRID_POINTS - 1)
    grid = (f"|f′| on {GRID_POINTS:,} float64 points in [-{GRID_HALF_WIDTH:g}, "
            f"{GRID_HALF_WIDTH:g}], refined around the maximum")
    distinct = torch.unique(y)
    values = tuple(float(v) for v in distinct) if len(distinct) <= PIECEWISE_CONSTANT_MAX_VALUES else ()
    moment = _gaussian_moment(g, x, spacing)
    sup = float(y.max())
    common = dict(activation=entry.name, derivative=entry.derivative or "0", values=values,
                  depth=depth, gaussian_moment=moment, grid=grid)
    far = g(torch.tensor([-4 * GRID_HALF_WIDTH, 4 * GRID_HALF_WIDTH], dtype=torch.float64))
    if not math.isfinite(sup) or float(far.max()) > sup * (1 + 1e-9):
        return Bound(sup=math.inf, argmax=None, attained_on=None, **common)
    level = sup * (1 - PLATEAU_RTOL)
    at = torch.nonzero(y >= level).flatten()
    if len(at) > 2 and int(at[-1] - at[0]) == len(at) - 1:  # one run of grid points: an interval
        return Bound(sup=sup, argmax=None, attained_on=_interval(g, x, at, level), **common)
    if int(at[-1]) == len(x) - 1:  # reached far out on the right (tanhshrink: tanh² rounds to 1)
        tail = at[at >= at[-1] - torch.arange(len(at) - 1, -1, -1)]
        return Bound(sup=sup, argmax=None, attained_on=_interval(g, x, tail, level), **common)
    nearest = int(at[torch.argmin(x[at].abs())])  # of several maxima (cos), the one nearest 0
    best_x, best = _refine_point(g, float(x[nearest]), 2 * spacing)
    argmax = _snap(best_x)
    if argmax != best_x:  # |softsign′| at the snapped 0 is exactly 1, not 0.9999999999999973
        best = max(best, float(g(torch.tensor([argmax], dtype=torch.float64))[0]))
    return Bound(sup=max(best, sup), argmax=argmax, attained_on=None, **common)
