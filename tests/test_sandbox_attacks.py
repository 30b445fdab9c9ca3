"""Hostile solutions against the real CLI: never a PASS, nothing outside the sandbox's
temporary directory touched, no process left behind, and gradcli alive with its verdict.

Each attack in tests/solutions/attack_*.py is copied into a fresh folder next to a
`secret.txt` and a fake `home/.ssh/id_rsa`, and run by `python -m gradcli exercise` in a
subprocess (an attack on its parent must not take pytest down). Against an *unconstrained*
copy of question 1 the solution is not refused statically, so the OS isolation alone stands
between it and the machine; `test_os_boundary_alone_*` also turns off the runner's friendly
audit hook. Against the bundled q1 (with constraints) the static analysis refuses it too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradcli.sandbox import isolation
from gradcli.sandbox.process import RUNNER

SOLUTIONS = Path(__file__).parent / "solutions"
ROOT = Path(__file__).resolve().parent.parent
Q1 = ROOT / "gradcli" / "bundled" / "q1.yaml"
SECRET = "TOP SECRET 4242"
KEY = "PRIVATE KEY 7777"

# Each run costs a gradcli start and a torch import: the default suite keeps one or two of
# each family of attack, `-m slow` runs every one.
SLOW = pytest.mark.slow

pytestmark = pytest.mark.skipif(isolation.probe().missing != (),
                                reason=f"a protection is missing here: {isolation.probe().report()}")


def _unconstrained(folder: Path) -> Path:
    text = Q1.read_text()
    start = text.index("constraints:")
    end = text.index("notes:")
    path = folder / "q1_open.yaml"
    path.write_text(text[:start] + text[end:])
    return path


def _arena(tmp_path: Path, fixture: str, replace: dict[str, str] | None = None) -> Path:
    sub = tmp_path / "sub"
    (sub / "home" / ".ssh").mkdir(parents=True)
    (sub / "home" / ".ssh" / "id_rsa").write_text(KEY)
    (sub / "secret.txt").write_text(SECRET)
    os.chmod(sub / "secret.txt", 0o600)
    source = (SOLUTIONS / fixture).read_text()
    for old, new in (replace or {}).items():
        source = source.replace(old, new)
    (sub / "solution.py").write_text(source)
    return sub / "solution.py"


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root: type, mode, size, mtime and content hash (symlinks not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
            out[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_nlink, digest)
    return out


def runners() -> list[int]:
    """Processes running this checkout's sandbox runner (or anything forked from one)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if str(RUNNER).encode() in cmdline:
                found.append(int(entry))
    return found


def gradcli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "gradcli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def attack(tmp_path: Path, fixture: str, *, problem: str = "open", fmt: str = "json",
           replace: dict[str, str] | None = None, settle: float = 0.0):
    """Run the attack; check the invariants every attack must keep; return (process, doc)."""
    solution = _arena(tmp_path, fixture, replace)
    problem_path = _unconstrained(tmp_path) if problem == "open" else problem
    before = snapshot(tmp_path)
    assert runners() == []
    r = gradcli("exercise", str(problem_path), "--solution", str(solution), "--format", fmt)
    time.sleep(settle)  # a daemon would act after gradcli has answered
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert snapshot(tmp_path) == before, "something outside the sandbox's temporary directory changed"
    assert runners() == [], "a process was left behind"
    doc = json.loads(r.stdout) if fmt == "json" else None
    if doc is not None:
        assert doc["passed"] is False
    for leaked in (SECRET, KEY, "id_rsa"):
        assert leaked not in r.stdout + r.stderr
    return r, doc


def verdicts(doc) -> list[str]:
    return [c["verdict"] for c in doc["cases"]]


# -- forged results ---------------------------------------------------------------------------


def test_old_style_case_ok_messages_written_to_the_pipe_break_the_protocol(tmp_path):
    r, doc = attack(tmp_path, "attack_forges_old_messages.py")
    assert doc["cases"][0]["verdict"] == "crashed"
    assert "broke the result protocol (not a frame (bad magic bytes))" in doc["cases"][0]["detail"]
    assert set(verdicts(doc)[1:]) == {"not run"}


