"""`gradcli grade PROBLEM DIR`: one verdict per submission, scores, reports, exit codes.

The submissions are the exercise fixtures of tests/solutions/, copied into a folder; they
run in fork servers (one per --jobs), so the whole folder costs about one torch import.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.test_sandbox_attacks import runners

SOLUTIONS = Path(__file__).parent / "solutions"
FIXTURES = {
    "correct.py": "q2_correct.py", "two_lines.py": "q2_two_lines.py", "raises.py": "q2_raises.py",
    "loops.py": "q2_loops_forever.py", "rows_order.py": "q2_reverses_rows_order.py",
    "exec_flip.py": "attack_exec_flip.py", "exits.py": "q2_exits.py",
}


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "submissions"
    root.mkdir()
    for name, fixture in FIXTURES.items():
        shutil.copy(SOLUTIONS / fixture, root / name)
    (root / "alice").mkdir()
    shutil.copy(SOLUTIONS / "q2_correct.py", root / "alice" / "main.py")
    (root / "bob").mkdir()
    (root / "notes.txt").write_text("not a submission")
    return root


def test_each_submission_gets_its_verdict_score_and_first_wrong_case(cli, folder, tmp_path):
    report = tmp_path / "report.csv"
    r = cli("grade", "q2", str(folder), "--jobs", "2", "--timeout", "1", "--report", str(report),
            "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    got = {s["submission"]: (s["verdict"], s["score"], s["first_wrong"]) for s in doc["submissions"]}
    assert got == {
        "alice/main.py": ("pass", 1.0, None),
        "bob/": ("error", 0.0, None),
        "correct.py": ("pass", 1.0, None),
        "exec_flip.py": ("refused", 0.0, "line 6"),
        "exits.py": ("refused", 0.0, "line 1"),  # import sys: under constraints, not run
        "loops.py": ("timeout", 0.0, "random 1"),
        "raises.py": ("fail", 0.0, "random 1"),
        "rows_order.py": ("fail", 0.0, "random 1"),
        "two_lines.py": ("fail", 0.0, "line 6"),
    }
    assert list(doc["submissions"][0]) == ["submission", "verdict", "score", "first_wrong",
                                           "message", "seconds"]
    by_name = {s["submission"]: s for s in doc["submissions"]}
    assert by_name["exec_flip.py"]["message"] == \
        "refused: dynamic code: eval (runs or reaches code by name) (line 6)"
    assert by_name["bob/"]["message"] == \
        "the folder has 0 .py files; a submission folder needs exactly one"
    assert doc["counts"] == {"pass": 2, "fail": 3, "error": 1, "timeout": 1, "refused": 2}
    with open(report, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(row["submission"], row["verdict"]) for row in rows] == \
        [(s["submission"], s["verdict"]) for s in doc["submissions"]]
    assert runners() == []


def test_plain_output_ends_with_the_summary_line(cli, tmp_path):
    root = tmp_path / "two"
    root.mkdir()
    shutil.copy(SOLUTIONS / "q2_correct.py", root / "a.py")
    shutil.copy(SOLUTIONS / "q2_two_lines.py", root / "b.py")
    report = tmp_path / "r.json"
    r = cli("grade", "q2", str(root), "--report", str(report), "--format", "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1] == "PASSED: graded 2 submissions (1 pass, 1 fail) (seed 0)"
    assert [s["verdict"] for s in json.loads(report.read_text())["submissions"]] == ["pass", "fail"]


@pytest.mark.parametrize("args, message", [
    (["missing_dir"], "not a folder"),
    (["{empty}"], "no submissions in"),
    (["{empty}", "--report", "r.txt"], "--report must end in .csv or .json"),
])
def test_bad_input_exits_2(cli, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    args = [a.replace("{empty}", str(tmp_path / "empty")) for a in args]
    r = cli("grade", "q2", *args)
    assert r.exit_code == 2
    assert message in r.output


def test_a_problem_with_no_student_code_is_not_graded(cli, tmp_path):
    # network problems are graded as backward passes (test_grade_backward.py); pooling has no code
    r = cli("grade", "q6", str(tmp_path))
    assert r.exit_code == 2
    assert "is a pooling problem" in r.output and "implementation and network" in r.output


def test_an_incomplete_sandbox_is_refused_unless_the_user_accepts_it(cli, tmp_path, monkeypatch):
    from gradcli.sandbox import isolation

    weak = isolation.Protections(active=("pdeathsig", "rlimits", "landlock"),
                                 missing=(("seccomp", "pyseccomp/libseccomp unavailable"),),
                                 landlock_abi=7)
    monkeypatch.setattr(isolation, "probe", lambda: weak)
    root = tmp_path / "one"
    root.mkdir()
    shutil.copy(SOLUTIONS / "q2_correct.py", root / "a.py")
    r = cli("grade", "q2", str(root))
    assert r.exit_code == 2
    assert "the sandbox is incomplete here, missing: seccomp (pyseccomp/libseccomp unavailable)" in r.output
    assert "--allow-weaker-sandbox" in r.output
    r = cli("grade", "q2", str(root), "--allow-weaker-sandbox", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["sandbox"] == "pdeathsig: active; rlimits: active; landlock: active (ABI 7); " \
                             "seccomp: MISSING (pyseccomp/libseccomp unavailable)"
    assert [s["verdict"] for s in doc["submissions"]] == ["pass"]
