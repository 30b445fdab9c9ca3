"""Every call has one signature (issue 13): checked at parse time, nothing ignored, and every
table that must know a catalog function does.

Property tests: for every catalog entry, calls with a wrong count or kind of argument are exit
2 with a column; and every entry, evaluated by gradcli's torch evaluator on random inputs,
equals torch's own function of the same name, looked up here independently of the catalog.
"""

from __future__ import annotations

import math
import textwrap

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.expr.parse import parse
from gradcli.kinds.network import vjp_structural
from gradcli.kinds.network.shapes import Dim, Shapes, fmt
from gradcli.verify import evaluate as ev

FAST = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
F = torch.nn.functional
STRUCTURAL = [e.name for e in catalog.STRUCTURAL]


def refused(text: str, variables=("X", "Y", "z", "b", "x", "w", "g", "t")) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text, variables=set(variables))
    return info.value


# -- the silent misreadings of the issue -------------------------------------------------

NETWORK = """\
format: 1
kind: network
name: elementwise max
dims: {{n: 4, m: 3}}
given:
  x: [n]
  W: [m, n]
  b: [m]
forward:
  z: W @ x + b
  h: {h}
loss:
  L: sum(h)
wrt: [W]
claims:
  W: {claim}
"""


@pytest.mark.parametrize("h", ["max(0, z)", "max(z, 0)"])
def test_max_of_zero_and_z_is_the_elementwise_maximum_so_a_zero_claim_is_wrong(cli, tmp_path, h):
    # read as the reduction max(X=0, dim=z) it gave ∂L/∂W = 0 and judged `0*W` CORRECT
    path = tmp_path / "p.yaml"
    path.write_text(NETWORK.format(h=h, claim="0*W"))
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "WRONG" in r.output
    path.write_text(NETWORK.format(h=h, claim="step(z) @ x.T"))
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "step(z) @ x.T\ncorrect" in r.output


def test_a_reduction_never_ignores_its_second_argument():
    err = refused("sum(z, b)")
    assert err.message == "sum's dim (argument 2) must be an integer literal, not 'b'"
    assert err.column == 8


@pytest.mark.parametrize("text, column", [("sum(X, dim=1.0)", 12), ("mean(X, 0.5)", 9),
                                          ("softmax(z, dim=b)", 16), ("norm(X, 1 + 0)", 9)])
def test_a_dim_is_an_integer_literal(text, column):
    err = refused(text)
    assert "dim" in err.message and "must be an integer literal" in err.message
    assert err.column == column


