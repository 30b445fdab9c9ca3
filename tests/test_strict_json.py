"""JSON output is strict JSON: never NaN or Infinity; null plus a note saying where (issue 16)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcli.render.json import MAX_NOTES, strict


def strict_loads(text: str):
    """json.loads that refuses NaN/Infinity/-Infinity, as most non-Python readers do."""
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_an_infinite_error_is_null_with_a_note_naming_its_key(cli):
    result = cli("derive", "log(-x**2 - 1)", "-f", "json")
    assert result.exit_code == 1, result.output
    doc = strict_loads(result.stdout)
    assert doc["checks"][0]["max_rel_error"] is None
    assert ("checks[0].max_rel_error is infinity, written as null (JSON has no NaN or infinity)"
            in doc["notes"])


@pytest.mark.parametrize("args", [("vanish", "--depth", "60"),
                                  ("vanish", "--depth", "60", "--init", "default", "-a", "sigmoid")])
def test_deep_vanish_json_is_strict(cli, args):
    result = cli(*args, "-f", "json")
    assert result.exit_code in (0, 1), result.output
    strict_loads(result.stdout)


def test_strict_keeps_finite_numbers_and_existing_notes():
    doc = {"notes": ["kept"], "a": [1.5, float("nan")], "b": {"c": -math.inf}}
    assert strict(doc) == {"notes": ["kept", "a[1] is NaN, written as null (JSON has no NaN or "
                                     "infinity)", "b.c is -infinity, written as null (JSON has "
                                     "no NaN or infinity)"], "a": [1.5, None], "b": {"c": None}}


def test_a_document_full_of_nan_gets_a_bounded_number_of_notes():
    doc = strict({"layers": [math.nan] * 100})
    assert len(doc["notes"]) == MAX_NOTES + 1
    assert doc["notes"][-1] == f"... and {100 - MAX_NOTES} more non-finite numbers written as null"


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_any_document_becomes_strict_json(doc):
    strict_loads(json.dumps(strict(doc), allow_nan=False))
