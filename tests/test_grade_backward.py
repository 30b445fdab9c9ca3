"""`gradcli grade` on a network problem: a folder of students' backward passes, each run in
the sandbox pool and judged gradient by gradient as `gradcli exercise` judges one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parent / "solutions"


def test_a_folder_of_backward_passes_gets_one_verdict_each(cli, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(SOLUTIONS / "net_backward_correct.py", folder / "a_correct.py")
    shutil.copy(SOLUTIONS / "net_backward_no_sigma_prime.py", folder / "b_no_sigma_prime.py")
    (folder / "c_syntax.py").write_text("def backward(X, T, W1, b1, W2, b2:\n")
    (folder / "d_no_function.py").write_text("import torch\n")
    report = tmp_path / "r.json"
    r = cli("grade", "net_backward", str(folder), "--report", str(report), "-f", "json",
            "--allow-weaker-sandbox")
    assert r.exit_code == 0, r.output
    rows = {s["submission"]: s for s in json.loads(r.stdout)["submissions"]}
    assert rows["a_correct.py"]["verdict"] == "pass" and rows["a_correct.py"]["score"] == 1.0
    wrong = rows["b_no_sigma_prime.py"]
    assert (wrong["verdict"], wrong["first_wrong"]) == ("fail", "Z1")
    assert 0 < wrong["score"] < 1
    assert rows["c_syntax.py"]["verdict"] == "error"
    assert rows["d_no_function.py"]["verdict"] == "error"
    assert "backward" in rows["d_no_function.py"]["message"]
    assert json.loads(report.read_text())["submissions"][0]["submission"] == "a_correct.py"


def test_grading_backward_passes_ends_with_the_verdict_line(cli, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(SOLUTIONS / "q3_backward_correct.py", folder / "s.py")
    r = cli("grade", "q3", str(folder), "-f", "plain", "--allow-weaker-sandbox")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1] == "PASSED: graded 1 submissions (1 pass) (seed 0)"
