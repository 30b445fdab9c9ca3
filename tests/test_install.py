"""The student install (the README's first command, without the test extras) runs cleanly.

torch warns "Failed to initialize NumPy" on stderr at import when numpy is missing, and torch's
wheel does not require numpy: the test extras used to bring it in (via matplotlib), so CI never
saw the warning a student sees on every command (issue 16).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def readme_first_command() -> str:
    """The first command of the README's first ```sh block (the student's set-up)."""
    block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S)
    assert block, "the README has no ```sh block"
    return next(ln for ln in block[1].splitlines() if ln.strip() and not ln.startswith("#"))


def test_numpy_is_a_main_dependency_not_only_a_test_extra():
    requirements = importlib.metadata.requires("gradcli") or []
    main = [r for r in requirements if "extra ==" not in r]
    assert any(re.match(r"numpy\b", r) for r in main), requirements


def test_readme_first_command_installs_without_the_test_extras():
    command = readme_first_command()
    assert "pip install" in command and "[test]" not in command, command


@pytest.mark.slow
def test_readme_first_command_in_a_fresh_copy_writes_nothing_to_stderr(tmp_path):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:  # the working tree as it is (uncommitted edits too), symlinks kept
        source, copy = ROOT / name, tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        elif source.is_file():
            copy.write_bytes(source.read_bytes())
    # The machine's pip settings (local wheels) pass through; nothing from this test's venv does.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH="/usr/bin:/bin", NO_COLOR="1", TERM="dumb")
    run = subprocess.run(["sh", "-c", readme_first_command()], cwd=tmp_path, capture_output=True,
                         text=True, timeout=1800, env=env)
    pip_noise = re.compile(r"^(WARNING: Location .* is ignored|\[notice\]).*$", re.M)
    assert run.returncode == 0, run.stderr[-2000:]
    assert pip_noise.sub("", run.stderr).strip() == "", run.stderr[-2000:]
    # Then the installed command alone, on one problem that imports torch.
    again = subprocess.run([str(tmp_path / ".venv/bin/gradcli"), "check", "q3"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600, env=env)
    assert (again.returncode, again.stderr) == (0, "")
