"""Terminal safety (issue 8): user strings are printed literally. Rich markup in a problem's
name is text, not style; escape sequences, BEL and bidi overrides in it are shown escaped and
never reach the terminal raw, in the rich and plain formats and in error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# YAML double quotes turn \e into ESC, \a into BEL, \u202e into a right-to-left override.
HOSTILE = r"\e[31mRED\e[0m \e]52;c;cHduZWQ=\a [red]markup[/red] [link=http://evil.example]x[/link] \u202eevil"
FILE = f"""format: 1
kind: derivative
name: "{HOSTILE}"
description: "about {HOSTILE}"
source: "from {HOSTILE}"
function: x**2
check: false
"""
RAW = (b"\x1b[31m", b"\x1b]52", b"\x07", "\u202e".encode())


def assert_literal(out: bytes) -> None:
    for raw in RAW:
        assert raw not in out, raw
    text = out.decode("utf-8")
    assert "\\x1b[31mRED\\x1b[0m" in text and "\\x07" in text and "\\u202e" in text
    assert "[red]markup[/red]" in text and "[link=http://evil.example]x[/link]" in text


@pytest.mark.parametrize("fmt", ["rich", "plain"])
def test_hostile_problem_name_is_printed_literally_by_the_real_cli(fmt, tmp_path):
    (tmp_path / "hostile.yaml").write_text(FILE)
    # A colour terminal as Rich sees it: styles are on, so only escaping keeps the text inert.
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "200",
                "PYTHONIOENCODING": "utf-8"})
    p = subprocess.run([sys.executable, "-m", "gradcli", "check", "hostile.yaml", "--format", fmt],
                       cwd=tmp_path, capture_output=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert_literal(p.stdout)
    assert p.stdout.decode().count("[red]markup[/red]") == 3  # name, description, source
    if fmt == "rich":
        assert b"\x1b[" in p.stdout  # Rich did style its own output
        assert b"\x1b]8;" not in p.stdout  # and made no hyperlink out of [link=...]


@pytest.mark.parametrize("fmt", ["rich", "plain", "markdown"])
def test_hostile_pool_title_is_printed_literally(cli, fmt):
    name = "\x1b[2J\x1b[31mRED [red]markup[/red] [link=http://evil.example]x[/link] \x07"
    r = cli("pool", "-i", "1 2; 3 4", "--name", name, "--format", fmt)
    assert r.exit_code == 0, r.output
    out = r.stdout.encode()
    assert b"\x1b" not in out and b"\x07" not in out
    assert "x1b" in r.stdout and "markup" in r.stdout  # shown, escaped in the format's way


def test_hostile_name_survives_json_unchanged(cli, tmp_path):
    (tmp_path / "hostile.yaml").write_text(FILE)
    r = cli("check", str(tmp_path / "hostile.yaml"), "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["name"].startswith("\x1b[31mRED\x1b[0m \x1b]52;c;")


def test_control_characters_in_a_file_name_are_escaped_in_the_error(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("check", "\x1b[2Jgone\x07.yaml")
    assert r.exit_code == 2
    assert r.stderr == "error: \\x1b[2Jgone\\x07.yaml: no such file\n"


def test_control_characters_in_an_option_value_are_escaped_in_the_error(cli):
    r = cli("derive", "x", "--wrt", "\x1b]0;title\x07")
    assert r.exit_code == 2 and "\x1b" not in r.stderr and "\x07" not in r.stderr


def test_control_characters_in_a_grid_file_name_are_escaped(cli):
    r = cli("pool", "-i", "/no/such/\x1b[31mgrid.csv")
    assert r.exit_code == 2 and "\x1b" not in r.stderr
    assert "\\x1b[31mgrid.csv" in r.stderr


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_a_file_name_that_is_not_utf8_is_printed_escaped_on_a_strict_utf8_stdout(fmt, tmp_path):
    # The name defaults to the file's stem, "ok\udcff"; a strict UTF-8 stdout (what Python uses
    # outside the C locale) could not write it: exit 3, UnicodeEncodeError.
    name = os.fsdecode(b"ok\xff.yaml")
    (tmp_path / name).write_text("format: 1\nkind: derivative\nfunction: x**2\ncheck: false\n")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    p = subprocess.run([sys.executable, "-m", "gradcli", "check", b"ok\xff.yaml", "--format", fmt],
                       cwd=tmp_path, capture_output=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert b"ok\\udcff" in p.stdout.replace(b"\\\\", b"\\")


def test_a_missing_file_name_that_is_not_utf8_is_an_error_document(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    p = subprocess.run([sys.executable, "-m", "gradcli", "check", b"no\xff.yaml", "-f", "json"],
                       cwd=tmp_path, capture_output=True, env=env, timeout=60)
    assert p.returncode == 2
    assert json.loads(p.stdout)["error"]["file"] == "no\udcff.yaml"
    assert p.stderr == b"error: no\\udcff.yaml: no such file\n"
