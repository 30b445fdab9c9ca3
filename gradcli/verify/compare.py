"""Compare two routes to the same numbers and report the worst entry, not two arrays.

Tolerances are named and tuned for float64 (gradcheck's habit): a float64 closed form and
torch autograd agree to ~1e-12 relative on well-conditioned inputs; finite differences with
central steps of 1e-6 are good to ~1e-7. Tolerances never loosen with the size of the input:
the test is per entry, so one wrong entry in a 300×300 gradient fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from gradcli.results import Check


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    name: str


AUTOGRAD = Tolerance(rtol=1e-9, atol=1e-11, name="float64 autograd")
FINITE_DIFFERENCE = Tolerance(rtol=1e-5, atol=1e-7, name="float64 central differences")
CLAIM = Tolerance(rtol=1e-7, atol=1e-9, name="claim equivalence")


@dataclass(frozen=True)
class Worst:
    index: tuple[int, ...]
    expected: float
    got: float
    abs_error: float
    rel_error: float
    entries: int = 0
    unfinite: int = 0  # entries not finite on both sides (NaN = NaN agrees, but proves nothing)


def non_finite(worsts: Iterable[Worst]) -> tuple[bool, str]:
    """Over the comparisons of one check (a point each): whether every entry was NaN or
    infinite on both sides (they "agree", and that proves nothing: the check must fail), and
    the note saying so or how many were not compared ("" when every entry was finite)."""
    entries = unfinite = 0
    for w in worsts:
        entries, unfinite = entries + w.entries, unfinite + w.unfinite
    if not unfinite:
        return False, ""
    if unfinite == entries:
        return True, ("no entry is finite at any sample point (NaN or infinite on both routes: "
                      "the function is undefined or overflows there), so nothing was compared")
    return False, (f"{unfinite:,} of {entries:,} entries are NaN or infinite on both routes "
                   f"and were not compared")


def errors(expected: torch.Tensor, got: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Absolute and relative error per entry; inf where exactly one side is NaN or inf."""
    expected, got = torch.broadcast_tensors(expected.detach().double(), got.detach().double())
    abs_err = (got - expected).abs()
    abs_expected = expected.abs()
    if not bool(torch.isfinite(abs_err).all()):  # the careful path, only when needed
        both_nan = torch.isnan(expected) & torch.isnan(got)
        same_inf = torch.isinf(expected) & (expected == got)
        abs_err = torch.where(both_nan | same_inf, torch.zeros_like(abs_err), abs_err)
        abs_err = torch.where(torch.isnan(abs_err), torch.full_like(abs_err, math.inf), abs_err)
        abs_expected = torch.nan_to_num(abs_expected, nan=0.0)
    rel_err = abs_err / abs_expected.clamp_min(torch.finfo(torch.float64).tiny)
    return abs_err, rel_err


CHUNK = 1 << 16  # entries compared at a time: the temporaries stay ~0.5 MB each, not 10 × the input


def worst(expected: torch.Tensor, got: torch.Tensor, tol: Tolerance) -> tuple[Worst, bool]:
    """The entry that most exceeds the tolerance (or the largest error when all pass).

    Computed over row-major chunks of the flattened values, so a 2048×2048 comparison does
    not allocate a dozen full-size temporaries; the result is the same as in one go (the first
    entry of the largest excess wins, as with argmax)."""
    expected_b, got_b = torch.broadcast_tensors(expected.detach(), got.detach())
    shape = tuple(expected_b.shape)
    if not expected_b.numel():
        return Worst((), 0.0, 0.0, 0.0, 0.0), True
    flat_e, flat_g = expected_b.reshape(-1), got_b.reshape(-1)
    passed, best, best_at, max_abs, max_rel = True, -math.inf, 0, -math.inf, -math.inf
    unfinite = 0
    for start in range(0, flat_e.numel(), CHUNK):
        e = flat_e[start:start + CHUNK].double()
        g = flat_g[start:start + CHUNK].double()
        abs_err, rel_err = errors(e, g)
        unfinite += int((~torch.isfinite(e) & (abs_err == 0)).sum())
        bound = tol.atol + tol.rtol * torch.nan_to_num(e.abs(), nan=0.0, posinf=0.0)
        # Exact agreement (both NaN at a 0/0 point, the same infinity) is never the worst entry.
        excess = torch.where(abs_err == 0, torch.full_like(abs_err, -math.inf), abs_err - bound)
        passed = passed and bool((excess <= 0).all())
        at = int(torch.argmax(excess))
        value = float(excess[at])
        if start == 0 or value > best or (math.isnan(value) and not math.isnan(best)):
            best, best_at = value, start + at
        max_abs = max(max_abs, float(abs_err.max()))
        max_rel = max(max_rel, float(rel_err.max()))
    index = _unravel(best_at, shape)
    return Worst(index, float(flat_e[best_at]), float(flat_g[best_at]), max_abs, max_rel,
                 flat_e.numel(), unfinite), passed


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major index of a flat position (torch.unravel_index costs ~0.1 s per call)."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))


def describe_index(index: tuple[int, ...], names: tuple[str, ...] = ()) -> str:
    """A 1-based, readable position: `(2, 3)`, or `x = 1.5` for sample points."""
    if not index:
        return ""
    if names:
        return ", ".join(names[i] if i < len(names) else str(i + 1) for i in index)
    return "(" + ", ".join(str(i + 1) for i in index) + ")"


def compare(what: str, expected: torch.Tensor, got: torch.Tensor, *, reference: str,
            tol: Tolerance = AUTOGRAD, where_names: tuple[str, ...] = (),
            notes: tuple[str, ...] = ()) -> Check:
    """A Check of `got` (our route) against `expected` (the reference route)."""
    w, passed = worst(expected, got, tol)
    empty, unfinite = non_finite([w])
    passed = passed and not empty
    return Check(what=what, passed=passed, max_abs_error=w.abs_error, max_rel_error=w.rel_error,
                 points=int(expected.numel()) if expected.dim() else 1, reference=reference,
                 where=describe_index(w.index, where_names), expected=w.expected, got=w.got,
                 notes=(f"tolerance: {tol.name} (rtol {tol.rtol:g}, atol {tol.atol:g})", *notes,
                        *([unfinite] if unfinite else [])))
