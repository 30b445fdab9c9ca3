"""Layout of `gradcli list`: the catalog by group, the constants, the bundled problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradcli.render.blocks import Block, Formula, Heading, Table, Text

if TYPE_CHECKING:
    from gradcli.catalog import Entry
    from gradcli.problems.listing import Listing

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


def document(result: Listing) -> list[Block]:
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
            "kink_note": entry.kink_note,
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
    return {**result.header_json(),
            "catalog": [_entry_json(e, title) for title, entries in result.grouped()
                        for e in entries],
            "constants": [{"name": n, "value": v} for n, v in result.constants],
            "problems": [{"problem": p.key, "name": p.name, "kind": p.kind, "file": p.file}
                         for p in result.problems]}
