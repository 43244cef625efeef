"""Diagnostics: positions, the error type, and customasm-style rendering."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pos:
    """A source span: file, 1-based line, 1-based column, and length in characters."""
    file: str
    line: int
    col: int
    span: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


SNIPPET_CHARS = 160     # a longer source line is shown around the caret


def _shown(text: str, col: int, span: int) -> tuple[str, int, int]:
    """A source line as the snippet shows it, with the caret's column and width moved to match:
    control characters (an escape sequence, a bell, the bytes of a binary file given as source)
    escaped as Python writes them (\\x1b), so that the snippet cannot drive the terminal, and a
    line longer than SNIPPET_CHARS (a binary file is one long line) cut to a window around the
    caret, with "..." where it is cut."""
    if text.isprintable() and len(text) <= SNIPPET_CHARS:
        return text, col, span
    from wse.cli.files import printable
    before = printable(text[:col - 1])
    mark = printable(text[col - 1:col - 1 + span])
    after = printable(text[col - 1 + span:])
    if len(before) + len(mark) + len(after) > SNIPPET_CHARS:
        shown = mark[:SNIPPET_CHARS // 2]
        half = (SNIPPET_CHARS - len(shown)) // 2
        if len(before) > half:
            before = "..." + before[len(before) - half:]
        room = max(SNIPPET_CHARS - len(before) - len(shown), 0)
        if len(shown) < len(mark):
            after = "..."
        elif len(after) > room:
            after = after[:room] + "..."
        mark = shown
    return before + mark + after, len(before) + 1, max(len(mark), 1)


@dataclass
class Diagnostic:
    file: str | None
    line: int | None
    col: int | None
    span: int
    message: str
    notes: list[str] = field(default_factory=list)
    source: str | None = None      # the text of the source line, for rendering
    severity: str = "error"

    def key(self):
        return (self.file, self.line, self.col, self.message)

    def render(self) -> str:
        out = [f"{self.severity}: {self.message}"]
        if self.file is not None and self.line is not None:
            col = self.col or 1
            out.append(f" --> {self.file}:{self.line}:{col}")
            if self.source is not None:
                num = str(self.line)
                pad = " " * len(num)
                text = self.source.rstrip("\n").expandtabs(1)
                span = max(1, min(self.span or 1, max(1, len(text) - col + 1)))
                text, col, span = _shown(text, col, span)
                out.append(f"{pad} |")
                out.append(f"{num} | {text}")
                out.append(f"{pad} | " + " " * (col - 1) + "^" * span)
        elif self.file is not None:
            out.append(f" --> {self.file}")
        for n in self.notes:
            out.append(f"  = note: {n}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


class AssemblyError(Exception):
    """Assembly failed. `.diagnostics` lists every error found; str() renders them all."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.diagnostics)
        body = "\n\n".join(d.render() for d in self.diagnostics)
        return body + f"\n\n{n} error{'s' if n != 1 else ''}"

    def __str__(self) -> str:
        return self.render()


class AsmError(Exception):
    """Internal carrier for one error at a position (turned into a Diagnostic)."""

    def __init__(self, message: str, pos: Pos | None = None, notes: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.notes = list(notes or [])


def fmt_int(v: int) -> str:
    """A value in decimal and hex: 70000 (0x11170)."""
    if -10 < v < 10:
        return str(v)
    return f"{v} ({'-' if v < 0 else ''}{abs(v):#x})"


def fmt_range(lo: int, hi: int) -> str:
    def h(v):
        return f"{'-' if v < 0 else ''}{abs(v):#x}"
    if -10 < lo and hi < 10:
        return f"{lo}..{hi}"
    return f"{lo}..{hi} ({h(lo)}..{h(hi)})"


class AssemblyWarning(UserWarning):
    """The source assembled, but part of it cannot do what it says (a data task no route feeds,
    a DSD that reaches outside SRAM, ...). `.diagnostic` is the Diagnostic; str() renders it.
    Issued with `warnings.warn` by assemble_text/assemble_file; `wse-as` prints them."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.render())
