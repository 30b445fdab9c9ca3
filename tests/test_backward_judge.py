"""The parent's judge of a student's backward pass (`kinds/network/exercise.py`), fed the
dicts a student's function returns, computed in this process: no child, no sandbox."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.errors import InputError
from gradcli.kinds.network.exercise import Exercise, Returned, reverse_order
from gradcli.kinds.network.solve import Solver
from gradcli.problems.load import load_any

SOLUTIONS = Path(__file__).parent / "solutions"
PROBLEMS = Path(__file__).parent.parent / "problems"


def _problem(name: str):
    return load_any(str(PROBLEMS / f"{name}.yaml"))


def _backward(file: str):
    spec = importlib.util.spec_from_file_location(file, SOLUTIONS / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.backward


def _judge(problem: str, backward, seed: int = 0):
    exercise = Exercise(_problem(problem), seed, "backward.py", Solver)
    return exercise.judge([Returned(backward(**given)) for given in exercise.inputs()])


def _q3(mutate=None):
    """Question 3's correct backward pass, with one gradient replaced by `mutate`."""
    def backward(x, t, W, b):
        z = W @ x + b
        y = torch.sigmoid(z)
        dy = y - t
        dz = dy * y * (1 - y)
        out = {"y": dy, "z": dz, "W": torch.outer(dz, x), "b": dz}
        if mutate:
            out.update(mutate(**locals()))
        return out
    return backward


def test_reverse_mode_order_runs_from_the_loss_back_to_the_inputs():
    exercise = Exercise(_problem("net_mlp2"), 0, "x.py", Solver)
    assert reverse_order(exercise.graph) == ["t", "y", "z2", "W2", "b2", "a1", "z1", "W1", "x", "b1"]


def test_one_dimensional_givens_arrive_flat_and_matrices_as_declared():
    exercise = Exercise(_problem("q3"), 0, "x.py", Solver)
    first = exercise.inputs()[0]
    assert {n: tuple(v.shape) for n, v in first.items()} == {"x": (3,), "t": (3,), "W": (3, 3), "b": (3,)}
    assert first["x"].tolist() == [1.0, -2.0, 0.5]  # the file's values at the first point
    assert all(v.dtype == torch.float64 for v in first.values())


def test_a_correct_backward_passes_every_returned_gradient_in_reverse_mode_order():
    r = _judge("q3", _q3())
    assert r.passed and r.first_wrong is None and not r.error
    assert [g.name for g in r.gradients] == ["y", "z", "W", "b"]
    assert all(g.points == 4 and g.max_rel_error < 1e-12 for g in r.gradients)


def test_a_column_for_a_vector_gradient_is_accepted_but_a_row_is_transposed():
    column = _judge("q3", _q3(lambda dz, **_: {"b": dz.reshape(-1, 1)}))
    assert column.passed
    row = _judge("q3", _q3(lambda dz, **_: {"b": dz.reshape(1, -1)}))
    assert row.first_wrong == "b" and row.gradients[-1].mark == "wrong shape"
    assert row.hint.startswith("transposed: yours is 1×3, (∂L/∂b)ᵀ")


def test_the_first_wrong_gradient_is_where_the_error_starts_not_where_it_spreads():
    r = _judge("q3", _q3(lambda dy, x, **_: {"z": dy, "W": torch.outer(dy, x), "b": dy}))
    assert [g.passed for g in r.gradients] == [True, False, False, False]
    assert r.first_wrong == "z"
    assert r.hint.startswith("missing the factor σ′(z) = y ⊙ (1 − y) (the chain rule through σ)")
    assert not r.passed


def test_delta_returned_as_dl_dy_is_named_as_the_gradient_of_z():
    r = _judge("q3", _q3(lambda dz, **_: {"y": dz}))
    assert r.first_wrong == "y"
    assert r.hint == ("the gradient of the wrong variable: this is ∂L/∂z = (y − t) ⊙ y ⊙ (1 − y), "
                      "not ∂L/∂y = y − t")


def test_w_transposed_delta_given_as_dl_dw_is_named_as_the_gradient_of_x():
    r = _judge("q3", _q3(lambda W, dz, **_: {"W": W.T @ dz}))
    mark = {g.name: g for g in r.gradients}["W"]
    assert mark.mark == "wrong shape" and mark.returned_shape == "3"
    assert r.hint.startswith("the gradient of the wrong variable: this is ∂L/∂x = Wᵀ ")