def test_a_dim_out_of_range_is_refused_at_its_file_line_and_column(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(NETWORK.format(h="relu(z)", claim="0*W").replace("L: sum(h)",
                                                                      "L: sum(sum(h, dim=2))"))
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 2
    assert "p.yaml:13:21: sum: dim=2 is not a dimension of a m×1 value" in r.output


def test_max_with_two_arguments_takes_no_dim():
    err = refused("max(z, b, dim=0)")
    assert "elementwise maximum (torch.maximum), which has no dim" in err.message


@pytest.mark.parametrize("text, message", [
    ("sum(X, 0, 1)", "sum takes at most 2 positional arguments, got 3"),
    ("trace(X, 0)", "trace takes at most 1 positional argument, got 2"),
    ("mse(x)", "mse needs target (argument 2), an expression"),
    ("sum(X, dim=0, dim=1)", "option dim is given twice"),
    ("sum(X, 0, dim=1)", "sum's dim is given twice (argument 2 and dim=)"),
    ("mse(x, t, reduction=\"avg\")", "mse's reduction (reduction=) must be \"mean\" or \"sum\""),
    ("huber(x, t, delta=0)", "huber's delta (delta=) must be a number > 0, not 0"),
    ("avg_pool2d(X, 0)", "avg_pool2d's kernel (argument 2) must be an integer literal ≥ 1, not 0"),
    ("conv2d(X, Y, stride=1.5)", "conv2d's stride (stride=) must be an integer literal ≥ 1, not '1.5'"),
    ("clamp(x, 1, -1)", "clamp needs lo < hi, got lo=1, hi=-1"),
    ("clamp(x, b, 1)", "clamp's lo (argument 2) must be a number"),
    ("sum(X, keepdim=1)", "sum has no option 'keepdim' (options: dim)"),
    ("relu(x, 1)", "relu takes at most 1 positional argument, got 2"),
    ("eye(0)", "eye's n (argument 1) must be a dimension (a name from dims or a positive integer)"),
])
def test_wrong_calls_are_refused_with_what_the_signature_says(text, message):
    err = refused(text)
    assert err.message == message and err.column is not None


def test_keywords_and_positions_mean_the_same_argument():
    assert parse("leaky_relu(x, 0.2)") != parse("leaky_relu(x, slope=0.2)")  # two spellings
    values = {"x": torch.linspace(-2, 2, 9, dtype=torch.float64)}
    a = ev.evaluate(parse("leaky_relu(x, 0.2)"), values)
    b = ev.evaluate(parse("leaky_relu(x, slope=0.2)"), values)
    assert torch.equal(a, b)
    X = {"X": torch.arange(16.0, dtype=torch.float64).reshape(4, 4)}
    assert torch.equal(ev.evaluate(parse("avg_pool2d(X, 2, 1)"), X),
                       ev.evaluate(parse("avg_pool2d(X, kernel=2, stride=1)"), X))


def test_a_bare_typo_is_not_the_identity_function(cli):
    r = cli("derive", "sigmod")
    assert r.exit_code == 2
    assert "did you mean 'sigmoid'?" in r.output


def test_clamp_alone_is_refused_because_its_bounds_are_never_guessed(cli):
    r = cli("derive", "clamp")
    assert r.exit_code == 2
    assert "clamp needs lo and hi" in r.output


# -- one signature, every table ----------------------------------------------------------

def test_every_structural_function_has_a_vjp_rule_and_a_torch_evaluation():
    assert set(vjp_structural.RULES) == set(STRUCTURAL)
    # the evaluator's torch table is written separately on purpose (the independent witness),
    # but it names exactly the catalog's structural functions
    assert set(ev.STRUCTURAL) == set(STRUCTURAL)


def _shape_sample(name: str) -> str:
    return {"layer_norm": "layer_norm(X, g, b)", "batch_norm": "batch_norm(X, g, b)",
            "conv1d": "conv1d(x, w)", "conv2d": "conv2d(X, Y)", "diag": "diag(x)",
            "kron": "kron(X, w)",
            "eye": "eye(n)", "ones": "ones(n, m)", "zeros": "zeros(n)",
            "nll": "nll(X, y)", "onehot": "onehot(y, n)"}.get(
        name, f"{name}(X, Y)" if catalog.lookup(name).group == "loss" else f"{name}(X)")


@pytest.mark.parametrize("name", STRUCTURAL)
def test_every_structural_function_has_a_shape_rule(name):
    n, m = Dim("n", 4), Dim("m", 3)
    one = Dim("1", 1)
    shapes = Shapes({"X": (n, n), "Y": (n, n), "x": (n, one), "w": (m, one),
                     "g": (one, n), "b": (one, n), "y": (n, one)}, {"n": 4, "m": 3},
                    {"y": ("labels", n)})  # nll and onehot take class labels
    node = parse(_shape_sample(name), variables={"X", "Y", "x", "w", "g", "b", "y"})
    assert fmt(shapes(node))  # no "not supported in network problems"


def test_every_signature_names_its_arguments_once_and_requires_a_prefix():
    for entry in catalog.ENTRIES.values():
        sig = entry.sig
        names = [a.name for a in (*sig.args, *sig.options)]
        assert len(names) == len(set(names)), entry.name
        required = [a.required for a in sig.args]
        assert required == sorted(required, reverse=True), entry.name  # no gap
        assert sig.args[0].kind == catalog.TENSOR or entry.name in ("eye", "ones", "zeros")
        if entry.group == "elementwise":
            assert [a.name for a in sig.args[1:]] == [p.name for p in entry.params]
        assert entry.call == sig.usage(entry.name)  # `gradcli list` shows the signature itself


# -- property: wrong arity and kinds are exit 2 with a position ----------------------------

def _valid_args(entry: catalog.Entry) -> list[str]:
    out = []
    for a in entry.sig.args:
        if not a.required:
            break
        out.append({catalog.TENSOR: "X", catalog.SIZE: "3", catalog.INT: "1"}.get(
            a.kind, "0.5" if entry.name != "clamp" or a.name == "lo" else "2"))
    return out


BAD_VALUES = {  # a value of the wrong kind for each kind of literal argument
    catalog.INT: ["1.5", "X", "\"sum\"", "2*1"],
    catalog.SCALAR: ["X", "\"sum\"", "X + 1"],
    catalog.SIZE: ["0", "-2", "1.5", "X + 1", "\"sum\""],
    catalog.CHOICE: ["1", "\"avg\"", "X"],
}


@st.composite
def wrong_calls(draw):
    entry = draw(st.sampled_from(list(catalog.ENTRIES.values())))
    args = _valid_args(entry)
    sig = entry.sig
    mistakes = ["too many", "unknown option"]
    if sig.fewest:
        mistakes.append("too few")
    literal = [a for a in (*sig.args, *sig.options) if a.kind != catalog.TENSOR]
    if literal:
        mistakes.append("wrong kind")
    mistake = draw(st.sampled_from(mistakes))
    if mistake == "too many":
        args = args + ["X"] * (sig.most - len(args) + draw(st.integers(1, 2)))
    elif mistake == "too few":
        args = args[:draw(st.integers(0, sig.fewest - 1))]
    elif mistake == "unknown option":
        args = args + [draw(st.sampled_from(["keepdim=1", "axis=0", "X=1", "bias=0.5"]))]
    else:
        arg = draw(st.sampled_from(literal))
        bad = draw(st.sampled_from(BAD_VALUES[arg.kind]))
        if arg in sig.args and sig.args.index(arg) < len(args):
            args[sig.args.index(arg)] = bad
        else:
            args.append(f"{arg.name}={bad}")
    return entry, f"{entry.name}({', '.join(args)})"


@FAST
@given(wrong_calls())
def test_a_call_with_a_wrong_count_or_kind_of_argument_is_refused_with_a_column(case):
    entry, text = case
    err = refused(text)
    assert err.column is not None and 1 <= err.column <= len(text), (text, err)
    assert err.message.startswith((entry.name, "option")) or "usage" in (err.hint or ""), (text, err)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(wrong_calls())
def test_a_wrong_call_in_a_network_file_is_exit_2_at_its_line_and_column(cli, tmp_path_factory, case):
    entry, text = case
    path = tmp_path_factory.mktemp("sig") / "p.yaml"
    path.write_text(textwrap.dedent(f"""\
        format: 1
        kind: network
        dims: {{n: 3}}
        given:
          X: [n, n]
        forward:
          h: {text}
        loss:
          L: sum(X)
        wrt: [X]
        """))
    r = cli("check", str(path), "--format", "json")
    assert r.exit_code == 2, (text, r.output)
    assert '"line": 7' in r.output and '"column": null' not in r.output, (text, r.output)


# -- property: the evaluator agrees with torch's own function of the same name -------------

def _torch_function(name: str):
    """torch's function of the catalog name, found without the catalog: torch.<name>, else
    torch.nn.functional.<name>; the few names torch spells differently are listed."""
    spelled = {"gelu": lambda x: F.gelu(x, approximate="tanh"), "gelu_erf": F.gelu,
               "sech": lambda x: 1 / torch.cosh(x), "csch": lambda x: 1 / torch.sinh(x),
               "coth": lambda x: 1 / torch.tanh(x), "sec": lambda x: 1 / torch.cos(x),
               "step": lambda x: torch.heaviside(x, torch.zeros_like(x)),
               "max": torch.maximum, "min": torch.minimum, "mse": F.mse_loss, "l1": F.l1_loss,
               "huber": F.huber_loss, "bce": F.binary_cross_entropy, "norm": torch.linalg.norm,
               "bce_with_logits": F.binary_cross_entropy_with_logits, "det": torch.linalg.det,
               "batch_norm": F.batch_norm, "layer_norm": F.layer_norm,
               "inv": torch.linalg.inv, "logdet": lambda x: torch.linalg.slogdet(x).logabsdet,
               "nll": F.nll_loss, "onehot": F.one_hot,
               "vec": lambda x: x.transpose(0, 1).flatten()[:, None]}  # columns stacked
    if name in spelled:
        return spelled[name]
    return getattr(torch, name, None) or getattr(F, name)


def _inputs(entry: catalog.Entry, x: torch.Tensor) -> torch.Tensor:
    """Random values moved into the entry's domain."""
    return {"positive": x.abs() + 0.1, "above_one": x.abs() + 1.1,
            "unit": torch.tanh(x) * 0.9, "nonzero": x.sign() * (x.abs() + 0.1),
            "nonpole": torch.atan(x)}.get(entry.domain, x)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**31 - 1))
