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
    above: float | None = None  # a strict lower bound, where the function needs one


# Kinds of argument a signature may ask for.
TENSOR = "tensor"  # any expression: a name, a number, a formula
INT = "int"  # an integer literal, e.g. dim=0, kernel=2, -1
SCALAR = "scalar"  # a constant number: 0.2, -1, 1e-5, pi/4 (no names)
SIZE = "size"  # a dimension: a name from dims or a positive integer literal (eye(n), ones(3))
CHOICE = "choice"  # a string from a fixed list, e.g. reduction="sum"
REQUIRED = object()  # the default of an argument that must be given


@dataclass(frozen=True)
class Arg:
    """One argument of a catalog function: what it is called, what kind of thing it must be,
    its default (REQUIRED: it must be given; None: optional and absent means "not given", as
    the `dim` of a reduction) and, for literals, the range it must lie in (inclusive)."""

    name: str
    kind: str = TENSOR
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    above: float | None = None  # a strict lower bound (celu's alpha > 0)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        """The kind in words, for error messages: 'an integer literal ≥ 1'."""
        words = {TENSOR: "an expression", INT: "an integer literal", SCALAR: "a number",
                 SIZE: "a dimension (a name from dims or a positive integer)",
                 CHOICE: " or ".join(f'"{c}"' for c in self.choices)}[self.kind]
        bounds = [f"≥ {self.low:g}" if self.low is not None else "",
                  f"≤ {self.high:g}" if self.high is not None else "",
                  f"> {self.above:g}" if self.above is not None else ""]
        return " ".join([words, *(b for b in bounds if b)])

    def usage(self) -> str:
        if self.required:
            return self.name
        if self.default is None:
            return f"{self.name}=…"
        value = f'"{self.default}"' if isinstance(self.default, str) else f"{self.default:g}"
        return f"{self.name}={value}"


@dataclass(frozen=True)
class Signature:
    """Every argument a call may take, and nothing else: the one place the parser, the
    shape rules, the gradient rules and the torch evaluator learn what a call means.

    `args` may be given by position or by keyword, in order; `options` only by keyword.
    `exclusive` lists pairs that cannot be given together, with the reason: `max(a, b)` is
    the elementwise maximum, so it takes no `dim`."""

    args: tuple[Arg, ...]
    options: tuple[Arg, ...] = ()
    exclusive: tuple[tuple[str, str, str], ...] = ()

    @property
    def fewest(self) -> int:
        return sum(1 for a in self.args if a.required)

    @property
    def most(self) -> int:
        return len(self.args)

    def arg(self, name: str) -> Arg | None:
        return next((a for a in (*self.args, *self.options) if a.name == name), None)

    @property
    def keywords(self) -> tuple[str, ...]:
        """Names that may be written `name=value` (tensors are positional only)."""
        return tuple(a.name for a in (*self.args, *self.options) if a.kind != TENSOR)

    def usage(self, name: str) -> str:
        """`sum(X[, dim])`, `huber(pred, target, delta=1, reduction="mean")`; with an exclusive
        pair, one form per side: `max(X[, dim]) | max(a, b)`."""
        if self.exclusive:
            a, b, _ = self.exclusive[0]
            one = Signature(tuple(x for x in self.args if x.name != a), self.options)
            two = Signature(tuple(Arg(n) for n in ("a", "b")))
            return f"{one.usage(name)} | {two.usage(name)}"
        text = ""
        for x in (*self.args, *self.options):
            sep = ", " if text else ""
            text += f"[{sep}{x.name}]" if x.default is None else f"{sep}{x.usage()}"
        return f"{name}({text})"


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
    domain: str = "real"  # real | positive | nonzero | above_one (x > 1) | unit (|x| < 1) | nonpole
    reference: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # A looser check only where torch itself is less exact than float64, with the reason.
    reference_rtol: float | None = None
    reference_note: str = ""
    args: Signature | None = None  # None: elementwise, x then the params (see `signature_of`)

    @property
    def call(self) -> str:
        return self.signature or f"{self.name}(x)"

    @property
    def sig(self) -> Signature:
        """The entry's one signature; an elementwise function's comes from its params."""
        if self.args is not None:
            return self.args
        return Signature((Arg("x"), *(Arg(p.name, SCALAR, p.default, above=p.above)
                                      for p in self.params)))


