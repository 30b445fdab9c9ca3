"""Each kind of problem file loads into its dataclass, and each kind's mistakes are placed."""

from __future__ import annotations

from dataclasses import replace
from textwrap import dedent

import pytest

from gradcli import catalog
from gradcli.errors import InputError
from gradcli.problems.load import load_problem
from gradcli.problems.model import (
    DerivativeProblem,
    ImplementationProblem,
    NetworkProblem,
    Origin,
    PoolingProblem,
    VanishingProblem,
)


@pytest.fixture
def load(tmp_path, monkeypatch):
    """load(text) -> the Problem in `p.yaml`, its origin blanked for comparison."""
    monkeypatch.chdir(tmp_path)

    def run(text: str):
        (tmp_path / "p.yaml").write_text(dedent(text), encoding="utf-8")
        return replace(load_problem("p.yaml"), origin=Origin())

    return run


@pytest.fixture
def complaints(load):
    def run(text: str) -> list[str]:
        with pytest.raises(InputError) as info:
            load(text)
        return [e.one_line() for e in info.value.all()]

    return run


Q3 = dedent("""\
    # problems/q3.yaml — worksheet question 3
    format: 1
    kind: network
    name: One-layer sigmoid network, squared loss
    source: "Discussion 2/17, question 3"
    dims: {n: 3}
    given:              # name: shape (a list of dims); [] or omitted = scalar
      x: [n]            # a 1-D shape is a column vector in matrix notation
      t: [n]
      W: [n, n]
      b: [n]
    forward:            # one line per layer, in order; later lines may use earlier names
      z: W @ x + b
      y: sigmoid(z)
    loss:
      L: 0.5 * sum((y - t)**2)
    wrt: [y, W, b]      # the gradients asked for: dL/dy, dL/dW, dL/db
    claims:             # optional: the user's own answers
      W: ((y - t) * y * (1 - y)) @ x.T
    values:             # optional: concrete numbers to evaluate at (else seeded random)
      x: [1.0, -2.0, 0.5]
    """)


# -- good files ------------------------------------------------------------------------------


def test_the_spec_network_example_loads(load):
    assert load(Q3) == NetworkProblem(
        name="One-layer sigmoid network, squared loss", source="Discussion 2/17, question 3",
        dims={"n": 3}, given={"x": ("n",), "t": ("n",), "W": ("n", "n"), "b": ("n",)},
        forward=(("z", "W @ x + b"), ("y", "sigmoid(z)")), loss=("L", "0.5 * sum((y - t)**2)"),
        wrt=("y", "W", "b"), claims={"W": "((y - t) * y * (1 - y)) @ x.T"},
        values={"x": (1.0, -2.0, 0.5)})


def test_a_network_with_matrix_values_scalars_and_a_bare_loss_loads(load):
    assert load("""\
        format: 1
        kind: network
        dims: {m: 2}
        given: {A: [m, 2], s: [], c: null}
        loss: s * sum(A) + c
        wrt: A
        values: {A: [[1, 2], [3, 4.5]], s: 2}
        """) == NetworkProblem(
        name="p", dims={"m": 2}, given={"A": ("m", 2), "s": (), "c": ()},
        loss=("L", "s * sum(A) + c"), wrt=("A",), values={"A": ((1.0, 2.0), (3.0, 4.5)), "s": 2.0})


def test_a_derivative_of_a_catalog_function_loads(load):
    assert load("""\
        format: 1
        kind: derivative
        name: GELU
        description: The worksheet's GELU.
        source: "Discussion 2/17, question 5"
        function: gelu
        at: [0.5, -1, 2e-1]
        claim: "0.5*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))"
        steps: false
        check: true
        """) == DerivativeProblem(
        name="GELU", description="The worksheet's GELU.", source="Discussion 2/17, question 5",
        function="gelu", at=(0.5, -1.0, 0.2),
        claim="0.5*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))", steps=False, check=True)


def test_a_derivative_takes_wrt_as_a_one_item_list_as_network_files_write_it(load, complaints):
    header = "format: 1\nkind: derivative\nfunction: x*y\n"
    assert load(header + "wrt: [y]\n").wrt == "y"
    assert complaints(header + "wrt: [x, y]\n") == [
        "p.yaml:4:6: wrt: a derivative problem differentiates by one variable, got 2 (write one "
        "file per variable, or use kind: network)"]


