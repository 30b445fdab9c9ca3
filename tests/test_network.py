"""kind: network — derivation in closed matrix form, verification, claims, errors."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gradcli.api import solve
from gradcli.errors import InputError
from gradcli.expr.unparse import unparse
from gradcli.kinds.network.backprop import Backprop
from gradcli.kinds.network.graph import build
from gradcli.problems.model import NetworkProblem, Origin

BUNDLED = Path(__file__).resolve().parent.parent / "gradcli" / "bundled"

Q3 = NetworkProblem(
    name="q3", dims={"n": 3}, given={"x": ("n",), "t": ("n",), "W": ("n", "n"), "b": ("n",)},
    forward=(("z", "W @ x + b"), ("y", "sigmoid(z)")), loss=("L", "0.5 * sum((y - t)**2)"),
    wrt=("y", "W", "b", "x"), values={"x": [1.0, -2.0, 0.5]})

DELTA = "(y - t)*y*(1 - y)"


def gradients(problem: NetworkProblem) -> dict:
    return {g.name: g for g in solve(problem).gradients}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def q3_with_claims(tmp_path: Path, **claims: str) -> str:
    text = (BUNDLED / "q3.yaml").read_text(encoding="utf-8")
    head, _, rest = text.partition("claims:")
    _, _, values = rest.partition("values:")
    lines = "".join(f"  {k}: {v}\n" for k, v in claims.items())
    return write(tmp_path, f"{head}claims:\n{lines}values:{values}")


# -- the derivation ---------------------------------------------------------------------

def test_q3_gradients_are_the_course_closed_forms():
    g = gradients(Q3)
    assert g["y"].expression == "y - t"
    assert g["W"].expression == f"({DELTA}) @ x.T"
    assert g["b"].expression == DELTA
    assert g["x"].expression == f"W.T @ ({DELTA})"


def test_q3_course_notation_names_delta_and_uses_hadamard_and_transpose():
    g = gradients(Q3)
    assert g["W"].pretty == "δ xᵀ"
    assert g["x"].pretty == "Wᵀ δ"
    assert g["b"].pretty == "δ"
    assert g["W"].pretty_expanded == "((y − t) ⊙ y ⊙ (1 − y)) xᵀ"
    assert g["W"].latex == r"\delta \, x^{\top}"  # LaTeX shows the display form, like rich


def test_sigmoid_derivative_reuses_the_forward_name():
    r = solve(Q3)
    step = next(s for s in r.steps if s.rule == "elementwise sigmoid")
    assert step.note == "σ′(z) = y ⊙ (1 − y)"
    assert "sigmoid" not in r.gradients[1].expression


def test_every_step_names_its_rule_and_states_its_shape():
    r = solve(Q3)
    assert r.steps
    for s in r.steps:
        assert s.rule and s.formula and s.shape in ("scalar", "n×1", "n×n"), s
    matmul = next(s for s in r.steps if s.rule == "matrix product (left factor)")
    assert (matmul.label, matmul.pretty, matmul.display, matmul.shape) == \
        ("∂L/∂W", "δ xᵀ", "δ @ x.T", "n×n")  # the rule's local form, with the upstream's name


def test_gradient_shapes_are_the_variables_shapes():
    g = gradients(Q3)
    assert {k: v.shape for k, v in g.items()} == {"y": "n×1", "W": "n×n", "b": "n×1", "x": "n×1"}


def test_derivation_is_the_same_for_width_3_and_1024():
    def derive(n: int):
        graph = build(replace(Q3, dims={"n": n}, values={}))
        bp = Backprop(graph, set(graph.wrt))
        d = bp.run()
        return ({k: unparse(d.expand(v)) for k, v in d.gradients.items()},
                [(s.rule, unparse(d.expand(s.value))) for s in d.steps])

    assert derive(3) == derive(1024)


def test_derivation_never_touches_entries():
    # a width at which any per-entry work would take forever, or run out of memory
    graph = build(replace(Q3, dims={"n": 10**12}, values={}))
    start = time.perf_counter()
    d = Backprop(graph, set(graph.wrt)).run()
    assert time.perf_counter() - start < 0.5
    assert unparse(d.expand(d.gradients["W"])) == f"({DELTA}) @ x.T"


def test_width_1024_derives_and_verifies():
    r = solve(replace(Q3, dims={"n": 1024}, values={}, wrt=("W",)))
    assert r.passed, r.checks
    assert r.gradients[0].expression == f"({DELTA}) @ x.T"


def test_row_bias_broadcast_over_batch_is_summed_over_rows():
    p = NetworkProblem(
        dims={"N": 6, "d": 4, "m": 3},
        given={"X": ("N", "d"), "W": ("d", "m"), "b": (1, "m"), "T": ("N", "m")},
        forward=(("Y", "X @ W + b"),), loss=("L", "0.5 * sum((Y - T)**2)"), wrt=("W", "b", "X"))
    r = solve(p)
    g = {x.name: x for x in r.gradients}
    assert r.passed
    assert g["b"].expression == "sum(Y - T, dim=0)"
    assert g["b"].shape == "1×m"
    assert g["W"].expression == "X.T @ (Y - T)"
    assert g["X"].expression == "(Y - T) @ W.T"
    step = next(s for s in r.steps if s.label == "∂L/∂b")
    assert step.rule == "broadcast add" and "dim=0" in step.note


def test_softmax_cross_entropy_mean_divides_by_batch_size_N():
    r = solve(NetworkProblem(
        dims={"N": 5, "d": 3, "C": 4}, given={"X": ("N", "d"), "W": ("d", "C"), "Y": ("N", "C")},
        given_kinds={"Y": ("onehot", None)},
        forward=(("Z", "X @ W"),), loss=("L", "cross_entropy(Z, Y)"), wrt=("Z", "W")))
    g = {x.name: x for x in r.gradients}
    assert r.passed, r.checks
    assert g["Z"].expression == "(softmax(Z) - Y)/5"
    assert g["Z"].pretty_expanded == "(softmax(Z) − Y)/N"
    assert g["W"].expression == "X.T @ ((softmax(Z) - Y)/5)"


def test_two_paths_to_one_name_are_added():
    p = NetworkProblem(dims={"n": 3}, given={"x": ("n",), "A": ("n", "n")},
                       forward=(("y", "A @ x + x"),), loss=("L", "sum(y * y)"), wrt=("x",))
    r = solve(p)
    assert r.passed
    assert r.gradients[0].expression == "2*(A.T @ y) + 2*y"


def test_scalar_parameter_gradient_sums_over_entries():
    p = NetworkProblem(dims={"n": 3}, given={"x": ("n",), "s": ()},
                       forward=(("y", "s * x"),), loss=("L", "sum(y**2)"), wrt=("s",))
    r = solve(p)
    assert r.passed
    assert r.gradients[0].expression == "2*sum(y*x)"
    assert r.gradients[0].shape == "scalar"


def test_layer_alone_gets_a_random_upstream():
    p = NetworkProblem(dims={"n": 3, "m": 2}, given={"x": ("n",), "W": ("m", "n")},
                       forward=(("h", "tanh(W @ x)"),), wrt=("W",))
    r = solve(p)
    assert r.passed
    assert r.gradients[0].expression == "(grad_h*(1 - h**2)) @ x.T"
    assert any("grad_h" in n for n in r.notes)


def test_unused_variable_gets_a_zero_gradient_and_a_note():
    p = replace(Q3, given={**Q3.given, "u": ("n",)}, wrt=("u",), values={})
    g = gradients(p)["u"]
    assert (g.expression, g.note) == ("0", "L does not depend on u")


# -- verification -----------------------------------------------------------------------

def test_checks_compare_closed_form_with_autograd_per_entry_in_float64():
    r = solve(Q3)
    assert r.passed
    assert len(r.checks) == 4
    for c in r.checks:
        assert c.passed and c.max_rel_error < 1e-12 and c.points == 4
        assert c.reference == "torch autograd through the forward (float64)"


def test_first_point_uses_the_files_values():
    r = solve(Q3)
    assert r.points[0] == "the file's values (other inputs random)"


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b, c = solve(Q3, seed=5), solve(Q3, seed=5), solve(Q3, seed=6)
    assert a.checks[1].expected == b.checks[1].expected
    assert a.checks[1].where == b.checks[1].where
    assert (a.checks[1].expected, a.checks[1].where) != (c.checks[1].expected, c.checks[1].where)


def test_finite_differences_referee_a_disagreement():
    from gradcli.kinds.network import verify as V

    graph = build(Q3)
    pts = V.points(graph, Q3, seed=0, count=2)
    autos = [V.autograd(graph, p, ["W"]) for p in pts]
    right = [a[0]["W"] for a in autos]
    wrong = [r.clone() for r in right]
    wrong[1][2, 0] += 1e-3
    tally = V.RouteCheck(graph, "W", "∂L/∂W")
    for p, auto, closed in zip(pts, right, wrong, strict=True):
        tally.add(p, auto, closed)
    check, truth = tally.result()
    assert not check.passed and truth == "autograd"
    assert check.where == "(3, 1) at random point 2"
    assert any("finite differences at (3, 1)" in n and "agree with torch autograd" in n
               for n in check.notes)


def test_one_wrong_entry_in_a_300_by_300_gradient_fails_the_comparison():
    from gradcli.verify.compare import AUTOGRAD, compare

    gen = torch.Generator().manual_seed(0)
    truth = torch.randn(300, 300, generator=gen, dtype=torch.float64)
    got = truth.clone()
    got[123, 45] *= 1 + 1e-6
    c = compare("∂L/∂W", truth, got, reference="autograd", tol=AUTOGRAD)
    assert not c.passed
    assert c.where == "(124, 46)"
    assert (c.expected, c.got) == (float(truth[123, 45]), float(got[123, 45]))


def test_one_wrong_entry_in_a_claimed_300_by_300_gradient_is_caught(tmp_path, cli):
    n = 300
    e = [0.0] * n
    e[41] = 1.0
    text = f"""format: 1