@SLOW
def test_a_forged_transcript_with_right_answers_computed_by_mean_is_refused_statically(tmp_path):
    r, doc = attack(tmp_path, "attack_forges_frames_with_mean.py", problem="q1")
    details = {v["detail"] for v in doc["constraints"]["violations"]}
    assert "import of os (not one of torch, math, numpy, typing, __future__, functools, " \
           "itertools, collections, dataclasses, numbers)" in details
    assert any(v["what"] == "torch.mean" for v in doc["constraints"]["violations"])


def test_forged_frames_claiming_to_pass_are_judged_by_their_values(tmp_path):
    # A complete, well-formed forged transcript: its headers say passed, its values are X*0.
    r, doc = attack(tmp_path, "attack_forges_verdict_fields.py")
    assert verdicts(doc)[:3] == ["wrong"] * 3
    assert doc["cases"][0]["got"] == 0.0


def test_a_non_integer_case_index_is_a_failed_case_not_an_internal_error(tmp_path):
    r, doc = attack(tmp_path, "attack_bad_case_index.py")
    assert doc["cases"][0]["verdict"] == "crashed"
    assert "broke the result protocol" in doc["cases"][0]["detail"]


# -- the forbid constraint --------------------------------------------------------------------


@pytest.mark.parametrize("fixture, line, detail", [
    ("attack_exec_mean.py", 7, "exec (runs or reaches code by name)"),
    pytest.param("attack_guard_closure.py", 6,
                 ".__closure__ (a dunder attribute reaches interpreter internals)", marks=SLOW),
    pytest.param("attack_tensorbase.py", 6,
                 "._C (private internals reach functions under other names)", marks=SLOW),
    ("attack_ops_aten.py", 6, ".ops (loads or reaches code outside the file)"),
    pytest.param("attack_getattr_tricks.py", 8, "vars (runs or reaches code by name)", marks=SLOW),
    pytest.param("attack_edits_recorded_path.py", 2,
                 "import of sys (not one of torch, math, numpy, typing, __future__, functools, "
                 "itertools, collections, dataclasses, numbers)", marks=SLOW),
])
def test_forbidden_function_by_a_dynamic_route_is_refused_with_its_line(tmp_path, fixture, line, detail):
    r, doc = attack(tmp_path, fixture, problem="q1")
    dynamic = [v for v in doc["constraints"]["violations"] if v["rule"] == "dynamic"]
    assert (dynamic[0]["line"], dynamic[0]["detail"]) == (line, detail)
    assert dynamic[0]["what"] == "refused: dynamic code"


def test_refusal_is_named_in_the_plain_verdict_line(tmp_path):
    r, _ = attack(tmp_path, "attack_exec_mean.py", problem="q1", fmt="plain")
    assert r.stdout.strip().splitlines()[-1] == "FAILED: refused: dynamic code at line 7"


# -- the OS boundary --------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", [
    "attack_ctypes_system.py", pytest.param("attack_ctypes_unlink.py", marks=SLOW),
    "attack_posixsubprocess.py", pytest.param("attack_file_metadata.py", marks=SLOW),
    pytest.param("attack_sqlite.py", marks=SLOW),
])
def test_file_and_process_attacks_past_the_audit_hook_change_nothing(tmp_path, fixture):
    attack(tmp_path, fixture)


def test_a_forked_daemon_in_a_new_session_does_not_exist_or_outlive_gradcli(tmp_path):
    attack(tmp_path, "attack_ctypes_fork_daemon.py", settle=4.0)


def test_udp_sendmsg_sends_nothing(tmp_path):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        r, doc = attack(tmp_path, "attack_udp_sendmsg.py", replace={"PORT = 9": f"PORT = {port}"})
        assert doc["cases"][0]["verdict"] == "error"
        assert "PermissionError" in doc["cases"][0]["detail"]
        with pytest.raises(TimeoutError):
            listener.recv(100)
    finally:
        listener.close()


@pytest.mark.parametrize("fixture", ["attack_pidfd_kill.py", "attack_sigstop_parent.py"])
def test_signals_to_gradcli_are_refused_and_it_gives_its_verdict(tmp_path, fixture):
    r, doc = attack(tmp_path, fixture)
    # The attack returned X*0 after failing: wrong, except where the reference is 0/0.
    assert verdicts(doc)[:3] == ["wrong"] * 3 and set(verdicts(doc)) == {"wrong", "passed"}


