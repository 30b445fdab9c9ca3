"""Small everyday fixes (issue 16): fractions for --at, YAML errors in words, a stable $id."""

from __future__ import annotations

import json

import pytest

from gradcli.problems.schema import SCHEMA_ID


def test_at_accepts_fractions(cli):
    r = cli("derive", "x**2", "--no-steps", "--at", "1/2", "--at", "-3/4, 5", "-f", "json")
    assert r.exit_code == 0, r.output
    assert [v["at"] for v in json.loads(r.stdout)["values"]] == [0.5, -0.75, 5.0]


@pytest.mark.parametrize(("at", "message"), [
    ("1/0", "--at '1/0': division by zero"),
    ("1//2", "--at '1//2': expected a number"),
    ("1/x", "--at '1/x': expected a number"),
])
def test_at_refuses_what_is_not_a_fraction(cli, at, message):
    r = cli("derive", "x**2", "--at", at)
    assert r.exit_code == 2, r.output
    assert message in r.stderr


HEADER = "format: 1\nkind: derivative\n"


@pytest.mark.parametrize(("body", "complaint"), [
    ("function: gelu\n  claim: x\n",
     "p.yaml:4:8: a `key:` where none can start: this line is indented deeper than the key "
     "above it (keys of one mapping start in the same column), or a value holds ': ' and "
     "needs quotes"),
    ("function: gelu\n\tclaim: x\n", "p.yaml:4:1: a tab character: YAML indents with spaces only"),
    ("function gelu\nclaim: x\n",
     "p.yaml:4:1: expected `key: value` here: a ':' is missing (the block it belongs to starts "
     "at line 3, column 1)"),
])
def test_yaml_mistakes_are_said_in_words_with_the_position(cli, tmp_path, body, complaint):
    (tmp_path / "p.yaml").write_text(HEADER + body)
    r = cli("check", str(tmp_path / "p.yaml"))
    assert r.exit_code == 2, r.output
    assert r.stderr == f"error: {tmp_path / complaint}\n"


def test_a_mapping_indented_out_of_line_names_where_its_block_starts(cli, tmp_path):
    (tmp_path / "p.yaml").write_text("format: 1\nkind: network\ngiven:\n  x: [n]\n   t: [n]\n")
    r = cli("check", str(tmp_path / "p.yaml"))
    assert r.exit_code == 2, r.output
    assert "p.yaml:5:4: the indentation does not match the lines above" in r.stderr
    assert "(the block it belongs to starts at line 4, column 3)" in r.stderr
    assert "<block" not in r.stderr


def test_the_schema_id_is_a_stable_urn(cli):
    doc = json.loads(cli("schema").stdout)
    assert doc["$id"] == SCHEMA_ID == "urn:gradcli:schema:problem-file:format-1"
    assert ".invalid" not in cli("schema").stdout