kind: network
name: big
dims: {{n: {n}}}
given: {{x: [n], t: [n], W: [n, n], b: [n], u: [n]}}
forward:
  z: W @ x + b
  y: sigmoid(z)
loss:
  L: 0.5 * sum((y - t)**2)
wrt: [W]
claims:
  W: ((y - t) * y * (1 - y)) @ x.T + 1e-6 * u @ u.T
values:
  u: {e}
"""
    r = cli("check", write(tmp_path, text), "--format", "json")
    assert r.exit_code == 1, r.output
    verdict = json.loads(r.stdout)["claims"][0]
    assert verdict["verdict"] == "wrong"
    assert verdict["counterexample"]["where"].startswith("(42, 42) at the file's values")
    ce = verdict["counterexample"]
    assert abs(ce["claimed"] - ce["true"] - 1e-6) < 1e-12


# -- claims -----------------------------------------------------------------------------

@pytest.mark.parametrize("claim", [
    f"({DELTA}) @ x.T",
    "((y - t) * sigmoid(z) * (1 - sigmoid(z))) @ x.T",
    "((y - t) * exp(-z) / (1 + exp(-z))**2) @ x.T",
    "(y*(1-y)*(y - t)) @ x.T",
    "(x @ ((y - t)*y*(1 - y)).T).T",
])
def test_equivalent_forms_of_dL_dW_are_accepted(claim):
    r = solve(replace(Q3, claims={"W": claim}))
    assert r.passed, r.claims
    assert r.claims[0].method.startswith("equal to ∂L/∂W entry by entry at 4 sample points")


@pytest.mark.parametrize(("claim", "hint"), [
    (f"x @ ({DELTA}).T", "transposed: the claim is (∂L/∂W)ᵀ"),
    ("((y - t) * sigmoid(z)) @ x.T",
     "missing the activation's derivative: σ(z) = y appears where σ′(z) = y ⊙ (1 − y) belongs"),
    ("(y - t) @ x.T", "missing the factor σ′(z) = y ⊙ (1 − y)"),
    (f"-({DELTA}) @ x.T", "sign flipped: the claim is −∂L/∂W"),
    (f"2*({DELTA}) @ x.T", "off by a constant factor: the claim is 2 × ∂L/∂W"),
])
def test_wrong_claims_get_a_counterexample_and_a_hint(claim, hint):
    r = solve(replace(Q3, claims={"W": claim}))
    v = r.claims[0]
    assert not r.passed and not v.correct
    assert v.hint.startswith(hint), v.hint
    assert v.hint.endswith("∂L/∂W = ((y − t) ⊙ y ⊙ (1 − y)) xᵀ")
    ce = v.counterexample
    assert ce.where.endswith("at the file's values (other inputs random)")
    assert ce.inputs["x"] == [1.0, -2.0, 0.5]
    assert ce.claimed != pytest.approx(ce.true)


def test_counterexample_values_are_the_true_and_claimed_entries():
    r = solve(replace(Q3, claims={"W": f"x @ ({DELTA}).T"}))
    ce = r.claims[0].counterexample
    from gradcli.kinds.network import verify as V

    graph = build(Q3)
    point = V.points(graph, Q3, seed=0)[0]
    true, env = V.autograd(graph, point, ["W"])
    i, j = (int(k) - 1 for k in ce.where.split(")")[0].strip("(").split(", "))
    assert ce.true == float(true["W"][i, j])
    assert ce.claimed == pytest.approx(float(true["W"][j, i]), rel=1e-14)


def test_claim_of_the_wrong_shape_is_wrong_with_a_transpose_hint():
    p = NetworkProblem(dims={"n": 3, "m": 2}, given={"x": ("n",), "W": ("m", "n"), "t": ("m",)},
                       forward=(("y", "W @ x"),), loss=("L", "0.5*sum((y - t)**2)"),
                       wrt=("W",), claims={"W": "x @ (y - t).T"})
    v = solve(p).claims[0]
    assert not v.correct
    assert v.counterexample.claimed == "a n×m matrix" and v.counterexample.true == "∂L/∂W is m×n"
    assert v.hint.startswith("transposed: the claim is n×m but ∂L/∂W has the shape of W, m×n")


def test_bias_claim_without_the_sum_over_rows_gets_a_broadcast_hint():
    p = NetworkProblem(dims={"N": 4, "m": 3}, given={"X": ("N", "m"), "b": (1, "m"), "T": ("N", "m")},
                       forward=(("Y", "X + b"),), loss=("L", "0.5*sum((Y - T)**2)"),
                       wrt=("b",), claims={"b": "Y - T"})
    v = solve(p).claims[0]
    assert not v.correct
    assert v.hint.startswith("b was broadcast in the forward, so its gradient is the upstream "
                             "summed over the broadcast axes: sum(..., dim=0) gives 1×m")


def test_a_bias_that_was_not_broadcast_gets_no_sum_hint_for_a_too_big_claim():
    v = solve(replace(Q3, wrt=("b",), claims={"b": f"{DELTA} @ x.T"})).claims[0]
    assert not v.correct and v.counterexample.true == "∂L/∂b is n×1"
    assert "broadcast" not in v.hint
    assert v.hint == ("∂L/∂b has the shape of b, n×1; the claim is n×n; "
                      "∂L/∂b = (y − t) ⊙ y ⊙ (1 − y)")


def test_a_column_claim_for_a_matrix_gradient_is_wrong_and_says_it_was_repeated():
    v = solve(replace(Q3, wrt=("W",), claims={"W": DELTA})).claims[0]
    assert not v.correct and v.counterexample.where != "shape"  # judged by its values
    assert v.hint.startswith("the claim is n×1, broadcast to n×n (every column the same) to "
                             "compare it; ∂L/∂W has the shape of W: ∂L/∂W = ")


SCALED = NetworkProblem(dims={"n": 3}, given={"x": ("n",), "c": (), "b": ()},
                        forward=(("z", "c * x + b"),), loss=("L", "sum(z**2)"), wrt=("c", "b"))


def test_a_vector_claim_for_a_scalar_parameter_is_wrong_with_a_sum_hint():
    v = solve(replace(SCALED, claims={"c": "2 * z * x"})).claims[0]
    assert not v.correct and v.counterexample.true == "∂L/∂c is scalar"
    assert v.hint == ("∂L/∂c is a scalar, as c is; the claim is n×1: c was broadcast in the "
                      "forward, so its gradient is the upstream summed over every entry; "
                      "∂L/∂c = 2·sum(z ⊙ x)")


def test_a_summed_claim_for_a_scalar_parameter_is_correct():
    verdicts = solve(replace(SCALED, claims={"c": "2 * sum(z * x)", "b": "sum(2 * z)"})).claims
    assert [v.correct for v in verdicts] == [True, True]


def test_a_claim_that_is_infinite_is_wrong_not_an_internal_error():
    p = NetworkProblem(dims={"n": 3}, given={"x": ("n",)}, forward=(), loss=("L", "sum(x**2)"),
                       wrt=("x",), claims={"x": "2 * x / (0 * x)"})
    v = solve(p).claims[0]
    assert not v.correct and v.counterexample.claimed == float("inf")


def test_a_check_whose_values_are_all_nan_fails_instead_of_passing_vacuously():
    p = NetworkProblem(dims={"n": 3}, given={"x": ("n",)}, forward=(("y", "(x - 10)**0.5"),),
                       loss=("L", "sum(y)"), wrt=("x",), claims={"x": "12345 * x"})
    r = solve(p)
    assert not r.checks[0].passed
    assert any("no entry is finite at any sample point" in n for n in r.checks[0].notes)
    v = r.claims[0]
    assert not v.correct and v.method.startswith("cannot be judged: ∂L/∂x is NaN or infinite")


def test_entries_that_overflow_on_both_routes_are_counted_not_compared():
    p = NetworkProblem(dims={"n": 3}, given={"x": ("n",)}, forward=(("y", "exp(1000*x)"),),
                       loss=("L", "sum(y)"), wrt=("x",), claims={"x": "1000 * exp(1000*x)"})
    r = solve(p)
    check = r.checks[0]
    assert check.passed
    note = next(n for n in check.notes if "NaN or infinite on both routes" in n)
    assert note.endswith("2 of 12 entries are NaN or infinite on both routes and were not compared")
    assert r.claims[0].correct and "2 of 12 entries" in r.claims[0].method


def test_a_forward_line_torch_refuses_at_the_sample_points_is_placed_at_its_line(tmp_path):
    # bce of raw scores: the message had no file and no line
    path = write(tmp_path, "format: 1\nkind: network\nname: no sigmoid\ndims: {n: 3, d: 2}\n"
                           "given:\n  x: [d]\n  W: [n, d]\n  t: [n]\nforward:\n  p: W @ x\n"
                           "loss:\n  L: bce(p, t)\nwrt: [W]\n")
    from gradcli.problems.load import load_problem

    with pytest.raises(InputError) as caught:
        solve(load_problem(path))
    err = caught.value
    assert (err.file, err.line, err.column) == (path, 12, 6)
    assert err.message == "cannot evaluate: all elements of input should be between 0 and 1"
    assert "bce_with_logits" in err.hint


def test_a_hint_about_a_gradient_without_closed_form_does_not_restate_its_label():
    p = NetworkProblem(given={"X": (4, 4)}, forward=(), loss=("L", "sum(avg_pool2d(X, 2, 2))"),
                       wrt=("X",), claims={"X": "1 + 0 * X"})
    v = solve(p).claims[0]
    assert v.hint == ("off by a constant factor: the claim is 4 × ∂L/∂X; ∂L/∂X has no closed "
                      "form in the expression language (see its index form)")


def test_a_wrong_claim_where_the_truth_is_zero_reports_the_absolute_error():
    p = NetworkProblem(dims={"n": 3}, given={"x": ("n",), "t": ("n",)}, forward=(("y", "0 * x"),),
                       loss=("L", "sum((y - t)**2)"), wrt=("x",), claims={"x": "t"})
    v = solve(p).claims[0]
    assert not v.correct and "worst absolute error" in v.method and "e+308" not in v.method


def test_a_claim_may_divide_by_a_dim_as_the_hints_write_it(tmp_path):
    # "X.T @ (2*(p - y)/N)" was "unknown name 'N'": the hints print the 1/N of a mean
    path = write(tmp_path, "format: 1\nkind: network\nname: mean\ndims: {N: 5, d: 3}\n"
                           "given: {X: [N, d], w: [d], y: [N]}\nforward: {p: X @ w}\n"
                           "loss: {L: mean((p - y)**2)}\nwrt: [w]\n"
                           "claims: {w: X.T @ (2*(p - y)/N)}\n")
    from gradcli.problems.load import load_problem

    assert solve(load_problem(path)).claims[0].correct


def test_mean_loss_claim_missing_1_over_N_is_a_constant_factor():
    p = NetworkProblem(dims={"N": 4, "C": 3}, given={"Z": ("N", "C"), "Y": ("N", "C")},
                       given_kinds={"Y": ("distribution", None)},
                       forward=(("S", "Z * 1"),), loss=("L", "cross_entropy(S, Y)"),
                       wrt=("Z",), claims={"Z": "softmax(Z) - Y"})
    v = solve(p).claims[0]
    assert v.hint.startswith("off by a constant factor: the claim is 4 × ∂L/∂Z")


# -- the CLI ----------------------------------------------------------------------------

def test_check_q3_prints_derivation_with_steps_and_shapes_and_passes(cli):
    r = cli("check", str(BUNDLED / "q3.yaml"), "--format", "plain")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.count("denominator layout") == 1
    assert "5. elementwise sigmoid: ∂u = G ⊙ σ′(u)    (line y: σ(z))" in out
    assert "   σ′(z) = y ⊙ (1 − y)" in out
    assert "   ∂L/∂W = δ @ x.T    [n×n]" in out
    assert "∂L/∂W = δ @ x.T    [n×n, like W]\n∂L/∂W (in full, pasteable) = ((y - t)*y*(1 - y)) @ x.T\n" in out
    assert "∂L/∂y = y - t    [n×1, like y]" in out
    assert "correct: equal to ∂L/∂W entry by entry at 4 sample points" in out
    assert out.rstrip().endswith("\nPASSED: 3/3 checks, 1/1 claims correct (seed 0)")


def test_check_q3_rich_shows_course_notation(cli):
    r = cli("check", str(BUNDLED / "q3.yaml"), "--format", "rich")
    assert r.exit_code == 0, r.output
    assert "∂L/∂W = δ xᵀ    n×n, like W" in r.stdout
    assert "∂L/∂W (in full, pasteable) = ((y - t)*y*(1 - y)) @ x.T" in r.stdout
    assert "δ = ∂L/∂z = (y − t) ⊙ y ⊙ (1 − y)" in r.stdout


def test_check_q3_with_transposed_claim_exits_1_with_counterexample_and_hint(tmp_path, cli):
    r = cli("check", q3_with_claims(tmp_path, W=f"x @ ({DELTA}).T"), "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "WRONG" in r.stdout
    assert "counterexample: entry (" in r.stdout
    assert "hint: transposed: the claim is (∂L/∂W)ᵀ." in r.stdout


def test_check_q3_with_sigmoid_for_its_derivative_exits_1_with_hint(tmp_path, cli):
    r = cli("check", q3_with_claims(tmp_path, W="((y - t) * sigmoid(z)) @ x.T"), "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "hint: missing the activation's derivative: σ(z) = y appears where σ′(z) = y ⊙ (1 − y) belongs" in r.stdout


def test_json_payload_has_the_specs_keys(cli):
    r = cli("check", str(BUNDLED / "q3.yaml"), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["kind"] == "network" and doc["passed"] is True and doc["seed"] == 0
    assert set(doc["gradients"]) == {"y", "W", "b"}
    w = doc["gradients"]["W"]
    assert {"expression", "latex", "shape", "steps", "check"} <= set(w)
    assert w["expression"] == f"({DELTA}) @ x.T" and w["shape"] == "n×n"
    assert w["check"]["passed"] is True
    assert [s["rule"] for s in w["steps"]][-1] == "matrix product (left factor)"
    assert doc["claims"] == [{"target": "W", "expression": "((y - t) * y * (1 - y)) @ x.T",
                              "verdict": "correct", "counterexample": None, "hint": "",
                              "method": doc["claims"][0]["method"]}]


def test_printed_gradients_paste_back_as_correct_claims():
    for g in solve(Q3).gradients:
        r = solve(replace(Q3, claims={g.name: g.expression}))
        assert r.claims[0].correct, g


@pytest.mark.parametrize("path", sorted(p.name for p in BUNDLED.glob("*.yaml")
                                        if "kind: network" in p.read_text(encoding="utf-8")))
def test_every_bundled_network_problem_passes(cli, path):
    r = cli("check", str(BUNDLED / path), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["passed"] and doc["gradients"]


# -- errors -----------------------------------------------------------------------------

def located(problem: NetworkProblem, key: str, line: int = 7, column: int = 6) -> NetworkProblem:
    return replace(problem, origin=Origin("p.yaml", {key: (line, column)}))


def test_shape_mismatch_in_a_forward_line_is_located():
    p = located(replace(Q3, forward=(("z", "W @ t.T + b"), ("y", "sigmoid(z)"))), "forward.z")
    with pytest.raises(InputError) as e:
        solve(p)
    err = e.value
    assert (err.file, err.line, err.column) == ("p.yaml", 7, 6)
    assert err.message == "shape mismatch in W @ t.T: n×n @ 1×n: the inner dimensions n and 1 differ"


def test_adding_mismatched_shapes_is_a_shape_error():
    p = located(replace(Q3, dims={"n": 3, "m": 2}, given={**Q3.given, "b": ("m",)}), "forward.z")
    with pytest.raises(InputError) as e:
        solve(p)
    assert e.value.message.startswith("shape mismatch in W @ x + b: cannot combine a n×1 and a m×1")
    assert e.value.column == 6


def test_undeclared_name_is_located_at_its_column():
    p = located(replace(Q3, forward=(("z", "W @ x + bias"), ("y", "sigmoid(z)"))), "forward.z")
    with pytest.raises(InputError) as e:
        solve(p)
    assert (e.value.message, e.value.column) == ("unknown name 'bias'", 6 + 8)


def test_wrt_naming_nothing_is_an_input_error():
    p = located(replace(Q3, wrt=("Ww",)), "wrt")
    with pytest.raises(InputError) as e:
        solve(p)
    assert e.value.message == "wrt: 'Ww' names nothing (not a given or forward name)"
    assert e.value.hint == "did you mean 'W'?"


def test_a_loss_that_is_not_a_scalar_is_an_input_error():
    with pytest.raises(InputError) as e:
        solve(replace(Q3, loss=("L", "(y - t)**2")))
    assert e.value.message == "the loss must be a scalar; L = (y - t)**2 is n×1"


def test_values_of_the_wrong_shape_are_an_input_error():
    with pytest.raises(InputError) as e:
        solve(located(replace(Q3, values={"x": [1.0, 2.0]}), "values.x"))
    assert e.value.message == "values: x is declared n×1 = 3×1 but the values are 2 numbers"
    assert e.value.line == 7


def test_values_of_a_target_declared_a_distribution_must_have_rows_summing_to_one():
    p = NetworkProblem(dims={"N": 2, "C": 2}, given={"Z": ("N", "C"), "Y": ("N", "C")},
                       given_kinds={"Y": ("distribution", None)},
                       forward=(("S", "Z * 1"),), loss=("L", "cross_entropy(S, Y)"), wrt=("Z",),
                       values={"Y": [[1.0, 1.0], [0.0, 1.0]]})
    with pytest.raises(InputError) as e:
        solve(p)
    assert e.value.message == ("values: Y is declared distribution, so each row must be "
                               "non-negative and sum to 1")


def test_bad_problem_file_exits_2(tmp_path, cli):
    text = (BUNDLED / "q3.yaml").read_text(encoding="utf-8").replace("W @ x + b", "W @ t.T + b")
    r = cli("check", write(tmp_path, text), "--format", "plain")
    assert r.exit_code == 2, r.output
    assert "p.yaml:16:6: shape mismatch in W @ t.T: n×n @ 1×n: the inner dimensions n and 1 " \
           "differ (did you mean W @ t?)" in r.output  # forward.z


def test_counterexample_numbers_get_digits_until_claimed_and_true_read_differently():
    from gradcli.render.layouts.checks import distinct_pair
    assert distinct_pair(0.3300481630807512, 0.3300479312611908) == ("0.3300482", "0.3300479")
    assert distinct_pair(0.25, 0.25) == ("0.25", "0.25")
    assert distinct_pair(-0.0, 1e-30) == ("0", "1e-30")


def test_checks_name_the_finite_difference_tolerance_for_index_notation_gradients(tmp_path, cli):
    # ∂L/∂x of a conv1d is checked by finite differences (rtol 1e-05) next to a closed-form ∂L/∂w
    # (autograd, rtol 1e-09): only autograd's tolerance was printed, under a row at 1e-08
    text = """format: 1
kind: network
name: conv1d
dims: {n: 6, k: 3}
given: {x: [n], w: [k], t: [4]}
forward:
  y: conv1d(x, w)
loss:
  L: 0.5 * sum((y - t)**2)
wrt: [w, x]
"""
    r = cli("check", write(tmp_path, text), "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "tolerance: float64 autograd (rtol 1e-09, atol 1e-11), per entry (∂L/∂w)" in r.output
    assert "tolerance: float64 central differences (rtol 1e-05, atol 1e-07) (∂L/∂x)" in r.output


def test_steps_come_in_the_same_order_whatever_the_hash_seed():
    # The targets were a set of names: the order of 'sum over paths' steps followed
    # PYTHONHASHSEED, so the same file and seed printed other bytes from run to run.
    import os
    import subprocess
    import sys

    def run(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        return subprocess.run([sys.executable, "-m", "gradcli", "check", "net_gaussian_nll", "-f", "json"],
                              env=env, capture_output=True, text=True, check=True).stdout

    outputs = {run(seed) for seed in ("1", "3", "4")}
    assert len(outputs) == 1
