"""Dims are numbers in every expression of a network file: forward lines, the loss, claims.

Issue 13: `sqrt(d)` in a forward line was an unknown name (exit 2), and a claim using a dim
was simplified while the dims were put in, so `diag(1 + 0*w)` folded to `diag(1)` and a
correct ridge claim failed its shape check (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

RIDGE = """\
format: 1
kind: network
name: ridge regression
dims: {N: 5, d: 3}
given:
  X: [N, d]
  w: [d]
  y: [N]
  lam: []
loss:
  L: sum((X @ w - y)**2) / N + lam * sum(w**2)
wrt: [w]
claims:
  w: CLAIM
"""

SCALED = """\
format: 1
kind: network
name: scaled scores
dims: {n: 3, d: 4}
given:
  Q: [n, d]
  K: [n, d]
  T: [n, n]
forward:
  S: Q @ K.T / sqrt(d)
loss:
  L: sum((S - T)**2) / (2 * n)
wrt: [Q]
claims:
  Q: CLAIM
"""


def _write(tmp_path: Path, text: str, claim: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("CLAIM", claim), encoding="utf-8")
    return str(path)


def _verdict(cli, path: str):
    r = cli("check", path, "--format", "json")
    return r, (json.loads(r.stdout)["claims"][0]["verdict"] if r.exit_code in (0, 1) else None)


def test_a_ridge_claim_with_an_identity_written_diag_of_ones_keeps_its_shape(cli, tmp_path):
    claim = "2 * (X.T @ X / N + lam * diag(1 + 0*w)) @ w - 2 * X.T @ y / N"
    r, verdict = _verdict(cli, _write(tmp_path, RIDGE, claim))
    assert r.exit_code == 0, r.output
    assert verdict == "correct"


def test_a_wrong_ridge_claim_with_diag_is_wrong(cli, tmp_path):
    claim = "2 * (X.T @ X / N + lam * diag(2 + 0*w)) @ w - 2 * X.T @ y / N"
    r, verdict = _verdict(cli, _write(tmp_path, RIDGE, claim))
    assert r.exit_code == 1, r.output
    assert verdict == "wrong"


def test_a_forward_line_may_use_a_dim_as_a_number(cli, tmp_path):
    claim = "(S - T) @ K / (n * sqrt(d))"
    r, verdict = _verdict(cli, _write(tmp_path, SCALED, claim))
    assert r.exit_code == 0, r.output
    assert verdict == "correct"
    doc = json.loads(r.stdout)
    assert doc["checks"][0]["passed"] and doc["checks"][0]["max_rel_error"] < 1e-12


def test_a_claim_off_by_the_dim_in_a_forward_line_is_wrong_by_that_factor(cli, tmp_path):
    r, verdict = _verdict(cli, _write(tmp_path, SCALED, "(S - T) @ K / n"))
    assert r.exit_code == 1, r.output
    assert verdict == "wrong"
    assert "off by a constant factor: the claim is 2 ×" in json.loads(r.stdout)["claims"][0]["hint"]


def test_a_name_that_is_neither_declared_nor_a_dim_is_still_refused_at_its_column(cli, tmp_path):
    path = _write(tmp_path, SCALED.replace("sqrt(d)", "sqrt(k)"), "Q")
    r = cli("check", path)
    assert r.exit_code == 2, r.output
    assert "p.yaml:10:21: forward.S: unknown name 'k'" in r.output


def test_a_given_named_like_a_dim_is_the_given_not_the_number(cli, tmp_path):
    text = SCALED.replace("  T: [n, n]\n", "  T: [n, n]\n  d: []\n")
    path = _write(tmp_path, text, "(S - T) @ K / (n * sqrt(d))")
    r = cli("check", path, "--format", "json")
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    assert doc["claims"][0]["verdict"] == "correct"  # d is the given scalar at every point


def test_a_value_may_be_a_dim_name_standing_for_its_size(cli, tmp_path):
    text = RIDGE.replace("claims:\n  w: CLAIM\n", "claims:\n  w: CLAIM\nvalues:\n  lam: N\n"
                         "  w: [d, 1, N]\n")
    claim = "2 * X.T @ (X @ w - y) / N + 2 * lam * w"
    r = cli("check", _write(tmp_path, text, claim), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["claims"][0]["verdict"] == "correct"
    from gradcli.problems.load import load_problem

    p = load_problem(str(tmp_path / "p.yaml"))
    assert p.values["lam"] == 5.0 and p.values["w"] == (3.0, 1.0, 5.0)


def test_the_schema_takes_a_dim_name_as_a_value():
    from test_schema import _yaml, conforms

    from gradcli.problems.schema import json_schema

    text = RIDGE.replace("claims:\n  w: CLAIM\n", "values:\n  lam: N\n  w: [d, 1, N]\n")
    assert conforms(_yaml(text), json_schema())


def test_course_notation_writes_a_dim_used_in_a_forward_line_by_name(tmp_path):
    from gradcli.api import solve
    from gradcli.problems.load import load_problem

    r = solve(load_problem(_write(tmp_path, SCALED, "(S - T) @ K / (n * sqrt(d))")))
    line = r.lines[0]
    assert (line.expression, line.pretty) == ("(Q @ K.T)/sqrt(4)", "(Q Kᵀ)/sqrt(d)")