def test_a_derivative_of_an_expression_with_wrt_loads(load):
    assert load("""\
        format: 1
        kind: derivative
        function: a*x**2 + b
        wrt: a
        at: 3
        claim: x**2
        """) == DerivativeProblem(name="p", function="a*x**2 + b", wrt="a", at=(3.0,),
                                  claim="x**2")


def test_a_pooling_problem_loads_grids_as_lists_or_text(load):
    assert load("""\
        format: 1
        kind: pooling
        source: "Discussion 2/17, question 6"
        input:
          - [2, 2, 7, 3]
          - [9, 4, 6, 1]
          - [8, 5, 2, 4]
          - [3, 1, 2, 6]
        mode: avg
        kernel: 2
        stride: 2
        padding: 0
        count_include_pad: false
        upstream: "1 2; 3 4"
        claim: |
          0.25 0.25 0.5 0.5
          0.25 0.25 0.5 0.5
          0.75 0.75 1 1
          0.75 0.75 1 1
        """) == PoolingProblem(
        name="p", source="Discussion 2/17, question 6",
        input=((2, 2, 7, 3), (9, 4, 6, 1), (8, 5, 2, 4), (3, 1, 2, 6)), mode="avg", kernel=2,
        stride=2, padding=0, count_include_pad=False, upstream=((1, 2), (3, 4)),
        claim=((0.25, 0.25, 0.5, 0.5), (0.25, 0.25, 0.5, 0.5), (0.75, 0.75, 1, 1),
               (0.75, 0.75, 1, 1)))


def test_a_pooling_problem_with_defaults_loads(load):
    assert load("format: 1\nkind: pooling\ninput: '1 2; 3 4'\nmode: max\nstride: null\n") == \
        PoolingProblem(name="p", input=((1, 2), (3, 4)), mode="max")


def test_a_vanishing_problem_loads(load):
    assert load("""\
        format: 1
        kind: vanishing
        activations: [sigmoid, relu]
        depth: 10
        width: 32
        init: he
        batch: 8
        seed: 3
        """) == VanishingProblem(name="p", activations=("sigmoid", "relu"), depth=10, width=32,
                                 init="he", batch=8, seed=3)


def test_an_implementation_problem_loads_with_its_solution_relative_to_the_file(load, tmp_path):
    (tmp_path / "mine.py").write_text("def normalize_tensor(X):\n    return X\n")
    assert load("""\
        format: 1
        kind: implementation
        function: normalize_tensor
        inputs:
          X: [m, n]
        reference: (X - sum(X, dim=0) / 3) / norm(X - sum(X, dim=0) / 3, dim=0)
        constraints:
          forbid: [torch.mean]
          one_line: false
        solution: mine.py
        notes: [Normalise each column.]
        """) == ImplementationProblem(
        name="p", function="normalize_tensor", inputs={"X": ("m", "n")},
        reference="(X - sum(X, dim=0) / 3) / norm(X - sum(X, dim=0) / 3, dim=0)",
        forbid=("torch.mean",), one_line=False, solution="mine.py", notes=("Normalise each column.",))


def test_declared_names_may_shadow_the_constants(load):
    problem = load("format: 1\nkind: network\ngiven: {e: []}\nloss: e**2\nwrt: e\n")
    assert problem.given == {"e": ()}


# -- network mistakes ------------------------------------------------------------------------


def test_a_bad_character_inside_a_forward_line_is_placed_exactly(complaints):
    assert complaints(Q3.replace("y: sigmoid(z)", "y: sigmoid(z) ^ 2")) == [
        "p.yaml:14:17: forward.y: '^' is not allowed (write ** for powers)"]


def test_an_undeclared_name_in_a_forward_line_is_placed_with_a_suggestion(complaints):
    assert complaints(Q3.replace("z: W @ x + b", "z: W @ x + bb")) == [
        "p.yaml:13:14: forward.z: unknown name 'bb' (did you mean 'b'?)"]


def test_a_forward_line_using_a_later_line_is_refused_at_the_use(complaints):
    assert complaints(Q3.replace("z: W @ x + b", "z: W @ y + b")) == [
        "p.yaml:13:10: forward.z: 'y' is defined later, on line 14 "
        "(a forward line may use given names and earlier lines)"]


