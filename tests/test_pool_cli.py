"""`gradcli pool` and `gradcli check q6` from the command line: formats, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

WORKSHEET = "2 2 7 3; 9 4 6 1; 8 5 2 4; 3 1 2 6"
FOLDER = str(Path(__file__).parent)
JSON_KEYS = {"kind", "name", "passed", "seed", "checks", "notes", "output", "grad_input", "mode",
             "kernel", "stride", "padding", "count_include_pad", "upstream", "symbolic", "claim",
             "claims", "windows", "ties", "input", "grad_input_formulas", "upstream_names"}


def pool_json(cli, *args, input=None):
    r = cli("pool", *args, "-f", "json", input=input)
    return r, json.loads(r.stdout)


def test_worksheet_json_has_the_spec_keys_and_symbolic_gradient(cli):
    r, doc = pool_json(cli, "--input", WORKSHEET)
    assert r.exit_code == 0, r.output
    assert JSON_KEYS <= set(doc)
    assert doc["kind"] == "pooling" and doc["passed"] is True and doc["symbolic"] is True
    assert doc["output"] == [[4.25, 4.25], [4.25, 3.5]]
    assert doc["grad_input"] == [["g11/4", "g11/4", "g12/4", "g12/4"],
                                 ["g11/4", "g11/4", "g12/4", "g12/4"],
                                 ["g21/4", "g21/4", "g22/4", "g22/4"],
                                 ["g21/4", "g21/4", "g22/4", "g22/4"]]
    assert doc["upstream"] == [["g11", "g12"], ["g21", "g22"]]
    assert (doc["mode"], doc["kernel"], doc["stride"], doc["padding"]) == ("avg", 2, 2, 0)
    assert [c["passed"] for c in doc["checks"]] == [True, True]
    assert doc["claim"] is None


def test_numeric_upstream_gives_numbers_equal_to_torch_autograd(cli):
    r, doc = pool_json(cli, "-i", WORKSHEET, "--upstream", "1 -2; 0.5 4")
    assert r.exit_code == 0, r.output
    x = torch.tensor([[2., 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]],
                     dtype=torch.float64, requires_grad=True)
    F.avg_pool2d(x[None, None], 2).backward(torch.tensor([[[[1., -2], [0.5, 4]]]], dtype=torch.float64))
    assert doc["grad_input"] == x.grad.tolist()
    assert doc["symbolic"] is False and doc["upstream"] == [[1, -2], [0.5, 4]]


def test_plain_output_shows_forward_and_the_g_over_4_pattern(cli):
    r = cli("pool", "-i", WORKSHEET, "-f", "plain")
    assert r.exit_code == 0, r.output
    assert ("output y (2×2)\n   4.25   4.25\n   4.25    3.5\n") in r.stdout
    assert ("dL/dx (4×4)\n"
            "   g11/4   g11/4   g12/4   g12/4\n"
            "   g11/4   g11/4   g12/4   g12/4\n"
            "   g21/4   g21/4   g22/4   g22/4\n"
            "   g21/4   g21/4   g22/4   g22/4\n") in r.stdout
    assert "seed 0" in r.stdout


def test_rich_latex_and_markdown_formats_render_the_gradient(cli):
    rich = cli("pool", "-i", WORKSHEET, "-f", "rich")
    assert rich.exit_code == 0, rich.output
    assert "│ g21/4 │ g21/4 │ g22/4 │ g22/4 │" in rich.stdout
    latex = cli("pool", "-i", WORKSHEET, "-f", "latex")
    assert latex.exit_code == 0, latex.output
    assert r"\begin{bmatrix}" in latex.stdout and r"\frac{g_{11}}{4}" in latex.stdout
    md = cli("pool", "-i", WORKSHEET, "-f", "markdown")
    assert md.exit_code == 0, md.output
    assert r"\frac{g_{22}}{4}" in md.stdout


def test_max_mode_names_ties_in_the_output(cli):
    r = cli("pool", "-i", "1 5; 5 2", "--mode", "max", "-f", "plain")
    assert r.exit_code == 0, r.output
    assert ("Tie in window y11: the maximum 5 is at (1, 2), (2, 1); following torch, g11 goes "
            "only to the first in row-major order, (1, 2).") in r.stdout
    r, doc = pool_json(cli, "-i", "1 5; 5 2", "--mode", "max")
    assert doc["grad_input"] == [["0", "g11"], ["0", "0"]]
    assert doc["ties"] == [{"output": [1, 1], "cells": [[1, 2], [2, 1]], "gradient_to": [1, 2]}]


def test_overlap_and_padding_options_reach_the_solver(cli):
    r, doc = pool_json(cli, "-i", WORKSHEET, "-k", "3", "-s", "1", "-p", "1",
                       "--no-count-include-pad")
    assert r.exit_code == 0, r.output
    assert (doc["kernel"], doc["stride"], doc["padding"], doc["count_include_pad"]) == (3, 1, 1, False)
    assert doc["grad_input"][0][0] == "g11/4 + (g12 + g21)/6 + g22/9"
    assert len(doc["output"]) == 4


def test_wrong_claim_exits_1_and_marks_the_wrong_cells(cli):
    claim = "1/4 1/4 1/4 1/4; 1/4 1/4 1 1/4; 1/4 1/4 1/4 1/4; 0 1/4 1/4 1/4"
    r = cli("pool", "-i", WORKSHEET, "--claim", claim, "-f", "plain")
    assert r.exit_code == 1, r.output
    assert "   0.25   0.25     1*   0.25\n" in r.stdout
    assert ("Wrong in 2 of 16 cells: (2, 3) claimed 1, true 0.25; (4, 1) claimed 0, true 0.25."
            in r.stdout)
    r, doc = pool_json(cli, "-i", WORKSHEET, "--claim", claim)
    assert r.exit_code == 1
    assert doc["passed"] is False and doc["claim"]["verdict"] == "wrong"
    assert doc["claim"]["wrong_cells"] == [[2, 3], [4, 1]]


def test_correct_claim_exits_0(cli):
    r = cli("pool", "-i", WORKSHEET, "-u", "1 2; 3 4",
            "--claim", "0.25 0.25 0.5 0.5; 0.25 0.25 0.5 0.5; 0.75 0.75 1 1; 0.75 0.75 1 1")
    assert r.exit_code == 0, r.output


def test_grid_from_stdin_and_from_a_csv_file(cli, tmp_path):
    r, doc = pool_json(cli, "-i", "-", input="2 2 7 3\n9 4 6 1\n8 5 2 4\n3 1 2 6\n")
    assert r.exit_code == 0, r.output
    assert doc["output"] == [[4.25, 4.25], [4.25, 3.5]]
    path = tmp_path / "up.csv"
    path.write_text("1,2\n3,4\n")
    r, doc = pool_json(cli, "-i", WORKSHEET, "-u", str(path))
    assert doc["grad_input"][3] == [0.75, 0.75, 1.0, 1.0]


@pytest.mark.parametrize("args, message", [
    (("-i", "1 2; 3"), "--input: row 2 has 1 value but row 1 has 2; every row needs the same "
                       "number of values"),
    (("-i", "1 2; 3 x"), "--input: row 2, column 2: 'x' is not a number (write decimal numbers "
                         "or fractions such as 1/4)"),
    (("-i", ""), "--input: the grid is empty (write rows separated by ';' or newlines, "
                 "e.g. \"1 2; 3 4\")"),
    (("-i", "1 2; 3 4", "-k", "3"), "kernel 3×3 is larger than the 2×2 input grid "
                                    "(use a kernel of at most 2)"),
    (("-i", WORKSHEET, "-s", "0"), "stride must be at least 1, got 0"),
    (("-i", WORKSHEET, "-p", "-1"), "padding must be at least 0, got -1"),
    (("-i", WORKSHEET, "-p", "2"), "padding 2 is more than half the kernel size 2; torch refuses "
                                   "it (use padding at most 1)"),
    (("-i", WORKSHEET, "-u", "1 2 3"), "upstream is 1×3 but the output is 2×2 (give a 2×2 grid)"),
    (("-i", "-", "-u", "-"), "only one grid can come from stdin, but --input and --upstream "
                             "both say '-' (put the others inline or in files)"),
    (("-i", "missing/grid.csv"), "--input: no such file: missing/grid.csv (give a path to a "
                                 "text/CSV file, '-' for stdin, or the grid inline, e.g. \"1 2; 3 4\")"),
    (("-i", FOLDER), f"--input: {FOLDER} is a directory, not a grid file (give a text/CSV file, "
                     "'-' for stdin, or the grid inline)"),
])
def test_bad_input_exits_2_with_one_clear_message(cli, args, message):
    r = cli("pool", *args, "-f", "plain", input="1 2\n")
    assert r.exit_code == 2, r.output
    assert r.stderr == f"error: {message}\n"
    assert r.stdout == ""


def test_bad_input_in_json_format_is_a_json_error(cli):
    r = cli("pool", "-i", WORKSHEET, "-s", "0", "-f", "json")
    assert r.exit_code == 2, r.output
    assert json.loads(r.stdout)["error"]["message"] == "stride must be at least 1, got 0"


def test_bad_mode_is_refused_by_the_option_parser(cli):
    r = cli("pool", "-i", WORKSHEET, "--mode", "min")
    assert r.exit_code == 2, r.output


def test_bundled_q6_is_solved_by_check(cli):
    r = cli("check", "q6", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["kind"] == "pooling" and doc["passed"] is True
    assert doc["output"] == [[4.25, 4.25], [4.25, 3.5]]
    assert doc["grad_input"][0] == ["g11/4", "g11/4", "g12/4", "g12/4"]
    assert doc["claim"]["verdict"] == "correct"


def test_rich_colours_each_window_on_a_colour_terminal():
    import io

    from gradcli.kinds.pooling.solve import solve
    from gradcli.problems.grid import read
    from gradcli.problems.model import PoolingProblem
    from gradcli.render import document
    from gradcli.render.rich import write

    out = io.StringIO()
    write(document(solve(PoolingProblem(input=read(WORKSHEET)))), out, color=True, width=100,
          force_terminal=True)
    text = out.getvalue()
    assert "each background colour is one window" in text
    import re

    grid = text.split("input x")[1].split("Forward")[0]  # the 4×4 input, 4 windows
    rows = [re.findall(r"\x1b\[([0-9;]+)m [0-9]", line) for line in grid.splitlines()[2:6]]
    assert rows[0][0] == rows[0][1] == rows[1][0] == rows[1][1]  # window y11
    assert len({rows[0][0], rows[0][2], rows[2][0], rows[2][2]}) == 4  # four windows, four colours