def test_a_sign_error_and_a_constant_factor_are_recognised():
    assert _judge("q3", _q3(lambda dz, **_: {"b": -dz})).hint.startswith("sign flipped: yours is −∂L/∂b")
    assert _judge("q3", _q3(lambda dz, **_: {"b": 2 * dz})).hint.startswith(
        "off by a constant factor: yours is 2 × ∂L/∂b")


def test_the_worst_entry_names_the_point_and_both_values():
    r = _judge("q3", _q3(lambda dz, **_: {"b": dz + torch.tensor([0.0, 0.5, 0.0], dtype=torch.float64)}))
    mark = r.gradients[-1]
    assert mark.failing == 4 and mark.where == "(2, 1) at the file's values (other inputs random)"
    assert mark.got - mark.expected == pytest.approx(0.5, abs=1e-12)
    assert mark.hint.startswith("no known mistake matches; ∂L/∂b = ")


def test_a_forgotten_mean_over_the_batch_is_an_off_by_n_factor():
    def backward(X, W, b, T):
        G = 2 * (X @ W + b - T)  # mse is a mean: 1/(N·m) = 1/18 missing
        return {"W": X.T @ G, "b": G.sum(0), "X": G @ W.T}

    r = _judge("net_batch_linear", backward)
    assert r.first_wrong == "X"  # reverse mode: Y = X @ W + b sends X its gradient first
    assert r.hint.startswith("off by a constant factor: yours is 18 × ∂L/∂X")
    assert all(g.hint.startswith("off by a constant factor: yours is 18 ×") for g in r.gradients)


@pytest.mark.parametrize(("file", "first_wrong", "hint"), [
    ("net_backward_correct.py", None, ""),
    ("net_backward_no_sigma_prime.py", "Z1",
     "missing the factor σ′(Z1) = H ⊙ (1 − H) (the chain rule through σ)"),
    ("net_backward_transposed.py", "W2", "transposed: yours is 2×3, (∂L/∂W2)ᵀ; a gradient has "
     "the shape of its variable (denominator layout), so ∂L/∂W2 = Hᵀ (Y − T)"),
    ("net_backward_no_batch_sum.py", "b2",
     "missing the sum over the batch: b2 is shared by every row (broadcast in the forward), so "
     "its gradient sums theirs over dim=0; yours is 5×2, one per row."),
    ("net_backward_wrong_variable.py", "W2", "the gradient of the wrong variable: this is ∂L/∂H"),
    ("q3_backward_correct.py", None, ""),
    ("q3_backward_sign.py", "y", "sign flipped: yours is −∂L/∂y"),
])
def test_each_bundled_example_solution_gets_its_first_wrong_gradient_and_hint(file, first_wrong, hint):
    problem = "q3" if file.startswith("q3") else "net_backward"
    r = _judge(problem, _backward(file))
    assert r.first_wrong == first_wrong, [(g.name, g.mark, g.hint) for g in r.gradients]
    assert r.hint.startswith(hint), r.hint
    assert r.passed is (first_wrong is None)


def test_a_missing_wrt_gradient_is_bad_input_with_the_keys_it_got():
    with pytest.raises(InputError) as err:
        _judge("q3", lambda x, t, W, b: {"y": t, "dW": W, "b": b})
    assert err.value.message == ("backward returned no gradient for 'W' at the file's values (other "
                                 "inputs random) (it returned 'y', 'dW', 'b')")
    assert err.value.hint.startswith("did you mean 'W'? return a dict keyed by variable name")


def test_keys_that_name_nothing_are_ignored_and_said_so():
    r = _judge("q3", _q3(lambda dz, **_: {"delta": dz, "L": torch.tensor(1.0)}))
    assert r.passed
    assert r.ignored == ("'delta': not a given or forward name of the problem, not judged",
                         "'L': the loss itself (∂L/∂L = 1), not judged")


