"""Start-up stays light: help, version and `list` never load SymPy, torch or numpy.

Each case runs gradcli in a fresh interpreter (sys.modules of the test process are polluted by
other tests) and reports which heavy packages the run imported. Rich loads only when the rich
format is chosen; stdout is a pipe here, so the default format is plain.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from gradcli import __version__

HEAVY = ("sympy", "torch", "numpy", "rich", "matplotlib")

PROBE = """
import json, sys
heavy = set(json.loads(sys.argv[2]))
sys.argv = ["gradcli", *json.loads(sys.argv[1])]
code = None
try:
    from gradcli.cli.app import main
    main()
except SystemExit as exc:
    code = exc.code
loaded = sorted({name.split(".")[0] for name in sys.modules} & heavy)
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def imported(*args: str) -> tuple[int | None, list[str]]:
    """Run gradcli with `args` in a fresh interpreter: (exit code, heavy packages imported)."""
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
                         capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb"})
    line = [ln for ln in run.stderr.splitlines() if ln.startswith("PROBE ")]
    assert line, run.stderr
    report = json.loads(line[-1][len("PROBE "):])
    return report["code"], report["loaded"]


@pytest.mark.parametrize("args", [
    ("--help",),
    ("--version",),
    ("list",),
    ("list", "--format", "plain"),
    ("list", "--format", "json"),
    ("list", "--format", "markdown"),
    ("list", "--format", "latex"),
    ("list", "--help",),
], ids=" ".join)
def test_start_up_imports_no_sympy_torch_numpy_or_rich(args):
    assert imported(*args) == (0, [])


def test_rich_is_imported_only_when_the_rich_format_is_chosen():
    assert imported("list", "--format", "rich") == (0, ["rich"])


def test_python_dash_m_gradcli_prints_the_version():
    run = subprocess.run([sys.executable, "-m", "gradcli", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"gradcli {__version__}\n", "")


CLI_PROBE = """
import json, sys
sys.argv = ["gradcli", *json.loads(sys.argv[1])]
try:
    from gradcli.cli.app import main
    main()
except SystemExit:
    pass
sys.stderr.write("\\nPROBE " + json.dumps(sorted(n for n in sys.modules if n.startswith("gradcli.cli."))) + "\\n")
"""


@pytest.mark.parametrize(("args", "modules"), [
    # gradcli.cli.completion: the argument completers (light; they import on completion only)
    # gradcli.cli.gc_pause: the entry point's import hook (no imports of its own beyond importlib)
    (("list",), ["gradcli.cli.app", "gradcli.cli.catalog", "gradcli.cli.completion", "gradcli.cli.gc_pause"]),
    (("--help",), ["gradcli.cli.app", *(f"gradcli.cli.{m}" for m in
                   ("catalog", "check", "completion", "derive", "exercise", "gc_pause", "grade", "pool",
                    "schema", "vanish"))]),
], ids=" ".join)
def test_a_command_imports_only_its_own_command_module(args, modules):
    run = subprocess.run([sys.executable, "-c", CLI_PROBE, json.dumps(args)], capture_output=True,
                         text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    line = [ln for ln in run.stderr.splitlines() if ln.startswith("PROBE ")]
    assert line, run.stderr
    assert json.loads(line[-1][len("PROBE "):]) == sorted(modules)


MODEL_PROBE = """
import json, sys
sys.argv = ["gradcli", *json.loads(sys.argv[1])]
try:
    from gradcli.cli.app import main
    main()
except SystemExit:
    pass
sys.stderr.write("\\nPROBE " + json.dumps(sorted(n for n in sys.modules if n in
                 ("gradcli.problems.model", "rich", "shellingham"))) + "\\n")
"""


@pytest.mark.parametrize("args", [("--help",), ("vanish", "--help"), ("check", "--help"),
                                  ("--show-completion",)], ids=" ".join)
def test_help_and_completion_build_no_problem_dataclasses_and_no_rich(args):
    """--help registers every command; the options' defaults come from problems/defaults.py, so
    the problem model (~6 ms of dataclasses) and Rich stay unloaded."""
    run = subprocess.run([sys.executable, "-c", MODEL_PROBE, json.dumps(args)], capture_output=True,
                         text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "SHELL": "/bin/bash"})
    line = [ln for ln in run.stderr.splitlines() if ln.startswith("PROBE ")]
    assert line, run.stderr
    assert "gradcli.problems.model" not in json.loads(line[-1][len("PROBE "):])
    assert "rich" not in json.loads(line[-1][len("PROBE "):])


def test_vanish_help_shows_the_same_defaults_as_a_vanishing_problem_file(cli):
    from gradcli.problems.model import VanishingProblem

    out = " ".join(cli("vanish", "--help").output.split())
    d = VanishingProblem()
    assert f"[default: ({','.join(d.activations)})]" in out
    for option, value in (("--depth", d.depth), ("--width", d.width), ("--batch", d.batch)):
        # the first [default: ...] after the option is its own
        assert re.search(rf"{option} <int> [^[]*\[default: {value}\]", out), option
