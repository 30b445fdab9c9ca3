"""Shared test fixtures: the CLI through Typer's runner, with deterministic output."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gradcli.cli.app import app, register_commands

register_commands()


@pytest.fixture
def cli():
    """Run gradcli in-process: cli("derive", "gelu") -> click Result (exit_code, stdout, stderr)."""
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"})

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run