def _ew(name, doc, torch, reference, *, definition=None, derivative=None, params=(),
        args=None, **kw) -> Entry:
    sig = args.usage(name) if args is not None else \
        f"{name}(x" + "".join(f", {p.name}={p.default:g}" for p in params) + ")"
    return Entry(name=name, group="elementwise", doc=doc, torch=torch, signature=sig,
                 params=tuple(params), definition=definition, derivative=derivative,
                 reference=reference, args=args, **kw)


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
        lambda t, x, alpha=1.0: t.nn.functional.celu(x, alpha),
        params=(Param("alpha", 1.0, above=0.0),),
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
    _ew("clamp", "x limited to [lo, hi] (lo and hi are numbers)", "torch.clamp(x, lo, hi)",
        lambda t, x, lo, hi: t.clamp(x, lo, hi),
        params=(Param("lo", -1.0), Param("hi", 1.0)),
        args=Signature((Arg("x"), Arg("lo", SCALAR), Arg("hi", SCALAR))),
        definition="x + (lo - x)*step(lo - x) + (hi - x)*step(x - hi)",
        derivative="(1 - step(lo - x))*(1 - step(x - hi))",
        kink_note="torch takes 1 at lo and at hi (the interval is closed)"),
    _ew("cosh", "hyperbolic cosine", "torch.cosh(x)", lambda t, x: t.cosh(x),
        derivative="sinh(x)"),
    _ew("sinh", "hyperbolic sine", "torch.sinh(x)", lambda t, x: t.sinh(x),
        derivative="cosh(x)"),
    _ew("sech", "hyperbolic secant 1/cosh(x)", "1/torch.cosh(x)", lambda t, x: 1 / t.cosh(x),
        definition="1/cosh(x)", derivative="-sech(x)*tanh(x)"),
    _ew("csch", "hyperbolic cosecant 1/sinh(x)", "1/torch.sinh(x)", lambda t, x: 1 / t.sinh(x),
        definition="1/sinh(x)", derivative="-csch(x)*coth(x)", domain="nonzero"),
    _ew("coth", "hyperbolic cotangent cosh(x)/sinh(x)", "1/torch.tanh(x)",
        lambda t, x: 1 / t.tanh(x), definition="cosh(x)/sinh(x)", derivative="-csch(x)**2",
        domain="nonzero"),
    _ew("asinh", "inverse hyperbolic sine", "torch.asinh(x)", lambda t, x: t.asinh(x),
        derivative="1/sqrt(x**2 + 1)"),
    _ew("acosh", "inverse hyperbolic cosine (x > 1)", "torch.acosh(x)", lambda t, x: t.acosh(x),
        derivative="1/sqrt(x**2 - 1)", domain="above_one"),
    _ew("atanh", "inverse hyperbolic tangent (|x| < 1)", "torch.atanh(x)",
        lambda t, x: t.atanh(x), derivative="1/(1 - x**2)", domain="unit"),
    _ew("tan", "tangent", "torch.tan(x)", lambda t, x: t.tan(x), derivative="1 + tan(x)**2",
        domain="nonpole"),
    _ew("sec", "secant 1/cos(x)", "1/torch.cos(x)", lambda t, x: 1 / t.cos(x),
        definition="1/cos(x)", derivative="sec(x)*tan(x)", domain="nonpole"),
    _ew("step", "unit step: 1 for x > 0, else 0 (derivative of relu)",
        "(x > 0).double()", lambda t, x: (x > 0).to(x.dtype),
        derivative="0", kinks=(0.0,), kink_note="zero derivative away from the jump at 0"),
    _ew("sign", "sign of x (derivative of abs)", "torch.sign(x)",
        lambda t, x: t.sign(x), derivative="0", kinks=(0.0,),
        kink_note="zero derivative away from the jump at 0"),
)


def _op(name, group, args, doc, torch, options=(), exclusive=()) -> Entry:
    sig = Signature(tuple(args), tuple(options), tuple(exclusive))
    return Entry(name=name, group=group, doc=doc, torch=torch, signature=sig.usage(name),
                 args=sig)


def _dim(default=None) -> Arg:
    """A reduction's axis: an integer literal; its range (-2..1 on matrices) is checked where
    the shape is known."""
    return Arg("dim", INT, default)


_X = (Arg("X"),)
_REDUCTION = Arg("reduction", CHOICE, "mean", choices=("mean", "sum"))
_PAIRWISE = ("other", "dim", "with two arguments {name} is the elementwise {what} "
                             "(torch.{torch}), which has no dim")


def _extreme(name: str, what: str, torch: str, reduce: str) -> Entry:
    """max/min: one argument (and an optional dim) is the reduction, two the elementwise
    maximum/minimum, as torch.amax/amin and torch.maximum/minimum."""
    a, b, why = _PAIRWISE
    return _op(name, "reduction", (Arg("X"), Arg("other", default=None)),
               f"{what} entry, or along dim; {name}(a, b) is elementwise",
               f"torch.{reduce}; torch.{torch} for two arguments",
               options=(_dim(),),
               exclusive=((a, b, why.format(name=name, what=torch, torch=torch)),))


def _size(name: str, default=REQUIRED) -> Arg:
    return Arg(name, SIZE, default)


def _conv(name: str, doc: str, x: str, k: str) -> Entry:
    return _op(name, "layer", (Arg(x), Arg(k)), doc, f"torch.nn.functional.{name}",
               options=(Arg("stride", INT, 1, low=1), Arg("padding", INT, 0, low=0)))


def _pool(name: str, doc: str) -> Entry:
    return _op(name, "layer", (Arg("X"), Arg("kernel", INT, 2, low=1), Arg("stride", INT, None, low=1),
                               Arg("padding", INT, 0, low=0)),
               doc, f"torch.nn.functional.{name}")


