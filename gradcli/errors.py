"""The one exception type for bad input.

Anything the user typed or wrote (an expression, an option, a problem file) that cannot be
accepted raises `InputError`. The CLI catches it at the edge and prints one message with
the file, line and column where known, then exits 2. Nothing else in gradcli exits 2, and
checks that fail are data (exit 1), never exceptions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace


@dataclass
class InputError(Exception):
    """A problem with the user's input (exit 2), placed at its file, line and column when known."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    hint: str | None = None
    # Further complaints about the same input, so a file's problems are reported together.
    more: tuple[InputError, ...] = field(default=())

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return "\n".join(e.one_line() for e in self.all())

    def one_line(self) -> str:
        if self.line is None and self.column is not None:  # a one-line text: an option's value
            where = f"{self.file}, column {self.column}" if self.file else f"column {self.column}"
        else:
            where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def all(self) -> list[InputError]:
        return [replace(self, more=()), *[m for e in self.more for m in e.all()]]

    def at(self, file: str | None = None, line: int | None = None, column: int | None = None) -> InputError:
        """Place an error found inside an embedded text (an expression in a YAML value).

        `line`/`column` locate the start of the embedded text; a column the error already
        has (1-based, within the text) is added to it.
        """
        col = column
        if column is not None and self.column is not None:
            col = column + self.column - 1
        return replace(self, file=file or self.file, line=line if line is not None else self.line,
                       column=col if col is not None else self.column)

    def to_json(self) -> dict:
        return {"error": {"message": self.message, "file": self.file, "line": self.line,
                          "column": self.column, "hint": self.hint,
                          "more": [e.to_json()["error"] for e in self.more]}}


def collect(errors: list[InputError]) -> InputError:
    """One error that carries all of them, the first as the headline."""
    first, *rest = errors
    return replace(first, more=(*first.more, *rest))


def closest(word: str, choices: Collection[str]) -> str | None:
    """The choice `word` is most likely a misspelling of, if one is close enough.

    Every did-you-mean in gradcli comes from here, so they agree on what "close" means.
    difflib is imported here, not at the top: only a misspelling pays for it.
    """
    import difflib

    folded = {c.lower(): c for c in choices}
    if word.lower() in folded and folded[word.lower()] != word:  # GELU for gelu, Tanh for tanh
        return folded[word.lower()]
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def suggest(word: str, choices: Collection[str]) -> str | None:
    """'did you mean …?' for a hint, or None when nothing is close."""
    match = closest(word, choices)
    return f"did you mean {match!r}?" if match else None
