"""Problem files: bytes -> a tree of YAML nodes that remember where they are -> a Problem.

Problem files are untrusted (students swap them, TAs download them), so reading is strict
and nothing in a file is ever constructed into a Python object by the YAML library:

- at most `MAX_BYTES`, strict UTF-8 (a leading BOM is allowed), one document, YAML 1.2;
- ruamel's parser (safe, pure Python: the round-trip scanner marks fold points in `>`
  blocks with a BEL character) produces *events*; this module builds its own small tree
  from them (`Scalar`, `Mapping`, `Sequence`, each with its 1-based line and column) and
  refuses tags, anchors and aliases as events, so a billion-laughs file is refused before
  anything could be expanded, and `!!python/object` never reaches a constructor;
- duplicate keys are refused (YAML says they are an error; most loaders keep the last one);
- scalars stay text with their YAML style; `validate.py` decides what a value may be
  (YAML 1.2 core schema: `yes` is text, `.nan` is a float that is then refused).

`Scalar.position(offset)` maps an offset inside a value's text back to the file, so an
expression error points at the exact character, also inside quotes and literal blocks.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gradcli.errors import InputError, collect, suggest
from gradcli.problems.nodes import Mapping, Node, Scalar, Sequence
from gradcli.problems.validate import problem

if TYPE_CHECKING:
    from gradcli.problems.model import Problem

MAX_BYTES = 1024 * 1024  # a problem file is a page of text; a big pooling grid fits easily
MAX_DEPTH = 32  # nesting of mappings and sequences
STDIN = "<stdin>"
SUFFIXES = (".yaml", ".yml")
_BOM = b"\xef\xbb\xbf"


# -- reading --------------------------------------------------------------------------------


def read_file(path: str | Path) -> str:
    """The text of a problem file, with every refusal an `InputError` naming the file."""
    name = str(path)
    try:
        with _open_regular(path, name) as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a problem file", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=name) from None
    return decode(data, name)


def _open_regular(path: str | Path, name: str):
    """Open `path` for reading only if it is a regular file.

    A named pipe (FIFO) would block `open` until a writer comes, forever if none does, and a
    device (/dev/zero, /dev/tty) never ends or waits for a keyboard (issue 16). The file is
    opened without blocking and its type checked on the open descriptor, so it cannot be
    swapped between the check and the read; stdin is `-`.
    """
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            raise InputError("not a regular file (a named pipe, device or socket); a problem "
                             "file must be a file on disk", file=name,
                             hint="to read from a pipe, use `-`: gradcli check - < FILE")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_stream(stream: TextIO, name: str = STDIN) -> str:
    """Problem text from a stream (stdin for `gradcli check -`)."""
    if stream.isatty():
        raise InputError("'-' reads a problem file from stdin, but stdin is a terminal",
                         hint="pipe or redirect a file in, e.g. `gradcli check - < q3.yaml`")
    buffer = getattr(stream, "buffer", None)
    data = buffer.read(MAX_BYTES + 1) if buffer is not None else stream.read(MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return decode(data, name)


def decode(data: bytes, name: str | None) -> str:
    if len(data) > MAX_BYTES:
        raise InputError(f"file is larger than {MAX_BYTES // 1024} KiB; a problem file is a "
                         "page of text", file=name)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode("utf-8")
        line = good.count("\n") + 1
        column = len(good) - (good.rfind("\n") + 1) + 1
        raise InputError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                         file=name, line=line, column=column,
                         hint="save the file as UTF-8") from None


# -- YAML events -> tree --------------------------------------------------------------------


def compose(text: str, file: str | None = None) -> Node:
    """The one document of `text` as a tree, or an `InputError` with every complaint."""
    builder = _Builder(text, file)
    builder.run()
    if builder.errors:
        raise collect(builder.errors)
    if builder.root is None:
        raise InputError("the file is empty; expected a problem starting with `format: 1` and "
                         "`kind: ...`", file=file, line=1, column=1)
    return builder.root


def yaml_in_words(exc) -> str:
    """The YAML parser's complaint in words a student can act on (issue 16: "expected <block
    end>, but found '<block mapping start>'" says nothing to someone who indented one key by
    a space). Known complaints are reworded; any other keeps the parser's own text."""
    problem = exc.problem or ""
    start = exc.context_mark
    begun = (f" (the block it belongs to starts at line {start.line + 1}, column "
             f"{start.column + 1})" if start is not None and exc.problem_mark is not None
             and start.line != exc.problem_mark.line else "")
    if "mapping values are not allowed" in problem:
        return ("a `key:` where none can start: this line is indented deeper than the key "
                "above it (keys of one mapping start in the same column), or a value holds "
                "': ' and needs quotes")
    if "<block end>" in problem or "expected <block" in problem:
        return ("the indentation does not match the lines above: keys of one mapping (or "
                f"items of one list) must start in the same column{begun}")
    if "'\\t'" in problem:  # ruamel: found character '\t' that cannot start any token
        return "a tab character: YAML indents with spaces only"
    if "could not find expected ':'" in problem:
        return f"expected `key: value` here: a ':' is missing{begun}"
    if "unexpected end" in problem or "'<stream end>'" in problem:
        opened = (f" (opened at line {start.line + 1}, column {start.column + 1})"
                  if start is not None else "")
        return f"the file ends inside an unclosed quote or bracket{opened}"
    context = f" {exc.context}" if exc.context else ""
    if begun:
        context += f" (which starts on line {start.line + 1}, column {start.column + 1})"
    return f"invalid YAML: {problem or 'not YAML'}{context}"


