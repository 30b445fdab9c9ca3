"""The result of the vanishing-gradient experiment: pure data for `render/layouts/vanishing.py`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradcli.results import Outcome

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
