"""`gradcli derive`: the worksheet's GELU, every catalog function, claims, --wrt, --at, formats."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gradcli import catalog
from gradcli.api import solve
from gradcli.problems.model import DerivativeProblem

GELU_COMPACT = "0.5*(1 + tanh(u)) + 0.5*x*(1 - tanh(u)**2)*sqrt(2/pi)*(1 + 0.134145*x**2)"


def derive(function: str, **kw):
    return solve(DerivativeProblem(function=function, **kw), seed=0)


def test_gelu_derivative_is_the_worksheet_answer_with_u_named():
    r = derive("gelu")
    assert r.compact.expression == GELU_COMPACT
    assert [(u.name, u.expression) for u in r.inner] == [("u", "sqrt(2/pi)*(x + 0.044715*x**3)")]
    assert r.compact.pretty == "0.5(1 + tanh(u)) + 0.5x(1 − tanh²(u))·√(2/π)·(1 + 0.134145x²)"
    assert "0.134145 = 3·0.044715" in r.constants
    assert r.passed


def test_gelu_steps_name_every_rule_used():
    rules = [s.rule for s in derive("gelu").steps]
    assert rules == ["constant multiple", "product rule", "sum rule", "chain rule",
                     "known derivative of tanh", "constant multiple", "sum rule",
                     "constant multiple", "power rule"]


def test_gelu_is_checked_against_torch_tanh_gelu():
    torch_check = derive("gelu").checks[-1]
    assert "approximate='tanh'" in torch_check.reference
    assert torch_check.passed and torch_check.max_rel_error < 1e-9 and torch_check.points >= 30


@pytest.mark.parametrize("name", [e.name for e in catalog.ELEMENTWISE])
def test_every_catalog_function_passes_both_routes(name):
    # clamp's lo and hi are never guessed: it is derived as a call with both given
    r = derive(name if catalog.lookup(name).sig.fewest == 1 else f"{name}(x, -1, 2)")
    assert r.passed, [(c.what, c.where, c.expected, c.got) for c in r.checks if not c.passed]
    assert any("SymPy" in c.what for c in r.checks)
    assert any("torch" in c.what for c in r.checks)


def test_sigmoid_shows_the_readable_catalog_form():
    r = derive("sigmoid")
    assert r.derivative.expression == "exp(-x)/(1 + exp(-x))**2"
    # SymPy's cosh form is shown since cosh is in the language (it was dropped before)
    assert [f.expression for f in r.forms] == ["sigmoid(x)*(1 - sigmoid(x))", "1/(4*cosh(x/2)**2)"]


def test_typed_sigmoid_definition_is_recognised():
    r = derive("1/(1 + exp(-x))")
    assert r.forms[0].note == "the function is sigmoid(x)"


def test_tanh_derivative_is_one_minus_tanh_squared():
    assert derive("tanh").derivative.expression == "1 - tanh(x)**2"


@pytest.mark.parametrize("claim", [
    "sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))**2", "exp(x)/(1 + exp(x))**2",
    "sigmoid(x) - sigmoid(x)**2",
])
def test_equivalent_claims_for_sigmoid_are_correct(claim):
    v = derive("sigmoid", claim=claim).claim
    assert v.correct and v.verdict == "correct"


def test_gelu_claim_with_unfolded_constant_is_correct_and_proved():
    claim = ("0.5*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3))) + 0.5*x*(1 - tanh(sqrt(2/pi)*"
             "(x + 0.044715*x**3))**2)*sqrt(2/pi)*(1 + 3*0.044715*x**2)")
    v = derive("gelu", claim=claim).claim
    assert v.correct and "SymPy proves" in v.method


def test_wrong_claim_gets_counterexample_at_the_smallest_failing_point():
    v = derive("sigmoid", claim="2*sigmoid(x)*(1 - sigmoid(x))").claim
    assert not v.correct
    assert v.counterexample.inputs == {"x": 0.0}
    assert v.counterexample.claimed == 0.5 and v.counterexample.true == 0.25
    assert v.hint == "off by a constant factor: the claim is 2 × the derivative"


def test_claim_that_is_the_function_itself_gets_that_hint():
    assert derive("exp(2*x)", claim="exp(2*x)").claim.hint == \
        "off by a constant factor: the claim is 0.5 × the derivative"
    assert derive("sin(x)", claim="sin(x)").claim.hint == \
        "that is the function itself, not its derivative"


def test_relu_kink_is_named_as_torch_convention_not_failure():
    r = derive("relu")
    assert r.passed
    assert any("x = 0" in n and "torch's convention" in n for n in r.notes)


def test_multivariable_expression_needs_wrt_and_holds_others():
    r = derive("x*y**2 + sin(y)", wrt="y")
    assert r.derivative.expression == "2*x*y + cos(y)"
    assert dict(r.held).keys() == {"x"} and r.passed


def test_log_is_checked_on_its_domain():
    r = derive("log(x)*x**2")
    assert r.passed and all(p > 0 for p in [0.001])


def test_cli_gelu_passes_with_exit_0(cli):
    r = cli("derive", "gelu")
    assert r.exit_code == 0, r.output
    assert GELU_COMPACT in r.output and "where u = sqrt(2/pi)*(x + 0.044715*x**3)" in r.output
    assert "seed 0" in r.output


def test_cli_wrong_claim_exits_1_with_counterexample(cli):
    r = cli("derive", "gelu", "--claim", "0.5*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))")
    assert r.exit_code == 1, r.output
    assert "WRONG" in r.output and "counterexample: x = " in r.output


def test_cli_wrt_must_name_a_variable(cli):
    r = cli("derive", "x*sigmoid(x)", "--wrt", "y")
    assert r.exit_code == 2
    assert "does not use it" in r.output and "Traceback" not in r.output


def test_cli_bad_expression_reports_the_column(cli):
    r = cli("derive", "x^2")
    assert r.exit_code == 2
    assert "error: TARGET, column 2: '^' is not allowed (write ** for powers)" in r.output


def test_cli_at_evaluates_exactly(cli):
    r = cli("derive", "sigmoid", "--at", "0", "--at", "2", "-f", "json")
    doc = json.loads(r.stdout)
    assert doc["values"][0] == {"at": 0.0, "value": 0.5, "derivative": 0.25}


def test_cli_json_has_the_spec_keys(cli):
    doc = json.loads(cli("derive", "gelu", "--claim", "sigmoid(x)", "-f", "json").stdout)
    for key in ("kind", "name", "passed", "checks", "function", "definition", "wrt",
                "derivative", "latex", "steps", "claim"):
        assert key in doc
    assert doc["claim"]["verdict"] == "wrong" and doc["claim"]["counterexample"]["inputs"]
    assert set(doc["steps"][0]) >= {"rule", "expression", "detail"}


@pytest.mark.parametrize("fmt", ["plain", "rich", "latex", "markdown", "json"])
def test_every_format_renders_gelu(cli, fmt):
    r = cli("derive", "gelu", "--no-check", "-f", fmt)
    assert r.exit_code == 0, r.output
    assert "0.134145" in r.stdout


def test_printed_derivative_pastes_back_as_a_correct_claim():
    for name in ("gelu", "mish", "silu", "softplus", "hardswish"):
        r = derive(name)
        assert derive(name, claim=r.derivative.expression).claim.correct


def test_derive_no_check_imports_neither_sympy_nor_torch():
    # SPEC, second round: --no-check runs no check route at all.
    code = ("import sys; from gradcli.cli.app import main; sys.argv=['gradcli','derive','gelu',"
            "'--no-check','-f','plain']\ntry: main()\nexcept SystemExit as e: code = e.code\n"
            "print(sorted(m for m in ('sympy', 'torch', 'numpy') if m in sys.modules), code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[] 0", out.stderr
    assert "no check ran" in out.stdout


@pytest.mark.parametrize("option", [["--claim", "step(x)"], ["--at", "1"]])
def test_no_check_refuses_what_only_the_check_routes_can_evaluate(cli, option):
    r = cli("derive", "relu", "--no-check", *option)
    assert r.exit_code == 2, r.output
    assert "which --no-check turns off" in r.output


def test_derivative_longer_than_the_input_bound_is_still_checked():
    r = derive("*".join(["sin(x)"] * 60))
    assert len(r.derivative.expression) > 2000 and r.passed


def test_float64_cancellation_is_refereed_at_30_digits_not_failed():
    # x/gelu(x) near x = 7 subtracts nearly equal numbers; 0 is a removable singularity.
    r = derive("x/gelu(x)")
    assert r.passed
    assert any("removable singularity" in n for c in r.checks for n in c.notes)


def test_a_wrong_rule_is_still_caught_by_the_sympy_route():
    from gradcli.expr.parse import parse
    from gradcli.kinds.derivative.symbolic import Route

    route = Route(parse("x*sin(x)"), parse("x*cos(x)"), "x", seed=0)  # forgot sin(x)
    check = route.check_rules()
    assert not check.passed and check.max_rel_error > 1
    assert not any("cancellation" in n for n in check.notes)


def test_near_miss_claim_counterexample_prints_claimed_and_true_values_differently(cli):
    # 0.0447 for 0.044715: the values agree to 6 digits; "gives 0.330048, true 0.330048" read as a contradiction
    near = ("0.5*(1 + tanh(sqrt(2/pi)*(x + 0.0447*x**3))) + "
            "0.5*x*(1 - tanh(sqrt(2/pi)*(x + 0.0447*x**3))**2)*sqrt(2/pi)*(1 + 0.1341*x**2)")
    r = cli("derive", "gelu", "--no-steps", "--claim", near, "--format", "plain")
    assert r.exit_code == 1, r.output
    line = next(ln for ln in r.output.splitlines() if ln.startswith("counterexample:"))
    claimed, true = line.split("the claim gives ")[1].split(", the true value is ")
    assert claimed != true, line


def test_expression_with_another_variable_is_not_recognised_as_a_catalog_function():
    # x*sigmoid(y) by y was called silu(y), and the wrong "catalog form" failed its own check
    r = derive("x*sigmoid(y)", wrt="y")
    assert r.passed
    assert not any("silu" in f.label for f in r.forms)


@pytest.mark.parametrize("typo, meant", [("sigmod", "sigmoid"), ("gleu", "gelu"), ("GELU", "gelu"),
                                         ("Tanh", "tanh")])
def test_misspelt_catalog_name_is_refused_with_did_you_mean_not_derived_as_a_variable(cli, typo, meant):
    # `derive sigmod` printed d/dsigmod sigmod = 1, PASSED
    r = cli("derive", typo, "--format", "plain")
    assert r.exit_code == 2, r.output
    assert f"did you mean '{meant}'?" in r.output and "Traceback" not in r.output


def test_a_bare_variable_is_still_a_function_of_itself(cli):
    r = cli("derive", "theta", "--format", "plain")
    assert r.exit_code == 0, r.output


def test_derivative_at_a_point_outside_the_domain_is_undefined_like_the_function():
    # log at -1 read "f undefined, d/dx f = -1": 1/x there is not the derivative of anything
    r = derive("log(x)", at=(-1.0, 2.0))
    assert r.values == ((-1.0, None, None), (2.0, r.values[1][1], 0.5))


def test_rich_pasteable_full_form_is_the_expression_language(cli):
    # rich printed the "(in full, pasteable)" line in Unicode notation (√(2/π), tanh²), which does not paste back
    r = cli("derive", "gelu", "--no-steps", "--no-check", "--format", "rich")
    assert r.exit_code == 0, r.output
    tail = r.output.split("(in full, pasteable) = ", 1)[1]
    pasted = " ".join(tail.split("\n")[:4])
    assert pasted.startswith("0.5*(1 + tanh(sqrt(2/pi)*(x")
    assert "√" not in pasted.split("constant:")[0]


def test_relu6_derivative_cancels_the_constant_it_multiplies_and_divides_by():
    # relu6' read "3*step(u + 1)*step(1 - u)/3"
    r = derive("relu6")
    assert r.compact.expression == "step(u + 1)*step(1 - u)"
    from gradcli.expr.parse import parse
    from gradcli.expr.tidy import tidy
    from gradcli.expr.unparse import unparse
    assert unparse(tidy(parse("3*a*b/3", variables={"a", "b"}))) == "a*b"
    assert unparse(tidy(parse("2*a*b/4", variables={"a", "b"}))) == "2*a*b/4"


@pytest.mark.parametrize(("claim", "where"), [
    ("sigmoid(x)*(1 - sigmoid(x))*(1 + step(x - 12))", "x = 12.012"),  # past the landmarks
    ("sigmoid(x)*(1 - sigmoid(x)) + step(x - 3)*step(3.1 - x)", "x = 3.003"),  # a narrow window
])
def test_a_claim_that_differs_only_past_a_switch_of_its_step_is_wrong(cli, claim, where):
    r = cli("derive", "sigmoid", "--no-steps", "--claim", claim, "--format", "json")
    assert r.exit_code == 1, r.output
    verdict = json.loads(r.stdout)["claim"]
    assert verdict["verdict"] == "wrong"
    assert verdict["counterexample"]["where"] == where
    assert verdict["hint"] == ""  # agreeing at every sample point is no constant factor


def test_a_claim_within_tolerance_but_not_identical_is_not_called_proved(cli):
    r = cli("derive", "exp", "--no-steps", "--claim", "exp(x)*(1 + 1e-9)", "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "SymPy could not simplify the difference to 0; not identical: at x = 0 the claim " \
           "differs by 1.0e-09 (30-digit evaluation), within the tolerance" in r.stdout
    assert "proves" not in r.stdout


@pytest.mark.parametrize(("function", "wrt", "claim"), [
    ("x*y", "x", "abs(y)"),  # equal at every positive y
    ("x*y", "x", "0.701546"),  # the value y was held at
    ("relu(w*x)", "w", "step(w)*x"),  # right only for x > 0
])
def test_a_claim_right_only_at_the_held_values_of_other_variables_is_wrong(function, wrt, claim):
    # judged at one positive value of the other variables, all three were "correct"
    r = derive(function, wrt=wrt, claim=claim)
    v = r.claims[0]
    assert not v.correct
    held = {k: val for k, val in v.counterexample.inputs.items() if k != wrt}
    assert any(val < 0 for val in held.values())  # the counterexample varies them
    assert all(f"{k} = " in v.counterexample.where for k in v.counterexample.inputs)


def test_a_factor_that_depends_on_another_variable_is_not_called_a_constant():
    # the missing x of the chain rule read "off by a constant factor: 0.564605" (1/x at x = 1.77)
    v = derive("sigmoid(w*x + b)", wrt="w", claim="sigmoid(w*x + b)*(1 - sigmoid(w*x + b))").claims[0]
    assert not v.correct and "constant factor" not in v.hint


def test_a_correct_claim_with_other_variables_is_still_correct_when_they_vary():
    v = derive("sigmoid(w*x + b)", wrt="w", claim="x*sigmoid(w*x + b)*sigmoid(-(w*x + b))").claims[0]
    assert v.correct and "the other variables varied over both signs" in v.method


@pytest.mark.parametrize(("function", "claim", "hint"), [
    ("relu(x - 30)", "0", ""),  # read "that is the function itself"
    ("1e-8*x", "0", ""),  # read "the claim is 0 × the derivative"
    ("sigmoid(x)", "sigmoid(x)*(1 - sigmoid(x))*1.000001",
     "off by a constant factor: the claim is 1.000001 × the derivative"),  # read "1 ×"
])
def test_hints_name_only_what_is_true_of_the_claim(function, claim, hint):
    v = derive(function, claim=claim).claims[0]
    assert not v.correct and v.hint == hint


@pytest.mark.parametrize("claim", ["2*exp(log(x))", "2*sqrt(x)**2", "2*x*sqrt(x)/sqrt(x)"])
def test_a_claim_undefined_where_the_derivative_exists_is_wrong(claim):
    # SymPy rewrites exp(log(x)) to x; the claim as written is undefined for x <= 0
    v = derive("x**2", claim=claim).claims[0]
    assert not v.correct and v.counterexample.claimed == "undefined"
    assert v.counterexample.inputs["x"] <= 0


def test_a_counterexample_gives_the_claim_as_written_not_as_sympy_rewrote_it():
    v = derive("abs(x)", claim="sqrt(x)/sqrt(x)").claims[0]
    assert v.counterexample.claimed == "undefined"  # it read "the claim gives 1"


def test_a_claim_that_differs_only_between_two_close_switches_is_wrong():
    # step(x + 0.0005) for relu′ differs on (-0.0005, 0): both probes 1e-3 away missed it
    v = derive("relu", claim="step(x + 0.0005)").claims[0]
    assert not v.correct and v.counterexample.inputs == {"x": -0.00025}


def test_the_claim_tolerance_names_its_absolute_part():
    v = derive("1e-9*x", claim="0").claims[0]
    assert v.correct and "rtol 1e-07, atol 1e-09" in v.method


def test_an_integer_in_the_answer_is_not_explained_as_a_multiple_of_a_parameter():
    assert derive("leaky_relu(x, 0.2)", check=False).constants == ()  # read "1 = 5·0.2"


@pytest.mark.parametrize("function", ["relu(x)**2", "abs(x)**3", "x*relu(x)"])
def test_a_kink_smoothed_out_by_the_expression_is_not_called_not_differentiable(function):
    r = derive(function)
    assert r.passed and not any("not differentiable" in n for n in r.notes)


def test_a_point_where_the_function_is_undefined_is_said_to_be_so():
    r = derive("log(abs(x))")
    assert "undefined at x = 0, so not differentiable there" in r.notes
    assert derive("relu").notes[0].startswith("not differentiable at x = 0")


def test_an_exponential_that_overflows_in_float64_is_infinite_not_undefined():
    # sigmoid(x - 1296) = 1/(1 + exp(1296 - x)): exp overflowed and every point was "undefined"
    r = derive("softplus(x - 6**4)")
    assert r.passed and r.checks[0].points == 32


@pytest.mark.parametrize("claim", ["sum(2*x)", "x@x"])
def test_a_matrix_function_in_a_scalar_claim_is_placed_at_the_claim(cli, claim):
    r = cli("derive", "x**2", "--claim", claim, "--format", "plain")
    assert r.exit_code == 2 and r.stderr.startswith("error: --claim, column 1: ")