REPEATS = 3  # complaints of one kind listed before the rest are only counted


class _Builder:
    """Builds the tree from ruamel's event stream, refusing what a problem file may not hold."""

    def __init__(self, text: str, file: str | None):
        self.text = text
        self.file = file
        self.errors: list[InputError] = []
        self.stack: list[tuple[type, list[Node], int, int]] = []
        self.root: Node | None = None
        self.documents = 0
        self.repeats: dict[str, int] = {}

    def error(self, message: str, mark, hint: str | None = None) -> None:
        """One complaint; a kind repeated more than REPEATS times (a billion-laughs file has
        dozens of anchors and aliases) is counted after its first few, not listed."""
        kind = message.split(" (", 1)[0]
        self.repeats[kind] = self.repeats.get(kind, 0) + 1
        if self.repeats[kind] > REPEATS:
            return
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        self.errors.append(InputError(message, file=self.file, line=line, column=column,
                                      hint=hint))

    def count_repeats(self) -> None:
        for kind, n in self.repeats.items():
            if n > REPEATS:
                self.errors.append(InputError(f"{kind}: {n - REPEATS} more like the above",
                                              file=self.file))

    def run(self) -> None:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError, YAMLError
        from ruamel.yaml.reader import ReaderError

        try:
            for event in YAML(typ="safe", pure=True).parse(self.text):
                if not self.event(event):
                    break
        except MarkedYAMLError as exc:
            self.error(yaml_in_words(exc), exc.problem_mark or exc.context_mark)
        except ReaderError as exc:
            line, column = _offset_position(self.text, exc.position)
            self.errors.append(InputError(
                f"character U+{ord(exc.character) if isinstance(exc.character, str) else exc.character:04X}"
                " is not allowed in a YAML file", file=self.file, line=line, column=column))
        except YAMLError as exc:  # pragma: no cover - ruamel's other errors carry no mark
            self.errors.append(InputError(f"invalid YAML: {exc}", file=self.file))
        self.count_repeats()

    def event(self, event) -> bool:
        from ruamel.yaml import events as ev

        if isinstance(event, ev.DocumentStartEvent):
            return self.document(event)
        if isinstance(event, ev.AliasEvent):
            self.error(f"aliases are not allowed (*{event.anchor}); write the value out",
                       event.start_mark)
            self.add(Scalar("", None, event.start_mark.line + 1, event.start_mark.column + 1))
            return True
        if isinstance(event, ev.NodeEvent):
            self.refuse_properties(event)
        if isinstance(event, ev.ScalarEvent):
            self.add(self.scalar(event))
        elif isinstance(event, ev.MappingStartEvent | ev.SequenceStartEvent):
            kind = Mapping if isinstance(event, ev.MappingStartEvent) else Sequence
            if len(self.stack) >= MAX_DEPTH:
                self.error(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
                return False
            self.stack.append((kind, [], event.start_mark.line + 1, event.start_mark.column + 1))
        elif isinstance(event, ev.MappingEndEvent | ev.SequenceEndEvent):
            kind, items, line, column = self.stack.pop()
            self.add(self.mapping(items, line, column) if kind is Mapping
                     else Sequence(tuple(items), line, column))
        return True

    def document(self, event) -> bool:
        self.documents += 1
        if self.documents > 1:
            self.error("a second YAML document starts here; a problem file holds one problem",
                       event.start_mark, "split it into one file per problem")
            return False
        if event.version not in (None, (1, 2)):
            version = ".".join(map(str, event.version))
            self.error(f"%YAML {version} is not supported; problem files are YAML 1.2",
                       event.start_mark, "remove the %YAML line")
        if event.tags:
            self.error("%TAG directives are not allowed", event.start_mark)
        return True

    def refuse_properties(self, event) -> None:
        if event.anchor is not None:
            self.error(f"anchors are not allowed (&{event.anchor}); write each value out",
                       event.start_mark)
        if event.tag is not None:
            self.error(f"tags are not allowed ({_tag_text(event.tag)}); nothing in a problem "
                       "file is ever constructed or executed", event.start_mark)

    def add(self, node: Node) -> None:
        if self.stack:
            self.stack[-1][1].append(node)
        else:
            self.root = node

    def scalar(self, event) -> Scalar:
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        style = event.style
        lines = _text_lines(self.text, event)
        if lines:
            line, column = lines[0]
        elif style in ("'", '"'):
            column += 1
        return Scalar(event.value, style, line, column, lines)

    def mapping(self, items: list[Node], line: int, column: int) -> Mapping:
        pairs: list[tuple[Scalar, Node]] = []
        seen: dict[str, Scalar] = {}
        for key, value in zip(items[::2], items[1::2], strict=True):
            if not isinstance(key, Scalar):
                self.errors.append(InputError("keys must be plain names, not lists or mappings",
                                              file=self.file, line=key.line, column=key.column))
                continue
            if key.text in seen:
                first = seen[key.text]
                self.errors.append(InputError(
                    f"duplicate key {key.text!r} (first given on line {first.line})",
                    file=self.file, line=key.line, column=key.column,
                    hint="each key may appear once"))
                continue
            seen[key.text] = key
            pairs.append((key, value))
        return Mapping(tuple(pairs), line, column)


def _tag_text(tag) -> str:
    text = str(getattr(tag, "value", None) or tag)
    return text.replace("tag:yaml.org,2002:", "!!")


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _text_lines(text: str, event) -> tuple[tuple[int, int], ...]:
    """Where each line of a scalar's text sits in the file, when that is exact; else ()."""
    start, end = event.start_mark.index, event.end_mark.index
    raw = text[start:end]
    value: str = event.value
    line, column = event.start_mark.line + 1, event.start_mark.column + 1
    if event.style is None:
        return ((line, column),) if raw == value else ()
    if event.style in ("'", '"'):
        return ((line, column + 1),) if raw[1:-1] == value and "\n" not in raw else ()
    return _block_lines(raw, value, line, event.style)


def _block_lines(raw: str, value: str, line: int, style: str) -> tuple[tuple[int, int], ...]:
    """Literal (`|`) blocks map line for line; a folded (`>`) block only when it is one line."""
    content = [s.removesuffix("\r") for s in raw.split("\n")[1:]]  # CRLF files too
    indents = [len(s) - len(s.lstrip(" ")) for s in content if s.strip()]
    if not indents:
        return ()
    indent = min(indents)
    value_lines = value.rstrip("\n").split("\n")
    if style == ">" and len([s for s in content if s.strip()]) != 1:
        return ()
    first = next(i for i, s in enumerate(content) if s.strip())
    if style == ">":
        return ((line + 1 + first, indent + 1),)
    if [s[indent:] for s in content[:len(value_lines)]] != value_lines:
        return ()
    return tuple((line + 1 + i, indent + 1) for i in range(len(value_lines)))


# -- files -> problems ----------------------------------------------------------------------


def load_text(text: str, file: str | None = None, *, base: Path | None = None) -> Problem:
    """A problem from the text of a problem file; `file` names it in every message."""
    return problem(compose(text, file), file, base=base)


def load_problem(path: str | Path) -> Problem:
    """The problem in the file at `path` (what `gradcli.load` is)."""
    path = Path(path)
    return load_text(read_file(path), str(path), base=path.parent)


def expand(paths: Iterable[str]) -> list[str]:
    """The files `gradcli check` reads, in order: a directory stands for its *.yaml/*.yml files
    (sorted, not recursive, dot-files skipped); `-` is stdin; a missing path that names a
    bundled problem (`q3`) is that file. Every path that names nothing is one complaint."""
    found: list[str] = []
    errors: list[InputError] = []
    for spec in paths:
        try:
            found.extend(_expand_one(spec))
        except InputError as err:
            errors.append(err)
    if errors:
        raise collect(errors)
    return found


def _expand_one(spec: str) -> list[str]:
    if spec == "-":
        return [spec]
    path = Path(spec)
    if path.suffix == ".py":  # before reading: its Python would be reported as YAML errors
        raise InputError("this is a Python file: use `gradcli exercise PROBLEM --solution "
                         f"{spec}` to check a solution; `gradcli check` reads problem files "
                         "(.yaml)", file=spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir()
                       if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file())
        if not files:
            raise InputError("directory holds no problem files (*.yaml, *.yml)", file=spec)
        return [str(p) for p in files]
    if path.exists() or path.suffix in SUFFIXES or "/" in spec:
        return [spec]
    from gradcli.problems import bundled

    shipped = bundled.find(spec)
    if shipped is None:
        keys = [p.key for p in bundled.problems()]
        raise InputError("no such file, directory or bundled problem", file=spec,
                         hint=suggest(spec, keys) or "gradcli list shows the bundled problems")
    return [f"bundled:{shipped.file}"]


def load_any(spec: str, stdin: TextIO | None = None) -> Problem:
    """One entry of `expand`'s list: a path, `-`, or `bundled:<file>`."""
    if spec == "-":
        return load_text(read_stream(stdin or sys.stdin), STDIN, base=Path.cwd())
    if spec.startswith("bundled:"):
        from gradcli.problems import bundled

        shipped = bundled.find(spec[len("bundled:"):])
        if shipped is not None:
            return load_text(decode(shipped.resource.read_bytes(), shipped.file), shipped.file)
    return load_problem(spec)


def load_all(specs: Iterable[str], stdin: TextIO | None = None) -> list[Problem]:
    """Every problem `specs` name (files, directories, `-`, bundled names), in order.

    All or nothing: every bad file's complaints are raised together, in the order the files
    were named, and no problem is returned, so a script sees exit 2 and the full list of what
    to fix, never a mix of answers and errors (one JSON document on stdout either way).
    """
    problems: list[Problem] = []
    errors: list[InputError] = []
    stdin_used = False
    for spec in specs:
        try:
            files = _expand_one(spec)
        except InputError as err:
            errors.append(err)
            continue
        for file in files:
            try:
                if file == "-" and stdin_used:
                    raise InputError("'-' (stdin) is given more than once; stdin holds one file")
                stdin_used = stdin_used or file == "-"
                problems.append(load_any(file, stdin))
            except InputError as err:
                errors.append(err)
    if errors:
        raise collect(errors)
    return problems