def test_error_text_carries_no_secret_and_no_home_listing(tmp_path):
    r, doc = attack(tmp_path, "attack_leaks_secrets.py")
    detail = doc["cases"][0]["detail"]
    # Landlock hides contents, not existence: /root/.ssh may be absent (FileNotFoundError).
    assert re.match(r"ValueError: leaked: PermissionError (PermissionError|FileNotFoundError) "
                    r"PermissionError \(line 21: ", detail), detail


def test_child_text_cannot_forge_a_verdict_line(tmp_path):
    r, _ = attack(tmp_path, "attack_passed_line.py", fmt="plain")
    lines = r.stdout.splitlines()
    assert [line for line in lines if line.lstrip().startswith(("PASSED", "FAILED"))] == [lines[-1]]
    assert lines[-1].startswith("FAILED: 7 of 7 cases failed")
    assert "\\nPASSED: 7 of 7 cases" in r.stdout  # escaped, inside the case's detail
    assert "\x1b" not in r.stdout


# -- the OS boundary alone: no audit hook, no static check ------------------------------------

DRIVER = """
import json, sys
from gradcli.problems.load import load_problem
from gradcli.kinds.implementation import cases as c, sandbox
problem = load_problem(sys.argv[1])
cases = c.make_cases(problem, 0)
job = {"solution": sys.argv[2], "function": problem.function, "forbid": [],
       "args": list(problem.inputs), "memory_mb": 512, "cpu_seconds": 60,
       "cases": [{"inputs": {k: v.tolist() for k, v in x.inputs.items()}} for x in cases]}
run = sandbox.run(job, timeout=20, audit=False)
print(json.dumps({"statuses": [run.outcomes[i]["status"] if i in run.outcomes else None
                               for i in range(len(cases))],
                  "load_failure": run.load_failure, "stopped": run.stopped,
                  "protections": run.protections.to_json()}))
"""


@pytest.mark.parametrize("fixture", [
    pytest.param("attack_ctypes_system.py", marks=SLOW),
    pytest.param("attack_ctypes_unlink.py", marks=SLOW),
    "attack_ctypes_fork_daemon.py", pytest.param("attack_posixsubprocess.py", marks=SLOW),
    pytest.param("attack_file_metadata.py", marks=SLOW), pytest.param("attack_sqlite.py", marks=SLOW),
    pytest.param("attack_pidfd_kill.py", marks=SLOW),
    pytest.param("attack_sigstop_parent.py", marks=SLOW),
    pytest.param("attack_udp_sendmsg.py", marks=SLOW), pytest.param("attack_leaks_secrets.py", marks=SLOW),
    pytest.param("attack_forges_old_messages.py", marks=SLOW),
    pytest.param("attack_bad_case_index.py", marks=SLOW),
])
def test_os_boundary_alone_holds_without_the_audit_hook(tmp_path, fixture):
    solution = _arena(tmp_path, fixture)
    problem = _unconstrained(tmp_path)
    before = snapshot(tmp_path)
    r = subprocess.run([sys.executable, "-c", DRIVER, str(problem), str(solution)],
                       capture_output=True, text=True, timeout=180, cwd=ROOT)
    time.sleep(4.0 if "daemon" in fixture else 0.0)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["protections"]["complete"] is True
    assert snapshot(tmp_path) == before
    assert runners() == []
    assert SECRET not in r.stdout and KEY not in r.stdout


def test_the_arena_detects_a_change(tmp_path):
    # The invariant's own test: a snapshot that sees nothing proves nothing.
    _arena(tmp_path, "attack_sqlite.py")
    before = snapshot(tmp_path)
    os.chmod(tmp_path / "sub" / "secret.txt", 0o644)
    assert snapshot(tmp_path) != before
    shutil.rmtree(tmp_path / "sub" / "home")
    assert set(before) - set(snapshot(tmp_path)) == {"sub/home", "sub/home/.ssh", "sub/home/.ssh/id_rsa"}
