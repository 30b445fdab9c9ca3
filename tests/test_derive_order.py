"""`derive --order N`: the n-th derivative, each order derived from the one before, checked by
SymPy's n-th diff and by torch's repeated (double) backward, with claims judged as for f′."""

from __future__ import annotations

import json

import pytest

from gradcli.api import solve
from gradcli.problems.load import load_text
from gradcli.problems.model import DerivativeProblem


def derive(function: str, order: int, **kw):
    return solve(DerivativeProblem(function=function, order=order, **kw))


def test_second_derivative_of_sigmoid_accepts_the_textbook_form(cli):
    r = cli("derive", "sigmoid", "--order", "2", "--claim",
            "sigmoid(x)*(1-sigmoid(x))*(1-2*sigmoid(x))", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["order"] == 2 and doc["claim"]["verdict"] == "correct"
    assert [c["what"] for c in doc["checks"]][-1] == "d²/dx² = torch autograd"
    assert doc["lower"][0]["derivative"] == "exp(-x)/(1 + exp(-x))**2"


def test_a_wrong_second_derivative_gets_a_counterexample(cli):
    r = cli("derive", "sigmoid", "--order", "2", "--no-steps", "--claim",
            "sigmoid(x)*(1-sigmoid(x))**2", "-f", "plain")
    assert r.exit_code == 1, r.output
    assert "counterexample: x = 0: the claim gives 0.125, the true value is 0" in r.stdout


@pytest.mark.parametrize("function", ["gelu", "tanh", "mish", "softplus", "gelu_erf", "x**3*sin(x)"])
@pytest.mark.parametrize("order", [2, 3, 4])
def test_every_order_agrees_with_sympy_and_with_torch_double_backward(function, order):
    r = derive(function, order, steps=False)
    assert r.passed, [(c.what, c.max_rel_error) for c in r.checks]
    assert [c.what.split(" = ")[-1] for c in r.checks][:1] == ["SymPy's diff"]
    assert r.checks[-1].what.endswith("torch autograd") and r.checks[-1].points >= 30
    assert len(r.lower) == order - 1


def test_each_lower_order_is_a_section_with_its_own_steps(cli):
    r = cli("derive", "tanh", "--order", "3", "-f", "plain")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.index("Order 1: d/dx tanh(x)") < out.index("Order 2: d²/dx² tanh(x)") \
        < out.index("Order 3: d³/dx³ tanh(x), the derivative of d²/dx² tanh(x)")


def test_the_torch_route_really_differentiates_again():
    # x**3 has d²/dx² = 6x; a check that compared against the first derivative would fail.
    r = derive("x**3", 2, steps=False)
    assert r.derivative.expression == "6*x" and r.passed


@pytest.mark.parametrize("order", ["0", "5", "-1"])
def test_orders_outside_one_to_four_are_bad_input(cli, order):
    r = cli("derive", "gelu", "--order", order)
    assert r.exit_code == 2, r.output
    assert "orders 1 to 4" in r.output


def test_a_problem_file_may_ask_for_an_order():
    p = load_text("format: 1\nkind: derivative\nfunction: tanh\norder: 2\n", "f.yaml")
    assert p.order == 2
    r = solve(p)
    assert r.passed and r.derivative.expression.count("tanh") >= 1


@pytest.mark.parametrize("text", ["order: 5", "order: 0", "order: two", "order: 1.5"])
def test_a_bad_order_in_a_file_is_placed(text):
    from gradcli.errors import InputError

    with pytest.raises(InputError) as err:
        load_text(f"format: 1\nkind: derivative\nfunction: tanh\n{text}\n", "f.yaml")
    assert (err.value.line, err.value.column) == (4, 8), err.value