def test_a_forward_line_using_itself_is_refused(complaints):
    assert complaints(Q3.replace("y: sigmoid(z)", "y: sigmoid(y)")) == [
        "p.yaml:14:14: forward.y: 'y' uses itself "
        "(a forward line may use given names and earlier lines)"]


def test_a_forward_name_may_not_redefine_a_given_or_a_catalog_function(complaints):
    assert complaints(Q3.replace("y: sigmoid(z)", "y: sigmoid(z)\n  x: z\n  exp: z")) == [
        "p.yaml:15:3: forward: 'x' is already declared",
        "p.yaml:16:3: forward: 'exp' is a catalog function; choose another name"]


def test_wrt_naming_nothing_is_refused_with_a_suggestion(complaints):
    assert complaints(Q3.replace("wrt: [y, W, b]", "wrt: [y, W, bb, y]")) == [
        "p.yaml:17:13: wrt: 'bb' is not a given or forward variable (did you mean 'b'?)",
        "p.yaml:17:17: wrt: 'y' is listed twice"]


def test_an_empty_wrt_is_refused_as_the_schema_says(complaints):
    found = complaints(Q3.replace("wrt: [y, W, b]", "wrt: []").split("claims:")[0])
    assert found == ["p.yaml:17:6: wrt: expected at least one variable to differentiate by "
                     "(e.g. wrt: [W])"]


def test_a_claim_for_a_gradient_not_asked_for_is_refused(complaints):
    assert complaints(Q3.replace("wrt: [y, W, b]", "wrt: [y, b]")) == [
        "p.yaml:19:3: claims: 'W' is not in wrt, so its gradient is not derived (add W to wrt)"]


def test_an_undeclared_dim_in_a_shape_is_refused(complaints):
    assert complaints(Q3.replace("W: [n, n]", "W: [n, m]")) == [
        "p.yaml:10:10: given.W: 'm' is not a declared dim "
        "(declare it under dims, e.g. dims: {m: 3})"]


def test_shapes_have_at_most_two_dims_and_dims_are_positive(complaints):
    assert complaints(Q3.replace("W: [n, n]", "W: [n, n, 2]").replace("{n: 3}", "{n: 0}")) == [
        "p.yaml:6:11: dims.n: must be at least 1, got 0",
        "p.yaml:10:6: given.W: has 3 dims; shapes have at most 2 (vectors and matrices)"]


def test_values_must_match_the_declared_shape_and_be_given(complaints):
    text = Q3.replace("x: [1.0, -2.0, 0.5]", "x: [1.0, -2.0]\n  z: [1, 2, 3]\n  W: 1")
    assert complaints(text) == [
        "p.yaml:21:6: values.x: has 2 entries but the shape [n] needs 3",
        "p.yaml:22:3: values: 'z' is not a given variable "
        "(forward values are computed from the given ones)",
        "p.yaml:23:6: values.W: expected a list for shape [n, n], got the number 1"]


def test_a_loss_has_one_entry(complaints):
    assert complaints(Q3.replace("L: 0.5 * sum((y - t)**2)", "L: sum(y)\n  M: sum(t)")) == [
        "p.yaml:16:3: loss: expected one entry (name: expression), got 2"]


def test_an_undeclared_name_in_the_loss_and_a_claim(complaints):
    text = Q3.replace("(y - t)**2", "(y - tt)**2").replace("@ x.T", "@ q.T")
    assert complaints(text) == [
        "p.yaml:16:21: loss.L: unknown name 'tt' (did you mean 't'?)",
        "p.yaml:19:32: claims.W: unknown name 'q'"]


def test_a_network_without_given_loss_or_wrt_says_what_is_missing(complaints):
    assert complaints("format: 1\nkind: network\n") == [
        "p.yaml:1:1: missing key 'given' (required in a network problem)",
        "p.yaml:1:1: missing key 'loss' (required in a network problem)",
        "p.yaml:1:1: missing key 'wrt' (required in a network problem)"]


def test_wrong_types_in_a_network(complaints):
    assert complaints("format: 1\nkind: network\ngiven: [x]\nloss: [1]\nwrt: {a: 1}\n") == [
        "p.yaml:3:8: given: expected a mapping (name: value), got a list",
        "p.yaml:4:7: loss: expected a mapping (name: value), got a list",
        "p.yaml:5:6: wrt: expected a list, got a mapping"]


# -- derivative mistakes ---------------------------------------------------------------------


