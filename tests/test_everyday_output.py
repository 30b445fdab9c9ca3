"""Concise, consistent output (issue 16): one verdict line last, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "solutions"
BUNDLED = ROOT / "gradcli" / "bundled"

JUDGED = [
    (("check", "q3"), 0, "PASSED: 3/3 checks, 1/1 claims correct (seed 0)"),
    (("check", "q4"), 0, "PASSED: 4/4 checks, no claims (seed 0)"),
    (("check", "q1"), 0, "PASSED: 7 of 7 cases, constraints kept (seed 0)"),
    (("pool", "--input", "1 2; 3 4", "--seed", "3"), 0, "PASSED: 2/2 checks, no claims (seed 3)"),
    (("vanish", "--depth", "4", "--width", "3"), 0, "PASSED: 4/4 checks, no claims (seed 0)"),
    (("derive", "sigmoid", "--no-steps"), 0, "PASSED: 4/4 checks, no claims (seed 0)"),
    (("derive", "sigmoid", "--no-steps", "--claim", "2*sigmoid(x)"), 1,
     "FAILED: 4/4 checks, 0/1 claims correct (seed 0)"),
    (("derive", "sigmoid", "--no-steps", "--no-check"), 0,
     "PASSED: derived only, no check ran (--no-check) (seed 0)"),
    (("exercise", "q2", "--solution", str(SOLUTIONS / "q2_raises.py")), 1,
     "FAILED: 7 of 7 cases failed (seed 0)"),
]


@pytest.mark.parametrize(("args", "code", "last"), JUDGED, ids=[" ".join(a[:2]) for a, _, _ in JUDGED])
def test_judged_output_ends_with_one_verdict_line_with_counts(cli, args, code, last):
    r = cli(*args, "-f", "plain")
    assert r.exit_code == code, r.output
    lines = r.stdout.rstrip("\n").split("\n")
    assert lines[-1] == last
    assert sum(ln.startswith(("PASSED", "FAILED")) for ln in lines) == 1


@pytest.mark.parametrize("fmt", ["rich", "markdown", "latex"])
def test_other_block_formats_end_with_the_verdict_line_too(cli, fmt):
    r = cli("check", "q6", "-f", fmt)
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stdout.split("\n") if ln.strip() and ln != "\\end{document}"]
    assert "PASSED: 2/2 checks, 1/1 claims correct (seed 0)" in lines[-1]


@pytest.mark.parametrize("args", [("list",), ("schema",)])
def test_commands_that_judge_nothing_print_no_verdict_line(cli, args):
    r = cli(*args, "-f", "plain")
    assert r.exit_code == 0, r.output
    assert not any(ln.startswith(("PASSED", "FAILED")) for ln in r.stdout.split("\n"))


WRONG_Q6 = (BUNDLED / "q6.yaml").read_text().replace("claim: |            # the answer for an upstream of all ones: each cell gets a quarter\n  1/4",
    "claim: |\n  1/2", 1)


def test_several_passing_problems_print_one_line_each_and_a_total(cli):
    r = cli("check", "q3", "q6", "q5", "-f", "plain")
    assert r.exit_code == 0, r.output
    lines = r.stdout.rstrip("\n").split("\n")
    assert lines[:2] == ["Summary", "======="]
    assert lines[2].split() == ["problem", "kind", "verdict", "checks", "passed", "claims",
                                "correct", "time"]
    rows = lines[4:-1]
    assert [row.split("  ")[0] for row in rows] == [
        "One-layer sigmoid network, squared loss", "Average pooling backprop, 2×2 kernel, stride 2",
        "GELU derivative"]
    assert all(" PASS " in row and row.endswith(" s") for row in rows)
    assert lines[-1] == "PASSED: 3 of 3 problems passed; 7/7 checks, 3/3 claims correct"


def test_a_failing_problem_among_several_gets_its_full_report(cli, tmp_path):
    assert WRONG_Q6 != (BUNDLED / "q6.yaml").read_text()
    (tmp_path / "wrong.yaml").write_text(WRONG_Q6)
    r = cli("check", "q3", str(tmp_path / "wrong.yaml"), "-f", "plain")
    assert r.exit_code == 1, r.output
    assert "Derivation" not in r.stdout  # q3 passed: its steps are not shown
    assert r.stdout.startswith("Average pooling backprop")  # the failure's report comes first
    assert "output y (2×2)" in r.stdout
    assert r.stdout.rstrip().split("\n")[-1] == (
        "FAILED: 1 of 2 problems passed; 5/5 checks, 1/2 claims correct")


def test_verbose_shows_every_full_report_before_the_summary(cli):
    r = cli("check", "q3", "q6", "-v", "-f", "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.index("Derivation (reverse mode") < r.stdout.index("output y (2×2)") \
        < r.stdout.index("Summary")
