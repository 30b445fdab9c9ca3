"""The problem-file format, declared once: which keys each `kind` takes, what they mean.

`validate.py` reads this table to know the allowed and required keys (and to suggest one for
a typo); `json_schema()` turns it into the JSON Schema that `gradcli schema` prints for
editors (`# yaml-language-server: $schema=...`). The schema describes shapes of values; the
validator checks more (declared names, finite numbers, expressions, grid sizes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FORMAT = 1
MAX_ORDER = 4  # derive --order: the fourth derivative of gelu is already a page long
DRAFT = "https://json-schema.org/draft/2020-12/schema"
# The schema's identity: a URN names it without a host that could lapse or be taken over (the
# old `$id` pointed at a `.invalid` host). It changes only with the file format's number.
SCHEMA_ID = "urn:gradcli:schema:problem-file:format-1"


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # a key of TYPES below
    description: str
    required: bool = False


COMMON: tuple[Key, ...] = (
    Key("format", "format", "The problem-file format version. Always 1.", True),
    Key("kind", "kind", "The kind of problem: derivative, network, pooling, vanishing or "
        "implementation.", True),
    Key("name", "text", "A title for the problem, shown above its answer and in summary tables "
        "(default: the file name)."),
    Key("description", "text", "What the problem asks, in words."),
    Key("source", "text", "Where the problem comes from, e.g. \"Discussion 2/17, question 3\"."),
)

KINDS: dict[str, tuple[Key, ...]] = {
    "derivative": (
        Key("function", "function", "A catalog name (gelu, sigmoid, ...) or an expression such "
            "as x*sigmoid(x).", True),
        Key("wrt", "one_name", "The variable to differentiate with respect to (default: the "
            "function's only variable, or x); [x] is accepted too."),
        Key("at", "points", "Points at which to evaluate the derivative: a number or a list."),
        Key("claim", "expression", "Your own derivative, judged against the derived one."),
        Key("steps", "bool", "Show the derivation steps (default true)."),
        Key("check", "bool", "Verify the derivative numerically against torch (default true)."),
        Key("order", "order", f"Which derivative: 1 (default) to {MAX_ORDER}; each order is "
            "derived from the one before, with steps."),
    ),
    "network": (
        Key("dims", "dims", "Sizes used by the shapes, e.g. {n: 3}."),
        Key("given", "givens", "The inputs and parameters: name -> shape, a list of dims "
            "([n] is a column vector, [n, m] a matrix, [] or null a scalar), an unconstrained "
            "real value; or name -> {shape, and one of labels: C (integer class labels "
            "0..C-1, never differentiated), onehot: true or distribution: rows (each row "
            "one-hot or summing to 1)}, held at every sample point.", True),
        Key("forward", "forward", "The forward pass, one line per layer in order: name -> "
            "expression; a line may use given names and earlier lines."),
        Key("loss", "loss", "The loss: one entry, name -> expression (e.g. L: 0.5 * "
            "sum((y - t)**2)), or just the expression (named L).", True),
        Key("wrt", "names", "The gradients asked for: dLoss/dNAME for each given or forward "
            "name listed.", True),
        Key("claims", "claims", "Your own answers: name (listed in wrt) -> expression for "
            "dLoss/dNAME."),
        Key("values", "values", "Concrete numbers for given names (else seeded random): a "
            "number, a list (vector) or a list of rows (matrix); a dim's name stands for its "
            "size."),
        Key("hessians", "hessian_names", "Given vector or scalar variables whose Hessian "
            "d2Loss/dNAME2 is derived in matrix form and checked against torch; a matrix W as "
            "vec(W) (its columns stacked): the mn×mn d2Loss/dvec(W)2, with Kronecker products."),
        Key("hessian_claims", "hessian_claims", "Your own Hessians: name or vec(NAME) (listed "
            "in hessians) -> expression."),
        Key("hvp", "directions", "Hessian-vector products: name -> a given direction v shaped "
            "like it; H·v is derived without forming H and checked against torch."),
        Key("jacobians", "jacobians", "Jacobians of forward lines: \"OF by WRT\" derives dOF/dWRT "
            "in numerator layout (m×n for OF of size m, WRT of size n), OF a forward line, WRT a "
            "given or an earlier line, a matrix as vec(NAME) (its columns stacked); checked "
            "against torch."),
        Key("jacobian_claims", "jacobian_claims", "Your own Jacobians: \"OF by WRT\" (listed in "
            "jacobians) -> expression."),
    ),
    "pooling": (
        Key("input", "grid", "The input grid: a list of rows, or text such as "
            "\"2 2 7 3; 9 4 6 1\".", True),
        Key("mode", "mode", "avg or max (default avg)."),
        Key("kernel", "count", "The window size (default 2)."),
        Key("stride", "stride", "The step between windows (default: the kernel size)."),
        Key("padding", "whole", "Zero padding on every side (default 0)."),
        Key("count_include_pad", "bool", "Average pooling divides by the full window, padding "
            "included (default true, as torch)."),
        Key("upstream", "grid", "Upstream gradients, one per output cell (else the backward "
            "pass is shown symbolically, g11, g12, ...)."),
        Key("claim", "grid", "Your own gradient with respect to the input, judged."),
    ),
    "vanishing": (
        Key("activations", "activations", "Activations to compare (default sigmoid, tanh, "
            "relu, gelu)."),
        Key("depth", "count", "Number of layers (default 20)."),
        Key("width", "count", "Units per layer (default 64)."),
        Key("init", "init", "Weight initialisation: default, xavier or he."),
        Key("batch", "count", "Inputs per batch (default 16)."),
        Key("seed", "whole", "Seed for the random weights and inputs (default: --seed)."),
    ),
    "implementation": (
        Key("function", "name", "The name of the function the solution file defines, e.g. "
            "normalize_tensor.", True),
        Key("inputs", "shapes", "Its arguments: name -> shape (dims are free; the checker "
            "picks sizes).", True),
        Key("reference", "expression", "What the function must return, as an expression of "
            "the inputs.", True),
        Key("constraints", "constraints", "Rules the solution must follow: forbid (calls such "
            "as torch.mean), one_line (true/false)."),
        Key("solution", "text", "Path to your Python file (relative to this file); the only "
            "code gradcli ever runs, and only when you point at it."),
        Key("notes", "texts", "Hints shown with the exercise."),
    ),
}

CONSTRAINTS: tuple[Key, ...] = (
    Key("forbid", "dotted", "Calls the solution may not make, e.g. [torch.mean]."),
    Key("one_line", "bool", "The body must be a single line (one return statement)."),
)

MAX_DIM = 4096  # largest size of one dimension of a network's tensors
# Largest given tensor, checked before anything is allocated (W: [2048, 2048] fits).
MAX_TENSOR_ENTRIES = 2048 * 2048
# Largest estimated working set of a network check, refused before anything is allocated:
# 8 bytes (float64) x (entries of the givens + of every value the forward and loss compute +
# of the gradients checked) x LIVE_COPIES, x CLAIM_POINTS when the file has claims (the
# values of every sample point are then kept to judge them). Measured: a 2048² sigmoid
# problem (estimate 192 MiB) peaks ~180 MiB above the interpreter and torch (~220 MiB).
MAX_CHECK_BYTES = 256 * 2**20
LIVE_COPIES = 2  # each value, its gradient and the temporaries of the closed form
CLAIM_POINTS = 4  # verify.network.POINTS
MAX_DEPTH = 1000
MAX_WIDTH = 4096
MAX_BATCH = 4096
MODES = ("avg", "max")
INITS = ("default", "xavier", "he")

NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}
NUMBER = {"type": "number"}
SHAPE = {"type": ["array", "null"], "maxItems": 2,
         "items": {"oneOf": [NAME, {"type": "integer", "minimum": 1}]}}
DECLARED_GIVEN = {
    "type": "object", "required": ["shape"], "additionalProperties": False,
    "properties": {
        "shape": SHAPE,
        "labels": {"oneOf": [NAME, {"type": "integer", "minimum": 2}],
                   "description": "The number of classes C: the values are integer class "
                                  "labels 0..C-1 (shape [N]), never differentiated."},
        "onehot": {"const": True, "description": "Each row is one-hot (shape [N, C])."},
        "distribution": {"const": "rows", "description": "Each row is non-negative and sums "
                                                         "to 1 (shape [N, C])."},
    },
    "maxProperties": 2,  # the shape and at most one of labels, onehot, distribution
}
EXPRESSION = {"type": ["string", "number"],
              "description": "An expression in gradcli's language, e.g. W @ x + b."}
GRID = {"oneOf": [{"type": "string"},
                  {"type": "array", "minItems": 1,
                   "items": {"type": "array", "minItems": 1, "items": NUMBER}}]}


# a name, or vec(NAME) for a matrix whose Hessian is taken over its columns stacked
VEC_NAME = {"type": "string", "pattern": "^([A-Za-z][A-Za-z0-9_]*|vec\\( *[A-Za-z][A-Za-z0-9_]* *\\))$"}
# a Jacobian request, "h by x": two names and the word by
_SIDE = "([A-Za-z][A-Za-z0-9_]*|vec\\( *[A-Za-z][A-Za-z0-9_]* *\\))"
BY = {"type": "string", "pattern": f"^ *{_SIDE} +by +{_SIDE} *$"}
ENTRY = {"oneOf": [NUMBER, NAME]}  # a number, or a dim's name standing for its size


def _map(values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "propertyNames": NAME, "additionalProperties": values}


TYPES: dict[str, dict[str, Any]] = {
    "format": {"const": FORMAT},
    "kind": {"enum": list(KINDS)},
    "text": {"type": ["string", "number"]},
    "texts": {"type": "array", "items": {"type": "string"}},
    "name": NAME,
    "names": {"oneOf": [NAME, {"type": "array", "minItems": 1, "items": NAME}]},
    "one_name": {"oneOf": [NAME, {"type": "array", "minItems": 1, "maxItems": 1, "items": NAME}]},
    "function": EXPRESSION,
    "expression": EXPRESSION,
    "points": {"oneOf": [NUMBER, {"type": "array", "items": NUMBER}]},
    "bool": {"type": "boolean"},
    "count": {"type": "integer", "minimum": 1},
    "order": {"type": "integer", "minimum": 1, "maximum": MAX_ORDER},
    "whole": {"type": "integer", "minimum": 0},
    "stride": {"type": ["integer", "null"], "minimum": 1},
    "dims": _map({"type": "integer", "minimum": 1, "maximum": MAX_DIM}),
    "shapes": _map(SHAPE),
    "givens": _map({"oneOf": [SHAPE, DECLARED_GIVEN]}),
    "forward": _map(EXPRESSION),
    "loss": {"oneOf": [EXPRESSION, {**_map(EXPRESSION), "minProperties": 1, "maxProperties": 1}]},
    "claims": _map(EXPRESSION),
    "directions": _map(NAME),
    "hessian_claims": {"type": "object", "propertyNames": VEC_NAME,
                       "additionalProperties": EXPRESSION},
    "hessian_names": {"oneOf": [VEC_NAME, {"type": "array", "minItems": 1, "items": VEC_NAME}]},
    "jacobians": {"oneOf": [BY, {"type": "array", "minItems": 1, "items": BY}]},
    "jacobian_claims": {"type": "object", "propertyNames": BY, "additionalProperties": EXPRESSION},
    "values": _map({"oneOf": [ENTRY, {"type": "array", "items": {
        "oneOf": [ENTRY, {"type": "array", "items": ENTRY}]}}]}),
    "grid": GRID,
    "mode": {"enum": list(MODES)},
    "init": {"enum": list(INITS)},
    "activations": {"oneOf": [NAME, {"type": "array", "minItems": 1, "items": NAME}]},
    "dotted": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}


def _property(key: Key) -> dict[str, Any]:
    if key.type == "constraints":
        return {"type": "object", "description": key.description,
                "properties": {k.name: _property(k) for k in CONSTRAINTS},
                "additionalProperties": False}
    return {**TYPES[key.type], "description": key.description}


def _branch(kind: str) -> dict[str, Any]:
    keys = (*COMMON, *KINDS[kind])
    properties = {k.name: _property(k) for k in keys}
    properties["kind"] = {"const": kind, "description": COMMON[1].description}
    return {"title": f"kind: {kind}", "type": "object", "properties": properties,
            "required": [k.name for k in keys if k.required], "additionalProperties": False}


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of format 1: one branch per kind, chosen by `kind`."""
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "gradcli problem file (format 1)",
        "description": "One problem per file; `kind` selects the problem type. "
                       "See `gradcli --help` and the README.",
        "type": "object",
        "required": ["format", "kind"],
        "properties": {"kind": {"enum": list(KINDS)}},
        "oneOf": [_branch(kind) for kind in KINDS],
    }