def test_wrt_must_appear_in_the_function(complaints):
    assert complaints("format: 1\nkind: derivative\nfunction: x*sigmoid(x)\nwrt: y\n") == [
        "p.yaml:4:6: wrt: 'y' does not appear in the function (its variables: x)"]


def test_a_claim_may_use_only_the_functions_variables(complaints):
    assert complaints("format: 1\nkind: derivative\nfunction: gelu\nclaim: 2*z\n") == [
        "p.yaml:4:10: claim: unknown name 'z'"]


def test_a_function_must_be_an_expression(complaints):
    assert complaints("format: 1\nkind: derivative\nfunction: [x]\n") == [
        "p.yaml:3:11: function: expected an expression, got a list"]


# -- pooling mistakes ------------------------------------------------------------------------


def test_grid_rows_of_different_lengths_are_refused(complaints):
    assert complaints("format: 1\nkind: pooling\ninput:\n  - [1, 2]\n  - [3]\n") == [
        "p.yaml:5:5: input: row 2 has 1 values but row 1 has 2; every row needs the same "
        "number of values"]


def test_a_bad_cell_in_a_text_grid_is_placed(complaints):
    assert complaints("format: 1\nkind: pooling\ninput: |\n  1 2\n  3 x\n") == [
        "p.yaml:5:5: input: row 2, column 2: 'x' is not a number "
        "(write decimal numbers or fractions such as 1/4)"]


def test_a_nan_cell_in_a_list_grid_is_refused(complaints):
    assert complaints("format: 1\nkind: pooling\ninput: [[1, .NaN]]\n") == [
        "p.yaml:3:13: input: row 1, column 2: .NaN is not allowed; numbers must be finite"]


def test_upstream_and_claim_must_fit_the_pooling(complaints):
    text = ("format: 1\nkind: pooling\ninput: '1 2 3 4; 5 6 7 8'\nkernel: 2\n"
            "upstream: '1 2 3'\nclaim: '1 2; 3 4'\n")
    assert complaints(text) == [
        "p.yaml:5:12: upstream: is 1×3 but the pooled output is 1×2",
        "p.yaml:6:9: claim: is 2×2 but the input is 2×4"]


def test_padding_and_kernel_must_fit_as_torch_requires(complaints):
    assert complaints("format: 1\nkind: pooling\ninput: '1 2; 3 4'\nkernel: 2\npadding: 2\n") == [
        "p.yaml:5:10: padding: padding 2 is more than half the kernel 2 "
        "(torch allows padding up to kernel // 2)"]
    assert complaints("format: 1\nkind: pooling\ninput: '1 2; 3 4'\nkernel: 3\n") == [
        "p.yaml:4:9: kernel: kernel 3 is larger than the padded input (2×2)"]


# -- vanishing and implementation mistakes ---------------------------------------------------

# offered: elementwise, defined for both signs (log and sqrt are read, then refused) and
# needing no argument but x (clamp's lo and hi are never guessed)
ACTIVATIONS = ", ".join(name for name in catalog.ENTRIES if catalog.is_elementwise(name)
                        and catalog.ENTRIES[name].domain == "real"
                        and catalog.ENTRIES[name].sig.fewest == 1)


def test_vanishing_activations_and_sizes_are_checked(complaints):
    assert complaints("format: 1\nkind: vanishing\nactivations: [sigmod, relu]\n"
                      "depth: 0\nwidth: 100000\ninit: kaiming\n") == [
        f"p.yaml:3:15: activations: 'sigmod' is not one of {ACTIVATIONS} (did you mean 'sigmoid'?)",
        "p.yaml:4:8: depth: must be at least 1, got 0",
        "p.yaml:5:8: width: must be at most 4096, got 100000",
        "p.yaml:6:7: init: 'kaiming' is not one of default, xavier, he"]


def test_an_implementation_reference_may_use_only_its_inputs(complaints):
    assert complaints("format: 1\nkind: implementation\nfunction: f\ninputs: {X: [m, n]}\n"
                      "reference: X + Y\n") == [
        "p.yaml:5:16: reference: unknown name 'Y'"]


