"""`check --layout numerator|index`: the printers, their evaluation, and the command.

The printers are tested on hand-built trees (the textbook forms), by property over random
well-shaped expressions (the numerator form is the transpose of the matrix value; the index
form run as einsum equals the matrix value), and through the CLI on bundled problems,
including that a wrongly printed form makes the check fail rather than pass.
"""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.expr.ast import Binary, Call, Name, Node, Num, Transpose
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.display import text
from gradcli.kinds.network.layout_einsum import Einsum
from gradcli.kinds.network.layout_index import Translator, gradient_axes
from gradcli.kinds.network.layout_index_parse import IndexSyntaxError, Reader
from gradcli.kinds.network.layout_index_print import IndexPrinter
from gradcli.kinds.network.layout_numerator import Numerator, is_gradient, transposed
from gradcli.kinds.network.shapes import ONE, Dim, Shapes
from gradcli.verify.evaluate import Evaluator

N, M, P = Dim("n", 2), Dim("m", 3), Dim("p", 4)
DIMS = (N, M, P, ONE)
DELTA = A.Adjoint("__d_z", symbol="δ")  # a gradient symbol: a row in numerator layout
SIGMA = A.Adjoint("__s0", symbol="σ")  # a forward value: keeps its shape
DY = A.Adjoint("__d_Y", symbol="∂L/∂Y")  # an n×m gradient: m×n in numerator layout


def _name(shape) -> str:
    return "X_" + "".join(d.symbol for d in shape).replace("1", "o")


def _shapes() -> Shapes:
    names = {_name((a, b)): (a, b) for a in DIMS for b in DIMS}
    names.update({"W": (M, N), "x": (N, ONE), "v": (N, ONE), "B": (N, M), "__d_z": (M, ONE),
                  "__s0": (ONE, M), "__d_Y": (N, M)})
    return Shapes(names, {d.symbol: d.size for d in DIMS if d is not ONE})


SHAPES = _shapes()


READER = Reader({**{n: Name(n) for n in SHAPES.names if not n.startswith("__")}, "δ": DELTA,
                 "σ": SIGMA, "∂L/∂Y": DY}, {"n": 2, "m": 3, "p": 4}, {}, SHAPES)


