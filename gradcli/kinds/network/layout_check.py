"""The checks of a layout view: what `--layout` prints, evaluated, against torch autograd.

At the same seeded points as the denominator checks, for each gradient with a closed form:
numerator layout compares autograd's gradient, transposed, with the pasteable full form
(parsed back from its text) and with the shown form (its names bound to their where-lines'
values, each evaluated from its own shown form); index layout compares autograd's gradient
with the shown index form's plain text, read back (`layout_index_parse.py`) and run as
einsum programs (names likewise), so a printer bug (a lost parenthesis) fails the check. The worst entry over
both forms and every point is reported, as the other checks do.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from gradcli.kinds.network import verify as V
from gradcli.kinds.network.layout_einsum import Einsum
from gradcli.kinds.network.layout_index import gradient_axes
from gradcli.kinds.network.layout_numerator import is_gradient, transposed
from gradcli.results import Check
from gradcli.verify.compare import AUTOGRAD, Tolerance, describe_index, worst
from gradcli.verify.evaluate import Evaluator

Tensor = torch.Tensor


class Tally:
    """The worst comparison of one gradient's printed forms over the sample points."""

    def __init__(self, what: str, tol: Tolerance, notes: tuple[str, ...]):
        self.what, self.tol, self.notes = what, tol, notes
        self.rows: list = []  # (Worst, ok, where)
        self.error = ""

    def add(self, expected: Tensor, got: Tensor, at: str) -> None:
        w, ok = worst(expected, got, self.tol)
        self.rows.append((w, ok, at))

    def result(self) -> Check:
        reference = "torch autograd through the forward (float64)"
        if self.error or not self.rows:
            return Check(self.what, False, float("inf"), float("inf"), len(self.rows), reference,
                         notes=(f"the printed form could not be evaluated: {self.error}",))
        failing = [r for r in self.rows if not r[1]]
        w, _, at = failing[0] if failing else max(self.rows, key=lambda r: r[0].abs_error)
        where = describe_index(w.index)
        return Check(self.what, not failing, w.abs_error, w.rel_error, len(self.rows), reference,
                     where=f"{where} at {at}" if where else at, expected=w.expected, got=w.got,
                     notes=(f"tolerance: {self.tol.name} (rtol {self.tol.rtol:g}, atol "
                            f"{self.tol.atol:g}), per entry", *self.notes))


def _symbols(view, env: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Every used name's value, each from its own printed form, in derivation order.

    Each is held to the value the derivation gave the name (its expanded matrix form, shaped
    as the name is): the gradients' checks alone would not notice a where-line that is wrong
    in a way every use of the name undoes (δ printed transposed, and used transposed)."""
    values = dict(env)
    for sym_id in view.s.derivation.symbols:
        if sym_id not in view.used or view.symbol_value(sym_id) is None:
            continue
        shape = own = view.graph.shapes.names.get(sym_id, ())
        derived = V.fit(Evaluator(env)(view.s.derivation.expand(view.s.derivation.symbols[sym_id])),
                        shape)
        if view.layout == "numerator" and is_gradient(view.s.bp.symbols[sym_id]) and shape:
            derived, own = derived.T, transposed(shape)
        if view.layout == "index":
            values[sym_id] = V.fit(Einsum(values)(view.read(view.index_texts[sym_id]),
                                                  gradient_axes(shape)), shape)
        else:
            values[sym_id] = V.fit(Evaluator(values)(view.symbol_form(sym_id)), own)
        shown = [values[sym_id]]
        if sym_id in view.symbol_texts:  # numerator: the pasteable full form, from its text
            full = V.read_back(view.symbol_texts[sym_id], view.graph)
            shown.append(V.fit(Evaluator(env)(full), own))
        for got in shown:
            if got.shape != derived.shape or not worst(derived, got, AUTOGRAD)[1]:
                symbol = view.s.bp.symbols[sym_id].symbol
                raise ValueError(f"the printed where-line of {symbol} does not give the "
                                 f"derivation's {symbol} (a {tuple(got.shape)} value, expected "
                                 f"{tuple(derived.shape)})")
    return values


def _got(view, name: str, env: Mapping[str, Tensor], named: Mapping[str, Tensor]) -> list[Tensor]:
    shape = view.graph.shape(name)
    if view.layout == "index":
        return [V.fit(Einsum(named)(view.read(view.index_texts[name]), gradient_axes(shape)), shape)]
    own = transposed(shape)
    form = dict(view.built.gradients)[name]
    full = V.read_back(form.expression, view.graph)
    return [V.fit(Evaluator(env)(full), own), V.fit(Evaluator(named)(view.gradient_form(name)), own)]


def check(view) -> tuple[Check, ...]:
    s, graph = view.s, view.graph
    if view.layout == "index":
        from gradcli.kinds.network.layout_index_parse import reader_for

        view.read = reader_for(view)
    tol, tol_notes = V.route_tolerance(graph)
    route = "as printed vs autograd, transposed" if view.layout == "numerator" \
        else "printed index text by einsum vs autograd"
    tallies = {n: Tally(f"∂{graph.loss}/∂{n} ({view.layout}): {route}", tol, tol_notes)
               for n in view.closed}
    for p in V.each_point(graph, s.problem, s.seed):
        auto, env = V.autograd(graph, p, list(view.closed))
        try:
            named = _symbols(view, env)
        except Exception as err:  # noqa: BLE001 - a printed form that does not evaluate fails
            for t in tallies.values():
                t.error = t.error or f"{type(err).__name__}: {err}"
            continue
        for name, tally in tallies.items():
            expected = auto[name]
            if view.layout == "numerator" and expected.dim() == 2:
                expected = expected.T
            try:
                for got in _got(view, name, env, named):
                    tally.add(expected, got, p.label)
            except Exception as err:  # noqa: BLE001
                tally.error = tally.error or f"{type(err).__name__}: {err}"
    return tuple(t.result() for t in tallies.values())