def test_every_elementwise_entry_evaluates_as_torch_s_function_of_that_name(seed):
    gen = torch.Generator().manual_seed(seed)
    for entry in catalog.ELEMENTWISE:
        x = _inputs(entry, torch.randn(5, 1, generator=gen, dtype=torch.float64) * 3)
        params = {"clamp": ["-0.5", "1.5"]}.get(entry.name, [])
        ours = ev.evaluate(parse(f"{entry.name}({', '.join(['x', *params])})"), {"x": x})
        theirs = _torch_function(entry.name)(x, *map(float, params))
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12, msg=entry.name)


def _structural_case(name: str, gen: torch.Generator):
    """(expression, values, torch's own result) for one structural function."""
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    X, Y, A = r(4, 4), r(4, 4), r(4, 4) + 4 * torch.eye(4, dtype=torch.float64)
    p, t = torch.sigmoid(r(4, 4)), torch.rand(4, 4, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 4, (4,), generator=gen)
    fn = _torch_function(name)
    cases = {
        "sum": ("sum(X, 1)", {"X": X}, lambda: fn(X, dim=1, keepdim=True)),
        "mean": ("mean(X, dim=0)", {"X": X}, lambda: fn(X, dim=0, keepdim=True)),
        "norm": ("norm(X)", {"X": X}, lambda: fn(X)),
        "max": ("max(X, Y)", {"X": X, "Y": Y}, lambda: fn(X, Y)),
        "min": ("min(X, 0.25)", {"X": X}, lambda: fn(X, torch.tensor(0.25, dtype=torch.float64))),
        "trace": ("trace(X)", {"X": X}, lambda: fn(X)),
        "det": ("det(A)", {"A": A}, lambda: fn(A)),
        "inv": ("inv(A)", {"A": A}, lambda: fn(A)),
        "logdet": ("logdet(A)", {"A": A}, lambda: fn(A)),
        "diag": ("diag(x)", {"x": X[:, :1]}, lambda: fn(X[:, 0])),
        "kron": ("kron(X, y)", {"X": X, "y": Y[:3, :2]}, lambda: fn(X, Y[:3, :2])),
        "vec": ("vec(y)", {"y": Y[:3, :2]}, lambda: fn(Y[:3, :2])),
        "eye": ("eye(4)", {}, lambda: fn(4, dtype=torch.float64)),
        "ones": ("ones(4, 2)", {}, lambda: fn(4, 2, dtype=torch.float64)),
        "zeros": ("zeros(3)", {}, lambda: fn(3, 1, dtype=torch.float64)),
        "softmax": ("softmax(X, dim=1)", {"X": X}, lambda: fn(X, dim=1)),
        "log_softmax": ("log_softmax(X, 0)", {"X": X}, lambda: fn(X, dim=0)),
        "layer_norm": ("layer_norm(X, g, b)", {"X": X, "g": Y[:1], "b": A[:1]},
                       lambda: fn(X, (4,), Y[0], A[0])),
        "batch_norm": ("batch_norm(X, g, b, eps=0.001)", {"X": X, "g": Y[:1], "b": A[:1]},
                       lambda: fn(X, None, None, Y[0], A[0], training=True, eps=0.001)),
        "conv1d": ("conv1d(x, w, stride=2, padding=1)", {"x": X[:, :1], "w": Y[:3, :1]},
                   lambda: fn(X[:, 0][None, None], Y[:3, 0][None, None], stride=2, padding=1
                      ).reshape(-1, 1)),
        "conv2d": ("conv2d(X, w, stride=2, padding=1)", {"X": X, "w": Y[:3, :3]},
                   lambda: fn(X[None, None], Y[:3, :3][None, None], stride=2, padding=1)[0, 0]),
        "avg_pool2d": ("avg_pool2d(X, 2, 1)", {"X": X}, lambda: fn(X[None], 2, 1)[0]),
        "max_pool2d": ("max_pool2d(X, kernel=3, stride=1, padding=1)", {"X": X},
                       lambda: fn(X[None], 3, 1, 1)[0]),
        "mse": ("mse(X, Y, reduction=\"sum\")", {"X": X, "Y": Y}, lambda: fn(X, Y, reduction="sum")),
        "l1": ("l1(X, Y)", {"X": X, "Y": Y}, lambda: fn(X, Y)),
        "huber": ("huber(X, Y, 0.5)", {"X": X, "Y": Y}, lambda: fn(X, Y, delta=0.5)),
        "bce": ("bce(p, t)", {"p": p, "t": t}, lambda: fn(p, t)),
        "bce_with_logits": ("bce_with_logits(X, t)", {"X": X, "t": t}, lambda: fn(X, t)),
        "cross_entropy": ("cross_entropy(X, t)", {"X": X, "t": t}, lambda: fn(X, t)),
        # class labels are held as whole float64 numbers, one per row, as declared givens are
        "nll": ("nll(X, y)", {"X": X, "y": labels.double()[:, None]}, lambda: fn(X, labels)),
        "onehot": ("onehot(y, 4)", {"y": labels.double()[:, None]},
                   lambda: fn(labels, 4).double()),
    }
    text, values, theirs = cases[name]
    return text, values, theirs()


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**31 - 1))
def test_every_structural_entry_evaluates_as_torch_s_function_of_that_name(seed):
    gen = torch.Generator().manual_seed(seed)
    for name in STRUCTURAL:
        text, values, theirs = _structural_case(name, gen)
        ours = ev.evaluate(parse(text, variables=set(values)), values)
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12, msg=name)


