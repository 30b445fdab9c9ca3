"""Exit codes at the edges (issue 8): 3 and one line for a bug (a traceback only with --debug),
130 on Ctrl-C, quiet on a closed pipe. The signal and pipe cases run real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}

# The real entry point with a solver that misbehaves: a bug, or a long computation.
FAULTY = """
import os, sys, time
import gradcli.api
def solve(problem, *, seed=0):
    if os.environ.get("SLOW_SOLVER"):
        sys.stderr.write("solving\\n"); sys.stderr.flush(); time.sleep(60)
    raise RuntimeError("boom\\nsecond line \\x1b[31mred")
gradcli.api.solve = solve
from gradcli.cli.app import main
sys.argv[0] = "gradcli"
main()
"""


def run_faulty(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FAULTY, *args], capture_output=True, env=ENV,
                          timeout=60, **kw)


@pytest.fixture
def broken_solver(monkeypatch):
    import gradcli.api

    def solve(problem, *, seed=0):
        raise RuntimeError("boom\nsecond line \x1b[31mred")

    monkeypatch.setattr(gradcli.api, "solve", solve)


def test_internal_error_is_exit_3_with_one_escaped_line(cli, broken_solver):
    r = cli("derive", "x")
    assert r.exit_code == 3 and r.stdout == ""
    assert r.stderr == ("internal error: RuntimeError: boom second line \\x1b[31mred. This is a "
                        "bug in gradcli; please report it with the output of the same command "
                        "run with --debug.\n")


def test_internal_error_with_debug_raises_for_the_traceback(cli, broken_solver):
    with pytest.raises(RuntimeError, match="boom"):
        cli("derive", "x", "--debug")


def test_internal_error_in_a_real_process_is_one_line_without_traceback():
    p = run_faulty("derive", "x")
    assert p.returncode == 3 and p.stdout == b""
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error: RuntimeError: boom second line")
    assert b"Traceback" not in p.stderr and b"\x1b" not in p.stderr


def test_internal_error_in_a_real_process_with_debug_shows_the_traceback():
    p = run_faulty("derive", "x", "--debug")
    assert p.returncode != 0 and b"Traceback" in p.stderr and b"RuntimeError: boom" in p.stderr


def test_ctrl_c_exits_130_quietly():
    proc = subprocess.Popen([sys.executable, "-c", FAULTY, "derive", "x"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**ENV, "SLOW_SOLVER": "1"})
    try:  # interrupt it while it works
        assert proc.stderr.readline() == b"solving\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == b"interrupted\n" and out == b""


def closed_pipe_run(*args: str) -> subprocess.CompletedProcess:
    """Run gradcli with stdout on a pipe whose reader has already gone away."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, "-m", "gradcli", *args], stdout=write,
                              stderr=subprocess.PIPE, env=ENV, timeout=60)
    finally:
        os.close(write)


def test_closed_pipe_is_quiet_for_output():
    p = closed_pipe_run("list")
    assert p.returncode == 0 and p.stderr == b""


def test_closed_pipe_keeps_exit_2_and_the_message_for_a_json_error():
    p = closed_pipe_run("derive", "sigmod(x)", "--format", "json")
    assert p.returncode == 2
    assert p.stderr == b"error: TARGET, column 1: unknown function 'sigmod' (did you mean 'sigmoid'?)\n"


def test_closed_pipe_keeps_exit_2_for_a_usage_error_in_json():
    p = closed_pipe_run("derive", "x", "--seed", "abc", "--format", "json")
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    assert b"Invalid value for '--seed'" in p.stderr


def test_check_piped_into_head_has_no_broken_pipe_noise(tmp_path):
    # The example, through a shell: many problems, the reader stops after one line.
    for i in range(40):
        (tmp_path / f"p{i:02}.yaml").write_text(
            f"format: 1\nkind: pooling\nname: p{i}\ninput: [[1, 2], [3, 4]]\nkernel: 1\n")
    script = (f"{sys.executable} -m gradcli check {tmp_path} --format plain | head -1; "
              "echo \"exit=${PIPESTATUS[0]}\" >&2")
    p = subprocess.run(["bash", "-c", script], capture_output=True, env=ENV, timeout=120)
    assert p.stdout.count(b"\n") == 1
    assert p.stderr == b"exit=0\n", p.stderr


def test_usage_error_with_format_json_is_an_error_document():
    p = subprocess.run([sys.executable, "-m", "gradcli", "pool", "-i", "1 2; 3 4", "-f", "json",
                        "--kernel", "two"], capture_output=True, env=ENV, timeout=60)
    assert p.returncode == 2
    error = json.loads(p.stdout)["error"]
    assert error["message"].startswith("Invalid value for '--kernel' / '-k': 'two'")
    assert error["file"] is None and b"Error: Invalid value for '--kernel'" in p.stderr


def test_usage_error_without_json_leaves_stdout_empty():
    p = subprocess.run([sys.executable, "-m", "gradcli", "derive", "x", "--format", "plain",
                        "--seed", "1.5"], capture_output=True, env=ENV, timeout=60)
    assert p.returncode == 2 and p.stdout == b""


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["derive", "--help"], 0),
                                            ([], 2)])
def test_help_version_and_no_arguments_keep_their_exit_codes(args, code):
    p = subprocess.run([sys.executable, "-m", "gradcli", *args], capture_output=True, env=ENV,
                       timeout=60)
    assert p.returncode == code and b"Traceback" not in p.stderr
    assert (p.stdout if code == 0 else p.stderr).startswith((b"gradcli ", b"Usage: "))


def test_exit_codes_of_real_runs_survive_main():
    start = time.monotonic()
    ok = subprocess.run([sys.executable, "-m", "gradcli", "pool", "-i", "1 2; 3 4", "-f", "plain"],
                        capture_output=True, env=ENV, timeout=60)
    wrong = subprocess.run([sys.executable, "-m", "gradcli", "pool", "-i", "1 2; 3 4", "-f",
                            "plain", "--claim", "1 1; 1 1"], capture_output=True, env=ENV,
                           timeout=60)
    assert (ok.returncode, wrong.returncode) == (0, 1), (ok.stderr, wrong.stderr)
    assert time.monotonic() - start < 60


def test_a_target_starting_with_minus_gets_a_hint_to_use_double_dash():
    p = subprocess.run([sys.executable, "-m", "gradcli", "derive", "-x**2"], capture_output=True,
                       env=ENV, timeout=60)
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.endswith(b"Error: No such option: -x\nhint: a TARGET that starts with '-' "
                             b"goes last, after '--' (options before it), e.g. gradcli derive "
                             b"--no-steps -- '-x**2'\n")
