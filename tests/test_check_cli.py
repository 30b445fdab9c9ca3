"""`gradcli check PATH ...`: files, directories, stdin and bundled names; all-or-nothing input."""

from __future__ import annotations

import io
import json

import pytest

from gradcli.api import SOLVERS
from gradcli.errors import InputError
from gradcli.problems import bundled, load

GOOD = "format: 1\nkind: pooling\nname: {name}\ninput: [[1, 2], [3, 4]]\nupstream: [[4]]\n" \
       "claim: {claim}\n"
RIGHT = "[[1, 1], [1, 1]]"
WRONG = "[[2, 1], [1, 1]]"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """folder(name=text, ...) writes problem files into the working directory."""
    monkeypatch.chdir(tmp_path)

    def write(**files: str):
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path

    return write


def test_one_good_file_is_solved_and_exits_0(cli, folder):
    folder(**{"a.yaml": GOOD.format(name="tiny", claim=RIGHT)})
    r = cli("check", "a.yaml", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["kind"], doc["name"], doc["passed"]) == ("pooling", "tiny", True)


def test_a_wrong_claim_exits_1(cli, folder):
    folder(**{"a.yaml": GOOD.format(name="tiny", claim=WRONG)})
    r = cli("check", "a.yaml", "--format", "json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["passed"] is False


def test_a_directory_means_its_yaml_files_sorted_with_a_summary(cli, folder):
    folder(**{"d/b.yml": GOOD.format(name="second", claim=WRONG),
              "d/a.yaml": GOOD.format(name="first", claim=RIGHT),
              "d/notes.txt": "not a problem", "d/.hidden.yaml": "not: loaded",
              "d/sub/c.yaml": "not: loaded either"})
    r = cli("check", "d", "--format", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert [x["name"] for x in doc["results"]] == ["first", "second"]
    assert doc["passed"] is False
    plain = cli("check", "d", "--format", "plain")
    assert plain.exit_code == 1, plain.output
    assert "1 of 2 problems passed" in plain.stdout


def test_one_bad_file_among_several_solves_nothing_and_reports_every_bad_file(cli, folder):
    folder(**{"a.yaml": GOOD.format(name="good", claim=RIGHT),
              "b.yaml": "format: 1\nkind: pooling\ninput: [[1, 2]]\nmode: average\n",
              "c.yaml": "format: 1\nkind: pooling\ninput: [[1, .nan]]\n"})
    r = cli("check", "a.yaml", "b.yaml", "missing.yaml", "c.yaml")
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        "error: b.yaml:4:7: mode: 'average' is not one of avg, max (did you mean 'avg'?)",
        "error: missing.yaml: no such file",
        "error: c.yaml:3:13: input: row 1, column 2: .nan is not allowed; numbers must be finite"]


def test_bad_files_in_json_format_give_one_json_error_document(cli, folder):
    folder(**{"b.yaml": "format: 1\nkind: pooling\ninput: [[1, 2]]\nmode: average\n"})
    r = cli("check", "b.yaml", "nowhere.yaml", "--format", "json")
    assert r.exit_code == 2, r.output
    error = json.loads(r.stdout)["error"]
    assert (error["file"], error["line"], error["column"]) == ("b.yaml", 4, 7)
    assert error["more"][0]["message"] == "no such file"


def test_a_directory_without_problem_files_is_bad_input(cli, folder):
    folder(**{"empty/readme.txt": "nothing here"})
    r = cli("check", "empty")
    assert r.exit_code == 2, r.output
    assert r.stderr == "error: empty: directory holds no problem files (*.yaml, *.yml)\n"


def test_a_missing_file_is_bad_input(cli, folder):
    r = cli("check", "nowhere.yaml")
    assert r.exit_code == 2, r.output
    assert r.stderr == "error: nowhere.yaml: no such file\n"


def test_dash_reads_one_problem_from_stdin(cli, folder):
    r = cli("check", "-", "--format", "json", input=GOOD.format(name="piped", claim=RIGHT))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["name"] == "piped"


def test_errors_in_stdin_are_placed_in_stdin(cli, folder):
    r = cli("check", "-", input="format: 1\nkind: pooling\ninput: [[1]]\nkernel: 0\n")
    assert r.exit_code == 2, r.output
    assert r.stderr == "error: <stdin>:4:9: kernel: must be at least 1, got 0\n"


def test_dash_twice_is_bad_input(cli, folder):
    r = cli("check", "-", "-", input=GOOD.format(name="piped", claim=RIGHT))
    assert r.exit_code == 2, r.output
    assert r.stderr == "error: '-' (stdin) is given more than once; stdin holds one file\n"


def test_dash_refuses_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    with pytest.raises(InputError) as info:
        load.read_stream(Terminal())
    assert str(info.value) == ("'-' reads a problem file from stdin, but stdin is a terminal "
                               "(pipe or redirect a file in, e.g. `gradcli check - < q3.yaml`)")


def test_an_unknown_name_suggests_a_bundled_problem(cli, folder):
    keys = [p.key for p in bundled.problems()]
    if "q6" not in keys:
        pytest.skip("q6 is not bundled yet")
    r = cli("check", "q66")
    assert r.exit_code == 2, r.output
    assert r.stderr == ("error: q66: no such file, directory or bundled problem "
                        "(did you mean 'q6'?)\n")


def test_a_bundled_name_is_checked_as_its_file(cli, folder):
    if bundled.find("q6") is None:
        pytest.skip("q6 is not bundled yet")
    r = cli("check", "q6", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["kind"] == "pooling"


def test_a_local_file_wins_over_a_bundled_name(cli, folder):
    folder(**{"q6": GOOD.format(name="mine", claim=RIGHT)})
    r = cli("check", "q6", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["name"] == "mine"


# -- the bundled problems --------------------------------------------------------------------

BUNDLED = bundled.problems()


@pytest.mark.parametrize("problem", BUNDLED, ids=lambda p: p.key)
def test_every_bundled_file_loads(problem):
    loaded = load.load_any(f"bundled:{problem.file}")
    assert (loaded.kind, loaded.name) == (problem.kind, problem.name)


@pytest.mark.parametrize("problem", BUNDLED, ids=lambda p: p.key)
def test_every_bundled_file_is_solved_and_passes(cli, problem):
    assert problem.kind in SOLVERS
    r = cli("check", problem.key, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["passed"] is True


def test_check_help_says_bad_files_stop_everything(cli):
    r = cli("check", "--help")
    assert r.exit_code == 0, r.output
    assert "if any is bad, all complaints are printed, nothing is solved" in " ".join(r.stdout.split())


def test_the_check_command_module_imports_nothing_heavy():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, gradcli.cli.check, gradcli.problems.load; print(sorted(m for m in "
            "('ruamel', 'pydantic', 'sympy', 'torch', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "[]"