def test_elementwise_max_splits_the_gradient_at_a_tie_as_torch_does():
    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0, 2.0, 2.0], dtype=torch.float64)
    torch.maximum(a, b).sum().backward()
    from gradcli.kinds.derivative.rules import differentiate

    d = differentiate(parse("max(x, 2)"), "x").result
    ours = [float(ev.evaluate(d, {"x": torch.tensor(v, dtype=torch.float64)}))
            for v in (1.0, 2.0, 3.0)]
    assert ours == a.grad.tolist() == [0.0, 0.5, 1.0]
    assert not math.isnan(ours[1])


# -- the new functions, end to end ---------------------------------------------------------

CONV = """\
format: 1
kind: network
name: strided convolution
dims: {{n: 7, k: 3}}
given:
  X: [n, n]
  K: [k, k]
  G: [{out}, {out}]
forward:
  Y: conv2d(X, K, stride={stride}, padding={padding})
loss:
  L: sum(G * Y)
wrt: [X, K]
"""


@pytest.mark.parametrize("stride, padding, out", [(2, 1, 4), (1, 1, 7), (3, 0, 2)])
def test_conv2d_stride_and_padding_have_torch_s_shape_and_gradients(cli, tmp_path, stride,
                                                                     padding, out):
    path = tmp_path / "p.yaml"
    path.write_text(CONV.format(stride=stride, padding=padding, out=out))
    r = cli("check", str(path), "--format", "json")
    assert r.exit_code == 0, r.output
    import json

    grads = json.loads(r.stdout)["gradients"]
    assert grads["X"]["shape"] == "n×n" and grads["K"]["shape"] == "k×k"
    if stride == 1:  # the kernel's gradient has a closed form: X padded, cross-correlated with G
        assert grads["K"]["expression"] == f"conv2d(X, G, padding={padding})"


