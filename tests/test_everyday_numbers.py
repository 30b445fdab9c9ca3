"""Verdict numbers that read right (issue 16): no relative error against a truth of 0, a bound
that says what it covers, and plain `vanish` with the worksheet's init."""

from __future__ import annotations

import io
import json

from gradcli.cli.vanish import INIT
from gradcli.problems.load import load_any
from gradcli.render import plain
from gradcli.render.layouts.checks import checks_table
from gradcli.results import Check


def rendered(check: Check) -> str:
    out = io.StringIO()
    plain.write(checks_table((check,), seed=0), out)
    return out.getvalue()


def test_a_check_failing_where_the_truth_is_0_prints_the_absolute_error():
    check = Check("d/dx = torch autograd", False, 0.5, 7e307, 32, "autograd", where="x = 0",
                  expected=0.0, got=0.5)
    text = rendered(check)
    assert "7e+307" not in text and "7.00e+307" not in text
    assert ("d/dx = torch autograd failed at x = 0: expected 0, got 0.5 (absolute error "
            "5.00e-01; the true value is 0, so no relative error)") in text
    assert "5.00e-01 (abs)" in text


def test_a_check_failing_elsewhere_keeps_its_relative_error():
    check = Check("d/dx", False, 0.5, 0.25, 32, "autograd", where="x = 1", expected=2.0, got=2.5)
    assert "(relative error 2.50e-01)" in rendered(check)


def test_plain_vanish_uses_the_worksheet_init_and_says_which(cli):
    assert INIT == load_any("bundled:q4.yaml").init
    r = cli("vanish", "-f", "plain")
    assert r.exit_code == 0, r.output
    assert "init: He/Kaiming normal" in r.stdout
    assert "This run (he init)" in r.stdout


def test_plain_vanish_measures_what_check_q4_measures(cli):
    ours = json.loads(cli("vanish", "-f", "json").stdout)
    worksheet = json.loads(cli("check", "q4", "-f", "json").stdout)
    assert ours["init"] == worksheet["init"] == "he"
    assert ours["layers"] == worksheet["layers"]


def test_the_sigmoid_bound_says_it_covers_the_activation_factor_only(cli):
    r = cli("vanish", "-f", "plain")
    assert ("(σ′'s own factor through 20 layers is at most 9.09e-13; the weights multiply in "
            "theirs)") in r.stdout
