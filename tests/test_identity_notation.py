"""The identity a derivation builds (trace, diag) prints as I in course notation and as
eye(N) in the pasteable expression language, which reads back as the same matrix (issue 16:
it was diag(c**0) or diag(sum(A @ X @ B, dim=1)**0))."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BUNDLED = Path(__file__).resolve().parent.parent / "gradcli" / "bundled"


def test_the_diagonal_rule_writes_eye_by_the_dims_name_in_the_pasteable_form(cli):
    r = cli("check", str(BUNDLED / "net_weighted_lsq.yaml"), "-f", "plain")
    assert r.exit_code == 0, r.output
    assert "∂L/∂c (in full, pasteable) = 0.5*sum((r @ r.T)*eye(N), dim=1)" in r.stdout
    assert "   ∂L/∂c = 0.5*sum((r @ r.T)*I, dim=1)    [N×1]" in r.stdout  # the step
    assert "**0" not in r.stdout


def test_the_pasteable_form_with_eye_is_judged_correct_as_a_claim(cli, tmp_path):
    doc = json.loads(cli("check", str(BUNDLED / "net_weighted_lsq.yaml"), "-f", "json").stdout)
    pasteable = doc["gradients"]["c"]["expression"]
    assert pasteable == "0.5*sum((r @ r.T)*eye(N), dim=1)"
    text = (BUNDLED / "net_weighted_lsq.yaml").read_text().replace(
        "  c: 0.5 * r**2", f"  c: {pasteable}")
    (tmp_path / "p.yaml").write_text(text)
    again = json.loads(cli("check", str(tmp_path / "p.yaml"), "-f", "json").stdout)
    claim = next(c for c in again["claims"] if c["expression"] == pasteable)
    assert claim["verdict"] == "correct", claim
    wrong = text.replace(f"  c: {pasteable}", "  c: sum((r @ r.T)*eye(N), dim=1)")  # 2× too big
    (tmp_path / "q.yaml").write_text(wrong)
    r = cli("check", str(tmp_path / "q.yaml"), "-f", "json")
    assert r.exit_code == 1, r.output


@pytest.mark.parametrize(("dims", "given", "expected"), [
    ("dims: {n: 3}\n", "{A: [n, n], X: [n, n], B: [n, n]}", "eye(n)"),
    ("", "{A: [3, 3], X: [3, 3], B: [3, 3]}", "eye(3)"),  # no dim name: the size
    # a given named like the dim: eye(n) would read n as that column, so the size
    ("dims: {n: 3}\n", "{A: [n, n], X: [n, n], B: [n, n], n: [n]}", "eye(3)"),
], ids=["named dim", "literal size", "dim shadowed by a given"])
def test_the_trace_step_is_I_in_display_and_latex_and_eye_in_the_expression(cli, tmp_path, dims,
                                                                         given, expected):
    loss = "trace(A @ X @ B) + sum(n)" if "n: [n]" in given else "trace(A @ X @ B)"
    (tmp_path / "t.yaml").write_text(f"format: 1\nkind: network\n{dims}given: {given}\n"
                                     f"loss: {{L: '{loss}'}}\nwrt: [X]\n")
    r = cli("check", str(tmp_path / "t.yaml"), "-f", "json")
    assert r.exit_code == 0, r.output
    step = next(s for s in json.loads(r.stdout)["steps"] if s["rule"] == "trace")
    assert (step["display"], step["latex"], step["expression"]) == ("I", "I", expected)
