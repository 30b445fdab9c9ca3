"""`--layout numerator|index`: the derived gradients written in another layout, each checked.

The derivation stays in denominator layout (its rules are written that way); this module
rewrites its results (`layout_numerator.py`, `layout_index.py`) and checks what it prints,
not the denominator form: at the checks' own seeded points, torch autograd's gradient
(transposed, for numerator layout) is compared with

- numerator layout: the pasteable full form, printed in the expression language, parsed
  back and evaluated; and the shown form (with δ and the other names) evaluated with each
  name bound to the value of its own printed where-line;
- index layout: the shown index form's printed text, read back (`layout_index_parse.py`) and
  run as einsum programs (`layout_einsum.py`), each name bound to the einsum value of its
  own printed index where-line.

A gradient the derivation gives only in index notation (a convolution's input, pooling) has
no closed form to rewrite: the output says so and its check stays autograd against finite
differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from gradcli.expr.ast import Node, walk
from gradcli.expr.unparse import unparse
from gradcli.kinds.network import algebra as A
from gradcli.kinds.network.display import text
from gradcli.kinds.network.layout_index import RULES, Entry, Translator, gradient_axes
from gradcli.kinds.network.layout_index_print import IndexPrinter, label, latex_indexed
from gradcli.kinds.network.layout_numerator import Numerator, is_gradient, transposed
from gradcli.kinds.network.layout_result import INDEX_RULE, NUMERATOR_RULE, LayoutView, ViewForm
from gradcli.kinds.network.matrix_print import latex_name
from gradcli.kinds.network.shapes import Shape, fmt
from gradcli.results import Check

NO_FORM = ("no closed form in the expression language: in the derivation's index notation "
           "below (the same in every layout), checked by autograd against finite differences")
DENOMINATOR_STEPS = ("The steps below are derived in denominator layout (each gradient shaped "
                     "like its variable: the rules are written that way); the gradients after "
                     "them are their results in numerator layout, each checked against torch "
                     "autograd, transposed.")
AS_DERIVED = ("as derived (denominator layout): it uses a gradient known only in index "
              "notation (below), so it has no other form here; checked by autograd against "
              "finite differences")


def _adjoints(node: Node) -> list[A.Adjoint]:
    return list(dict.fromkeys(n for n in walk(node) if isinstance(n, A.Adjoint)))


def _used(forms: list[Node], value: Callable[[str], Node | None]) -> list[str]:
    """The symbol ids the forms use, directly or through other symbols' forms."""
    seen: list[str] = []
    todo = [a.id for f in forms for a in _adjoints(f)]
    while todo:
        sym_id = todo.pop()
        if sym_id in seen:
            continue
        seen.append(sym_id)
        v = value(sym_id)
        if v is not None:
            todo += [a.id for a in _adjoints(v)]
    return seen


