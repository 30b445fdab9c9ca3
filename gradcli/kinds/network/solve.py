"""`kind: network`: derive, verify and judge the gradients of a small network.

`solve(problem)` builds the checked graph (`graph.py`), runs reverse-mode backprop in
closed matrix form (`backprop.py` with the local rules of `vjp.py`), checks each
gradient against torch autograd with finite differences as referee (`verify.py`) and
judges the claims (`claims.py`): derivation -> checks -> claims -> `result.NetworkResult`.

Torch is imported by the verification modules only when `solve` runs.
"""

from __future__ import annotations

from functools import cached_property

from gradcli.errors import InputError
from gradcli.expr.ast import Node
from gradcli.expr.unparse import unparse
from gradcli.kinds.network.algebra import IndexForm, has_index_form
from gradcli.kinds.network.backprop import Backprop, Derivation, RawStep, rename_upstream
from gradcli.kinds.network.display import Guard, text
from gradcli.kinds.network.graph import Graph, build, check_budget
from gradcli.kinds.network.hessian import Hessian
from gradcli.kinds.network.result import (
    LAYOUT_RULE,
    Definition,
    Gradient,
    NetStep,
    NetworkResult,
    Symbol,
)
from gradcli.kinds.network.shapes import fmt
from gradcli.results import Verdict


