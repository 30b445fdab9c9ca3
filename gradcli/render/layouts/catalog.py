"""Layout of `gradcli list`: the catalog by group, the constants, the bundled problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradcli.render.blocks import Block, Formula, Heading, Table, Text

if TYPE_CHECKING:
    from gradcli.catalog import Entry
    from gradcli.problems.listing import Listing

# The catalog's group names as `gradcli list` titles them (problems/listing.py's GROUPS).
GROUP_TITLES = {"elementwise": "elementwise", "reduction": "reductions", "linalg": "linalg",
                "layer": "layers", "loss": "losses"}
RUN_HINT = ("Run one with `gradcli check PROBLEM` (an implementation exercise: "
            "`gradcli exercise PROBLEM --solution FILE.py`).")


def _entry_rows(entries: tuple[Entry, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple((e.call, e.doc, e.torch) for e in entries)


def _definitions(entries: tuple[Entry, ...]) -> list[Block]:
    """The definitions, in the expression language (so they paste back as claims)."""
    defined = [e for e in entries if e.definition]
    if not defined:
        return []
    return [Text("defined as:", "note"),
            *(Formula(e.call, e.definition) for e in defined)]  # type: ignore[arg-type]


def _entry_in_full(e: Entry) -> list[Block]:
    blocks: list[Block] = [Heading(e.call, 1), Text(e.doc)]
    if e.group != "elementwise":  # softmax, matmul, mse_loss: no scalar formula to show
        blocks.append(Text(f"{e.name} acts on whole tensors: backprop through it is a rule of "
                           "network problems (gradcli check), checked against torch"))
    elif e.definition:
        blocks.append(Formula(e.call, e.definition))
    else:
        blocks.append(Text(f"{e.name} is a primitive: SymPy's own {e.name}"))
    if e.derivative:
        blocks.append(Formula(f"d/dx {e.name}(x)", e.derivative))
    blocks.append(Text(f"torch reference: {e.torch}"))
    if e.group == "elementwise":
        blocks.append(Text(f"domain: {'x > 0' if e.domain == 'positive' else 'all real x'}"))
    blocks.append(Text(f"group: {GROUP_TITLES.get(e.group, e.group)}", "note"))
    if e.kinks:
        kinks = ", ".join(f"x = {k:g}" for k in e.kinks)
        blocks.append(Text(f"not differentiable at {kinks}" + (f": {e.kink_note}" if e.kink_note
                                                                 else ""), "note"))
    return blocks


def _problem_in_full(p, text: str) -> list[Block]:
    run = (f"gradcli exercise {p.key} --solution FILE.py" if p.kind == "implementation"
           else f"gradcli check {p.key}")
    return [Heading(f"{p.key}: {p.name}", 1), Text(f"kind: {p.kind}; file: {p.file}"),
            Heading("the file", 2), Text(text.rstrip("\n")), Text(f"run it: {run}", "note")]


def _focused(result: Listing) -> list[Block]:
    blocks: list[Block] = []
    for e in result.entries:
        blocks += _entry_in_full(e)
    for p, text in zip(result.problems, result.texts, strict=True):
        blocks += _problem_in_full(p, text)
    return blocks


def document(result: Listing) -> list[Block]:
    if result.focus:
        return _focused(result)
    blocks: list[Block] = [Heading("Catalog", 1)]
    for title, entries in result.grouped():
        blocks += [Heading(title, 2), Table(("function", "what", "torch reference"),
                                            _entry_rows(entries))]
        blocks += _definitions(entries)
    if result.constants:
        blocks += [Heading("constants", 2), Table(("name", "value"), result.constants)]
    blocks.append(Heading("Bundled problems", 1))
    if not result.problems:
        return [*blocks, Text("No bundled problems were found.", "warn")]
    rows = tuple((p.key, p.name, p.kind, p.file) for p in result.problems)
    return [*blocks, Table(("problem", "name", "kind", "file"), rows), Text(RUN_HINT, "note")]


def _entry_json(entry: Entry, group: str) -> dict[str, Any]:
    return {"name": entry.name, "group": group, "signature": entry.call, "doc": entry.doc,
            "torch": entry.torch, "definition": entry.definition,
            "derivative": entry.derivative, "kinks": list(entry.kinks),
            "kink_note": entry.kink_note, "domain": entry.domain,
            "arguments": [_argument_json(a, keyword_only) for keyword_only, args in
                          ((False, entry.sig.args), (True, entry.sig.options)) for a in args]}


def _argument_json(arg, keyword_only: bool) -> dict[str, Any]:
    """One argument of the signature: its kind, whether it must be given, its default."""
    out = {"name": arg.name, "kind": arg.kind, "required": arg.required,
           "keyword_only": keyword_only}
    if not arg.required:
        out["default"] = arg.default
    if arg.choices:
        out["choices"] = list(arg.choices)
    return out


def payload(result: Listing) -> dict[str, Any]:
    if result.focus:
        return {**result.header_json(), "focus": result.focus,
                "catalog": [_entry_json(e, GROUP_TITLES.get(e.group, e.group))
                            for e in result.entries],
                "problems": [{"problem": p.key, "name": p.name, "kind": p.kind, "file": p.file,
                              "text": text} for p, text in zip(result.problems, result.texts,
                                                               strict=True)]}
    return {**result.header_json(),
            "catalog": [_entry_json(e, title) for title, entries in result.grouped()
                        for e in entries],
            "constants": [{"name": n, "value": v} for n, v in result.constants],
            "problems": [{"problem": p.key, "name": p.name, "kind": p.kind, "file": p.file}
                         for p in result.problems]}
