"""The vanishing-gradient experiment (worksheet question 4) and its analytic reason.

A stack of `depth` fully connected layers h_l = f(h_{l-1} W_lᵀ + b_l) of equal `width` runs
on a seeded batch; the loss is mse(h_D, t) against a seeded target. For each activation f
we record ‖∂L/∂W_l‖ (Frobenius) and ‖∂L/∂h_l‖ at every layer, by two independent routes:
torch autograd on the catalog's torch reference, and a manual backward pass (the product of
local Jacobians diag(f′(z_l))·W_l, float64) that takes f′ from the catalog's *derivative
expression*. Every activation sees the same input, target and weights (one fresh
`torch.Generator` per activation, seeded alike), so the columns differ only by f.

The analytic side is computed, never typed in: the catalog's derivative text is parsed with
`gradcli.expr.parse`, evaluated on a dense float64 grid and refined, giving sup|f′| (¼ for
the sigmoid, 1 for tanh, {0, 1} for ReLU), the depth factor sup|f′|^D, and the Gaussian
moment E[f′(z)²] that, with the init's n·Var(W), predicts the per-layer gain
√(n·Var(W)·E[f′(z)²]) (He init: 2·½ = 1 for ReLU; torch's default: ⅓·½, so ReLU vanishes too).

This module never prints. Progress goes to an injected callback; the plot (matplotlib, the
optional `plot` extra) is written only when the problem asks for one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradcli import catalog
from gradcli.errors import InputError, suggest
from gradcli.results import Check, Outcome

if TYPE_CHECKING:
    import torch

    from gradcli.problems.model import VanishingProblem

Progress = Callable[[int, int, str], None]  # (done, total, what)

# Limits checked before anything is allocated (float64: 8 bytes per number).
MAX_DEPTH = 1000  # as the problem-file schema allows
MAX_WIDTH = 4096
MAX_BATCH = 4096
MAX_ACTIVATIONS = 12
MAX_PARAMETERS = 20_000_000  # depth·width², per activation (160 MB, twice over with grads)
MAX_ACTIVATION_ENTRIES = 20_000_000  # depth·batch·width kept for the backward pass

# The grid on which sup|f′| is found; then refined around the maximum.
GRID_HALF_WIDTH = 40.0
GRID_POINTS = 400_001
REFINE_POINTS = 2001
REFINE_ROUNDS = 4
PLATEAU_RTOL = 1e-12  # |f′| within this of its sup counts as attaining it
PIECEWISE_CONSTANT_MAX_VALUES = 4  # at most this many distinct values: list them

# The two routes differ only in summation order and in f′'s formula: ~1e-15 per layer.
# No absolute floor: a vanished norm of 1e-20 must still agree to 9 digits.
NORMS_TOLERANCE_RTOL = 1e-9

INITS = {"default": "default", "torch": "default", "xavier": "xavier", "glorot": "xavier",
         "he": "he", "kaiming": "he"}
INIT_DESCRIPTION = {
    "default": "torch's nn.Linear default: W, b ~ U(-1/√n, 1/√n), so n·Var(W) = 1/3",
    "xavier": "Xavier/Glorot uniform: W ~ U(-√(6/(2n)), √(6/(2n))), b = 0, so n·Var(W) = 1",
    "he": "He/Kaiming normal (fan-in, ReLU gain): W ~ N(0, 2/n), b = 0, so n·Var(W) = 2",
}
N_VAR_W = {"default": 1 / 3, "xavier": 1.0, "he": 2.0}  # n·Var(W) of each init
LOSS = "mse(h_D, t)"


@dataclass(frozen=True)
class Bound:
    """What the catalog's derivative says about one activation, computed on a grid."""

    activation: str
    derivative: str  # the catalog's f′, in the expression language
    sup: float  # sup |f′| over the real line (inf when unbounded)
    argmax: float | None  # where it is attained, if at one point (the one nearest 0)
    attained_on: tuple[float, float] | None  # or on a whole interval (ReLU: (0, inf))
    values: tuple[float, ...]  # the distinct values of |f′| when there are only a few
    depth: int
    gaussian_moment: float  # E[f′(z)²] for z ~ N(0, 1)
    grid: str  # how it was computed

    @property
    def depth_factor(self) -> float:
        """sup|f′|^D: the most the activations alone can pass through D layers."""
        return self.sup ** self.depth if math.isfinite(self.sup) else math.inf

    def gain(self, init: str) -> float:
        """Typical per-layer factor on ‖∂L/∂h‖ for unit-variance pre-activations."""
        return math.sqrt(N_VAR_W[init] * self.gaussian_moment)

    def to_json(self) -> dict[str, Any]:
        return {"derivative": self.derivative, "max_abs_derivative": self.sup,
                "argmax": self.argmax,
                "attained_on": None if self.attained_on is None else
                [v if math.isfinite(v) else None for v in self.attained_on],
                "values": list(self.values) or None, "depth": self.depth,
                "depth_factor": self.depth_factor,
                "gaussian_moment": self.gaussian_moment,
                "gain_by_init": {k: self.gain(k) for k in N_VAR_W}, "grid": self.grid}