def _values(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {name: torch.randn([d.size for d in shape], generator=gen, dtype=torch.float64)
            for name, shape in SHAPES.names.items()}


def num_text(node: Node) -> str:
    return text(Numerator(SHAPES, is_gradient)(node))


def index_text(node: Node) -> str:
    axes = gradient_axes(SHAPES(node))
    return IndexPrinter("text")(Translator(SHAPES)(node, axes))


# -- the numerator printer: the textbook forms ----------------------------------------------

def test_numerator_layout_writes_an_outer_product_with_the_row_delta_on_the_right():
    assert num_text(Binary("@", DELTA, Transpose(Name("x")))) == "x @ δ"


def test_numerator_layout_pushes_the_transpose_through_a_matrix_vector_product():
    assert num_text(Binary("@", Transpose(Name("W")), DELTA)) == "δ @ W"


def test_numerator_layout_transposes_an_elementwise_factor_of_names_once():
    node = Binary("*", Binary("-", Name("x"), Name("v")), Name("x"))
    assert num_text(node) == "((x - v)*x).T"


def test_numerator_layout_keeps_a_forward_symbol_a_value_and_moves_the_reduced_axis():
    node = Call("sum", (Binary("*", DY, SIGMA),), (("dim", Num(0)),))
    assert num_text(node) == "sum(∂L/∂Y*σ.T, dim=1)"


def test_numerator_layout_transposes_a_power_as_a_whole():
    assert num_text(Binary("-", Num(1), Binary("**", Name("x"), Num(2)))) == "(1 - x**2).T"


def test_numerator_shapes_are_the_transposed_shapes():
    assert transposed((M, N)) == (N, M) and transposed((N, ONE)) == (ONE, N) and transposed(()) == ()


# -- the index printer: the textbook forms --------------------------------------------------

def test_index_form_of_an_outer_product_has_no_sum():
    assert index_text(Binary("@", DELTA, Transpose(Name("x")))) == "δ[i]*x[j]"


def test_index_form_of_a_transposed_product_sums_over_the_contracted_index():
    assert index_text(Binary("@", Transpose(Name("W")), DELTA)) == "Σ_k W[k,i]*δ[k]"


def test_index_form_sums_a_diagonal_matrix_away():
    assert index_text(Binary("@", Call("diag", (Name("v"),)), Name("B"))) == "v[i]*B[i,j]"


def test_index_form_of_a_trace_and_a_column_mean():
    assert index_text(Call("trace", (Name("X_nn"),))) == "Σ_k X_nn[k,k]"
    assert index_text(Call("mean", (Name("B"),), (("dim", Num(0)),))) == "(Σ_k B[k,j])/n"


def test_index_form_takes_an_opaque_call_as_an_entry_of_the_whole_and_says_so():
    node = Call("softmax", (Name("B"),), (("dim", Num(1)),))
    translate = Translator(SHAPES)
    ix = translate(node, ("i", "j"))
    assert IndexPrinter("text")(ix) == "softmax(B, dim=1)[i,j]"
    assert translate.opaque == [node]


def test_printed_index_text_reads_back_and_prints_the_same():
    node = Binary("@", Transpose(Name("W")), Binary("*", DELTA, Call("tanh", (Name("X_mo"),))))
    ix = Translator(SHAPES)(node, ("i", None))
    printed = IndexPrinter("text")(ix)
    assert printed == "Σ_k W[k,i]*δ[k]*tanh(X_mo[k])"
    assert IndexPrinter("text")(READER(printed)) == printed


def test_index_text_that_does_not_read_back_is_an_error():
    with pytest.raises(IndexSyntaxError, match="unknown name"):
        READER("Σ_k Q[k,i]")
    with pytest.raises(IndexSyntaxError, match="1 indices for a value with 2 axes"):
        READER("W[i]")


def test_index_form_in_course_notation_uses_subscripts():
    node = Binary("@", Transpose(Name("W")), DELTA)
    ix = Translator(SHAPES)(node, ("i", None))
    assert IndexPrinter("pretty")(ix) == "Σₖ Wₖᵢ δₖ"


# -- by property: random well-shaped expressions --------------------------------------------

@st.composite
def matrices(draw, shape, depth=3):
    """An expression of `shape` ((rows, cols) of Dims, or () for a scalar)."""
    if not shape:
        choice = draw(st.sampled_from(["sum", "trace", "mean"])) if depth else "sum"
        if choice == "trace":
            d = draw(st.sampled_from(DIMS))
            return Call("trace", (draw(matrices((d, d), depth - 1 if depth else 0)),))
        inner = (draw(st.sampled_from(DIMS)), draw(st.sampled_from(DIMS)))
        return Call(choice, (draw(matrices(inner, max(depth - 1, 0))),))
    r, c = shape
    options = ["name", "name"]
    if depth:
        options += ["T", "@", "+", "*", "-", "scale", "tanh", "/"]
        if r.is_one or c.is_one:
            options.append("reduce")
        if r == c and not r.is_one:
            options.append("diag@")
    pick = draw(st.sampled_from(options))
    sub = depth - 1
    if pick == "name":
        if shape == (M, ONE) and draw(st.booleans()):
            return DELTA
        if shape == (N, M) and draw(st.booleans()):
            return DY
        return Name(_name(shape))
    if pick == "T":
        return Transpose(draw(matrices((c, r), sub)))
    if pick == "@":
        k = draw(st.sampled_from(DIMS))
        return Binary("@", draw(matrices((r, k), sub)), draw(matrices((k, c), sub)))
    if pick in "+-*":
        return Binary(pick, draw(matrices(shape, sub)), draw(matrices(shape, sub)))
    if pick == "/":
        return Binary("/", draw(matrices(shape, sub)), Binary("+", Num(2), Call("exp", (Name(_name(shape)),))))
    if pick == "scale":
        return Binary("*", Num(draw(st.sampled_from([2, -0.5, 3]))), draw(matrices(shape, sub)))
    if pick == "tanh":
        return Call("tanh", (draw(matrices(shape, sub)),))
    if pick == "diag@":
        return Binary("@", Call("diag", (draw(matrices((r, ONE), sub)),)), draw(matrices(shape, sub)))
    # reduce: a row is a column sum of a taller matrix, a column a row sum of a wider one
    other = draw(st.sampled_from(DIMS))
    if r.is_one:
        return Call("sum", (draw(matrices((other, c), sub)),), (("dim", Num(0)),))
    return Call("mean", (draw(matrices((r, other), sub)),), (("dim", Num(1)),))


SHAPE_CHOICES = st.sampled_from([(a, b) for a in DIMS for b in DIMS] + [()])


def _matrix(node: Node, values) -> torch.Tensor:
    out = Evaluator(values)(node)
    return out.reshape(()) if out.numel() == 1 and not SHAPES(node) else out


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_einsum_of_the_index_form_equals_the_matrix_value(data):
    shape = data.draw(SHAPE_CHOICES)
    node = data.draw(matrices(shape))
    values = _values()
    expected = _matrix(node, values)
    axes = gradient_axes(SHAPES(node))
    ix = Translator(SHAPES)(node, axes)
    for form in (ix, READER(IndexPrinter("text")(ix))):  # the tree, and its text read back
        got = Einsum(values)(form, axes)
        assert torch.allclose(got.reshape(expected.shape), expected, rtol=1e-10, atol=1e-12), \
            (text(node), index_text(node))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_numerator_form_equals_the_transpose_of_the_matrix_value(data):
    shape = data.draw(SHAPE_CHOICES)
    node = data.draw(matrices(shape))
    values = _values()
    expected = _matrix(node, values)
    if expected.dim() == 2:
        expected = expected.T
    numerator = Numerator(SHAPES, is_gradient)(node)
    rows = {**values, "__d_z": values["__d_z"].T, "__d_Y": values["__d_Y"].T}  # gradients: rows
    got = Evaluator(rows)(numerator)
    assert torch.allclose(got.reshape(expected.shape), expected, rtol=1e-10, atol=1e-12), \
        (text(node), text(numerator))


# -- through the command --------------------------------------------------------------------

def test_check_layout_numerator_prints_q3_in_numerator_layout(cli):
    r = cli("check", "problems/q3.yaml", "--layout", "numerator", "--format", "plain")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    for line in ("∂L/∂y = (y - t).T    [1×n, like yᵀ]",
                 "∂L/∂W = x @ δ    [n×n, like Wᵀ]",
                 "∂L/∂W (in full, pasteable) = x @ ((y - t)*y*(1 - y)).T",
                 "  where δ = ∂L/∂z = ((y - t)*y*(1 - y)).T    [1×n]"):
        assert line in lines, r.stdout
    assert any(line.startswith("Layout: numerator layout:") for line in lines)
    assert not any(line.startswith("Layout: a gradient has the shape of its variable") for line in lines)
    assert any(line.startswith("∂L/∂W (numerator)  pass") for line in lines), r.stdout
    assert lines[-1] == "PASSED: 6/6 checks, 1/1 claims correct (seed 0)"


def test_check_layout_index_prints_entries_and_steps_in_index_form(cli):
    r = cli("check", "problems/net_mlp2.yaml", "--layout", "index", "--format", "plain")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    for line in ("∂L/∂W1[i,j] = δ₁[i]*x[j]    [h×d]",
                 "∂L/∂x[i] = Σ_k W1[k,i]*δ₁[k]    [d×1]",
                 "  where δ₁[i] = ∂L/∂z1[i] = (Σ_k W2[k,i]*δ₂[k])*(1 - a1[i]**2)    [h×1]",
                 "8. matrix product (left factor): ∂A[i,k] = Σ_j G[i,j]*B[k,j]    (line z2: W2 a1)",
                 "   ∂L/∂W2[i,j] = δ₂[i]*a1[j]    [k×h]"):  # a step: its rule and value by index
        assert line in lines, r.stdout
    assert any(line.startswith("∂L/∂x (index)   pass    printed index text by einsum") for line in lines)
    assert lines[-1].startswith("PASSED: 10/10 checks")


def test_check_layout_index_states_what_has_no_index_form(cli):
    r = cli("check", "problems/net_softmax_ce.yaml", "--layout", "index", "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "no index form is printed for the insides of softmax(Z): each appears as an entry " \
           "of the whole matrix" in r.stdout
    r = cli("check", "problems/net_conv1d.yaml", "--layout", "index", "--format", "plain")
    assert "∂L/∂x: no closed form in the expression language: in the derivation's index " \
           "notation below" in r.stdout
    assert "  where ∂L/∂x[i] = Σⱼ G[i−j]·w[j]" in r.stdout


def test_check_layout_json_gives_the_layout_and_each_gradient_in_it(cli):
    r = cli("check", "problems/q3.yaml", "--layout", "numerator", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["layout_name"] == "numerator"
    assert doc["view"]["gradients"]["W"]["expression"] == "x @ ((y - t)*y*(1 - y)).T"
    assert doc["view"]["gradients"]["W"]["display"] == "x @ δ"
    assert doc["view"]["gradients"]["b"]["shape"] == "1×n"
    assert doc["gradients"]["W"]["expression"] == "((y - t)*y*(1 - y)) @ x.T"  # as derived
    r = cli("check", "problems/q3.yaml", "--layout", "index", "--format", "json")
    assert json.loads(r.stdout)["view"]["gradients"]["W"]["display"] == "δ[i]*x[j]"
    plain = json.loads(cli("check", "problems/q3.yaml", "--format", "json").stdout)
    assert plain["layout_name"] == "denominator" and plain["view"] is None


@pytest.mark.parametrize("fmt", ["rich", "latex", "markdown"])
@pytest.mark.parametrize("layout", ["numerator", "index"])
def test_check_layout_renders_in_every_format(cli, fmt, layout):
    r = cli("check", "problems/net_mlp2.yaml", "--layout", layout, "--format", fmt)
    assert r.exit_code == 0, r.output
    assert "PASSED: 10/10 checks" in r.stdout  # LaTeX closes its document after it
    if fmt == "latex" and layout == "index":
        assert r"\left(\frac{\partial L}{\partial W_{1}}\right)_{ij} = \left(\delta_{1}\right)_{i} x_{j}" in r.stdout


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["numerator", "index"])
def test_every_bundled_problem_passes_in_each_layout(cli, layout):
    r = cli("check", "problems/", "--layout", layout, "--format", "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[-1].startswith("PASSED: 35 of 35 problems passed")


def test_check_refuses_an_unknown_layout_with_exit_2(cli):
    r = cli("check", "problems/q3.yaml", "--layout", "diagonal")
    assert r.exit_code == 2, r.output
    assert "'diagonal' is not one of 'denominator', 'numerator', 'index'" in r.output


def test_check_layout_leaves_problems_without_a_layout_unchanged(cli):
    plain = cli("check", "problems/q5.yaml", "--format", "plain")
    numerator = cli("check", "problems/q5.yaml", "--layout", "numerator", "--format", "plain")
    assert numerator.exit_code == plain.exit_code == 0
    assert numerator.stdout == plain.stdout


def test_a_wrongly_printed_numerator_form_fails_its_check(cli, monkeypatch):
    from gradcli.kinds.network import layout_numerator

    # print the denominator form where the numerator form belongs: W of q3 is not symmetric
    monkeypatch.setattr(layout_numerator.Numerator, "__call__", lambda self, node: node)
    r = cli("check", "problems/q3.yaml", "--layout", "numerator", "--format", "plain")
    assert r.exit_code == 1, r.output
    assert any(line.startswith("∂L/∂W (numerator)  FAIL") for line in r.stdout.splitlines())


def test_a_wrongly_printed_index_form_fails_its_check(cli, monkeypatch):
    from gradcli.kinds.network import layout_index

    # swap the indices of every entry (a transposed index form)
    real = layout_index.Translator.visit

    def swapped(self, node, axes):
        out = real(self, node, axes)
        if isinstance(out, layout_index.Entry) and len(out.axes) == 2:
            return layout_index.Entry(out.node, out.axes[::-1], out.opaque)
        return out

    monkeypatch.setattr(layout_index.Translator, "visit", swapped)
    r = cli("check", "problems/net_batch_linear.yaml", "--layout", "index", "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "FAIL" in r.stdout


def test_a_misprinted_index_text_fails_its_check(cli, monkeypatch):
    from gradcli.kinds.network import layout_index_print

    # a Σ printed without the parentheses around its body's terms (∂L/∂b = Σ_k (H[k,j] -
    # T[k,j]) printed Σ_k H[k,j] - T[k,j]): the text no longer says
    # what the tree does, and the check reads the text
    monkeypatch.setattr(layout_index_print.IndexPrinter, "sum", lambda self, ix: "Σ_" + ",".join(
        k for k, _ in ix.over) + " " + self.print(ix.body))
    r = cli("check", "problems/net_batch_norm.yaml", "--layout", "index", "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "FAIL" in r.stdout


def _net(loss: str, wrt: str, forward=(), layout: str = "index"):
    from gradcli.problems.model import NetworkProblem

    return NetworkProblem(name="t", dims={"n": 3, "m": 2},
                          given={"x": ("n",), "A": ("n", "n"), "B": ("n", "n"), "W": ("m", "n"),
                                 "b": ("m",), "t": ("m",)},
                          forward=tuple(forward), loss=("L", loss), wrt=(wrt,), layout=layout)


@pytest.mark.parametrize("layout", ["numerator", "index"])
@pytest.mark.parametrize(("forward", "loss", "wrt"), [
    ((("z", "W @ x + b"), ("y", "gelu(z)")), "sum(y*t)", "W"),  # sqrt(2/pi): a constant by name
    ((("z", "W @ x + b"), ("y", "step(z)")), "sum(y*t)", "W"),  # a zero gradient: 0 everywhere
    ((), "sum(mean(A @ B, dim=0))", "A"),  # a row broadcast down the rows: no index i
    ((), "x.T @ A @ x", "A"),
    ((), "logdet(A) + trace(A @ diag(x) @ B)", "x"),
    ((), "sum(log_softmax(A, dim=1) * B)", "A"),
])
def test_layouts_hold_across_the_catalog(layout, forward, loss, wrt):
    from gradcli.api import solve

    r = solve(_net(loss, wrt, forward, layout))
    assert r.passed, [(c.what, c.notes) for c in r.checks if not c.passed]
    assert len(r.checks) == 2  # the derivation's check and the view's


def test_claims_stay_in_denominator_layout_whatever_the_layout(cli):
    from pathlib import Path

    q3 = Path("problems/q3.yaml").read_text()
    numerator_claim = q3.replace("W: ((y - t) * y * (1 - y)) @ x.T", "W: x @ ((y - t) * y * (1 - y)).T")
    assert numerator_claim != q3
    r = cli("check", "-", "--layout", "numerator", "--format", "plain", input=numerator_claim)
    assert r.exit_code == 1, r.output  # the numerator form, claimed, is the transpose: wrong
    assert "claims in the file are read in denominator layout" in r.stdout
    assert "WRONG" in r.stdout
    r = cli("check", "-", "--layout", "numerator", "--format", "plain", input=q3)
    assert r.exit_code == 0, r.output


def test_a_layout_view_says_the_hessians_are_as_derived(cli):
    r = cli("check", "problems/net_logistic_hessian.yaml", "--layout", "numerator", "--format",
            "plain")
    assert r.exit_code == 0, r.output
    assert "the Hessians below are as derived: a symmetric ∂²L/∂w² reads the same in every " \
           "layout, and H·v is shaped like the variable (denominator)" in r.stdout
    assert "∂L/∂w = (sigmoid(X @ w) - y).T @ X/N    [1×d, like wᵀ]" in r.stdout
