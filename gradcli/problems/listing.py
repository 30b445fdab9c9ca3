"""What `gradcli list` shows, as a result: the catalog of functions and the bundled problems.

It is a result like any other (kind `catalog`, nothing to check, so it always passes), so the
one-way flow holds: the command builds it, a layout lays it out, any format renders it. It
reads only light modules (`gradcli.catalog` is plain data; bundled problems are scanned, not
parsed), so `gradcli list` never imports SymPy, torch or a YAML parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gradcli.catalog import CONSTANTS, ENTRIES, Entry
from gradcli.errors import InputError, suggest
from gradcli.problems.bundled import BundledProblem, find, problems
from gradcli.results import Outcome

# The catalog's group names, in the order and wording of the SPEC's table.
GROUPS = {"elementwise": "elementwise", "reduction": "reductions", "linalg": "linalg",
          "layer": "layers", "loss": "losses"}


@dataclass(frozen=True)
class Listing(Outcome):
    kind: str = "catalog"
    name: str = "gradcli catalog"
    entries: tuple[Entry, ...] = ()
    constants: tuple[tuple[str, str], ...] = ()
    problems: tuple[BundledProblem, ...] = field(default=())
    focus: str = ""  # `gradcli list NAME`: one entry (or problem) shown in full
    texts: tuple[str, ...] = ()  # with a focus: each problem's file, as shipped

    def grouped(self) -> list[tuple[str, tuple[Entry, ...]]]:
        """(group title, entries) in the SPEC's order; a group the SPEC lacks comes last."""
        order = list(GROUPS) + sorted({e.group for e in self.entries} - set(GROUPS))
        return [(GROUPS.get(g, g), tuple(e for e in self.entries if e.group == g))
                for g in order if any(e.group == g for e in self.entries)]


def listing(name: str | None = None) -> Listing:
    """The whole catalog and every bundled problem; with `name`, only what it names (a
    catalog function, a bundled problem, or both), or an `InputError` with the nearest name."""
    if name is None:
        return Listing(entries=tuple(ENTRIES.values()), constants=tuple(CONSTANTS.items()),
                       problems=problems())
    entry, shipped = ENTRIES.get(name), find(name)
    if entry is None and shipped is None:
        names = [*ENTRIES, *(p.key for p in problems())]
        raise InputError(f"no catalog function or bundled problem is named {name!r}",
                         file="NAME", hint=suggest(name, names) or "gradcli list shows them all")
    return Listing(name=f"gradcli list {name}", focus=name,
                   entries=(entry,) if entry else (), problems=(shipped,) if shipped else (),
                   texts=(shipped.read_text(),) if shipped else ())