class Solver:
    def __init__(self, problem, seed: int):
        self.problem = problem
        self.seed = seed
        self.graph: Graph = build(problem)
        check_budget(problem, self.graph)  # before any tensor is allocated
        # A Hessian is the derivative of a gradient: its variable's gradient is derived too.
        self.targets = list(dict.fromkeys((*self.graph.wrt, *problem.claims, *problem.hessians,
                                           *problem.hvp)))
        self.bp = Backprop(self.graph, self.targets)
        self.derivation: Derivation = self.bp.run()
        self.expanded = {n: self.derivation.expand(self.derivation.gradients[n]) for n in self.targets}
        self.guard = Guard(self.graph, problem, self.derivation.expand, seed)

    @cached_property
    def shown_gradients(self) -> dict[str, Node]:
        return {n: self.shown(self.derivation.gradients[n]) for n in self.targets}

    def shown(self, node: Node) -> Node:
        """The display form: the rewrites of `rewrite.py` that the numeric guard accepts, with
        the names a textbook would not use written out (`display.inline_names`)."""
        from gradcli.kinds.network.display import inline_names
        from gradcli.kinds.network.rewrite import normalise, rewrites

        if has_index_form(node):
            return node
        declared = self.graph.shapes.kinds
        rules = rewrites(self.bp._is_scalar, frozenset(
            n for n, (kind, _) in declared.items() if kind in ("onehot", "distribution")))

        def simplify(n: Node) -> Node:
            return normalise(n, self.guard, rules)[0]

        keep = {s for s in self.derivation.symbols if s.startswith("__s")} | \
            {f"__d_{n}" for n in (*self.bp.delta, *self.targets)}
        return inline_names(simplify(node), self.derivation.symbols, keep, simplify)

    # -- printing -------------------------------------------------------------------------
    def step(self, raw: RawStep, derivation: Derivation) -> NetStep:
        value = derivation.expand(raw.value)
        course = self.bp.pretty(raw.value)
        # the rule's local form, with the names of the upstreams: no rewrite, no expansion
        return NetStep(rule=raw.rule, formula=raw.formula, subject=raw.subject, label=raw.label,
                       latex_label=raw.latex_label,
                       expression="" if has_index_form(value) else unparse(value), pretty=course,
                       latex=self.bp.latex(raw.value), shape=fmt(raw.shape), note=raw.note,
                       display=text(raw.value))

    def gradient(self, name: str, check) -> Gradient:
        loss = self.graph.loss
        own = Backprop(self.graph, {name}).run()
        shown = self.shown_gradients[name]
        course, expanded = self.bp.pretty(shown), self.bp.pretty(self.expanded[name])
        from gradcli.kinds.network.matrix_print import latex_name

        note = ""
        if name not in self.bp.reach:
            note = f"{loss} does not depend on {name}"
        return Gradient(
            name=name, label=f"∂{loss}/∂{name}",
            latex_label=rf"\frac{{\partial {loss}}}{{\partial {latex_name(name)}}}",
            expression="" if has_index_form(self.expanded[name]) else unparse(self.expanded[name]),
            pretty=course, pretty_expanded=expanded, display=text(shown),
            latex=self.bp.latex(shown),
            shape=fmt(self.graph.shape(name)),
            steps=tuple(self.step(s, own) for s in own.steps), check=check, note=note)

    def definitions(self) -> tuple[Definition, ...]:
        return tuple(Definition(line.name, unparse(line.node), self.bp.pretty(line.node),
                                self.bp.latex(line.node), fmt(line.shape)) for line in self.graph.lines)

    def symbols(self) -> tuple[Symbol, ...]:
        """The where-lines: each name the shown gradients use, directly or through another
        name, once (a name written out everywhere it was used is not printed)."""
        from gradcli.kinds.network.display import adjoints

        shown = {sym_id: value if isinstance(self.bp.symbols[sym_id], IndexForm) else self.shown(value)
                 for sym_id, value in self.derivation.symbols.items()}
        used: set[str] = set()
        todo = [a.id for n in self.targets for a in adjoints(self.shown_gradients[n])]
        todo += [s for s in shown if isinstance(self.bp.symbols[s], IndexForm)]
        while todo:
            sym_id = todo.pop()
            if sym_id not in used and sym_id in shown:
                used.add(sym_id)
                sym = self.bp.symbols[sym_id]
                if isinstance(sym, IndexForm):  # index notation names its upstream in words
                    todo += [other for other, o in self.bp.symbols.items() if o.symbol in sym.text]
                else:
                    todo += [a.id for a in adjoints(shown[sym_id])]
        out = []
        for sym_id, value in self.derivation.symbols.items():
            if sym_id not in used:
                continue
            sym = self.bp.symbols[sym_id]
            shape = self.graph.shapes.names[sym_id]
            if isinstance(sym, IndexForm):
                out.append(Symbol(sym.symbol, "index notation", "", sym.text, sym.text, fmt(shape)))
                continue
            out.append(Symbol(sym.symbol, self.derivation.labels[sym_id],
                              unparse(self.derivation.expand(value)), self.bp.pretty(shown[sym_id]),
                              self.bp.latex(shown[sym_id]), fmt(shape), display=text(shown[sym_id])))
        return tuple(out)

    # -- numbers --------------------------------------------------------------------------
    def verify(self):
        """Check every gradient at each sample point in turn. A point's tensors (inputs,
        forward values, both routes) are freed before the next point is drawn unless claims
        need them afterwards, so a problem without claims holds one point's worth, not all."""
        from gradcli.kinds.network import verify as V

        keep = bool(self.problem.claims)
        tallies = {}
        for name in self.targets:
            if has_index_form(self.expanded[name]):
                label = f"∂{self.graph.loss}/∂{name}: torch autograd vs finite differences"
                tallies[name] = V.DifferenceCheck(self.graph, name, label, self.seed)
            else:
                label = f"∂{self.graph.loss}/∂{name}: closed form vs torch autograd"
                tallies[name] = V.RouteCheck(self.graph, name, label)
        self.pts, self.envs = [], []
        autos: dict[str, list] = {n: [] for n in self.targets}
        closeds: dict[str, list] = {n: [] for n in self.targets}
        for p in V.each_point(self.graph, self.problem, self.seed):
            self._verify_point(V, p, tallies, keep, autos, closeds)
            self.pts.append(p if keep else V.Point({}, p.label))
            del p
        checks, truth = {}, {}
        for name, tally in tallies.items():
            if isinstance(tally, V.DifferenceCheck):
                checks[name], side = tally.result(), "autograd"
            else:
                checks[name], side = tally.result()
            truth[name] = closeds[name] if side == "closed" else autos[name]
        return checks, truth

    def _verify_point(self, V, p, tallies, keep: bool, autos, closeds) -> None:
        auto, env = V.autograd(self.graph, p, self.targets)
        for name, tally in tallies.items():
            a, closed = auto.pop(name), None  # each gradient freed once checked
            if isinstance(tally, V.DifferenceCheck):
                tally.add(p, a)
            else:
                closed = V.closed_form(self.expanded[name], self.graph, env, self.graph.shape(name))
                tally.add(p, a, closed)
            if keep:
                autos[name].append(a)
                closeds[name].append(closed)
            del a, closed
        if keep:
            self.envs.append(env)

    def sampling_notes(self) -> list[str]:
        """How givens that are not drawn from N(0, 1) are drawn, and why: a claim such as
        p − y for a cross-entropy holds only because y's rows sum to 1, which the file
        declares and the reader must know."""
        from gradcli.kinds.network import verify as V

        kinds = self.graph.shapes.kinds
        why = {"positive": "in [0.5, 2] (the argument of log, sqrt or a fractional power)",
               "probability": "in [0.05, 0.95] (a probability, for bce)",
               "nonzero": "of magnitude 0.5 to 2 (a divisor)",
               "labels": "as integer class labels 0 to {last} (declared labels: {classes})",
               "onehot": "as one-hot rows (declared onehot: true)",
               "distribution": "as rows of probabilities summing to 1 (declared "
                               "distribution: rows)",
               "invertible": "as I + a small random matrix (inverted or a determinant's argument)"}
        out = []
        for name, dom in V.domains(self.graph).items():
            if dom in why:
                classes = kinds[name][1] if dom == "labels" else None
                text = why[dom].format(last=classes.size - 1, classes=classes) if classes else why[dom]
                out.append(f"random values: {name} is drawn {text}")
        return out

    def mistakes(self, name: str):
        """Known wrong formulas for ∂L/∂name: each activation's derivative replaced, each
        normalisation differentiated with its statistics held constant."""
        out = []
        for site, (node, local) in enumerate(self.bp.ctx.site_nodes):
            fname = "σ" if node.func == "sigmoid" else node.func
            arg = self.bp.pretty(node.args[0])
            f_text = f"{fname}({arg})"
            named = self.bp.pretty(self.bp.ctx.reuse(node))
            f_text += f" = {named}" if named != self.bp.pretty(node) else ""
            for kind, hint in (
                    ("value", f"missing the activation's derivative: {f_text} appears where "
                              f"{fname}′({arg}) = {self.bp.pretty(local)} belongs"),
                    ("one", f"missing the factor {fname}′({arg}) = {self.bp.pretty(local)} "
                            f"(the chain rule through {fname})")):
                out += self._mistake(name, {site: kind}, hint)
        for k, node in enumerate(self.bp.ctx.norm_nodes):
            over = "batch" if node.func == "batch_norm" else "row"
            hint = (f"{node.func} differentiated as if its {over} mean and σ were constants "
                    f"(γ ⊙ G ⊘ σ): every input entry moves them too, so subtract mean(Ĝ) and "
                    f"X̂ ⊙ mean(Ĝ ⊙ X̂) from Ĝ = G ⊙ γ before dividing by σ")
            out += self._mistake(name, {f"norm{k}": "naive"}, rename_upstream(hint, self.bp.upstream))
        return out

    def _mistake(self, name: str, mutation, hint: str):
        from gradcli.kinds.network import verify as V
        from gradcli.kinds.network.claims import Mistake

        wrong = Backprop(self.graph, {name}, mutation).run()
        if name not in wrong.gradients:
            return []
        expr: Node = wrong.expand(wrong.gradients[name])
        if expr == self.expanded[name] or has_index_form(expr):
            return []
        values = [V.closed_form(expr, self.graph, env, self.graph.shape(name)) for env in self.envs]
        return [Mistake(values, hint)]

    def claims(self, truth):
        from gradcli.kinds.network.claims import Judge

        pretty = {n: self.bp.pretty(self.expanded[n]) for n in self.targets}
        judge = Judge(self.graph, self.problem, self.pts, self.envs, truth, pretty,
                      self.mistakes, self.seed)
        return tuple(judge.judge(name, text) for name, text in self.problem.claims.items())

    def kink_notes(self) -> tuple[str, ...]:
        """Where a forward function is not differentiable, and whose convention the formulas follow."""
        from gradcli import catalog
        from gradcli.expr.ast import Call, walk

        out = []
        for line in self.graph.lines:
            for n in walk(line.node):
                entry = catalog.lookup(n.func) if isinstance(n, Call) else None
                if entry is not None and entry.kinks:
                    at = ", ".join(f"{k:g}" for k in entry.kinks)
                    note = (f"{entry.name} is not differentiable at {at}: {entry.kink_note}; the "
                            "formulas follow torch there, and the random sample points "
                            "(continuous) almost surely miss it")
                    if note not in out:
                        out.append(note)
        return tuple(out)

    def hessians(self) -> tuple[tuple[Hessian, ...], tuple[Verdict, ...]]:
        """∂²L/∂w² for each `hessians:` name, checked at the gradients' sample points."""
        from gradcli.kinds.network import hessian
        from gradcli.kinds.network import verify as V

        if not self.problem.hessians and not self.problem.hvp:
            return (), ()
        out, verdicts = [], []
        pts = V.points(self.graph, self.problem, self.seed)
        for name in self.problem.hessians:
            try:
                h, steps = hessian.derive(self.graph, name, self.expanded[name], self.bp.pretty)
            except InputError as err:
                raise self.problem.locate("hessians", err) from None
            check, symmetric, truth = hessian.check(self.graph, name, h, pts)
            square = fmt(hessian.square(self.graph.shape(name)))
            out.append(Hessian(name, hessian.label_of(self.graph, name), unparse(h), text(h),
                               self.bp.pretty(h), self.bp.latex(h), square, symmetric,
                               tuple(steps), check))
            if name in self.problem.hessian_claims:
                verdicts.append(hessian.judge(self.graph, self.problem, name,
                                              self.problem.hessian_claims[name], pts, truth))
        for name, direction in self.problem.hvp.items():
            try:
                hv, steps = hessian.derive(self.graph, name, self.expanded[name], self.bp.pretty,
                                           direction)
            except InputError as err:
                raise self.problem.locate(f"hvp.{name}", err) from None
            check = hessian.check_product(self.graph, name, direction, hv, pts)
            out.append(Hessian(name, f"∂²{self.graph.loss}/∂{name}² {direction}", unparse(hv),
                               text(hv), self.bp.pretty(hv), self.bp.latex(hv),
                               fmt(self.graph.shape(name)), False, tuple(steps), check,
                               direction=direction))
        return tuple(out), tuple(verdicts)

    def jacobians(self) -> tuple[tuple, tuple[Verdict, ...]]:
        """∂h/∂x for each `jacobians:` request, checked at the gradients' sample points."""
        from gradcli.kinds.network import jacobian
        from gradcli.kinds.network import verify as V

        if not self.problem.jacobians:
            return (), ()
        out, verdicts = [], []
        pts = V.points(self.graph, self.problem, self.seed)
        positions = self.problem.origin.positions
        for i, (of, wrt) in enumerate(self.problem.jacobians):
            key = f"jacobians.{i}" if f"jacobians.{i}" in positions else "jacobians"
            try:
                j, steps, note = jacobian.derive(self.graph, of, wrt, self.bp.pretty)
            except InputError as err:
                raise self.problem.locate(key, err) from None
            check, truth = jacobian.check(self.graph, of, wrt, j, pts)
            out.append(jacobian.Jacobian(of, wrt, f"∂{of}/∂{wrt}", jacobian.latex_label(of, wrt),
                                         unparse(j), text(j),
                                         self.bp.pretty(j), self.bp.latex(j),
                                         fmt(jacobian.shape(self.graph, of, wrt)), tuple(steps),
                                         check, note))
            if (of, wrt) in self.problem.jacobian_claims:
                verdicts.append(jacobian.judge(self.graph, self.problem, of, wrt,
                                               self.problem.jacobian_claims[of, wrt], pts, truth))
        return tuple(out), tuple(verdicts)

    def result(self) -> NetworkResult:
        checks, truth = self.verify()
        verdicts = self.claims(truth)
        gradients = tuple(self.gradient(n, checks[n]) for n in self.targets)
        hessians, hessian_verdicts = self.hessians()
        jacobians, jacobian_verdicts = self.jacobians()
        p = self.problem
        view, view_checks = None, ()
        if p.layout != "denominator":  # --layout: the gradients in another layout, checked
            from gradcli.kinds.network.layout_view import view as layout_view

            view, view_checks = layout_view(self, p.layout)
        return NetworkResult(
            kind="network", name=p.name or "network",
            checks=(*(checks[n] for n in self.targets), *view_checks,
                    *(h.check for h in hessians), *(j.check for j in jacobians)),
            claims=(*verdicts, *hessian_verdicts, *jacobian_verdicts), seed=self.seed,
            hessians=hessians, jacobians=jacobians,
            notes=(*self.graph.notes, *self.kink_notes(), *self.sampling_notes()),
            source=p.source, description=p.description,
            layout=f"{view.rule if view else LAYOUT_RULE} In each rule, {self.bp.upstream} is the upstream: ∂{self.graph.loss}/∂ of "
                   "what the rule is applied to.",
            given=tuple((n, fmt(s)) for n, s in self.graph.given.items()),
            dims=tuple(p.dims.items()), lines=self.definitions(),
            steps=tuple(self.step(s, self.derivation) for s in self.derivation.steps),
            symbols=self.symbols(), gradients=gradients,
            points=tuple(pt.label for pt in self.pts), view=view)


def solve(problem, *, seed: int = 0) -> NetworkResult:
    from gradcli.kinds.network.graph import LineFailed

    try:
        if problem.solution is not None:  # `exercise --solution`: judge the student's backward
            from gradcli.kinds.network.exercise_run import solve as exercise

            return exercise(problem, seed=seed, derive=Solver)
        return Solver(problem, seed).result()
    except LineFailed as failed:
        raise problem.locate(failed.key, failed.error) from None
