"""The rule that keeps user text from ever being executed is enforced, not just written down.

ruff's banned-api rule (pyproject.toml, TID251) forbids `sympify`, `parse_expr`, `lambdify`
and `yaml.load` anywhere in the package, and S102/S307 forbid `exec` and `eval`; this test
runs them, plus the checks for undefined names, so CI fails the moment one slips in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed")
    return [found]


def test_no_eval_exec_sympify_or_lambdify_in_the_package():
    out = subprocess.run([*_ruff(), "check", "--select", "TID251,S102,S307,F821,F822,E9",
                          "--output-format", "concise", "gradcli"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_ban_catches_sympify(tmp_path):
    bad = tmp_path / "gradcli_bad.py"
    bad.write_text("import sympy\nsympy.sympify('x')\neval('1')\n")
    out = subprocess.run([*_ruff(), "check", "--select", "TID251,S102,S307", "--config",
                          str(ROOT / "pyproject.toml"), "--output-format", "concise", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "TID251" in out.stdout and "S307" in out.stdout
