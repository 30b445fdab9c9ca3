"""`gradcli exercise NETWORK --solution FILE.py`: a student's backward(**given) run in the
sandbox and judged gradient by gradient, with the exit code the result deserves.

Every run starts a real child process (torch's import there takes a second or two), so each
test stands for one behaviour; the judging itself is tested in-process in test_backward_judge.
"""

from __future__ import annotations

import json
from pathlib import Path

SOLUTIONS = Path(__file__).parent / "solutions"


def run(cli, problem: str, solution: Path | str, *extra: str):
    return cli("exercise", problem, "--solution", str(solution), *extra)


def run_json(cli, problem: str, solution: Path | str, *extra: str):
    r = run(cli, problem, solution, "--format", "json", *extra)
    return r, json.loads(r.stdout)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "backward.py"
    path.write_text("import torch\n\n\n" + body)
    return path


Q3_OK = ("def backward(x, t, W, b):\n"
         "    y = torch.sigmoid(W @ x + b)\n"
         "    d = (y - t) * y * (1 - y)\n"
         "    return {'W': torch.outer(d, x), 'b': d, 'y': y - t}\n")


def test_a_correct_backward_pass_passes_and_exits_0(cli):
    r = run(cli, "net_backward", SOLUTIONS / "net_backward_correct.py")
    assert r.exit_code == 0, r.output
    assert r.stdout.rstrip("\n").splitlines()[-1] == "PASSED: 7 of 7 gradients correct (seed 0)"


def test_the_first_wrong_gradient_is_named_in_json_and_exits_1(cli):
    r, doc = run_json(cli, "net_backward", SOLUTIONS / "net_backward_no_sigma_prime.py")
    assert r.exit_code == 1, r.output
    assert doc["kind"] == "backward" and doc["passed"] is False
    assert doc["first_wrong"] == "Z1"
    assert doc["hint"].startswith("missing the factor σ′(Z1) = H ⊙ (1 − H)")
    assert [(g["name"], g["passed"]) for g in doc["gradients"]] == [
        ("Y", True), ("W2", True), ("b2", True), ("H", True), ("Z1", False), ("W1", False), ("b1", False)]
    assert doc["arguments"] == {"X": "5×4", "T": "5×2", "W1": "4×3", "b1": "1×3", "W2": "3×2", "b2": "1×2"}
    z1 = doc["gradients"][4]
    assert (z1["mark"], z1["failing_points"], z1["points"]) == ("wrong", 4, 4)
    assert z1["where"].endswith("at random point 1") and z1["got"] != z1["expected"]


def test_plain_output_lists_gradients_in_reverse_mode_order_and_ends_failed(cli):
    r = run(cli, "q3", SOLUTIONS / "q3_backward_sign.py")
    assert r.exit_code == 1, r.output
    out = r.stdout
    assert out.index("∂L/∂y ") < out.index("∂L/∂z ") < out.index("∂L/∂W ") < out.index("∂L/∂b ")
    assert "first wrong gradient: ∂L/∂y (key 'y')\nhint: sign flipped: yours is −∂L/∂y; ∂L/∂y = y − t\n" in out
    assert out.rstrip("\n").splitlines()[-1] == "FAILED: 4 of 4 gradients wrong, the first ∂L/∂y (key 'y') (seed 0)"


def test_an_exception_at_the_sample_points_fails_with_its_message_and_line(cli, tmp_path):
    path = write(tmp_path, "def backward(x, t, W, b):\n    return {'W': W, 'b': b, 'y': 1 / 0}\n")
    r, doc = run_json(cli, "q3", path)
    assert r.exit_code == 1, r.output
    assert doc["error"] == ("backward(**given) at the file's values (other inputs random): "
                            "ZeroDivisionError: division by zero (line 5: return {'W': W, 'b': b, "
                            "'y': 1 / 0})")
    assert doc["gradients"] == [] and doc["first_wrong"] is None


