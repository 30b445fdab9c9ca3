"""A claim that is 0/0 at a sample point where the true derivative is finite is judged by its
limit there, in `derive --claim` and in network claims (issue 13: Mish's `mish(x)/x + …` and
`gelu_erf(x)/x + …` were WRONG because a sample point is exactly x = 0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradcli.api import solve
from gradcli.problems.model import DerivativeProblem

MISH = "mish(x)/x + x*sigmoid(x)*(1 - tanh(softplus(x))**2)"
GELU_ERF = "gelu_erf(x)/x + x*exp(-x**2/2)/sqrt(2*pi)"


def derive(function: str, claim: str):
    return solve(DerivativeProblem(function=function, claim=claim, steps=False), seed=0).claims[0]


@pytest.mark.parametrize("function, claim", [("mish", MISH), ("gelu_erf", GELU_ERF),
                                             ("x", "x/x")])
def test_a_published_form_undefined_at_zero_is_correct_by_its_limit(function, claim):
    v = derive(function, claim)
    assert v.correct, v
    assert "undefined at x = 0 (0/0, a removable singularity)" in v.method


@pytest.mark.parametrize("claim", [
    "gelu_erf(x)/x + 2*x*exp(-x**2/2)/sqrt(2*pi)",  # wrong everywhere else
    "gelu_erf(x)/x + x*exp(-x**2/2)/sqrt(2*pi) + 0.1/x",  # a pole at 0, wrong elsewhere too
])
def test_a_claim_undefined_at_zero_and_wrong_elsewhere_is_wrong_with_a_defined_counterexample(claim):
    v = derive("gelu_erf", claim)
    assert not v.correct
    assert v.counterexample.claimed != "undefined" and v.counterexample.inputs["x"] != 0


def test_a_claim_with_a_pole_where_the_derivative_is_finite_is_wrong():
    # within the tolerance at every sample point, but 1e-6 off beside 0, where it blows up
    v = derive("x**2", "2*x + 1e-9/x")
    assert not v.correct


def test_a_claim_within_the_tolerance_beside_its_0_over_0_point_is_correct_not_a_crash():
    v = derive("x**2", "2*x + 1e-13*x/x")
    assert v.correct and "removable singularity" in v.method


def test_a_claim_undefined_on_a_whole_side_is_still_wrong_there():
    v = derive("x**2", "2*x*sqrt(x)/sqrt(x)")
    assert not v.correct and v.counterexample.claimed == "undefined"


NETWORK = """\
format: 1
kind: network
name: a Mish layer checked alone
dims: {n: 3}
given:
  z: [n]
  u: [n]
forward:
  h: mish(z)
loss:
  L: sum(u * h)
wrt: [z]
claims:
  z: CLAIM
values:
  z: [0, 1, -2]
"""


def _network(cli, tmp_path: Path, claim: str):
    path = tmp_path / "p.yaml"
    path.write_text(NETWORK.replace("CLAIM", claim), encoding="utf-8")
    r = cli("check", str(path), "--format", "json")
    return r, json.loads(r.stdout)["claims"][0]


def test_a_network_claim_that_is_0_over_0_at_the_files_values_is_judged_by_its_limit(cli, tmp_path):
    r, claim = _network(cli, tmp_path, "u * (h / z + z * sigmoid(z) * (1 - tanh(softplus(z))**2))")
    assert r.exit_code == 0, r.output
    assert claim["verdict"] == "correct"
    assert "the claim is 0/0 at the file's values" in claim["method"]


@pytest.mark.parametrize("claim", [
    "u * (h / z + 2 * z * sigmoid(z) * (1 - tanh(softplus(z))**2))",
    "u * (h / z + z * sigmoid(z) * (1 - tanh(softplus(z))**2) + 0.01 / z)",
])
def test_a_network_claim_that_is_0_over_0_and_wrong_beside_it_is_wrong(cli, tmp_path, claim):
    r, verdict = _network(cli, tmp_path, claim)
    assert r.exit_code == 1, r.output
    assert verdict["verdict"] == "wrong"
