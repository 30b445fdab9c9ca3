"""One torch intra-op thread unless `--threads N`: same bytes on a quiet or a loaded machine.

torch's default pool (one thread per core) split reductions differently with the number of
threads that ran, so the last digits of errors in JSON changed between runs (issue 16: batch
norm, layer norm and the vanishing experiment differed in the 11th-15th digit between
OMP_NUM_THREADS=1 and 2), and on a shared 2-core machine `check` got 2-3x slower.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradcli.cli.app import limit_threads

BUNDLED = Path(__file__).resolve().parent.parent / "gradcli" / "bundled"
# The bundled problems whose JSON differed between 1 and 2 threads before the fix.
SENSITIVE = ("net_batch_norm", "net_layer_norm", "q4")


def json_output(args: list[str], omp_threads: str) -> bytes:
    env = {**os.environ, "OMP_NUM_THREADS": omp_threads, "MKL_NUM_THREADS": omp_threads}
    run = subprocess.run([sys.executable, "-m", "gradcli", *args, "-f", "json"],
                         capture_output=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout


@pytest.fixture
def restore_threads(monkeypatch):
    import torch

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", ""))
    monkeypatch.setenv("MKL_NUM_THREADS", os.environ.get("MKL_NUM_THREADS", ""))
    yield torch
    torch.set_num_threads(before)


def test_a_command_runs_torch_on_one_thread_by_default(cli, restore_threads):
    restore_threads.set_num_threads(2)
    result = cli("check", "q6", "-f", "json")
    assert result.exit_code == 0, result.output
    assert restore_threads.get_num_threads() == 1


def test_threads_option_gives_torch_that_many_threads(cli, restore_threads):
    result = cli("pool", "--input", "1 2; 3 4", "--threads", "2", "-f", "json")
    assert result.exit_code == 0, result.output
    assert restore_threads.get_num_threads() == 2


def test_threads_option_refuses_zero(cli):
    result = cli("pool", "--input", "1 2; 3 4", "--threads", "0")
    assert result.exit_code == 2, result.output


def test_limit_threads_reaches_a_torch_not_yet_imported_through_its_environment():
    environ: dict[str, str] = {"OMP_NUM_THREADS": "8"}
    limit_threads(3, environ=environ, modules={})
    assert environ == {"OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}


def test_a_fresh_process_imports_torch_with_the_chosen_thread_count():
    probe = ("import os, sys; from gradcli.cli.app import limit_threads; limit_threads(1); "
             "import torch; print(torch.get_num_threads())")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "2"}, timeout=300)
    assert run.stdout.strip() == "1", run.stderr


def test_thread_sensitive_problems_give_the_same_json_bytes_under_1_and_2_threads():
    paths = [str(BUNDLED / f"{name}.yaml") for name in SENSITIVE]
    assert json_output(["check", *paths], "1") == json_output(["check", *paths], "2")


def test_issue_vanish_example_gives_the_same_json_bytes_under_1_and_2_threads():
    args = ["vanish", "--activations", "sigmoid,relu", "--depth", "20", "--init", "he",
            "--seed", "7"]
    assert json_output(args, "1") == json_output(args, "2")


@pytest.mark.slow
def test_every_bundled_problem_gives_the_same_json_bytes_under_1_and_2_threads():
    args = ["check", str(BUNDLED)]
    assert json_output(args, "1") == json_output(args, "2")