class View:
    """The view of one solved problem: `build()` makes what is printed, keeping what the check
    needs (`used` names, the index forms and texts, the names' full forms) for
    `layout_check.check`."""

    def __init__(self, solver, layout: str):
        self.s = solver
        self.layout = layout
        self.graph = solver.graph
        self.loss = solver.graph.loss
        self.numerator = Numerator(self.graph.shapes, is_gradient)
        self.printers = {style: IndexPrinter(style, m) for style, m in
                         (("text", text), ("pretty", solver.bp.pretty), ("latex", solver.bp.latex))}
        self.closed = [n for n in solver.targets if not A.has_index_form(solver.expanded[n])]
        self.index_forms: dict[str, object] = {}  # name or symbol id -> Ix, as printed
        self.index_texts: dict[str, str] = {}  # ... and its plain text, read back by the check
        self.symbol_texts: dict[str, str] = {}  # numerator: each name's pasteable full form
        self.opaque: list[Node] = []

    # -- the forms ----------------------------------------------------------------------
    def symbol_value(self, sym_id: str) -> Node | None:
        """A symbol's shown denominator value (None for one known only in index notation)."""
        sym = self.s.bp.symbols[sym_id]
        if isinstance(sym, A.IndexForm):
            return None
        return self.s.shown(self.s.derivation.symbols[sym_id])

    def gradient_form(self, name: str) -> Node:
        """The shown form in this layout (numerator) or the denominator form (index)."""
        shown = self.s.shown_gradients[name]
        return self.numerator(shown) if self.layout == "numerator" else shown

    def symbol_form(self, sym_id: str) -> Node:
        value = self.symbol_value(sym_id)
        if self.layout == "numerator" and is_gradient(self.s.bp.symbols[sym_id]):
            return self.numerator(value)
        return value

    def shape(self, node_shape: Shape, gradient: bool) -> Shape:
        return transposed(node_shape) if self.layout == "numerator" and gradient else node_shape

    def index(self, key: str, node: Node, axes: tuple):
        translate = Translator(self.graph.shapes)
        ix = translate(node, axes)
        for call in translate.opaque:
            if call not in self.opaque:
                self.opaque.append(call)
        self.index_forms[key] = ix
        self.index_texts[key] = self.printers["text"](ix)
        return ix

    def formula(self, key: str, node: Node, label_text: str, latex_label: str, shape: Shape,
                axes: tuple, expression: str = "") -> ViewForm:
        if self.layout == "index":
            ix = self.index(key, node, axes)
            return ViewForm(label_text, self.printers["text"](ix), self.printers["pretty"](ix),
                            self.printers["latex"](ix), latex_label, fmt(shape))
        return ViewForm(label_text, text(node), self.s.bp.pretty(node), self.s.bp.latex(node),
                        latex_label, fmt(shape), expression=expression)

    def gradient(self, name: str) -> ViewForm:
        shape = self.graph.shape(name)
        axes = gradient_axes(shape)
        own = self.shape(shape, True)
        if name not in self.closed:
            shown = self.s.shown_gradients[name]
            if isinstance(shown, A.IndexForm):
                return ViewForm(f"∂{self.loss}/∂{name}", "", "", "", "", fmt(own), note=NO_FORM)
            return ViewForm(f"∂{self.loss}/∂{name}", text(shown), self.s.bp.pretty(shown),
                            self.s.bp.latex(shown), rf"\frac{{\partial {self.loss}}}"
                            rf"{{\partial {latex_name(name)}}}", fmt(shape), note=AS_DERIVED)
        if self.layout == "index":
            return self.formula(name, self.gradient_form(name), label(self.loss, name, axes, "text"),
                                label(self.loss, name, axes, "latex"), own, axes)
        full = unparse(self.numerator(self.s.expanded[name]))
        latex = rf"\frac{{\partial {self.loss}}}{{\partial {latex_name(name)}}}"
        return self.formula(name, self.gradient_form(name), f"∂{self.loss}/∂{name}", latex, own,
                            axes, full)

    def symbol(self, sym_id: str) -> ViewForm:
        sym = self.s.bp.symbols[sym_id]
        value = self.symbol_value(sym_id)
        shape = self.graph.shapes.names.get(sym_id, ())
        what = self.s.derivation.labels[sym_id]
        if value is None:  # index notation already: the derivation's own text, as a line
            return ViewForm(sym.text, "", "", "", "", fmt(shape))
        gradient = is_gradient(sym)
        own = self.shape(shape, gradient)
        head = sym.symbol if sym.symbol == what else f"{sym.symbol} = {what}"
        if self.layout == "index":
            axes = gradient_axes(shape)
            entry = Entry(sym, axes)
            head = self.printers["text"](entry)
            if sym.symbol != what:  # δ[i] = ∂L/∂z[i]; σ[j] = the columns' standard deviation
                head += f" = {what}" + (head[len(sym.symbol):] if gradient else "")
            return self.formula(sym_id, value, head, self.printers["latex"](entry), own, axes)
        # expanded before the transpose: inside the numerator form a gradient's name is a row,
        # which the derivation's `expand` (denominator values) must not substitute
        expanded = self.s.derivation.expand(self.s.derivation.symbols[sym_id])
        full = unparse(self.numerator(expanded) if gradient else expanded)
        form = self.formula(sym_id, self.symbol_form(sym_id), head, sym.latex, own, (), full)
        self.symbol_texts[sym_id] = full
        return form

    def steps(self) -> tuple[ViewForm | None, ...]:
        """Index layout: each step's value in index form (none for steps that are index
        notation already); numerator layout keeps the derivation as derived."""
        if self.layout != "index":
            return ()
        out: list[ViewForm | None] = []
        for k, raw in enumerate(self.s.derivation.steps):
            if A.has_index_form(raw.value):
                out.append(None)
                continue
            axes = gradient_axes(raw.shape)
            sub = self.printers["text"](Entry(A.Adjoint("_"), axes))[1:]
            parts = [p.replace(" (path", f"{sub} (path") if " (path" in p else p + sub
                     for p in raw.label.split(" = ")]
            idx = [a for a in axes if a]
            latex = " = ".join(latex_indexed(p, idx) for p in raw.latex_label.split(" = "))
            form = self.formula(f"step{k}", raw.value, " = ".join(parts), latex, raw.shape, axes)
            out.append(replace(form, formula=RULES.get(raw.formula, "")))
        return tuple(out)

    def build(self) -> LayoutView:
        gradients = tuple((n, self.gradient(n)) for n in self.s.targets)
        forms = [self.gradient_form(n) if n in self.closed else self.s.shown_gradients[n]
                 for n in self.s.targets]
        used = _used(forms, self.symbol_form_or_none)
        printed = {f.label.partition("[")[0] for n, f in gradients if n in self.closed}
        symbols = []
        for sym_id in self.s.derivation.symbols:  # each used name once, in derivation order
            if sym_id in used:
                form = self.symbol(sym_id)  # (its index form is kept for the checks)
                if form.label.partition("[")[0] not in printed:
                    symbols.append(form)
        self.used = used
        steps = self.steps()  # (before the notes: a step may take a call as a whole too)
        notes = []
        if self.s.problem.claims:
            notes.append("claims in the file are read in denominator layout (the file's own "
                         "convention), whichever layout the gradients are printed in")
        if self.s.problem.hessians or self.s.problem.hvp:
            notes.append("the Hessians below are as derived: a symmetric ∂²L/∂w² reads the same "
                         "in every layout, and H·v is shaped like the variable (denominator)")
        if self.opaque:
            whole = ", ".join(text(n) for n in self.opaque)
            notes.append(f"no index form is printed for the insides of {whole}: each appears "
                         "as an entry of the whole matrix")
        numerator = self.layout == "numerator"
        return LayoutView(self.layout, NUMERATOR_RULE if numerator else INDEX_RULE, gradients,
                          tuple(symbols), steps, tuple(notes),
                          derivation_note=DENOMINATOR_STEPS if numerator else "")

    def symbol_form_or_none(self, sym_id: str) -> Node | None:
        if self.symbol_value(sym_id) is None:
            return None
        return self.symbol_form(sym_id)



def view(solver, layout: str) -> tuple[LayoutView, tuple[Check, ...]]:
    """The layout view of a solved problem and the checks of what it prints."""
    from gradcli.kinds.network.layout_check import check

    v = View(solver, layout)
    v.built = v.build()
    return v.built, check(v)
