"""Reading GRID arguments: inline text, files, stdin and YAML lists (gradcli/problems/grid.py)."""

from __future__ import annotations

import io

import pytest

from gradcli.errors import InputError
from gradcli.problems import grid

WORKSHEET = ((2.0, 2.0, 7.0, 3.0), (9.0, 4.0, 6.0, 1.0), (8.0, 5.0, 2.0, 4.0), (3.0, 1.0, 2.0, 6.0))


def test_inline_grid_splits_rows_on_semicolons_and_values_on_spaces():
    assert grid.read("2 2 7 3; 9 4 6 1; 8 5 2 4; 3 1 2 6") == WORKSHEET


def test_inline_grid_accepts_newlines_commas_tabs_and_fractions():
    assert grid.read("1, 2\n3\t-4.5") == ((1.0, 2.0), (3.0, -4.5))
    assert grid.read("1/4 1/4; -1/2 1e-3") == ((0.25, 0.25), (-0.5, 0.001))


def test_csv_file_with_comment_lines_is_read(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("# the worksheet grid\n2,2,7,3\n9,4,6,1\n8,5,2,4\n3,1,2,6\n")
    assert grid.read(str(path)) == WORKSHEET


def test_pipe_grid_from_process_substitution_is_read(tmp_path):
    # `gradcli pool -i <(...)` names a pipe, not a regular file; it was "no such file".
    import os
    import threading

    fifo = tmp_path / "grid.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("2 2 7 3\n9 4 6 1\n8 5 2 4\n3 1 2 6\n"),
                              daemon=True)
    writer.start()
    try:
        assert grid.read(str(fifo)) == WORKSHEET
    finally:
        writer.join(timeout=5)


def test_stdin_grid_is_read_from_the_given_stream():
    assert grid.read("-", stdin=io.StringIO("1 2\n3 4\n")) == ((1.0, 2.0), (3.0, 4.0))


def test_stdin_grid_that_is_not_utf8_is_refused_as_such_with_its_place():
    # It was "'\\udcff4' is not a number" (the byte surfaced as a lone surrogate).
    stream = io.TextIOWrapper(io.BytesIO(b"1 2\n3 \xff4\n"), encoding="utf-8",
                              errors="surrogateescape")
    with pytest.raises(InputError) as info:
        grid.read("-", what="--input", stdin=stream)
    assert str(info.value) == "<stdin>:2:3: --input: not UTF-8 text (byte 0xff)"
    bom = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf1 2\n3 4\n"), encoding="utf-8")
    assert grid.read("-", stdin=bom) == ((1.0, 2.0), (3.0, 4.0))


def test_inline_grid_with_a_slash_in_a_bad_value_is_not_taken_for_a_missing_file():
    # A symbolic claim copied from the output ("g11/4 ...; ...") read "no such file".
    with pytest.raises(InputError) as info:
        grid.read("g11/4 g11/4; g11/4 g11/4", what="--claim")
    assert str(info.value).startswith("--claim: row 1, column 1: 'g11/4' is not a number")
    with pytest.raises(InputError, match="no such file"):
        grid.read("grids/missing.csv")


def test_long_inline_grid_is_not_mistaken_for_a_file_name():
    row = " ".join(["1"] * 3000)
    assert grid.read(row) == (tuple([1.0] * 3000),)


def test_ragged_rows_are_refused_naming_the_row():
    with pytest.raises(InputError) as err:
        grid.read("1 2; 3", what="--input")
    assert err.value.message == ("--input: row 2 has 1 value but row 1 has 2; "
                                 "every row needs the same number of values")


def test_non_number_in_a_file_points_at_line_and_column(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("1 2\n3  x4\n")
    with pytest.raises(InputError) as err:
        grid.read(str(path))
    e = err.value
    assert (e.message, e.file, e.line, e.column) == (
        "grid: row 2, column 2: 'x4' is not a number", str(path), 2, 4)


@pytest.mark.parametrize("text, message", [
    ("", "grid: the grid is empty"),
    (" ; ", "grid: the grid is empty"),
    ("1 nan", "grid: row 1, column 2: 'nan' is not a number"),
    ("1 1e999", "grid: row 1, column 2: '1e999' is too large (at most 1e100 in absolute value)"),
    ("1/0", "grid: row 1, column 1: division by zero in '1/0'"),
    ("1,,2", "grid: row 1, column 2: empty value"),
])
def test_bad_inline_grids_raise_one_clear_error(text, message):
    with pytest.raises(InputError) as err:
        grid.read(text)
    assert err.value.message == message


def test_missing_file_is_reported_as_such():
    with pytest.raises(InputError) as err:
        grid.read("no/such/grid.csv", what="--upstream")
    assert err.value.message == "--upstream: no such file: no/such/grid.csv"


def test_yaml_lists_and_strings_coerce_to_grids():
    assert grid.coerce([[1, 2], [3, "1/4"]]) == ((1.0, 2.0), (3.0, 0.25))
    assert grid.coerce("1 2; 3 4") == ((1.0, 2.0), (3.0, 4.0))
    for bad in ([], [[1, 2], [3]], [[True]], "x", 5):
        with pytest.raises(InputError):
            grid.coerce(bad)


def test_text_round_trips_through_parse():
    g = ((0.25, -3.0), (1e-20, 4.0))
    assert grid.text(g) == "0.25 -3; 1e-20 4"
    assert grid.parse(grid.text(g)) == g