def test_implementation_constraints_and_solution_are_checked(complaints, tmp_path):
    text = ("format: 1\nkind: implementation\nfunction: f\ninputs: {X: [m, n]}\nreference: X\n"
            "constraints:\n  forbid: [torch.mean, 'torch..flip']\n  one_lin: true\n"
            "solution: missing.py\n")
    assert complaints(text) == [
        "p.yaml:7:25: constraints.forbid: expected a call such as torch.mean, "
        "got the text 'torch..flip'",
        "p.yaml:8:3: constraints: unknown key 'one_lin' (did you mean 'one_line'?)",
        "p.yaml:9:11: solution: no such file: missing.py"]


def test_an_implementation_needs_function_inputs_and_reference(complaints):
    assert complaints("format: 1\nkind: implementation\n") == [
        "p.yaml:1:1: missing key 'function' (required in an implementation problem)",
        "p.yaml:1:1: missing key 'inputs' (required in an implementation problem)",
        "p.yaml:1:1: missing key 'reference' (required in an implementation problem)"]


def test_an_implementation_reference_may_be_a_builtin_or_use_dim_names(load):
    problem = load("format: 1\nkind: implementation\nfunction: reverse_rows\n"
                   "inputs: {X: [m, n]}\nreference: builtin:reverse_rows\n")
    assert problem.reference == "builtin:reverse_rows"
    problem = load("format: 1\nkind: implementation\nfunction: f\ninputs: {X: [m, n]}\n"
                   "reference: X - sum(X, dim=0) / m\n")
    assert problem.reference == "X - sum(X, dim=0) / m"


def test_a_builtin_reference_needs_a_name(complaints):
    assert complaints("format: 1\nkind: implementation\nfunction: f\ninputs: {X: [m]}\n"
                      "reference: 'builtin:no such'\n") == [
        "p.yaml:5:13: reference: 'no such' is not a valid built-in reference name"]


# -- robustness: any edit of a good file is a Problem or an InputError, never a crash ---------

GOOD_FILES = [Q3, "format: 1\nkind: pooling\ninput: [[1, 2], [3, 4]]\nkernel: 2\nstride: 1\n"
              "padding: 1\nupstream: '1 2 3; 4 5 6; 7 8 9'\nclaim: [[1, 2], [3, 4]]\n",
              "format: 1\nkind: derivative\nfunction: a*x**2\nwrt: x\nat: [1, 2]\nclaim: 2*a*x\n",
              "format: 1\nkind: vanishing\nactivations: [relu, tanh]\ndepth: 3\nseed: 1\n",
              "format: 1\nkind: implementation\nfunction: f\ninputs: {X: [m, n]}\nreference: X\n"
              "constraints: {forbid: [torch.flip], one_line: true}\nnotes: [x]\n"]


def test_a_missing_pooling_input_is_reported_not_crashed_on(complaints):
    assert complaints("format: 1\nkind: pooling\nupstream: [[1]]\n") == [
        "p.yaml:1:1: missing key 'input' (required in a pooling problem)"]


def test_edited_good_files_load_or_fail_with_input_errors_only():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from gradcli.problems.load import load_text

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(GOOD_FILES), st.integers(0, 10**6), st.integers(0, 8),
           st.text("[]{}:,-'\"\n x0.9#&*!|>?", max_size=4))
    def edit(text, at, cut, insert):
        at %= len(text) + 1
        try:
            load_text(text[:at] + insert + text[at + cut:], "p.yaml")
        except InputError as err:
            assert all(e.file == "p.yaml" and e.message for e in err.all())

    edit()


def test_a_tensor_too_large_to_check_is_refused_before_allocation(cli, tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("format: 1\nkind: network\ndims: {n: 4096}\ngiven:\n  x: [n]\n  W: [n, n]\n"
                    "forward:\n  z: W @ x\nloss:\n  L: sum(z)\nwrt: [W]\n")
    r = cli("check", str(path))
    assert r.exit_code == 2
    assert f"{path}:6:6: given.W: W would have 16,777,216 entries" in r.output


def test_fixed_input_sizes_over_the_budget_are_refused_at_their_line(cli, tmp_path):
    # 100000×100000 asked torch for 80 GB: exit 3
    path = tmp_path / "huge.yaml"
    path.write_text("format: 1\nkind: implementation\nname: huge\nfunction: ident\n"
                    "inputs: {X: [100000, 100000]}\nreference: X\n")
    r = cli("check", str(path))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {path}:5:13: inputs.X: X has 10,000,000,000 entries; an "
                               "implementation exercise takes at most 250,000 per input")
