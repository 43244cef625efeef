"""Where a diagnostic points: its line, column and span (the golden err_*.s files check the line
and the message, not the column; these pin the column and the caret's width)."""
from __future__ import annotations

import pytest

from wse.asm import AssemblyError, assemble_text


@pytest.mark.parametrize("src, line, col, span", [
    # an operand expression: the caret covers exactly it (docs/assembly.md, Diagnostics)
    ("    addi r1, r0, 70000\n", 1, 18, 5),
    ("    addi r1, r0, 70000 + 1\n", 1, 18, 9),
    ("x = 1\n    addi r1, r0, (x + 70000)\n", 2, 19, 9),          # inside the parentheses
    ("    li r3, 1e40\n", 1, 12, 4),                                # through the pseudo-instruction
    # a token: an unknown mnemonic, after spaces or a tab
    ("    bogus r1\n", 1, 5, 5),
    ("\tbogus\n", 1, 2, 5),
    ("x:  bogus\n", 1, 5, 5),
    # the end of a line that stops too early: just past its last non-blank character
    ("    addi r1, r0, 1 +   \n", 1, 21, 1),
    ("    addi r1, r0, 1 +   ; comment\n", 1, 21, 1),
])
def test_error_line_column_and_span(src, line, col, span):
    with pytest.raises(AssemblyError) as ei:
        assemble_text(src, "k.s")
    d = ei.value.diagnostics[0]
    assert (d.file, d.line, d.col, d.span) == ("k.s", line, col, span), d.message


def test_the_rendered_caret_sits_under_the_span():
    with pytest.raises(AssemblyError) as ei:
        assemble_text("    addi r1, r0, 70000\n", "k.s")
    assert str(ei.value).splitlines()[1:5] == [
        " --> k.s:1:18",
        "  |",
        "1 |     addi r1, r0, 70000",
        "  |                  ^^^^^",
    ]