@dataclass(frozen=True)
class Series:
    """One activation's run: norms indexed by layer, index 0 = layer 1 (the first)."""

    activation: str
    weight_grad_norms: tuple[float, ...]  # ‖∂L/∂W_l‖_F
    activation_grad_norms: tuple[float, ...]  # ‖∂L/∂h_l‖_F, h_l the output of layer l
    mean_sq_derivative: float  # E[f′(z)²] measured over every layer of the run
    bound: Bound

    @property
    def ratio(self) -> float | None:
        """‖∂L/∂W_1‖ / ‖∂L/∂W_D‖; None when the last layer has no gradient."""
        first, last = self.weight_grad_norms[0], self.weight_grad_norms[-1]
        if last == 0 or not math.isfinite(last) or not math.isfinite(first):
            return None
        return first / last

    @property
    def measured_gain(self) -> float | None:
        """Geometric-mean factor per layer on ‖∂L/∂h‖ from layer D down to layer 1."""
        norms = self.activation_grad_norms
        if len(norms) < 2 or norms[-1] == 0 or not all(map(math.isfinite, norms)):
            return None
        return (norms[0] / norms[-1]) ** (1 / (len(norms) - 1))

    def predicted_gain(self, init: str) -> float:
        """√(n·Var(W)·E[f′(z)²]) with the run's own E[f′(z)²]."""
        return math.sqrt(N_VAR_W[init] * self.mean_sq_derivative)


@dataclass(frozen=True)
class VanishingResult(Outcome):
    kind: str = "vanishing"
    name: str = ""
    depth: int = 0
    width: int = 0
    batch: int = 0
    init: str = "default"
    series: tuple[Series, ...] = ()
    plot: str | None = None
    loss: str = LOSS


# -- validation ------------------------------------------------------------------------


def resolve_activation(name: str) -> catalog.Entry:
    """A catalog entry usable as an activation, or an InputError with a did-you-mean."""
    entry = catalog.lookup(name)
    if entry is None:
        raise InputError(f"unknown activation {name!r}",
                         hint=suggest(name, catalog.activation_names()) or
                         "gradcli list shows the elementwise functions")
    if entry.group != "elementwise":
        raise InputError(f"{name!r} is not an elementwise function, so it cannot be an activation",
                         hint="choose from: " + ", ".join(catalog.activation_names()))
    if entry.domain != "real":
        raise InputError(f"{name!r} is defined only for {entry.domain} inputs; a layer's "
                         "pre-activations take both signs", hint="try sigmoid, tanh or relu")
    return entry


def resolve_init(name: str) -> str:
    key = INITS.get(name.strip().lower())
    if key is None:
        raise InputError(f"unknown init {name!r} (expected one of: {', '.join(INITS)})",
                         hint=suggest(name, INITS))
    return key