def _loss(name: str, doc: str, torch: str, extra=(), first="pred", second="target") -> Entry:
    return _op(name, "loss", (Arg(first), Arg(second), *extra), doc, torch,
               options=(_REDUCTION,))


STRUCTURAL: tuple[Entry, ...] = (
    _op("sum", "reduction", (*_X, _dim()), "sum of all entries, or along dim", "torch.sum"),
    _op("mean", "reduction", (*_X, _dim()), "mean of all entries, or along dim", "torch.mean"),
    _op("norm", "reduction", (*_X, _dim()), "L2 / Frobenius norm", "torch.linalg.norm"),
    _extreme("max", "largest", "maximum", "amax"),
    _extreme("min", "smallest", "minimum", "amin"),
    _op("trace", "linalg", _X, "sum of the diagonal", "torch.trace"),
    _op("det", "linalg", _X, "determinant", "torch.linalg.det"),
    _op("inv", "linalg", _X, "matrix inverse", "torch.linalg.inv"),
    _op("logdet", "linalg", _X, "log |det X|", "torch.linalg.slogdet"),
    _op("diag", "linalg", (Arg("x"),), "diagonal matrix from a vector", "torch.diag"),
    _op("eye", "linalg", (_size("n"),), "n×n identity matrix", "torch.eye"),
    _op("kron", "linalg", (Arg("A"), Arg("B")), "Kronecker product A ⊗ B (block i, j: A[i, j]·B)",
        "torch.kron"),
    _op("vec", "linalg", _X, "X's columns stacked into one column (column-major)",
        "X.T.reshape(-1, 1)"),
    _op("ones", "linalg", (_size("n"), _size("m", None)), "n×m (or n×1) matrix of ones",
        "torch.ones"),
    _op("zeros", "linalg", (_size("n"), _size("m", None)), "n×m (or n×1) matrix of zeros",
        "torch.zeros"),
    _op("softmax", "layer", (Arg("z"), _dim()), "normalised exponentials", "torch.softmax"),
    _op("log_softmax", "layer", (Arg("z"), _dim()), "log of softmax, stably",
        "torch.log_softmax"),
    _op("layer_norm", "layer", (Arg("X"), Arg("gamma"), Arg("beta")), "normalise each row",
        "torch.nn.functional.layer_norm", options=(Arg("eps", SCALAR, 1e-5, above=0),)),
    _op("batch_norm", "layer", (Arg("X"), Arg("gamma"), Arg("beta")),
        "normalise each column over the batch (training mode)",
        "torch.nn.functional.batch_norm", options=(Arg("eps", SCALAR, 1e-5, above=0),)),
    _conv("conv1d", "cross-correlation of a column (torch's stride and zero padding)", "x", "w"),
    _conv("conv2d", "2-D cross-correlation (torch's stride and zero padding)", "X", "K"),
    _pool("avg_pool2d", "average pooling (stride defaults to kernel)"),
    _pool("max_pool2d", "max pooling (stride defaults to kernel)"),
    _loss("mse", "mean squared error", "torch.nn.functional.mse_loss"),
    _loss("l1", "mean absolute error", "torch.nn.functional.l1_loss"),
    _loss("huber", "quadratic near 0, linear beyond delta", "torch.nn.functional.huber_loss",
          (Arg("delta", SCALAR, 1.0, above=0),)),
    _loss("bce", "binary cross-entropy on probabilities",
          "torch.nn.functional.binary_cross_entropy", first="p"),
    _loss("bce_with_logits", "binary cross-entropy on logits",
          "torch.nn.functional.binary_cross_entropy_with_logits", first="z"),
    _loss("cross_entropy", "softmax cross-entropy over rows", "torch.nn.functional.cross_entropy",
          first="logits"),
    _loss("nll", "negative log-likelihood of class labels: −mean of logp at each row's label",
          "torch.nn.functional.nll_loss", first="logp", second="labels"),
    _op("onehot", "linalg", (Arg("labels"), _size("C")), "N×C rows with a 1 at each label",
        "torch.nn.functional.one_hot"),
)

ENTRIES: dict[str, Entry] = {e.name: e for e in (*ELEMENTWISE, *STRUCTURAL)}
CONSTANTS = {"pi": "π, 3.14159…", "e": "Euler's number, 2.71828…"}


def lookup(name: str) -> Entry | None:
    return ENTRIES.get(name)


def activation_names() -> list[str]:
    """Names usable as activations: elementwise, defined for every real input, and needing
    nothing but x (clamp's lo and hi are never guessed)."""
    return [e.name for e in ELEMENTWISE if e.domain == "real" and e.sig.fewest == 1]


def is_elementwise(name: str) -> bool:
    entry = ENTRIES.get(name)
    return entry is not None and entry.group == "elementwise"


PAIRWISE = {"max": "maximum", "min": "minimum"}  # two arguments: torch.maximum / minimum


def is_pairwise(node: Any) -> bool:
    """`max(a, b)` / `min(a, b)`: the elementwise maximum or minimum of two values (a call
    with one argument, and perhaps a dim, is the reduction)."""
    return getattr(node, "func", None) in PAIRWISE and len(getattr(node, "args", ())) == 2
