"""How a case's answer is judged: tolerance, NaN, infinities, shapes (no child process)."""

from __future__ import annotations

import math

import pytest
import torch

from gradcli.kinds.implementation.cases import Case
from gradcli.kinds.implementation.sandbox import Run
from gradcli.kinds.implementation.solve import ATOL, RTOL
from gradcli.kinds.implementation.verdicts import judge

NAN, INF = math.nan, math.inf


def verdict(expected, got, status="ok"):
    want = torch.tensor(expected, dtype=torch.float64)
    case = Case("c", {"X": want.clone()})
    event = {"event": "case", "case": 0, "status": status, "values": got, "dtype": "float64",
             "type": "list"}
    [result] = judge([case], [want], Run(cases=1, loaded=True, outcomes={0: event}), RTOL, ATOL)
    return result


def test_entries_within_the_named_tolerance_pass():
    assert verdict([[1.0, 2.0]], [[1.0 + 5e-8, 2.0]]).verdict == "passed"
    assert verdict([[1.0, 2.0]], [[1.0 + 2e-7, 2.0]]).verdict == "wrong"


def test_first_differing_entry_is_reported_row_major_and_1_based():
    r = verdict([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [0.0, 5.0]])
    assert (r.verdict, r.where, r.expected, r.got) == ("wrong", "(2, 1)", 3.0, 0.0)
    assert r.detail == "first differing entry (2, 1): expected 3.0, got 0.0 (2 of 4 entries differ)"


def test_nan_in_the_reference_is_undefined_and_not_judged():
    r = verdict([[NAN, 1.0]], [[0.0, 1.0]])
    assert (r.verdict, r.undefined) == ("passed", 1)


def test_nan_from_the_solution_where_the_reference_is_a_number_is_wrong():
    r = verdict([[0.5, 1.0]], [[NAN, 1.0]])
    assert (r.verdict, r.where) == ("wrong", "(1, 1)")


@pytest.mark.parametrize("got, verdict_", [([[INF]], "passed"), ([[-INF]], "wrong"), ([[1e308]], "wrong")])
def test_infinities_must_match_exactly(got, verdict_):
    assert verdict([[INF]], got).verdict == verdict_


def test_shape_must_match_exactly():
    r = verdict([[1.0, 2.0]], [[1.0], [2.0]])
    assert (r.verdict, r.detail) == ("wrong", "shape: expected 1×2, got 2×1")


def test_returning_something_other_than_a_tensor_is_wrong():
    r = verdict([[1.0]], None, status="not_tensor")
    assert r.verdict == "wrong"
