"""One layout per kind of result: `document(result) -> blocks`, `payload(result) -> JSON dict`.

`LAYOUTS` maps each result kind to a small function that imports its layout module when
called, so the path from a kind to its layout is plain to read and a command loads only the
layout it renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradcli.render.blocks import Block
    from gradcli.results import Outcome


def _derivative():
    from gradcli.render.layouts import derivative

    return derivative

def _network():
    from gradcli.render.layouts import network

    return network

def _pooling():
    from gradcli.render.layouts import pooling

    return pooling

def _vanishing():
    from gradcli.render.layouts import vanishing

    return vanishing

def _implementation():
    from gradcli.render.layouts import implementation

    return implementation

def _backward():
    from gradcli.render.layouts import backward

    return backward

def _grade():
    from gradcli.render.layouts import grade

    return grade

def _catalog():
    from gradcli.render.layouts import catalog

    return catalog


LAYOUTS = {
    "derivative": _derivative,
    "network": _network,
    "pooling": _pooling,
    "vanishing": _vanishing,
    "implementation": _implementation,
    "backward": _backward,
    "catalog": _catalog,
    "grade": _grade,
}


def document(result: Outcome) -> list[Block]:
    return LAYOUTS[result.kind]().document(result)


def payload(result: Outcome) -> dict:
    return LAYOUTS[result.kind]().payload(result)


def counts(result: Outcome) -> str:
    """The verdict line's counts for `result`: its layout's own `counts`, else checks and claims."""
    from gradcli.render.layouts.verdict import default_counts

    own = getattr(LAYOUTS[result.kind](), "counts", default_counts)
    return own(result)
