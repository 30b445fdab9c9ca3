"""Jacobians of forward lines (`jacobians: ["h by x"]`): derived by forward mode in numerator
layout, checked against torch.autograd.functional.jacobian, claims judged against torch's."""

from __future__ import annotations

import json

import pytest

from gradcli.api import solve
from gradcli.errors import InputError
from gradcli.problems.load import load_text

HEADER = "format: 1\nkind: network\n"
LAYER = ("dims: {n: 3, m: 2}\ngiven: {W: [m, n], x: [n], t: [m], c: []}\n"
         "forward:\n  z: W @ x\n  h: sigmoid(z)\nloss:\n  L: 0.5*sum((h - t)**2)\nwrt: [W]\n")


def run(body: str):
    return solve(load_text(HEADER + body, "j.yaml"))


def jacobians(requests: str, extra: str = "", base: str = LAYER):
    return run(base + f"jacobians: [{requests}]\n" + extra)


def test_a_layer_jacobian_is_diag_of_the_derivative_times_the_weights():
    r = jacobians('"h by x"')
    (j,) = r.jacobians
    assert (j.label, j.expression, j.shape) == \
        ("∂h/∂x", "diag(h*(1 - h)) @ W", "m×n")
    assert [s.rule for s in j.steps] == ["product rule over @", "diag() for elementwise factors"]
    assert j.check.reference == "torch.autograd.functional.jacobian"
    assert r.passed and j.check.points == 4 * 6 and j.check.max_rel_error < 1e-12


def test_the_lines_names_are_used_where_their_right_hand_sides_appear():
    # σ(W x) is h at every point, so the Jacobian and its steps say h, not σ(W x) twice
    (j,) = jacobians('"h by x"').jacobians
    assert "sigmoid" not in j.expression and j.steps[-1].subject == "h"


def test_a_linear_line_by_its_input_is_the_weight_matrix():
    (j,) = jacobians('"z by x"').jacobians
    assert (j.expression, j.shape) == ("W", "m×n")


def test_by_a_forward_line_differentiates_down_to_it_and_not_through_it():
    (j,) = jacobians('"h by z"').jacobians
    assert j.expression == "diag(h*(1 - h))" and j.shape == "m×m"
    assert j.check.passed


def test_a_line_that_does_not_use_the_variable_has_a_zero_jacobian_said_in_a_note():
    r = jacobians('"h by t"')
    (j,) = r.jacobians
    assert (j.expression, j.note) == ("0", "h does not depend on t: ∂h/∂t = 0")
    assert r.passed


def test_scalars_on_either_side_give_a_row_or_a_column():
    base = ("dims: {n: 3, m: 2}\ngiven: {w: [n], x: [n], c: [], b: [m], W: [m, n]}\n"
            "forward:\n  s: w.T @ x\n  z: W @ (x + c) + b*c\nloss:\n  L: s + sum(z)\nwrt: [w]\n")
    r = jacobians('"s by w", "z by c"', base=base)
    row, column = r.jacobians
    assert (row.expression, row.shape) == ("x.T", "1×n")
    assert column.shape == "m×1" and r.passed, r.checks


def test_a_nonlinear_jacobian_is_checked_by_torch_not_by_our_own_rules():
    base = ("dims: {n: 3, m: 4}\ngiven: {W: [m, n], x: [n], c: []}\n"
            "forward:\n  u: tanh(W @ x)*c + x.T @ x\nloss:\n  L: sum(u)\nwrt: [W]\n")
    r = jacobians('"u by x", "u by c"', base=base)
    assert r.passed and all(j.check.max_rel_error < 1e-12 for j in r.jacobians)


def test_a_right_jacobian_claim_is_correct_and_a_wrong_one_has_a_counterexample():
    r = jacobians('"h by x"', "jacobian_claims:\n  h by x: diag(h*(1 - h)) @ W\n")
    assert r.claims[0].correct and r.passed
    r = jacobians('"h by x"', "jacobian_claims:\n  h by x: diag(h) @ W\n")
    (v,) = r.claims
    assert not v.correct and not r.passed
    assert v.counterexample.where.startswith("(") and v.counterexample.inputs["point"]


def test_a_transposed_claim_is_wrong_and_the_hint_names_the_layouts():
    r = jacobians('"z by x"', "jacobian_claims:\n  z by x: W.T\n")
    (v,) = r.claims
    assert not v.correct and v.counterexample.where == "shape"
    assert "denominator layout" in v.hint and "numerator layout, m×n" in v.hint