def test_a_failure_at_one_point_fails_the_run_and_the_other_points_are_still_judged():
    exercise = Exercise(_problem("q3"), 0, "backward.py", Solver)
    returned = [Returned(_q3()(**g)) for g in exercise.inputs()]
    returned[2] = Returned(failure="ZeroDivisionError: division by zero (line 4: 1 / 0)")
    r = exercise.judge(returned)
    assert not r.passed and r.first_wrong is None
    assert r.error == ("backward(**given) at random point 3: ZeroDivisionError: division by zero "
                       "(line 4: 1 / 0)")
    assert all(g.passed and g.points == 3 for g in r.gradients)


def test_float32_gradients_are_converted_and_noted():
    r = _judge("q3", _q3(lambda dz, **_: {"b": dz.float()}))
    assert r.gradients[-1].dtype == "float32"
    assert any(n.startswith("not float64: b (float32)") for n in r.notes)


def test_nan_where_the_truth_is_a_number_is_wrong():
    r = _judge("q3", _q3(lambda dz, **_: {"b": dz * float("nan")}))
    assert r.first_wrong == "b"


@given(seed=st.integers(0, 2**31 - 1), k=st.sampled_from([-3.0, -1.0, 0.5, 2.0, 10.0]),
       name=st.sampled_from(["y", "z", "W", "b"]))
@settings(max_examples=12, deadline=None)
def test_at_any_seed_a_scaled_gradient_is_the_first_wrong_one_with_its_factor(seed, k, name):
    scaled = {"y": lambda dy, **_: {"y": k * dy}, "z": lambda dz, **_: {"z": k * dz},
              "W": lambda dz, x, **_: {"W": k * torch.outer(dz, x)}, "b": lambda dz, **_: {"b": k * dz}}
    r = _judge("q3", _q3(scaled[name]), seed=seed)
    assert r.first_wrong == name and [g.name for g in r.gradients if not g.passed] == [name]
    expected = "sign flipped: yours is −" if k == -1 else f"off by a constant factor: yours is {k:.6g} × "
    assert r.hint.startswith(expected + f"∂L/∂{name}"), r.hint
    assert _judge("q3", _q3(), seed=seed).passed


@pytest.mark.parametrize("fmt", ["plain", "rich", "markdown", "latex", "json"])
def test_a_judged_backward_renders_in_every_format_and_ends_with_its_verdict(fmt):
    from gradcli.render import render

    r = _judge("net_backward", _backward("net_backward_no_batch_sum.py"))
    out = io.StringIO()
    render([r], fmt, out, color=False, width=100)
    text = out.getvalue()
    if fmt == "json":
        assert json.loads(text)["first_wrong"] == "b2"
    elif fmt == "latex":
        assert "FAILED: 1 of 7 gradients wrong, the first \\ensuremath{\\partial}L/" in text
    else:
        assert "FAILED: 1 of 7 gradients wrong, the first ∂L/∂b2 (key 'b2')" in text
        assert "missing the sum over the batch" in text


def test_a_given_no_line_uses_comes_last_and_its_zero_gradient_is_judged(tmp_path):
    path = tmp_path / "unused.yaml"
    path.write_text("format: 1\nkind: network\ndims: {n: 2}\ngiven: {x: [n], u: [n], w: [n]}\n"
                    "forward:\n  y: w * x\nloss:\n  L: sum(y)\nwrt: [w]\n")
    exercise = Exercise(load_any(str(path)), 0, "backward.py", Solver)
    assert reverse_order(exercise.graph) == ["y", "w", "x", "u"]
    r = exercise.judge([Returned({"w": g["x"], "u": torch.zeros(2, dtype=torch.float64)})
                        for g in exercise.inputs()])
    assert r.passed and [g.name for g in r.gradients] == ["w", "u"]


def test_zeros_are_not_named_the_gradient_of_a_given_nothing_uses(tmp_path):
    path = tmp_path / "unused.yaml"
    path.write_text("format: 1\nkind: network\ndims: {n: 2}\ngiven: {x: [n], u: [n], w: [n]}\n"
                    "forward:\n  y: w * x\nloss:\n  L: sum(y)\nwrt: [w]\n")
    exercise = Exercise(load_any(str(path)), 0, "backward.py", Solver)
    r = exercise.judge([Returned({"w": torch.zeros(2, dtype=torch.float64)}) for _ in exercise.inputs()])
    assert r.first_wrong == "w"
    assert r.hint == "no known mistake matches; ∂L/∂w = x"
