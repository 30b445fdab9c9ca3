"""`wrt` naming a forward line: autograd differentiates the loss at that line for real.

Issue 13: a forward name in `wrt` next to a given crashed (exit 3, "One of the differentiated
Tensors does not require grad"), and alone it "passed" because autograd silently returned zeros
and finite differences overrode it. Each forward name is now a leaf of its own autograd pass.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gradcli.api import solve
from gradcli.kinds.network import verify as V
from gradcli.kinds.network.graph import build
from gradcli.problems.model import NetworkProblem

BUNDLED = Path(__file__).resolve().parent.parent / "gradcli" / "bundled"

ATTENTION = NetworkProblem(
    name="attention", dims={"n": 3, "d": 2},
    given={"Q": ("n", "d"), "K": ("n", "d"), "V": ("n", "d"), "T": ("n", "d")},
    forward=(("S", "Q @ K.T / sqrt(2)"), ("A", "softmax(S, dim=1)"), ("O", "A @ V")),
    loss=("L", "0.5 * sum((O - T)**2)"), wrt=("V", "S"))
DS = "A * ((O - T) @ V.T - sum(A * ((O - T) @ V.T), dim=1))"


def _by_hand(problem: NetworkProblem, name: str) -> torch.Tensor:
    """∂L/∂name written out in torch for the attention problem, at the first sample point."""
    graph = build(problem)
    p = V.points(graph, problem, seed=0, count=1)[0]
    q, k, v, t = (p.values[n] for n in "QKVT")
    s = (q @ k.T / 2 ** 0.5).requires_grad_(True)
    loss = 0.5 * ((torch.softmax(s, dim=1) @ v - t) ** 2).sum()
    return torch.autograd.grad(loss, s)[0]


def test_autograd_of_a_forward_line_alone_is_its_true_gradient_not_zeros():
    problem = replace(ATTENTION, wrt=("S",))
    graph = build(problem)
    p = V.points(graph, problem, seed=0, count=1)[0]
    got, _ = V.autograd(graph, p, ["S"])
    assert torch.allclose(got["S"], _by_hand(problem, "S"), rtol=1e-12, atol=1e-14)
    assert got["S"].abs().max() > 0.01


def test_a_forward_line_next_to_a_given_is_checked_by_autograd_and_passes():
    r = solve(ATTENTION)
    assert [c.passed for c in r.checks] == [True, True]
    assert all(c.max_rel_error < 1e-12 for c in r.checks)
    assert not any("referee" in n for c in r.checks for n in c.notes)


def test_a_forward_line_upstream_of_another_wanted_one_gets_the_total_gradient():
    r = solve(replace(ATTENTION, wrt=("S", "A", "O")))
    assert all(c.passed and c.max_rel_error < 1e-12 for c in r.checks)


def test_a_wrong_claim_for_a_forward_line_is_wrong():
    r = solve(replace(ATTENTION, claims={"S": "A * ((O - T) @ V.T)", "V": "A.T @ (O - T)"}))
    assert [v.correct for v in r.claims] == [False, True]


def test_the_right_claim_for_a_forward_line_is_correct():
    r = solve(replace(ATTENTION, claims={"S": DS}))
    assert r.claims[0].correct


def test_a_wrong_closed_form_for_a_forward_line_fails_its_check(monkeypatch):
    """The autograd route is real now: a corrupted derived form no longer passes because a
    referee sided with it against autograd's zeros."""
    from gradcli.kinds.network import solve as S

    real = V.closed_form
    monkeypatch.setattr(V, "closed_form", lambda e, g, env, shape: 1.5 * real(e, g, env, shape))
    r = S.solve(replace(ATTENTION, wrt=("S",)))
    assert not r.checks[0].passed


@pytest.mark.parametrize("name", ["net_attention.yaml", "net_lstm_cell.yaml",
                                  "net_gaussian_nll_diag.yaml"])
def test_bundled_problems_with_forward_names_in_wrt_pass_by_autograd(cli, name):
    r = cli("check", str(BUNDLED / name), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert all(c["passed"] and c["max_rel_error"] < 1e-9 for c in doc["checks"])
    assert all(c["verdict"] == "correct" for c in doc["claims"])


@pytest.mark.parametrize("name, target, wrong", [
    ("net_lstm_cell.yaml", "f", "u * o * (1 - tanh(cn)**2) * f"),
    ("net_gaussian_nll_diag.yaml", "v", "-r**2 / (10 * v**2)"),
    ("net_attention.yaml", "S", "A * ((O - T) @ V.T)"),
])
def test_a_wrong_claim_in_a_bundled_forward_wrt_problem_is_wrong(cli, tmp_path, name, target, wrong):
    text = (BUNDLED / name).read_text(encoding="utf-8")
    lines = [f"  {target}: {wrong}" if line.startswith(f"  {target}: ") and seen else line
             for seen, line in ((_after_claims(text, i), line)
                                for i, line in enumerate(text.splitlines()))]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("check", str(path), "--format", "json")
    assert r.exit_code == 1, r.output
    verdicts = {c["target"]: c["verdict"] for c in json.loads(r.stdout)["claims"]}
    assert verdicts[target] == "wrong"
    assert list(verdicts.values()).count("wrong") == 1


def _after_claims(text: str, index: int) -> bool:
    lines = text.splitlines()
    return "claims:" in lines[:index]
