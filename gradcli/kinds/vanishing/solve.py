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

`experiment.py` runs the network, `bounds.py` computes the analytic side, `plot.py` draws;
this module validates the problem and puts them together. It never prints: progress goes to
an injected callback, and the plot (matplotlib, the optional `plot` extra) is written only
when the problem asks for one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gradcli import catalog
from gradcli.errors import InputError, suggest
from gradcli.kinds.vanishing.experiment import run_one
from gradcli.kinds.vanishing.plot import check_plot_target, write_plot
from gradcli.kinds.vanishing.result import VanishingResult

if TYPE_CHECKING:
    from gradcli.problems.model import VanishingProblem

Progress = Callable[[int, int, str], None]  # (done, total, what)

# Limits checked before anything is allocated (float64: 8 bytes per number).
MAX_DEPTH = 1000  # as the problem-file schema allows
MAX_WIDTH = 4096
MAX_BATCH = 4096
MAX_ACTIVATIONS = 12
MAX_PARAMETERS = 20_000_000  # depth·width², per activation (160 MB, twice over with grads)
MAX_ACTIVATION_ENTRIES = 20_000_000  # depth·batch·width kept for the backward pass

INITS = {"default": "default", "torch": "default", "xavier": "xavier", "glorot": "xavier",
         "he": "he", "kaiming": "he"}


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
        s, c = run_one(entry, init, problem, depth, seed, tick)
        series.append(s)
        checks.append(c)
    name = problem.name or ("Vanishing gradients: " + ", ".join(e.name for e in entries))
    result = VanishingResult(name=name, checks=tuple(checks), seed=seed, depth=depth,
                             width=problem.width, batch=problem.batch, init=init,
                             series=tuple(series), plot=problem.plot)
    if problem.plot:
        write_plot(result, problem.plot)
    return result