def test_a_conv_whose_output_shape_is_wrong_is_refused_with_torch_s_size(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(CONV.format(stride=2, padding=1, out=3))
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 2
    assert "cannot combine a 3×3 and a 4×4 value" in r.output


def test_min_reduction_and_ones_check_against_torch(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent("""\
        format: 1
        kind: network
        dims: {N: 4, d: 3}
        given:
          X: [N, d]
          w: [d]
        forward:
          m: min(X @ w, dim=0)
        loss:
          L: sum(m * ones(1, 1)) + sum(zeros(N, d) * X) + sum(X @ ones(d))
        wrt: [X, w]
        """))
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "PASSED: 2/2 checks" in r.output


def test_a_size_that_is_not_a_dim_is_refused_with_a_suggestion(cli, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(NETWORK.format(h="z + ones(q)", claim="0*W"))
    r = cli("check", str(path), "--format", "plain")
    assert r.exit_code == 2
    assert "p.yaml:11:15: 'q' is not a dim" in r.output


def test_a_claim_that_differs_from_max_s_derivative_only_at_the_tie_is_correct(cli):
    # torch.maximum gives 1/2 at x = 0; like relu's kink, the tie is a kink, not a counterexample
    assert cli("derive", "max(x, 0)", "--no-steps", "--claim", "step(x)").exit_code == 0
    r = cli("derive", "max(x, 0)", "--no-steps", "--claim", "0.5*step(x)")
    assert r.exit_code == 1 and "WRONG" in r.output


@pytest.mark.parametrize("target, claim", [
    ("tanh(x)", "sech(x)**2"),
    ("mish(x)", "tanh(softplus(x)) + x*sech(softplus(x))**2*sigmoid(x)"),
    ("asinh(x)", "1/sqrt(1 + x**2)"),
    ("atanh(x)", "1/(1 - x**2)"),
    ("acosh(x)", "1/sqrt(x**2 - 1)"),
    ("coth(x)", "-csch(x)**2"),
])
def test_published_hyperbolic_forms_are_claimable(cli, target, claim):
    r = cli("derive", target, "--no-steps", "--claim", claim)
    assert r.exit_code == 0, r.output


def test_every_restricted_domain_of_the_catalog_is_sampled_in_network_checks():
    import torch as t

    from gradcli.kinds.network import verify as nv
    from gradcli.kinds.network.shapes import literal

    gen = t.Generator().manual_seed(0)
    for entry in catalog.ELEMENTWISE:
        if entry.domain == "real":
            continue
        assert nv._ARG_DOMAINS[entry.name] == {0: entry.domain}
        x = nv.random_value((literal(50), literal(1)), entry.domain, gen)
        y = entry.reference(t, x, **{p.name: p.default for p in entry.params})
        assert t.isfinite(y).all(), entry.name


def test_list_json_gives_each_function_its_arguments_kinds_and_defaults(cli):
    import json

    r = cli("list", "--format", "json")
    assert r.exit_code == 0, r.output
    entries = {e["name"]: e for e in json.loads(r.stdout)["catalog"]}
    assert entries["sum"]["arguments"] == [
        {"name": "X", "kind": "tensor", "required": True, "keyword_only": False},
        {"name": "dim", "kind": "int", "required": False, "keyword_only": False, "default": None}]
    assert entries["mse"]["arguments"][-1] == {
        "name": "reduction", "kind": "choice", "required": False, "keyword_only": True,
        "default": "mean", "choices": ["mean", "sum"]}
    assert set(entries) == set(catalog.ENTRIES)


@pytest.mark.parametrize("name", list(catalog.ENTRIES))
def test_every_entry_refuses_one_argument_too_many_and_one_too_few(name):
    entry = catalog.ENTRIES[name]
    args = _valid_args(entry)
    parse(f"{name}({', '.join(args)})", variables={"X"})  # the required arguments: accepted
    extra = args + ["X"] * (entry.sig.most - len(args) + 1)
    err = refused(f"{name}({', '.join(extra)})")
    assert f"{name} takes at most {entry.sig.most} positional argument" in err.message
    assert err.column == len(f"{name}({', '.join(extra[:-1])}, ") + 1  # at the extra argument
    if entry.sig.fewest:
        err = refused(f"{name}({', '.join(args[:-1])})")
        assert err.message.startswith(f"{name} needs ") and err.column == 1
