"""The catalog: every function a user may call, with its definition, derivative and reference.

Each entry keeps together what belongs together (micrograd's habit): the definition and the
local derivative, both written in gradcli's own expression language so they are parsed by the
same safe parser as user input; the torch reference the numeric check runs against; one line
of doc. Nothing here imports SymPy or torch, so `gradcli list` stays instant; the torch
reference is a function of the torch module, called only when a check runs.

Piecewise functions are written with `step(x)` (1 for x > 0, else 0: torch's convention for
ReLU at 0) so that their derivatives, too, are expressions a user can paste back as a claim.
Where torch's one-sided convention at a kink cannot be written that way, the entry names the
kink and the checks stay off it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SQRT_2_OVER_PI = "sqrt(2/pi)"
SELU_SCALE = "1.0507009873554805"
SELU_ALPHA = "1.6732632423543772"


@dataclass(frozen=True)
class Param:
    """A parameter of a catalog function and its default value."""

    name: str
    default: float


@dataclass(frozen=True)
class Entry:
    """One catalog function: its definition, derivative, torch reference and kinks."""

    name: str
    group: str  # elementwise | reduction | linalg | layer | loss
    doc: str
    torch: str  # the reference, as shown to the user
    signature: str = ""
    params: tuple[Param, ...] = ()
    definition: str | None = None  # in x and params; None for primitives of SymPy
    derivative: str | None = None  # d/dx, in x and params, following torch at kinks
    kinks: tuple[float, ...] = ()  # where not differentiable; checks stay off these
    kink_note: str = ""
    domain: str = "real"  # real | positive
    reference: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # A looser check only where torch itself is less exact than float64, with the reason.
    reference_rtol: float | None = None
    reference_note: str = ""

    @property
    def call(self) -> str:
        return self.signature or f"{self.name}(x)"


def _ew(name, doc, torch, reference, *, definition=None, derivative=None, params=(), **kw) -> Entry:
    sig = f"{name}(x" + "".join(f", {p.name}={p.default:g}" for p in params) + ")"
    return Entry(name=name, group="elementwise", doc=doc, torch=torch, signature=sig,
                 params=tuple(params), definition=definition, derivative=derivative,
                 reference=reference, **kw)


_GELU_U = f"{SQRT_2_OVER_PI}*(x + 0.044715*x**3)"

ELEMENTWISE: tuple[Entry, ...] = (
    _ew("exp", "exponential", "torch.exp(x)", lambda t, x: t.exp(x), derivative="exp(x)"),
    _ew("log", "natural logarithm", "torch.log(x)", lambda t, x: t.log(x),
        derivative="1/x", domain="positive"),
    _ew("sqrt", "square root", "torch.sqrt(x)", lambda t, x: t.sqrt(x),
        derivative="1/(2*sqrt(x))", domain="positive"),
    _ew("abs", "absolute value", "torch.abs(x)", lambda t, x: t.abs(x),
        derivative="sign(x)", kinks=(0.0,), kink_note="torch takes sign(0) = 0"),
    _ew("sin", "sine", "torch.sin(x)", lambda t, x: t.sin(x), derivative="cos(x)"),
    _ew("cos", "cosine", "torch.cos(x)", lambda t, x: t.cos(x), derivative="-sin(x)"),
    _ew("erf", "Gauss error function", "torch.erf(x)", lambda t, x: t.erf(x),
        derivative="2/sqrt(pi)*exp(-x**2)"),
    _ew("tanh", "hyperbolic tangent", "torch.tanh(x)", lambda t, x: t.tanh(x),
        derivative="1 - tanh(x)**2"),
    _ew("sigmoid", "logistic sigmoid σ(x)", "torch.sigmoid(x)", lambda t, x: t.sigmoid(x),
        definition="1/(1 + exp(-x))", derivative="sigmoid(x)*(1 - sigmoid(x))"),
    _ew("relu", "rectified linear unit max(0, x)", "torch.relu(x)", lambda t, x: t.relu(x),
        definition="x*step(x)", derivative="step(x)", kinks=(0.0,),
        kink_note="torch takes relu'(0) = 0"),
    _ew("leaky_relu", "ReLU with a small slope for x < 0",
        "torch.nn.functional.leaky_relu(x, slope)",
        lambda t, x, slope=0.01: t.nn.functional.leaky_relu(x, slope),
        params=(Param("slope", 0.01),),
        definition="x*step(x) + slope*x*(1 - step(x))",
        derivative="step(x) + slope*(1 - step(x))", kinks=(0.0,),
        kink_note="torch takes the left slope at 0"),
    _ew("elu", "exponential linear unit", "torch.nn.functional.elu(x, alpha)",
        lambda t, x, alpha=1.0: t.nn.functional.elu(x, alpha), params=(Param("alpha", 1.0),),
        definition="x*step(x) + alpha*(exp(x) - 1)*(1 - step(x))",
        derivative="step(x) + alpha*exp(x)*(1 - step(x))", kinks=(0.0,),
        kink_note="torch takes the left derivative alpha at 0"),
    _ew("selu", "scaled ELU (self-normalising)", "torch.nn.functional.selu(x)",
        lambda t, x: t.nn.functional.selu(x),
        definition=f"{SELU_SCALE}*(x*step(x) + {SELU_ALPHA}*(exp(x) - 1)*(1 - step(x)))",
        derivative=f"{SELU_SCALE}*(step(x) + {SELU_ALPHA}*exp(x)*(1 - step(x)))",
        kinks=(0.0,), kink_note="torch takes the left derivative scale·alpha at 0"),
    _ew("celu", "continuously differentiable ELU", "torch.nn.functional.celu(x, alpha)",
        lambda t, x, alpha=1.0: t.nn.functional.celu(x, alpha), params=(Param("alpha", 1.0),),
        definition="x*step(x) + alpha*(exp(x/alpha) - 1)*(1 - step(x))",
        derivative="step(x) + exp(x/alpha)*(1 - step(x))"),
    _ew("softplus", "smooth ReLU log(1 + eˣ)", "torch.nn.functional.softplus(x)",
        lambda t, x: t.nn.functional.softplus(x),
        definition="log(1 + exp(x))", derivative="sigmoid(x)"),
    _ew("gelu", "GELU, tanh approximation (the worksheet's)",
        "torch.nn.functional.gelu(x, approximate='tanh')",
        lambda t, x: t.nn.functional.gelu(x, approximate="tanh"),
        definition=f"0.5*x*(1 + tanh({_GELU_U}))",
        derivative=f"0.5*(1 + tanh({_GELU_U})) + 0.5*x*(1 - tanh({_GELU_U})**2)"
                   f"*{SQRT_2_OVER_PI}*(1 + 0.134145*x**2)"),
    _ew("gelu_erf", "GELU, exact: x·Φ(x)", "torch.nn.functional.gelu(x)",
        lambda t, x: t.nn.functional.gelu(x),
        definition="0.5*x*(1 + erf(x/sqrt(2)))",
        derivative="0.5*(1 + erf(x/sqrt(2))) + x*exp(-x**2/2)/sqrt(2*pi)"),
    _ew("silu", "SiLU / swish x·σ(x)", "torch.nn.functional.silu(x)",
        lambda t, x: t.nn.functional.silu(x),
        definition="x*sigmoid(x)", derivative="sigmoid(x)*(1 + x*(1 - sigmoid(x)))"),
    _ew("mish", "x·tanh(softplus(x))", "torch.nn.functional.mish(x)",
        lambda t, x: t.nn.functional.mish(x),
        definition="x*tanh(softplus(x))",
        derivative="tanh(softplus(x)) + x*sigmoid(x)*(1 - tanh(softplus(x))**2)"),
    _ew("softsign", "x / (1 + |x|)", "torch.nn.functional.softsign(x)",
        lambda t, x: t.nn.functional.softsign(x),
        definition="x/(1 + abs(x))", derivative="1/(1 + abs(x))**2"),
    _ew("hardtanh", "clamp(x, -1, 1)", "torch.nn.functional.hardtanh(x)",
        lambda t, x: t.nn.functional.hardtanh(x),
        definition="x + (-1 - x)*step(-1 - x) + (1 - x)*step(x - 1)",
        derivative="step(x + 1)*step(1 - x)", kinks=(-1.0, 1.0),
        kink_note="torch takes 0 at -1 and 1"),
    _ew("hardsigmoid", "piecewise-linear sigmoid clamp(x/6 + 1/2, 0, 1)",
        "torch.nn.functional.hardsigmoid(x)", lambda t, x: t.nn.functional.hardsigmoid(x),
        definition="(hardtanh(x/3) + 1)/2", derivative="step(x + 3)*step(3 - x)/6",
        kinks=(-3.0, 3.0), kink_note="torch takes 0 at -3 and 3",
        reference_rtol=1e-7,
        reference_note="torch's hardsigmoid backward multiplies by 1/6 rounded to float32 "
                       "(relative error 3e-8 even in float64)"),
    _ew("hardswish", "x·hardsigmoid(x)", "torch.nn.functional.hardswish(x)",
        lambda t, x: t.nn.functional.hardswish(x),
        definition="x*hardsigmoid(x)",
        derivative="hardsigmoid(x) + x*step(x + 3)*step(3 - x)/6", kinks=(-3.0, 3.0),
        kink_note="torch takes the one-sided values -0.5 at -3 and 1.5 at 3"),
    _ew("relu6", "min(max(0, x), 6)", "torch.nn.functional.relu6(x)",
        lambda t, x: t.nn.functional.relu6(x),
        definition="3*hardtanh((x - 3)/3) + 3", derivative="step(x)*step(6 - x)",
        kinks=(0.0, 6.0), kink_note="torch takes 0 at 0 and 6"),
    _ew("logsigmoid", "log σ(x)", "torch.nn.functional.logsigmoid(x)",
        lambda t, x: t.nn.functional.logsigmoid(x),
        definition="-softplus(-x)", derivative="1 - sigmoid(x)"),
    _ew("tanhshrink", "x − tanh(x)", "torch.nn.functional.tanhshrink(x)",
        lambda t, x: t.nn.functional.tanhshrink(x),
        definition="x - tanh(x)", derivative="tanh(x)**2"),
    _ew("step", "unit step: 1 for x > 0, else 0 (derivative of relu)",
        "(x > 0).double()", lambda t, x: (x > 0).to(x.dtype),
        derivative="0", kinks=(0.0,), kink_note="zero derivative away from the jump at 0"),
    _ew("sign", "sign of x (derivative of abs)", "torch.sign(x)",
        lambda t, x: t.sign(x), derivative="0", kinks=(0.0,),
        kink_note="zero derivative away from the jump at 0"),
)


def _op(name, group, signature, doc, torch) -> Entry:
    return Entry(name=name, group=group, doc=doc, torch=torch, signature=signature)


STRUCTURAL: tuple[Entry, ...] = (
    _op("sum", "reduction", "sum(X[, dim])", "sum of all entries, or along dim", "torch.sum"),
    _op("mean", "reduction", "mean(X[, dim])", "mean of all entries, or along dim", "torch.mean"),
    _op("norm", "reduction", "norm(X[, dim])", "L2 / Frobenius norm", "torch.linalg.norm"),
    _op("max", "reduction", "max(X[, dim])", "largest entry, or along dim", "torch.amax"),
    _op("trace", "linalg", "trace(X)", "sum of the diagonal", "torch.trace"),
    _op("det", "linalg", "det(X)", "determinant", "torch.linalg.det"),
    _op("inv", "linalg", "inv(X)", "matrix inverse", "torch.linalg.inv"),
    _op("logdet", "linalg", "logdet(X)", "log |det X|", "torch.linalg.slogdet"),
    _op("diag", "linalg", "diag(x)", "diagonal matrix from a vector", "torch.diag"),
    _op("softmax", "layer", "softmax(z[, dim])", "normalised exponentials", "torch.softmax"),
    _op("log_softmax", "layer", "log_softmax(z[, dim])", "log of softmax, stably",
        "torch.log_softmax"),
    _op("layer_norm", "layer", "layer_norm(X, gamma, beta)", "normalise each row",
        "torch.nn.functional.layer_norm"),
    _op("batch_norm", "layer", "batch_norm(X, gamma, beta)",
        "normalise each column over the batch (training mode)",
        "torch.nn.functional.batch_norm"),
    _op("conv1d", "layer", "conv1d(x, w)", "cross-correlation, valid, stride 1",
        "torch.nn.functional.conv1d"),
    _op("conv2d", "layer", "conv2d(X, K)", "2-D cross-correlation, valid, stride 1",
        "torch.nn.functional.conv2d"),
    _op("avg_pool2d", "layer", "avg_pool2d(X, kernel, stride)", "average pooling",
        "torch.nn.functional.avg_pool2d"),
    _op("max_pool2d", "layer", "max_pool2d(X, kernel, stride)", "max pooling",
        "torch.nn.functional.max_pool2d"),
    _op("mse", "loss", "mse(pred, target)", "mean squared error",
        "torch.nn.functional.mse_loss"),
    _op("l1", "loss", "l1(pred, target)", "mean absolute error", "torch.nn.functional.l1_loss"),
    _op("huber", "loss", "huber(pred, target, delta=1)", "quadratic near 0, linear beyond delta",
        "torch.nn.functional.huber_loss"),
    _op("bce", "loss", "bce(p, target)", "binary cross-entropy on probabilities",
        "torch.nn.functional.binary_cross_entropy"),
    _op("bce_with_logits", "loss", "bce_with_logits(z, target)", "binary cross-entropy on logits",
        "torch.nn.functional.binary_cross_entropy_with_logits"),
    _op("cross_entropy", "loss", "cross_entropy(logits, target)",
        "softmax cross-entropy over rows", "torch.nn.functional.cross_entropy"),
    _op("nll", "loss", "nll(logp, labels)",
        "negative log-likelihood of class labels: −mean of logp at each row's label",
        "torch.nn.functional.nll_loss"),
    _op("onehot", "linalg", "onehot(labels, C)", "N×C rows with a 1 at each label",
        "torch.nn.functional.one_hot"),
)

ENTRIES: dict[str, Entry] = {e.name: e for e in (*ELEMENTWISE, *STRUCTURAL)}
CONSTANTS = {"pi": "π, 3.14159…", "e": "Euler's number, 2.71828…"}


def lookup(name: str) -> Entry | None:
    return ENTRIES.get(name)


def activation_names() -> list[str]:
    """Names usable as activations: elementwise and defined for every real input."""
    return [e.name for e in ELEMENTWISE if e.domain == "real"]


def is_elementwise(name: str) -> bool:
    entry = ENTRIES.get(name)
    return entry is not None and entry.group == "elementwise"
