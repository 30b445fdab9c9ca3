"""Hostile input and hostile terminals (issue 16): refuse clearly, never hang or crash."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcli.render import FORMATS, render
from gradcli.render.ascii import AsciiStream, ascii_safe, spell


def run_gradcli(*args: str, env: dict[str, str] | None = None, stdin=None, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "gradcli", *args], capture_output=True,
                          env={**os.environ, **(env or {})}, stdin=stdin, timeout=timeout)


def test_check_refuses_a_named_pipe_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "problem.yaml"
    os.mkfifo(fifo)
    run = run_gradcli("check", str(fifo), timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 2, run.stderr
    assert b"not a regular file" in run.stderr and b"use `-`" in run.stderr


def test_check_refuses_a_device(cli):
    result = cli("check", "/dev/zero")
    assert result.exit_code == 2, result.output
    assert "/dev/zero: not a regular file" in result.stderr


def test_check_of_a_python_file_points_at_gradcli_exercise(cli, tmp_path):
    solution = tmp_path / "mine.py"
    solution.write_text("def center(X):\n    return X\n")
    result = cli("check", str(solution))
    assert result.exit_code == 2, result.output
    assert "this is a Python file: use `gradcli exercise PROBLEM --solution" in result.stderr


def test_a_function_too_large_for_float64_everywhere_is_bad_input_not_a_failed_check(cli):
    result = cli("derive", "exp(exp(x + 1000))")
    assert result.exit_code == 2, result.output
    assert "cannot be evaluated in float64 near the sample points" in result.stderr
    assert "above 1e1000" in result.stderr


def test_an_overflow_names_the_size_it_reached(cli):
    result = cli("derive", "--", "-exp(800*x**2 + 800)")
    assert result.exit_code == 2, result.output
    assert "at x = 0.001 it is about -2.7e+347" in result.stderr


def test_a_function_undefined_everywhere_is_still_a_failed_check_not_an_overflow(cli):
    result = cli("derive", "log(-x**2 - 1)", "-f", "plain")
    assert result.exit_code == 1, result.output
    assert "undefined at every sample point" in result.stdout


@pytest.mark.parametrize(("text", "ascii"), [
    ("∂L/∂W", "dL/dW"), ("[n×1]", "[nx1]"), ("σ'(z) = y ⊙ (1 − y)", "sigma'(z) = y * (1 - y)"),
    ("x²", "x^2"), ("(fⁿ)' = n·fⁿ⁻¹·f'", "(f^n)' = n*f^(n-1)*f'"), ("Wᵀ", "W^T"),
    ("δ₁", "delta_1"), ("‖∂L/∂h1‖", "||dL/dh1||"), ("√(2/π)", "sqrt(2/pi)"), ("Ẑ", "Zhat"),
    ("½", "1/2"), ("ｘ", "x"), ("a ≤ b → c", "a <= b -> c"),
])
def test_ascii_spellings_read_as_the_course_would_write_them(text, ascii):
    assert spell(text) == ascii


@given(st.text())
def test_any_text_spelled_in_ascii_can_be_written_to_an_ascii_stream(text):
    spell(text).encode("ascii")


def ascii_stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")


def test_a_utf8_stream_is_written_as_it_is():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert ascii_safe(stream) is stream
    assert isinstance(ascii_safe(ascii_stream()), AsciiStream)


@pytest.fixture(scope="module")
def q3_and_vanish():
    from gradcli.api import solve
    from gradcli.problems.load import load_any
    from gradcli.problems.model import VanishingProblem

    return [solve(load_any("bundled:q3.yaml"), seed=0),
            solve(VanishingProblem(depth=6, width=4), seed=0)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_to_an_ascii_only_stream_without_crashing(fmt, q3_and_vanish):
    stream = ascii_stream()
    render(q3_and_vanish, fmt, stream, color=False, width=100)
    stream.flush()
    text = stream.buffer.getvalue().decode("ascii")
    assert "sigmoid" in text


def test_json_on_an_ascii_stream_decodes_to_the_same_document(q3_and_vanish):
    utf8, ascii = io.StringIO(), ascii_stream()
    render(q3_and_vanish, "json", utf8)
    render(q3_and_vanish, "json", ascii)
    ascii.flush()
    assert json.loads(ascii.buffer.getvalue().decode("ascii")) == json.loads(utf8.getvalue())


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_pythonioencoding_ascii_run_exits_0_with_ascii_output(fmt):
    run = run_gradcli("check", "q3", "-f", fmt, env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0, run.stderr
    run.stdout.decode("ascii")
    assert run.stderr == b""