@pytest.mark.parametrize(("request_", "message", "column"), [
    ('"hh by x"', "'hh' is not a forward line", 14),
    ('"h by xx"', "'xx' is not a given or forward variable", 19),
    ('"L by x"', "'L' is the loss, a scalar", 14),
    ('"x by W"', "'x' is a given, not computed from anything", 14),
    ('"z by h"', "'h' is computed after z, so z cannot depend on it", 19),
    ('"h of x"', 'expected "OF by WRT"', 14),
])
def test_a_bad_request_is_placed_at_its_name(request_, message, column):
    with pytest.raises(InputError) as err:
        load_text(HEADER + LAYER + f"jacobians: [{request_}]\n", "j.yaml")
    assert message in str(err.value)
    assert (err.value.line, err.value.column) == (11, column)
    assert err.value.hint


def test_a_matrix_variable_is_refused_with_a_vec_hint_at_the_request():
    with pytest.raises(InputError) as err:
        jacobians('"z by W"')
    assert "m×n matrix" in str(err.value) and "vec(W)" in err.value.hint
    assert (err.value.file, err.value.line) == ("j.yaml", 11)


def test_a_claim_for_a_request_not_listed_is_refused():
    with pytest.raises(InputError) as err:
        load_text(HEADER + LAYER + 'jacobians: ["h by x"]\njacobian_claims:\n  z by x: W\n',
                  "j.yaml")
    assert "'z by x' is not in jacobians" in str(err.value)


def test_json_and_latex_carry_the_jacobian_and_its_layout(cli, tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text(HEADER + LAYER + 'jacobians: ["h by x"]\n')
    r = cli("check", str(path), "-f", "json")
    assert r.exit_code == 0, r.output
    j = json.loads(r.stdout)["jacobians"]["h by x"]
    assert (j["of"], j["wrt"], j["shape"], j["layout"]) == ("h", "x", "m×n", "numerator")
    assert j["check"]["passed"] is True
    latex = cli("check", str(path), "-f", "latex").stdout
    assert r"\frac{\partial h}{\partial x}" in latex and "numerator layout" in latex


def test_the_verdict_counts_include_the_jacobian_checks_and_claims(cli):
    r = cli("check", "problems/net_jacobian_layers.yaml")
    assert r.exit_code == 0, r.output
    assert r.stdout.rstrip().endswith("PASSED: 4/4 checks, 2/2 claims correct (seed 0)")


def test_the_schema_describes_jacobians():
    from gradcli.problems.schema import json_schema

    network = next(b for b in json_schema()["oneOf"] if b["title"] == "kind: network")
    assert "numerator layout" in network["properties"]["jacobians"]["description"]
    assert "by" in network["properties"]["jacobians"]["oneOf"][0]["pattern"]


def test_a_matrix_side_through_vec_gives_kronecker_factors_checked_column_major():
    r = jacobians('"h by vec(W)"', "jacobian_claims:\n  h by vec(W): diag(h*(1 - h)) @ kron(x.T, eye(m))\n")
    (j,) = r.jacobians
    assert (j.label, j.shape) == ("∂h/∂vec(W)", "m×(m·n)")
    assert j.expression == "diag(h*(1 - h)) @ kron(x.T, eye(m))"
    assert r.passed and r.claims[0].correct


def test_a_matrix_line_by_a_matrix_is_vec_by_vec():
    base = ("dims: {N: 4, d: 3, k: 2}\ngiven: {X: [N, d], W: [d, k]}\nforward:\n"
            "  Z: tanh(X @ W)\nloss:\n  L: sum(Z)\nwrt: [W]\n")
    r = jacobians('"vec(Z) by vec(W)", "vec(Z) by vec(X)"', base=base)
    by_w, by_x = r.jacobians
    assert by_w.expression == "diag(vec(1 - Z**2)) @ kron(eye(k), X)"
    assert by_x.expression == "diag(vec(1 - Z**2)) @ kron(W.T, eye(N))"
    assert (by_w.shape, by_x.shape) == ("(N·k)×(d·k)", "(N·k)×(N·d)") and r.passed


def test_vec_of_a_vector_is_refused_as_the_vector_itself():
    with pytest.raises(InputError) as err:
        jacobians('"h by vec(x)"')
    assert "x is not a matrix, so vec(x) is x itself" in str(err.value)
    assert err.value.hint == "write x in the request"
