"""The experiment itself: a seeded deep network, and its gradient norms by two routes.

Route 1 is torch autograd on the catalog's torch reference; route 2 a manual backward pass
(the product of local Jacobians diag(f′(z_l))·W_l, float64) with f′ from the catalog's
derivative expression. Every activation sees the same input, target and weights (one fresh
`torch.Generator` per activation, seeded alike), so the columns differ only by f.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gradcli import catalog
from gradcli.kinds.vanishing.bounds import derivative_bound, derivative_function
from gradcli.kinds.vanishing.result import Series
from gradcli.results import Check

if TYPE_CHECKING:
    import torch

    from gradcli.problems.model import VanishingProblem

# The two routes differ only in summation order and in f′'s formula: ~1e-15 per layer.
# No absolute floor: a vanished norm of 1e-20 must still agree to 9 digits.
NORMS_TOLERANCE_RTOL = 1e-9

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


def run_one(entry: catalog.Entry, init: str, problem: VanishingProblem, depth: int,
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