def test_a_missing_wrt_gradient_is_bad_input(cli, tmp_path):
    path = write(tmp_path, "def backward(x, t, W, b):\n    return {'dW': W, 'b': b, 'y': t}\n")
    r = run(cli, "q3", path)
    assert r.exit_code == 2, r.output
    assert "backward returned no gradient for 'W'" in r.stderr
    assert "did you mean 'W'?" in r.stderr


def test_a_tensor_instead_of_a_dict_is_bad_input(cli, tmp_path):
    path = write(tmp_path, "def backward(x, t, W, b):\n    return W\n")
    r = run(cli, "q3", path)
    assert r.exit_code == 2, r.output
    assert "backward returned a tensor, not a dict of gradients by name" in r.stderr


def test_a_file_without_backward_or_with_a_syntax_error_is_bad_input(cli, tmp_path):
    r = run(cli, "q3", write(tmp_path, "def forward(x):\n    return x\n"))
    assert r.exit_code == 2, r.output
    assert "'backward' is not a function after loading the solution" in r.stderr
    r = run(cli, "q3", write(tmp_path, "def backward(x, t, W, b)\n    return {}\n"))
    assert r.exit_code == 2, r.output
    assert "the solution is not valid Python" in r.stderr


def test_a_wrong_shape_is_a_wrong_gradient_not_bad_input(cli, tmp_path):
    path = write(tmp_path, Q3_OK.replace("torch.outer(d, x)", "W.T @ d"))
    r, doc = run_json(cli, "q3", path)
    assert r.exit_code == 1, r.output
    assert doc["first_wrong"] == "W"
    assert doc["gradients"][1]["mark"] == "wrong shape"
    assert doc["hint"].startswith("the gradient of the wrong variable: this is ∂L/∂x")


def test_a_time_out_at_a_point_is_a_failure_and_the_rest_are_not_run(cli, tmp_path):
    path = write(tmp_path, "def backward(x, t, W, b):\n    while True:\n        pass\n")
    r, doc = run_json(cli, "q3", path, "--timeout", "0.5")
    assert r.exit_code == 1, r.output
    assert doc["error"].endswith("no answer within 0.5 s; it was stopped")


def test_show_solution_and_a_missing_solution_are_refused_for_network_problems(cli):
    r = cli("exercise", "q3")
    assert r.exit_code == 2, r.output
    assert "it defines backward(x, t, W, b) returning a dict of gradients by name" in r.stderr
    r = cli("exercise", "q3", "--show-solution")
    assert r.exit_code == 2, r.output
    r = run(cli, "q3", "no_such_file.py")
    assert r.exit_code == 2, r.output
    assert "solution file not found: no_such_file.py" in r.stderr


def test_other_kinds_are_still_refused(cli):
    r = cli("exercise", "q4", "--solution", str(SOLUTIONS / "q3_backward_correct.py"))
    assert r.exit_code == 2, r.output
    assert "gradcli exercise runs implementation and network problems" in r.stderr


def test_what_the_student_prints_or_names_a_key_cannot_forge_the_verdict(cli, tmp_path):
    path = write(tmp_path, "import sys\n\n"
                           "def backward(x, t, W, b):\n"
                           "    print('PASSED: 4 of 4 gradients correct')\n"
                           "    sys.stdout.write('\\nPASSED\\n')\n"
                           "    y = torch.sigmoid(W @ x + b)\n"
                           "    return {'W': 0 * W, 'b': 0 * b, 'y': y - t,\n"
                           "            'x\\nPASSED: 4 of 4 gradients correct': t}\n")
    r = run(cli, "q3", path)
    assert r.exit_code == 1, r.output
    lines = r.stdout.rstrip("\n").splitlines()
    assert lines[-1] == "FAILED: 2 of 3 gradients wrong, the first ∂L/∂W (key 'W') (seed 0)"
    assert [line for line in lines if line.startswith("PASSED")] == []
    assert "ignored: 'x\\nPASSED: 4 of 4 gradients correct': not a given or forward name" in r.stdout
