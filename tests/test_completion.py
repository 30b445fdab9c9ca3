"""Shell completion (issue 16): Typer's --install-completion/--show-completion, with completers
for bundled problems, catalog functions and formats."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradcli.cli.completion import function_names, listed_names, problem_names


def completions(line: str) -> list[str]:
    """What bash would offer after `line` (the last word is the one being completed)."""
    words = line.split(" ")
    env = {**os.environ, "_GRADCLI_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(words) - 1)}
    # The installed script: the variable's name follows the program's name (_GRADCLI_COMPLETE).
    run = subprocess.run([str(Path(sys.executable).with_name("gradcli"))], env=env, capture_output=True,
                         text=True, timeout=120)
    return run.stdout.split()


def test_completers_offer_matching_names_only():
    assert function_names("gel") == ["gelu", "gelu_erf"]
    assert problem_names("q1") == ["q1", "q1_grad"]
    assert listed_names("q5") == ["q5"]
    assert "sigmoid" in listed_names("si") and "q3" not in listed_names("si")


@pytest.mark.parametrize(("line", "offered"), [
    ("gradcli derive gel", ["gelu", "gelu_erf"]),
    ("gradcli check q1", ["q1", "q1_grad"]),
    ("gradcli check q3 --format j", ["json"]),
])
def test_the_shell_is_offered_names_for_each_argument(line, offered):
    assert completions(line) == offered


def test_show_completion_prints_a_script_for_the_named_shell():
    # Typer detects the user's shell (shellingham) unless told not to; under a test runner the
    # parent process need not be a shell, so the shell is named instead. (Typer's CliRunner
    # builds the command before applying its env, so this runs the installed script.)
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    run = subprocess.run([str(Path(sys.executable).with_name("gradcli")), "--show-completion",
                          "bash"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "_GRADCLI_COMPLETE=complete_bash" in run.stdout
