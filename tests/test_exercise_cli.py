"""`gradcli exercise`: each kind of solution gets the right verdict and exit code.

Every run starts a real child process (torch's import there takes a second or two), so the
fixtures in tests/solutions/ each stand for one behaviour.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).parent / "solutions"
BUNDLED = Path(__file__).parent.parent / "gradcli" / "bundled"


def run_json(cli, problem: str, fixture: str, *extra: str):
    r = cli("exercise", problem, "--solution", str(SOLUTIONS / fixture), "--format", "json", *extra)
    return r, json.loads(r.stdout)


def verdicts(doc) -> list[str]:
    return [c["verdict"] for c in doc["cases"]]


def test_correct_solution_passes_every_case_and_exits_0(cli):
    r, doc = run_json(cli, "q1", "q1_correct.py")
    assert r.exit_code == 0, r.output
    assert doc["passed"] is True
    assert verdicts(doc) == ["passed"] * 7
    assert [c["name"] for c in doc["cases"]] == ["random 1", "random 2", "random 3", "one row",
                                                  "one column", "negative values", "constant column"]
    assert doc["constraints"]["violations"] == []


def test_wrong_solution_reports_the_first_differing_entry_and_exits_1(cli):
    import torch

    r, doc = run_json(cli, "q1", "q1_wrong.py")
    assert r.exit_code == 1, r.output
    first = doc["cases"][0]
    assert first["verdict"] == "wrong"
    assert first["where"] == "(1, 1)"
    # The same case, rebuilt from the seed, through an independent route.
    from gradcli.kinds.implementation.cases import make_cases
    from gradcli.problems.load import load_problem

    X = make_cases(load_problem(BUNDLED / "q1.yaml"), 0)[0].inputs["X"]
    centred = X - X.sum(0) / X.shape[0]
    assert first["expected"] == pytest.approx(float(centred[0, 0] / centred[:, 0].norm()), rel=1e-14)
    assert first["got"] == pytest.approx(float(centred[0, 0] / X[:, 0].norm()), rel=1e-14)
    assert first["detail"].startswith(f"first differing entry (1, 1): expected {first['expected']!r}, "
                                      f"got {first['got']!r} (")
    assert torch.isfinite(X).all()


def test_calling_torch_mean_breaks_the_constraint_in_the_file_and_when_called(cli):
    r, doc = run_json(cli, "q1", "q1_uses_mean.py")
    assert r.exit_code == 1, r.output
    [v] = doc["constraints"]["violations"]
    assert (v["what"], v["line"], v["column"], v["source"]) == (
        "torch.mean", 5, 13, "X = X - torch.mean(X, dim=0)")
    assert verdicts(doc) == ["constraint broken"] * 7
    assert doc["cases"][0]["detail"] == "called torch.mean at line 5"


def test_mean_named_at_run_time_is_refused_as_dynamic_code_and_caught_when_called(cli):
    r, doc = run_json(cli, "q1", "q1_hidden_mean.py")
    assert r.exit_code == 1, r.output
    [v] = doc["constraints"]["violations"]  # a name built at run time cannot be read: refused
    assert (v["rule"], v["what"], v["line"], v["detail"]) == (
        "dynamic", "refused: dynamic code", 6, "getattr with a name computed at run time")
    assert doc["cases"][0]["detail"] == "called torch.mean at line 7"  # the second signal


def test_two_line_solution_to_question_2_breaks_the_one_line_rule(cli):
    r, doc = run_json(cli, "q2", "q2_two_lines.py")
    assert r.exit_code == 1, r.output
    assert verdicts(doc) == ["passed"] * 7  # right answers, wrong form
    [v] = doc["constraints"]["violations"]
    assert (v["rule"], v["line"], v["detail"]) == (
        "one_line", 6, "the body has 2 statements besides the final `return X`")


def test_one_line_solution_to_question_2_passes(cli):
    r, doc = run_json(cli, "q2", "q2_correct.py")
    assert r.exit_code == 0, r.output
    assert verdicts(doc) == ["passed"] * 7


def test_infinite_loop_is_stopped_at_the_time_limit_and_exits_1(cli):
    r = cli("exercise", "q2", "--solution", str(SOLUTIONS / "q2_loops_forever.py"),
            "--timeout", "1", "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "random 1         X 6×6  timed out  no answer within 1 s; the solution was stopped" in r.stdout
    assert r.stdout.count("not run") == 6
    assert "Traceback" not in r.output


def test_raising_solution_shows_its_own_exception_and_line_without_our_traceback(cli):
    r = cli("exercise", "q2", "--solution", str(SOLUTIONS / "q2_raises.py"), "--format", "plain")
    assert r.exit_code == 1, r.output
    assert "ValueError: step must be greater than zero (line 2: return X[:, ::-1])" in r.stdout
    assert "Traceback" not in r.output
    assert "FAILED: 7 of 7 cases failed" in r.stdout


def test_process_that_exits_is_reported_as_crashed(cli):
    r, doc = run_json(cli, "q2", "q2_exits.py")
    assert r.exit_code == 1, r.output
    assert doc["cases"][0]["verdict"] == "crashed"
    assert doc["cases"][0]["detail"] == "the solution process exited with status 7"


def test_memory_limit_turns_a_huge_allocation_into_an_error_verdict(cli):
    r, doc = run_json(cli, "q1", "q1_greedy.py", "--memory", "64")
    assert r.exit_code == 1, r.output
    assert doc["cases"][0]["verdict"] == "error"
    assert "can't allocate memory" in doc["cases"][0]["detail"]


def test_file_that_fails_to_load_is_a_verdict_not_a_crash(cli):
    r, doc = run_json(cli, "q1", "q1_fails_to_load.py")
    assert r.exit_code == 1, r.output
    assert doc["load_error"] == ("loading the file raised ZeroDivisionError: division by zero "
                                 "(line 3: SCALE = 1 / 0)")
    assert verdicts(doc) == ["not run"] * 7


def test_constant_column_is_undefined_in_the_reference_and_not_judged(cli):
    r, doc = run_json(cli, "q1", "q1_guarded.py")  # returns 0 where the reference is 0/0
    assert r.exit_code == 0, r.output
    case = doc["cases"][6]
    assert (case["name"], case["undefined_entries"]) == ("constant column", 4)
    assert case["detail"] == ("4 entries undefined (reference 0/0 = NaN), not judged; the solution "
                              "gave 0.0 there; the other entries match")


def test_reversing_the_order_of_rows_is_the_wrong_reading_of_question_2(cli):
    r, doc = run_json(cli, "q2", "q2_reverses_rows_order.py")
    assert r.exit_code == 1, r.output
    assert "order of the entries within each row" in doc["interpretation"][0]
    assert verdicts(doc) == ["wrong"] * 7
    assert doc["cases"][0]["where"] == "(1, 1)"


@pytest.mark.parametrize("problem, line", [
    ("q1", "    X = X - X.sum(dim=0, keepdim=True) / X.shape[0]"),
    ("q2", "    return X[:, torch.arange(X.shape[1] - 1, -1, -1)]"),
])
def test_reference_solution_is_shown_and_obeys_the_exercise_rules(cli, problem, line):
    r = cli("exercise", problem, "--show-solution", "--format", "plain")
    assert r.exit_code == 0, r.output
    assert "Cases: gradcli's reference solution" in r.stdout
    assert line in r.stdout.splitlines()
    assert "kept: no torch." in r.stdout


def test_syntax_error_in_the_solution_exits_2_with_line_and_column(cli):
    path = SOLUTIONS / "q1_syntax_error.py"
    r = cli("exercise", "q1", "--solution", str(path))
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: {path}:5:12: syntax error in the solution: ")
    assert "Traceback" not in r.output


def test_solution_without_the_function_exits_2(cli):
    r = cli("exercise", "q1", "--solution", str(SOLUTIONS / "q1_misnamed.py"))
    assert r.exit_code == 2, r.output
    assert "no function named 'normalize_tensor'" in r.stderr
    assert "did you mean 'normalise_tensor'?" in r.stderr


@pytest.mark.parametrize("args, message", [
    (("q1", "--solution", "nowhere.py"), "error: solution file not found: nowhere.py"),
    (("q9", "--solution", "x.py"), "error: q9: no such file, directory or bundled problem"),
    (("q5", "--solution", "x.py"), "error: q5.yaml: is a derivative problem; gradcli exercise"),
    (("q1",), "error: give your solution with --solution FILE.py"),
])
def test_bad_input_exits_2_with_one_message(cli, args, message):
    r = cli("exercise", *args)
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(message)


def test_problem_file_path_with_a_relative_solution_key(cli, tmp_path):
    (tmp_path / "mine.py").write_text((SOLUTIONS / "q2_correct.py").read_text())
    text = (BUNDLED / "q2.yaml").read_text() + "solution: mine.py\n"
    (tmp_path / "q2.yaml").write_text(text)
    r = cli("exercise", str(tmp_path / "q2.yaml"), "--show-solution", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["solution"] == str(tmp_path / "mine.py")  # relative to the problem file
    assert doc["reference_solution"].startswith("import torch\n")


def test_a_solution_given_as_a_pipe_is_refused_as_not_a_regular_file(cli):
    # The child process reopens the solution by path: a pipe the parent read would be empty.
    import os

    read, write = os.pipe()
    os.write(write, b"def reverse_rows(X):\n    return X\n")
    os.close(write)
    try:
        r = cli("exercise", "q2", "--solution", f"/dev/fd/{read}")
    finally:
        os.close(read)
    assert r.exit_code == 2, r.output
    assert f"solution file is not a regular file (a pipe or device cannot be read twice): " \
           f"/dev/fd/{read}" in r.output


def test_a_solution_cannot_start_processes_that_outlive_gradcli(cli):
    r, doc = run_json(cli, "q1", "q1_forks_a_daemon.py")
    assert r.exit_code == 1, r.output
    assert verdicts(doc) == ["constraint broken"] * 7
    assert doc["cases"][0]["detail"] == \
        "called os.fork (a solution may not start a process) at line 10"


def test_a_solution_cannot_signal_the_process_that_judges_it(cli):
    r, doc = run_json(cli, "q1", "q1_kills_gradcli.py")
    assert r.exit_code == 1, r.output
    assert doc["cases"][0]["detail"] == "called os.kill (a solution may not send a signal) at line 7"


def test_a_solution_cannot_write_files(cli):
    r, doc = run_json(cli, "q1", "q1_writes_a_file.py")
    assert r.exit_code == 1, r.output
    assert not (SOLUTIONS / "written_by_solution.txt").exists()
    assert "open (a solution may not open a file for writing) at line 4" in r.output


def test_a_forbidden_function_through_private_internals_breaks_the_constraint(cli):
    r, doc = run_json(cli, "q1", "q1_private_mean.py")
    dynamic = [v for v in doc["constraints"]["violations"] if v["rule"] == "dynamic"]
    assert [(d["line"], d["detail"]) for d in dynamic] == [
        (6, "._VariableFunctions (private internals reach functions under other names)")]
    [v] = [v for v in doc["constraints"]["violations"] if v["rule"] == "forbid"]
    assert (v["what"], v["detail"]) == (
        "torch.mean", "torch._C._VariableFunctions.mean (torch.mean under another name)")
    assert r.exit_code == 1


def test_a_complex_result_is_wrong_not_its_real_part(cli):
    r, doc = run_json(cli, "q1", "q1_complex.py")
    assert r.exit_code == 1, r.output
    assert doc["cases"][0]["detail"].startswith("returned a complex tensor (complex128)")


def test_sigterm_to_gradcli_stops_the_solution_process_too(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "gradcli", "exercise", "q2", "--solution",
                             str(SOLUTIONS / "q2_loops_forever.py"), "--timeout", "60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child = None
    deadline = time.monotonic() + 60
    while child is None and time.monotonic() < deadline:  # wait for the solution's process
        time.sleep(0.2)
        child = next((int(d.name) for d in Path("/proc").iterdir()
                      if d.name.isdigit() and _parent(int(d.name)) == proc.pid), None)
    assert child is not None, "the solution's process never started"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    time.sleep(0.5)
    assert not os.path.exists(f"/proc/{child}") or _state(child) == "Z", "the child survived"


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_reference_that_multiplies_1d_inputs_with_at_says_they_are_1d(cli, tmp_path):
    # "@ needs two matrices or vectors" for two vectors read as a contradiction
    (tmp_path / "p.yaml").write_text("format: 1\nkind: implementation\nname: outer\n"
                                     "function: outer\ninputs: {x: [n], y: [k]}\n"
                                     "reference: x @ y.T\n")
    (tmp_path / "s.py").write_text("def outer(x, y):\n    return x[:, None] * y[None, :]\n")
    r = cli("exercise", str(tmp_path / "p.yaml"), "--solution", str(tmp_path / "s.py"))
    assert r.exit_code == 2
    assert "a 1-D tensor is neither a row nor a column" in r.stderr and "[n, 1]" in r.stderr
