"""`check` never runs a solution file a problem file names unless the user says so."""

from __future__ import annotations

PROBLEM = """format: 1
kind: implementation
name: names a solution
function: reverse_rows
inputs: {X: [3, 4]}
reference: builtin:reverse_rows
solution: payload.py
"""

# Wrong on purpose (it reverses the order of the rows), so whether it ran shows in the verdicts:
# a marker file cannot, since the sandbox refuses writes.
PAYLOAD = """def reverse_rows(X):
    return X.flip(0)
"""


def _files(tmp_path):
    (tmp_path / "p.yaml").write_text(PROBLEM)
    (tmp_path / "payload.py").write_text(PAYLOAD)
    return str(tmp_path / "p.yaml")


def test_check_does_not_run_a_solution_named_by_the_file(cli, tmp_path):
    r = cli("check", _files(tmp_path))
    assert r.exit_code == 0, r.output  # the built-in reference was checked instead
    assert "payload.py" not in r.output.split("was not run")[1]
    assert "was not run" in r.output and "--run-solutions" in r.output


def test_run_solutions_is_the_users_consent(cli, tmp_path):
    r = cli("check", _files(tmp_path), "--run-solutions", "--format", "plain")
    assert r.exit_code == 1, r.output  # the payload ran, and is wrong
    assert f"Cases: {tmp_path / 'payload.py'}" in r.output and " wrong " in r.output


CUSTOM = """format: 1
kind: implementation
name: custom
function: softmax_rows
inputs: {X: [3, 4]}
reference: softmax(X, dim=1)
solution: payload.py
"""


def test_a_named_solution_without_a_reference_solution_points_at_run_solutions(cli, tmp_path):
    # the hint read "give one with --solution FILE.py", an option check does not have
    (tmp_path / "c.yaml").write_text(CUSTOM)
    (tmp_path / "payload.py").write_text("def softmax_rows(X):\n    return X\n")
    r = cli("check", str(tmp_path / "c.yaml"))
    assert r.exit_code == 2
    assert "gradcli check runs only with --run-solutions" in r.stderr

