"""`gradcli schema`: a JSON Schema that every bundled file (and every good example) satisfies.

The venv has no `jsonschema`, so `conforms` below is a small validator for exactly the
keywords the schema uses; it refuses any other keyword, so it cannot pass by ignoring one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gradcli.problems import bundled
from gradcli.problems.schema import COMMON, DRAFT, KINDS, json_schema

ANNOTATIONS = {"$schema", "$id", "title", "description"}


def _type_ok(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "array": list, "object": dict,
                              "null": type(None)}[name])


def conforms(value, schema: dict) -> bool:  # noqa: C901 - one branch per keyword
    for key, rule in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "type":
            names = rule if isinstance(rule, list) else [rule]
            ok = any(_type_ok(value, n) for n in names)
        elif key == "const":
            ok = value == rule and type(value) is type(rule)
        elif key == "enum":
            ok = value in rule
        elif key == "pattern":
            ok = not isinstance(value, str) or re.search(rule, value) is not None
        elif key in ("minimum", "maximum"):
            ok = not _type_ok(value, "number") or (
                value >= rule if key == "minimum" else value <= rule)
        elif key in ("minItems", "maxItems"):
            ok = not isinstance(value, list) or (
                len(value) >= rule if key == "minItems" else len(value) <= rule)
        elif key in ("minProperties", "maxProperties"):
            ok = not isinstance(value, dict) or (
                len(value) >= rule if key == "minProperties" else len(value) <= rule)
        elif key == "items":
            ok = not isinstance(value, list) or all(conforms(v, rule) for v in value)
        elif key == "required":
            ok = not isinstance(value, dict) or all(k in value for k in rule)
        elif key == "properties":
            ok = not isinstance(value, dict) or all(
                conforms(v, rule[k]) for k, v in value.items() if k in rule)
        elif key == "additionalProperties":
            known = schema.get("properties", {})
            extra = [v for k, v in value.items() if k not in known] if isinstance(value, dict) else []
            ok = all(conforms(v, rule) for v in extra) if isinstance(rule, dict) else (
                rule or not extra)
        elif key == "propertyNames":
            ok = not isinstance(value, dict) or all(conforms(k, rule) for k in value)
        elif key == "oneOf":
            ok = sum(conforms(value, s) for s in rule) == 1
        else:
            raise AssertionError(f"the test validator does not know the keyword {key!r}")
        if not ok:
            return False
    return True


def _yaml(text: str):
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


GOOD = {
    "network": """
format: 1
kind: network
name: One-layer sigmoid network, squared loss
source: "Discussion 2/17, question 3"
dims: {n: 3}
given: {x: [n], t: [n], W: [n, n], b: [n], s: [], c: null}
forward:
  z: W @ x + b
  y: sigmoid(z)
loss:
  L: 0.5 * sum((y - t)**2)
wrt: [y, W, b]
claims:
  W: ((y - t) * y * (1 - y)) @ x.T
values:
  x: [1.0, -2.0, 0.5]
  W: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
""",
    "derivative": "format: 1\nkind: derivative\nfunction: gelu\nwrt: x\nat: [0.5, 1]\n"
                  "claim: 2*x\nsteps: false\n",
    "pooling": "format: 1\nkind: pooling\ninput: [[1, 2], [3, 4]]\nmode: max\nkernel: 2\n"
               "stride: null\npadding: 0\nupstream: '1'\nclaim: [[0, 0], [0, 1]]\n",
    "vanishing": "format: 1\nkind: vanishing\nactivations: [sigmoid]\ndepth: 3\nwidth: 4\n"
                 "init: he\nbatch: 2\nseed: 0\n",
    "implementation": "format: 1\nkind: implementation\nfunction: f\ninputs: {X: [m, n]}\n"
                      "reference: X\nconstraints: {forbid: [torch.flip], one_line: true}\n"
                      "solution: mine.py\nnotes: [a hint]\n",
}


def test_the_schema_is_draft_2020_12_with_one_branch_per_kind():
    schema = json_schema()
    assert schema["$schema"] == DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert [branch["properties"]["kind"]["const"] for branch in schema["oneOf"]] == list(KINDS)
    assert schema["properties"]["kind"]["enum"] == list(KINDS)


def test_every_key_has_a_description_in_the_schema():
    for branch in json_schema()["oneOf"]:
        for name, prop in branch["properties"].items():
            assert prop["description"], name


def test_each_branch_lists_exactly_the_keys_the_loader_accepts():
    for branch in json_schema()["oneOf"]:
        kind = branch["properties"]["kind"]["const"]
        assert list(branch["properties"]) == [k.name for k in (*COMMON, *KINDS[kind])]
        assert branch["additionalProperties"] is False


@pytest.mark.parametrize("kind", list(GOOD))
def test_a_good_file_of_each_kind_conforms(kind):
    assert conforms(_yaml(GOOD[kind]), json_schema())


@pytest.mark.parametrize("text", [
    "format: 1\nkind: derivative\nfunction: x\nclaims: 2\n",  # unknown key
    "format: 2\nkind: derivative\nfunction: x\n",  # another format
    "format: 1\nkind: derivative\n",  # missing function
    "format: 1\nkind: netwrk\n",  # unknown kind
    "format: 1\nkind: pooling\ninput: [[1, 2]]\nmode: average\n",  # not a mode
    "format: 1\nkind: network\ngiven: {x: [n, n, n]}\nloss: x\nwrt: x\n",  # three dims
    "format: 1\nkind: vanishing\ndepth: 0\n",  # below the minimum
])
def test_a_bad_file_does_not_conform(text):
    assert not conforms(_yaml(text), json_schema())


@pytest.mark.parametrize("problem", bundled.problems(), ids=lambda p: p.key)
def test_every_bundled_file_conforms_to_the_schema(problem):
    assert conforms(_yaml(problem.read_text()), json_schema()), problem.file


def test_gradcli_schema_prints_the_schema_as_json(cli):
    r = cli("schema")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == json_schema()


def test_the_schema_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, gradcli.cli.schema, gradcli.problems.schema; "
            "print(sorted(m for m in ('ruamel', 'pydantic', 'sympy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("fmt", ["json", "plain", "rich", "markdown", "latex"])
def test_schema_takes_every_format_and_prints_the_same_schema(cli, fmt):
    # `gradcli schema --format json` was "No such option"; the SPEC gives every command --format
    r = cli("schema", "--format", fmt, "--debug")
    assert r.exit_code == 0, r.output
    text = r.stdout
    if fmt == "markdown":
        text = text.split("```json\n", 1)[1].rsplit("```", 1)[0]
    elif fmt == "latex":
        text = text.split("\\begin{verbatim}\n", 1)[1].split("\\end{verbatim}", 1)[0]
    assert json.loads(text)["title"] == "gradcli problem file (format 1)"
