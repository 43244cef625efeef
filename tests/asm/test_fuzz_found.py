"""Assembler inputs found by the fuzz campaign (tests/fuzz/fuzz_asm.py) that are not golden
files: an error found again in every iteration of a long `.rep`."""
from __future__ import annotations

import pytest

from wse.asm import AssemblyError, assemble_text


def test_an_error_repeated_in_every_iteration_stops_the_walk():
    """A `.rep 2000000` whose body fails each time kept every copy of the error (1 GB) and ran
    to the statement limit (15-20 s) to report the one error; after 10,000 repeats the walk
    stops, saying so, and what it found before is reported."""
    src = ".rep 2000000\n.rep -1\n    nop\n.endr\n.endr\n"
    with pytest.raises(AssemblyError) as e:
        assemble_text(src, "r.s")
    msgs = [(d.line, d.col, d.message) for d in e.value.diagnostics]
    assert msgs[0] == (2, 6, "repeat count -1 is out of range; legal: 0..2000000 (0x0..0x1e8480)")
    assert len(msgs) == 2 and msgs[1][:2] == (2, 6)
    assert msgs[1][2].startswith("stopped after 10000 repeats of errors already reported")
    assert any("in iteration 10000 of the `.rep` at r.s:1:1" in n for n in e.value.diagnostics[1].notes)


def test_distinct_errors_are_all_reported_before_the_stop():
    """Errors that differ (here: one per iteration, the value in the message) are not repeats."""
    src = ".rep 300, i\n    addi r1, r0, 70000 + i\n.endr\n"
    with pytest.raises(AssemblyError) as e:
        assemble_text(src, "d.s")
    assert len(e.value.diagnostics) == 300
    assert not any("stopped after" in d.message for d in e.value.diagnostics)
