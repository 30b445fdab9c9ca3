"""The bad-input corpus (issue 8): hostile, malformed and oversized input through the CLI.

Every case must end with exit 2 and one message (with `file:line:col` when a file is at
fault), an empty stdout in text formats or an `{"error": ...}` document with `--format json`,
no traceback, no side effect (the marker file a payload would create does not exist), and it
must be refused without hanging (10 s per case: a loaded machine took 2.1 s once; the point is that
nothing hangs). `REAL` cases run the installed CLI in a subprocess (`python -m gradcli`); the
others run in-process through the `cli` fixture, in both plain and json formats.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

MARKER = "MARKER"
BUDGET_SECONDS = 10.0  # a hang guard, not a speed target (bench/ has those)
PAYLOAD = "__import__('os').system('touch MARKER')"


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    expect: str  # a part of the (first) message
    where: str | None = None  # regex the first message starts with after "error: "
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: bytes | None = None
    messages: int | None = 1  # error lines on stderr; None: at least one
    json: bool = True  # --format json can be added (not when --format itself is the mistake)
    usage: bool = False  # a usage error found by Click (as JSON only through the real `main`)

    def command(self, fmt: str) -> list[str]:
        """The arguments with `--format fmt` after the command name (before any `--`)."""
        if not self.json:
            return list(self.args)
        return [self.args[0], "--format", fmt, *self.args[1:]]


def problem(body: str) -> dict[str, bytes]:
    return {"bad.yaml": body.encode()}


DERIVATIVE = "format: 1\nkind: derivative\n"
NETWORK = ("format: 1\nkind: network\ndims: {n: 3, m: 2}\ngiven:\n  x: [n]\n  W: [n, n]\n"
           "  v: [m]\n")  # `forward:` is line 8, its first entry line 9
LAUGHS = "".join(f"{a}: &{a} [{', '.join([f'*{b}'] * 9 if b else ['lol'] * 9)}]\n"
                 for a, b in zip("abcdefgh", ["", *"abcdefg"], strict=True))


CASES = [
    # -- code execution attempts: nothing is evaluated, the payload is refused at its column
    Case("payload-import", ("derive", PAYLOAD), "unknown function '__import__'", r"TARGET, column 1: "),
    Case("payload-dunder-chain", ("derive", "x.__class__.__base__.__subclasses__()"),
         "attribute '__class__' is not allowed", r"TARGET, column 3: "),
    Case("payload-open", ("derive", "open('MARKER', 'w')"), "unknown function 'open'"),
    Case("payload-lambda", ("derive", "(lambda: __import__('os'))()"), "':' is not allowed",
         r"TARGET, column 8: "),
    Case("payload-comprehension", ("derive", "[x for x in ().__class__.__bases__]"),
         "'[' is not allowed"),
    Case("payload-eval-string", ("derive", "eval(\"1\")"), "unknown function 'eval'"),
    Case("payload-dunder-name", ("derive", "__builtins__"), "names may not start with '_'"),
    Case("payload-in-claim", ("derive", "x**2", "--claim", PAYLOAD), "unknown function '__import__'",
         r"--claim, column 1: "),
    Case("payload-in-file", ("check", "bad.yaml"), "unknown function '__import__'", r"bad\.yaml:3:12: ",
         files=problem(DERIVATIVE + f'function: "{PAYLOAD}"\n')),
    Case("payload-in-forward", ("check", "bad.yaml"), "attribute '__globals__' is not allowed",
         r"bad\.yaml:9:8: ", files=problem(NETWORK + "forward:\n  z: x.__globals__\nloss:\n"
                                            "  L: sum(z)\nwrt: [x]\n")),
    Case("payload-in-grid", ("pool", "-i", "__import__('os') 1; 2 3"), "is not a number"),
    Case("payload-in-activations", ("vanish", "--activations", PAYLOAD), "unknown activation"),
    # -- huge numbers and exponents: refused before any arithmetic
    Case("power-tower", ("derive", "9**9**9"), "exponent is too large", r"TARGET, column 4: "),
    Case("huge-float", ("derive", "1e999999999"), "out of range", r"TARGET, column 1: "),
    Case("huge-exponent-expr", ("derive", "x**(10**10)"), "exponent is too large"),
    Case("too-many-digits", ("derive", "1" + "0" * 100 + "*x"), "more than 40 digits"),
    Case("huge-float-in-file", ("check", "bad.yaml"), "too large for a float64",
         r"bad\.yaml:4:6: ", files=problem(DERIVATIVE + "function: x\nat: [1e999]\n")),
    Case("huge-dim-in-file", ("check", "bad.yaml"), "dims.n: must be at most",
         r"bad\.yaml:3:11: ", files=problem("format: 1\nkind: network\ndims: {n: 100000000}\n"
                                            "given: {x: [n]}\nforward: {z: 2*x}\n"
                                            "loss: {L: sum(z)}\nwrt: [x]\n")),
    Case("huge-number-in-grid", ("pool", "-i", "1e999 1; 1 1"), "too large"),
    Case("huge-at", ("derive", "x", "--at", "1e999"), "expected a finite number"),
    # -- deep nesting and very long input
    Case("deep-parentheses", ("derive", "(" * 100 + "x" + ")" * 100), "nested more than 40 levels"),
    Case("deep-unary", ("derive", "--", "-" * 300 + "x"), "nested more than 40 levels"),
    Case("too-many-tokens", ("derive", "(" * 400 + "x" + ")" * 400), "more than 600 tokens"),
    Case("very-long-expression", ("derive", "x+" * 1500 + "x"), "at most 2000 are allowed"),
    Case("deep-yaml", ("check", "bad.yaml"), "nested more than 32 levels deep", r"bad\.yaml:4:",
         files=problem(DERIVATIVE + "function: x\nat: " + "[" * 200 + "]" * 200 + "\n")),
    Case("oversized-file", ("check", "bad.yaml"), "larger than 1024 KiB", r"bad\.yaml: ",
         files={"bad.yaml": DERIVATIVE.encode() + b"# " + b"a" * 1_100_000 + b"\n"}),
    # -- non-ASCII look-alikes and control characters
    Case("cyrillic-x", ("derive", "\u0445**2"), "non-ASCII character", r"TARGET, column 1: "),
    Case("fullwidth-digit", ("derive", "x*\uff12"), "write '2'", r"TARGET, column 3: "),
    Case("fullwidth-letter", ("derive", "\uff58**2"), "write 'x'"),
    Case("unicode-minus", ("derive", "x\u22121"), "U+2212", r"TARGET, column 2: "),
    Case("times-sign", ("derive", "x\u00d72"), "write '*'"),
    Case("escape-sequence", ("derive", "x\x1b[31m"), "control character U+001B"),
    Case("bidi-override", ("derive", "x\u202e+1"), "U+202E"),
    Case("cyrillic-in-file", ("check", "bad.yaml"), "non-ASCII character", r"bad\.yaml:3:13: ",
         files=problem(DERIVATIVE + "function: x*\u0445\n")),
    Case("control-char-in-yaml", ("check", "bad.yaml"), "U+0007 is not allowed",
         r"bad\.yaml:3:12: ", files={"bad.yaml": DERIVATIVE.encode() + b"function: x\x07\n"}),
    Case("fullwidth-in-grid", ("pool", "-i", "1 2; 3 \uff14"), "is not a number"),
    # -- YAML: nothing is constructed, nothing is expanded, one document, no duplicates
    Case("yaml-python-tag", ("check", "bad.yaml"), "tags are not allowed (!!python/object/apply",
         r"bad\.yaml:3:11: ", files=problem(DERIVATIVE + "function: !!python/object/apply:"
                                            "os.system [\"touch MARKER\"]\n")),
    Case("yaml-python-name", ("check", "bad.yaml"), "tags are not allowed", r"bad\.yaml:3:11: ",
         files=problem(DERIVATIVE + "function: !!python/name:os.system\n")),
    Case("yaml-local-tag", ("check", "bad.yaml"), "tags are not allowed (!sh)",
         files=problem(DERIVATIVE + "function: !sh x\n")),
    Case("yaml-anchor-alias", ("check", "bad.yaml"), "anchors are not allowed (&a)",
         r"bad\.yaml:3:11: ", files=problem(DERIVATIVE + "function: &a x\nclaim: *a\n"),
         messages=2),
    Case("yaml-merge-key", ("check", "bad.yaml"), "anchors are not allowed", messages=None,
         files=problem("base: &b {format: 1}\n<<: *b\nkind: derivative\nfunction: x\n")),
    Case("yaml-billion-laughs", ("check", "bad.yaml"), "anchors are not allowed (&a)",
         r"bad\.yaml:1:4: ", files=problem(LAUGHS + DERIVATIVE + "function: x\n"), messages=None),
    Case("yaml-duplicate-key", ("check", "bad.yaml"), "duplicate key 'function' (first given on line 3)",
         r"bad\.yaml:4:1: ", files=problem(DERIVATIVE + "function: x\nfunction: x**2\n")),
    Case("yaml-two-documents", ("check", "bad.yaml"), "a second YAML document", r"bad\.yaml:4:1: ",
         files=problem(DERIVATIVE + "function: x\n---\n" + DERIVATIVE + "function: x\n")),
    Case("yaml-1.1", ("check", "bad.yaml"), "%YAML 1.1 is not supported",
         files=problem("%YAML 1.1\n---\n" + DERIVATIVE + "function: x\n")),
    Case("yaml-syntax", ("check", "bad.yaml"), "unclosed quote or bracket", r"bad\.yaml:\d+:\d+: ",
         files=problem(DERIVATIVE + "function: x\nat: [1, 2\n")),
    Case("yaml-top-level-list", ("check", "bad.yaml"), "expected a mapping of keys",
         r"bad\.yaml:1:1: ", files=problem("- format: 1\n- kind: derivative\n")),
    # -- wrong types, NaN/inf, typos (did you mean)
    Case("wrong-type-function", ("check", "bad.yaml"), "expected an expression, got a list",
         r"bad\.yaml:3:11: ", files=problem(DERIVATIVE + "function: [x]\n")),
    Case("wrong-type-kernel", ("check", "bad.yaml"), "expected a positive whole number, got the text",
         r"bad\.yaml:5:9: ", files=problem("format: 1\nkind: pooling\ninput: [[1, 2], [3, 4]]\n"
                                           "mode: avg\nkernel: two\n")),
    Case("yaml-nan", ("check", "bad.yaml"), ".nan is not allowed", r"bad\.yaml:4:6: ",
         files=problem(DERIVATIVE + "function: x\nat: [.nan]\n")),
    Case("yaml-inf-in-grid", ("check", "bad.yaml"), "-.inf is not allowed", r"bad\.yaml:3:18: ",
         files=problem("format: 1\nkind: pooling\ninput: [[1, 2], [-.inf, 4]]\n")),
    Case("typo-key", ("check", "bad.yaml"), "did you mean 'function'?", r"bad\.yaml:4:1: ",
         files=problem(DERIVATIVE + "function: x\nfuntcion: x\n")),
    Case("typo-function-in-file", ("check", "bad.yaml"), "did you mean 'sigmoid'?",
         r"bad\.yaml:3:11: ", files=problem(DERIVATIVE + "function: sigmod(x)\n")),
    Case("typo-function", ("derive", "sigmod(x)"), "did you mean 'sigmoid'?"),
    Case("typo-kind", ("check", "bad.yaml"), "did you mean 'network'?", r"bad\.yaml:2:7: ",
         files=problem("format: 1\nkind: netwrk\n")),
    Case("format-2", ("check", "bad.yaml"), "this gradcli reads format 1, not 2",
         files=problem("format: 2\nkind: derivative\nfunction: x\n")),
    # -- network problems: order, names, shapes, wrt
    Case("forward-cycle", ("check", "bad.yaml"), "'b' is defined later, on line 10", r"bad\.yaml:9:6: ",
         files=problem(NETWORK + "forward:\n  a: b + x\n  b: a + x\nloss:\n  L: sum(b)\nwrt: [x]\n")),
    Case("forward-uses-itself", ("check", "bad.yaml"), "'a' uses itself", r"bad\.yaml:9:6: ",
         files=problem(NETWORK + "forward:\n  a: a + x\nloss:\n  L: sum(a)\nwrt: [x]\n")),
    Case("undeclared-name", ("check", "bad.yaml"), "unknown name 'q'", r"bad\.yaml:9:6: ",
         files=problem(NETWORK + "forward:\n  a: q + x\nloss:\n  L: sum(a)\nwrt: [x]\n")),
    Case("undeclared-dim", ("check", "bad.yaml"), "'k' is not a declared dim", r"bad\.yaml:4:",
         files=problem("format: 1\nkind: network\ndims: {n: 3}\ngiven: {x: [k]}\n"
                       "forward: {z: 2*x}\nloss: {L: sum(z)}\nwrt: [x]\n")),
    Case("shape-mismatch", ("check", "bad.yaml"), "shape mismatch in W @ v", r"bad\.yaml:9:6: ",
         files=problem(NETWORK + "forward:\n  z: W @ v\nloss:\n  L: sum(z)\nwrt: [W]\n")),
    Case("wrt-names-nothing", ("check", "bad.yaml"), "'nothing' is not a given or forward variable",
         r"bad\.yaml:12:7: ", files=problem(NETWORK + "forward:\n  z: 2*x\nloss:\n  L: sum(z)\n"
                                            "wrt: [nothing]\n")),
    Case("values-wrong-length", ("check", "bad.yaml"), "has 2 entries but the shape [n] needs 3",
         r"bad\.yaml:14:6: ", files=problem(NETWORK + "forward:\n  z: 2*x\nloss:\n  L: sum(z)\n"
                                         "wrt: [x]\nvalues:\n  x: [1, 2]\n")),
    Case("derivative-wrt-names-nothing", ("check", "bad.yaml"), "'y' does not appear in the function",
         r"bad\.yaml:4:6: ", files=problem(DERIVATIVE + "function: x**2\nwrt: y\n")),
    Case("derive-wrt-names-nothing", ("derive", "x**2", "--wrt", "y"), "does not use it"),
    # -- bad command-line options
    Case("format-xml", ("derive", "x", "--format", "xml"), "'xml' is not one of", json=False,
         usage=True),
    Case("seed-not-a-number", ("derive", "x", "--seed", "abc"), "Invalid value for '--seed'",
         usage=True),
    Case("seed-too-large", ("pool", "-i", "1 2; 3 4", "--seed", "9" * 23), "not in the range",
         usage=True),
    Case("seed-negative", ("vanish", "--seed", "-1"), "not in the range", usage=True),
    Case("pool-stride-0", ("pool", "-i", "1 2; 3 4", "--stride", "0"), "stride must be at least 1"),
    Case("pool-kernel-0", ("pool", "-i", "1 2; 3 4", "--kernel", "0"), "kernel must be at least 1"),
    Case("pool-kernel-too-large", ("pool", "-i", "1 2; 3 4", "--kernel", "99999999999"),
         "larger than the 2×2 input grid"),
    Case("pool-ragged-grid", ("pool", "-i", "1 2; 3"), "row 2 has 1 value but row 1 has 2"),
    Case("vanish-depth-0", ("vanish", "--depth", "0"), "depth must be between 1 and 1000"),
    Case("vanish-huge-depth", ("vanish", "--depth", "100000000"), "depth must be between 1 and 1000"),
    Case("vanish-over-budget", ("vanish", "--depth", "1000", "--width", "4096"),
         "is more than 20,000,000"),
    Case("vanish-typo", ("vanish", "--activations", "sigmod"), "did you mean 'sigmoid'?"),
    Case("derive-empty", ("derive", ""), "expected an expression, found nothing"),
    Case("derive-at-not-a-number", ("derive", "x", "--at", "abc"), "expected a number"),
    Case("unknown-command", ("derivee", "x"), "No such command 'derivee'", usage=True),
    # -- stdin, directories, missing, oversized, non-UTF-8, empty files, BOM
    Case("stdin-empty", ("check", "-"), "the file is empty", r"<stdin>:1:1: ", stdin=b""),
    Case("stdin-twice", ("check", "-", "-"), "given more than once",
         stdin=(DERIVATIVE + "function: x\n").encode()),
    Case("grid-stdin-empty", ("pool", "-i", "-"), "the grid is empty", stdin=b""),
    Case("directory-without-problems", ("check", "empty"), "directory holds no problem files",
         r"empty: ", files={"empty/notes.txt": b"hi\n"}),
    Case("directory-named-yaml", ("check", "dir.yaml"), "directory holds no problem files",
         files={"dir.yaml/notes.txt": b"hi\n"}),
    Case("missing-file", ("check", "missing.yaml"), "no such file", r"missing\.yaml: "),
    Case("missing-bundled-name", ("check", "q33"), "no such file, directory or bundled problem"),
    Case("non-utf8-file", ("check", "bad.yaml"), "not UTF-8 text: byte 0xff", r"bad\.yaml:3:12: ",
         files={"bad.yaml": DERIVATIVE.encode() + b"function: x\xff\n"}),
    Case("latin1-file", ("check", "bad.yaml"), "not UTF-8 text: byte 0xe9", r"bad\.yaml:3:6: ",
         files={"bad.yaml": DERIVATIVE.encode() + b"# caf\xe9\nfunction: x\n"}),
    Case("empty-file", ("check", "bad.yaml"), "the file is empty", r"bad\.yaml:1:1: ",
         files={"bad.yaml": b""}),
    Case("comments-only-file", ("check", "bad.yaml"), "the file is empty", r"bad\.yaml:1:1: ",
         files={"bad.yaml": b"# nothing here\n"}),
    Case("bom-positions-unshifted", ("check", "bad.yaml"), "unknown key 'kernal'", r"bad\.yaml:3:1: ",
         files={"bad.yaml": b"\xef\xbb\xbf" + DERIVATIVE.encode() + b"kernal: 2\nfunction: x\n"}),
    Case("grid-missing-file", ("pool", "-i", "missing.csv"), "no such file: missing.csv"),
    # -- exercise: the problem and the solution path are checked before anything runs
    Case("exercise-unknown-problem", ("exercise", "q9", "--solution", "s.py"),
         "no such file, directory or bundled problem", files={"s.py": b"def f(X):\n    return X\n"}),
    Case("exercise-missing-solution", ("exercise", "q1", "--solution", "missing.py"),
         "solution file not found: missing.py"),
    Case("exercise-solution-is-a-directory", ("exercise", "q1", "--solution", "dir.py"),
         "solution file is a directory: dir.py", files={"dir.py/x": b""}),
    Case("exercise-non-utf8-solution", ("exercise", "q1", "--solution", "s.py"),
         "syntax error in the solution", r"s\.py:2:", files={"s.py": b"def f(X):\n    return X\xff\n"}),
    Case("exercise-wrong-kind", ("exercise", "q6", "--solution", "s.py"),
         "is a pooling problem", files={"s.py": b"def f(X):\n    return X\n"}),
    Case("exercise-network-without-backward", ("exercise", "q3", "--solution", "s.py"),
         "'backward' is not a function after loading the solution",
         files={"s.py": b"def f(X):\n    return X\n"}),
    Case("exercise-tagged-problem", ("exercise", "bad.yaml", "--solution", "s.py"),
         "tags are not allowed", r"bad\.yaml:3:11: ",
         files={**problem("format: 1\nkind: implementation\nfunction: !!python/name:os.system\n"),
                "s.py": b"import os\nos.system('touch MARKER')\n"}),
    Case("grid-non-utf8-file", ("pool", "-i", "grid.csv"), "not a UTF-8 text file",
         files={"grid.csv": b"1 2\n3 \xff\n"}),
]

# Run through the real CLI in a subprocess: every payload, and a representative of each group.
REAL = {
    "payload-import", "payload-dunder-chain", "payload-open", "payload-lambda", "payload-in-claim",
    "payload-in-file", "payload-in-forward", "power-tower", "huge-float", "huge-float-in-file",
    "deep-parentheses", "very-long-expression", "oversized-file", "cyrillic-x", "fullwidth-digit",
    "unicode-minus", "times-sign", "escape-sequence", "yaml-python-tag", "yaml-billion-laughs",
    "yaml-duplicate-key", "yaml-two-documents", "yaml-nan", "typo-key", "forward-cycle",
    "shape-mismatch", "wrt-names-nothing", "format-xml", "seed-not-a-number", "seed-too-large",
    "pool-stride-0", "vanish-huge-depth", "stdin-empty", "directory-without-problems",
    "missing-file", "non-utf8-file", "empty-file", "bom-positions-unshifted",
}
# Formats run for the real ones: plain always; json for a few, each a different command.
REAL_JSON = {"payload-in-file", "seed-not-a-number", "pool-stride-0", "cyrillic-x", "stdin-empty"}

BY_ID = {c.id: c for c in CASES}


def test_corpus_is_large_and_its_ids_are_unique():
    assert len(CASES) >= 60 and len(BY_ID) == len(CASES)
    assert REAL <= set(BY_ID) and len(REAL) >= 15 and REAL_JSON <= REAL


def _write(case: Case, folder) -> None:
    for name, data in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _judge(case: Case, fmt: str, code: int, stdout: str, stderr: str, seconds: float, folder):
    assert code == 2, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert not (folder / MARKER).exists(), "a payload ran"
    assert seconds < BUDGET_SECONDS, f"{case.id} took {seconds:.2f} s"
    ours = [line[len("error: "):] for line in stderr.splitlines() if line.startswith("error: ")]
    click = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    lines = ours or click
    if case.messages is None:
        assert lines, stderr
    else:
        assert len(lines) == case.messages, stderr
    assert not (ours and click), stderr
    assert case.expect in stderr, stderr
    if case.where is not None:
        assert re.match(case.where, lines[0]), lines[0]
    if fmt == "json":
        document = json.loads(stdout)
        assert set(document) == {"error"} and document["error"]["message"], stdout
        assert case.expect in json.dumps(document, ensure_ascii=False) or click, stdout
    else:
        assert stdout == "", stdout


def _run_real(args: list[str], folder, stdin: bytes | None) -> tuple[int, str, str, float]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "gradcli", *args], cwd=folder, env=env,
                       input=stdin if stdin is not None else None,
                       stdin=None if stdin is not None else subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    seconds = time.monotonic() - start
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8"), seconds


def _real_params():
    for case in CASES:
        if case.id in REAL:
            yield pytest.param(case, "plain", id=f"{case.id}-plain")
            if case.id in REAL_JSON:
                yield pytest.param(case, "json", id=f"{case.id}-json")


@pytest.mark.parametrize(("case", "fmt"), list(_real_params()))
def test_bad_input_through_the_real_cli_exits_2_with_one_message(case, fmt, tmp_path):
    _write(case, tmp_path)
    code, stdout, stderr, seconds = _run_real(case.command(fmt), tmp_path, case.stdin)
    _judge(case, fmt, code, stdout, stderr, seconds, tmp_path)


def _inprocess_params():
    for case in CASES:
        if case.id not in REAL:
            yield pytest.param(case, "plain", id=f"{case.id}-plain")
            if case.json and not case.usage:
                yield pytest.param(case, "json", id=f"{case.id}-json")


@pytest.mark.parametrize(("case", "fmt"), list(_inprocess_params()))
def test_bad_input_in_process_exits_2_with_one_message(case, fmt, cli, tmp_path, monkeypatch):
    _write(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    import torch  # noqa: F401  (a warm process: the budget is for the refusal, not for imports)

    start = time.monotonic()
    r = cli(*case.command(fmt), input=case.stdin.decode("utf-8") if case.stdin is not None else "")
    seconds = time.monotonic() - start
    _judge(case, fmt, r.exit_code, r.stdout, r.stderr, seconds, tmp_path)


def test_a_nul_byte_in_an_expression_is_a_control_character(cli):
    # argv cannot carry NUL; a file or library call can.
    r = cli("derive", "x\x00")
    assert r.exit_code == 2 and r.stderr == "error: TARGET, column 2: control character U+0000 is not allowed\n"


@pytest.mark.parametrize("command", [["check", "-"], ["pool", "-i", "-"]])
def test_dash_with_a_terminal_on_stdin_is_refused_not_a_wait(command, tmp_path):
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        env = {**os.environ, "NO_COLOR": "1"}
        start = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "gradcli", *command], stdin=follower,
                           capture_output=True, cwd=tmp_path, env=env, timeout=30)
        seconds = time.monotonic() - start
    finally:
        os.close(leader)
        os.close(follower)
    assert p.returncode == 2 and p.stdout == b""
    assert b"stdin is a terminal" in p.stderr and b"Traceback" not in p.stderr
    assert seconds < BUDGET_SECONDS


def test_a_file_with_a_bom_loads(cli, tmp_path):
    (tmp_path / "ok.yaml").write_bytes(b"\xef\xbb\xbf" + DERIVATIVE.encode() + b"function: x**2\n")
    r = cli("check", str(tmp_path / "ok.yaml"), "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["derivative"] == "2*x"