def _check_size(label: str, value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{label} must be a whole number, got {value!r}")
    if not 1 <= value <= most:
        raise InputError(f"{label} must be between 1 and {most}, got {value}")
    return value


def validate(problem: VanishingProblem) -> tuple[list[catalog.Entry], str]:
    """Every complaint before anything is allocated, located in the problem's file if any."""
    def at(key: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except InputError as err:
            raise problem.locate(key, err) from None

    names = list(dict.fromkeys(a.strip() for a in problem.activations if a.strip()))
    if not names:
        raise problem.locate("activations", InputError("no activations given",
                                                       hint="e.g. sigmoid,tanh,relu"))
    if len(names) > MAX_ACTIVATIONS:
        raise problem.locate("activations", InputError(
            f"at most {MAX_ACTIVATIONS} activations at once, got {len(names)}"))
    keys = {a.strip(): f"activations.{i}" for i, a in reversed(list(enumerate(problem.activations)))}
    entries = [at(keys[n] if keys[n] in problem.origin.positions else "activations",
                  lambda n=n: resolve_activation(n)) for n in names]
    depth = at("depth", lambda: _check_size("depth", problem.depth, MAX_DEPTH))
    width = at("width", lambda: _check_size("width", problem.width, MAX_WIDTH))
    batch = at("batch", lambda: _check_size("batch", problem.batch, MAX_BATCH))
    if depth * width * width > MAX_PARAMETERS:
        raise problem.locate("width", InputError(
            f"depth × width² = {depth * width * width:,} weights is more than "
            f"{MAX_PARAMETERS:,}", hint="use a smaller width or depth"))
    if depth * batch * width > MAX_ACTIVATION_ENTRIES:
        raise problem.locate("batch", InputError(
            f"depth × batch × width = {depth * batch * width:,} activations is more than "
            f"{MAX_ACTIVATION_ENTRIES:,}", hint="use a smaller batch"))
    init = at("init", lambda: resolve_init(str(problem.init)))
    return entries, init


# -- the analytic bound ----------------------------------------------------------------


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


# -- the network -----------------------------------------------------------------------


def _init_layer(init: str, width: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer's (W, b) drawn from `gen`; formulas written out so the global RNG is never used."""
    import torch

    kw = dict(dtype=torch.float64, generator=gen)
    if init == "default":
        bound = 1 / math.sqrt(width)
        w = (torch.rand(width, width, **kw) * 2 - 1) * bound
        return w, (torch.rand(width, **kw) * 2 - 1) * bound
    if init == "xavier":
        bound = math.sqrt(6 / (width + width))
        return (torch.rand(width, width, **kw) * 2 - 1) * bound, torch.zeros(width, dtype=torch.float64)
    std = math.sqrt(2 / width)
    return torch.randn(width, width, **kw) * std, torch.zeros(width, dtype=torch.float64)


@dataclass
class _Net:
    x: Any
    target: Any
    weights: list
    biases: list


def _network(init: str, depth: int, width: int, batch: int, seed: int) -> _Net:
    import torch

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, dtype=torch.float64, generator=gen)
    target = torch.randn(batch, width, dtype=torch.float64, generator=gen)
    layers = [_init_layer(init, width, gen) for _ in range(depth)]
    return _Net(x, target, [w for w, _ in layers], [b for _, b in layers])


def _autograd_route(entry: catalog.Entry, net: _Net) -> tuple[list[float], list[float]]:
    """‖∂L/∂W_l‖ and ‖∂L/∂h_l‖ by torch autograd on the catalog's torch reference."""
    import torch

    weights = [w.clone().requires_grad_(True) for w in net.weights]
    h, outputs = net.x, []
    for w, b in zip(weights, net.biases, strict=True):
        z = h @ w.T + b
        h = entry.reference(torch, z)
        if not h.requires_grad:  # XXX: step's (x > 0) has no graph; its derivative is 0 a.e.
            h = h + 0 * z
        h.retain_grad()
        outputs.append(h)
    torch.nn.functional.mse_loss(h, net.target).backward()
    return ([float(torch.linalg.vector_norm(w.grad)) for w in weights],
            [float(torch.linalg.vector_norm(o.grad)) for o in outputs])


def _manual_route(fprime: Callable, entry: catalog.Entry, net: _Net,
                  tick: Callable[[], None]) -> tuple[list[float], list[float], float]:
    """The same norms by hand: ∂L/∂h_{l-1} = (∂L/∂h_l ⊙ f′(z_l)) W_l, ∂L/∂W_l = δ_lᵀ h_{l-1}.

    Also returns E[f′(z)²] over every pre-activation of the run.
    """
    import torch

    with torch.no_grad():
        hs, zs = [net.x], []
        for w, b in zip(net.weights, net.biases, strict=True):
            zs.append(hs[-1] @ w.T + b)
            hs.append(entry.reference(torch, zs[-1]))
        upstream = 2 * (hs[-1] - net.target) / hs[-1].numel()  # d mse / d h_D
        w_norms, h_norms, sq = [], [], 0.0
        for layer in reversed(range(len(net.weights))):
            h_norms.append(float(torch.linalg.vector_norm(upstream)))
            local = fprime(zs[layer])
            sq += float((local ** 2).mean())
            delta = upstream * local
            w_norms.append(float(torch.linalg.vector_norm(delta.T @ hs[layer])))
            upstream = delta @ net.weights[layer]
            tick()
    return w_norms[::-1], h_norms[::-1], sq / len(net.weights)


def _check(entry: catalog.Entry, auto: list[float], manual: list[float], depth: int) -> Check:
    import torch

    from gradcli.verify.compare import Tolerance, compare

    tol = Tolerance(rtol=NORMS_TOLERANCE_RTOL, atol=0.0,
                    name="float64, relative per layer, no absolute floor")
    names = tuple(f"‖∂L/∂W{i}‖" for i in range(1, depth + 1)) + \
        tuple(f"‖∂L/∂h{i}‖" for i in range(1, depth + 1))
    check = compare(f"{entry.name}: gradient norms by layer, manual backprop vs autograd",
                    torch.tensor(auto, dtype=torch.float64),
                    torch.tensor(manual, dtype=torch.float64),
                    reference=f"torch autograd through {entry.torch}", tol=tol,
                    where_names=names,
                    notes=("manual route: product of local Jacobians diag(f′(z_l))·W_l, "
                           f"f′ = {entry.derivative} from the catalog",))
    if not all(map(math.isfinite, (*auto, *manual))):
        check = replace(check, passed=False, notes=(
            *check.notes, "some gradient norms are not finite (float64 overflow): "
                          "the gradients exploded, so the two routes cannot be compared"))
    return check


def _run_one(entry: catalog.Entry, init: str, problem: VanishingProblem, depth: int,
             seed: int, tick: Callable[[], None]) -> tuple[Series, Check]:
    import torch

    net = _network(init, depth, problem.width, problem.batch, seed)
    with torch.autograd.set_grad_enabled(True):
        auto_w, auto_h = _autograd_route(entry, net)
    for _ in range(depth):
        tick()
    fprime = derivative_function(entry)
    man_w, man_h, moment = _manual_route(fprime, entry, net, tick)
    series = Series(activation=entry.name, weight_grad_norms=tuple(auto_w),
                    activation_grad_norms=tuple(auto_h), mean_sq_derivative=moment,
                    bound=derivative_bound(entry, depth))
    return series, _check(entry, [*auto_w, *auto_h], [*man_w, *man_h], depth)


def solve(problem: VanishingProblem, *, seed: int = 0,
          progress: Progress | None = None) -> VanishingResult:
    """Run the experiment for every activation; the problem's own seed wins over `seed`."""
    entries, init = validate(problem)
    if problem.plot:
        check_plot_target(problem.plot)
    seed = problem.seed if problem.seed is not None else seed
    depth = problem.depth
    total, done = 2 * depth * len(entries), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, current)

    series, checks = [], []
    for entry in entries:
        current = entry.name
        s, c = _run_one(entry, init, problem, depth, seed, tick)
        series.append(s)
        checks.append(c)
    name = problem.name or ("Vanishing gradients: " + ", ".join(e.name for e in entries))
    result = VanishingResult(name=name, checks=tuple(checks), seed=seed, depth=depth,
                             width=problem.width, batch=problem.batch, init=init,
                             series=tuple(series), plot=problem.plot)
    if problem.plot:
        write_plot(result, problem.plot)
    return result


# -- the plot --------------------------------------------------------------------------


def check_plot_target(path: str) -> None:
    """Refuse a plot we could not write before spending time on the experiment."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InputError(f"the plot is written as PNG; {path!r} does not end in .png",
                         hint="e.g. --plot vanishing.png")
    if not target.parent.is_dir():
        raise InputError(f"cannot write {path!r}: folder {str(target.parent)!r} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {path!r}: it is a folder")
    _matplotlib()


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise InputError("--plot needs matplotlib, which is not installed",
                         hint="pip install 'gradcli[plot]'") from None
    return matplotlib


def figure(result: VanishingResult):
    """A matplotlib Figure (Agg canvas, no pyplot state): one line per activation, log y."""
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    layers = list(range(1, result.depth + 1))
    for s in result.series:
        ax.plot(layers, s.weight_grad_norms, marker="o", markersize=3, label=s.activation)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (1 = first, nearest the input)")
    ax.set_ylabel("‖∂L/∂W‖ (Frobenius norm)")
    ax.set_title(f"Gradient norm by layer: depth {result.depth}, width {result.width}, "
                 f"init {result.init}, seed {result.seed}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def write_plot(result: VanishingResult, path: str) -> None:
    try:
        figure(result).savefig(path, format="png")
    except OSError as exc:
        raise InputError(f"cannot write {path!r}: {exc.strerror or exc}") from None


__all__ = ["Bound", "Series", "VanishingResult", "solve", "figure", "derivative_bound",
           "resolve_activation", "resolve_init"]
