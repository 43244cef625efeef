"""The route and send warnings of wse-as (docs/assembly.md, Diagnostics) against the emulator:
each warned layout faults at run time with the fault the warning names, and the same layout
with the bug fixed assembles without a warning and runs to the end."""
from __future__ import annotations

import warnings

import pytest

from wse.asm import AssemblyWarning, assemble_text
from wse.emu import Fabric, FaultError

TWO = """\
.fabric 3, 1
.program a
    .route 1, ramp -> east
    .task main, local, start
main:
    li r1, 7
    send 1, r1
    exit
.endprogram
.program b
    .route 1, west -> ramp
    .task got, data, color=1
got:
    exit
.endprogram
.place a, 0, 0
.place b, 1, 0
"""

ONE = """\
.program a
    .route 1, ramp -> east
    .dsd out, fabout, color=1, len=2
    .dsd src, mem1d, base=buf, len=2
    .task main, local, start
main:
    li r1, 7
    send 1, r1
    exit
    .data
buf: .zero 2, f32
.endprogram
.place a, 0, 0
"""

FABOUT = "main:\n    ldsd d0, out\n    ldsd a0, src\n    fmovs d0, a0\n    exit\n"

# (id, source, the warning's line and text, the fault's kind and reason, the fix: (old, new))
CASES = [
    ("empty_pe", TWO.replace(".place b, 1, 0\n", ""), 3,
     "color 1 is routed east from PE (0, 0) to PE (1, 0), which has no program",
     "empty_pe", "to PE (1,0), which has no program", (".place a, 0, 0\n", ".place a, 0, 0\n.place b, 1, 0\n")),
    ("no_route", TWO.replace(".route 1, west -> ramp", ".route 2, west -> ramp").replace("color=1", "color=2"), 3,
     "(program `b`), which has no route for color 1",
     "route", "from PE (0,0) enters through WEST, but this PE has no route for the color",
     (".route 2, west -> ramp\n    .task got, data, color=2", ".route 1, west -> ramp\n    .task got, data, color=1")),
    ("refused", TWO.replace(".route 1, west -> ramp", ".route 1, north -> ramp, south -> ramp"), 3,
     "whose route for color 1 never accepts `west` (RX north in position 0, south in position 1)",
     "route", "enters through WEST, but the current route's rx does not include it",
     ("north -> ramp, south", "west -> ramp, south")),
    ("send_no_route", ONE.replace("    .route 1, ramp -> east\n", ""), 7,
     "`send` on color 1, but PE (0, 0) (program `a`) has no route for color 1",
     "route", "send on color 1, but the PE has no route for it", ("    .task", "    .route 1, ramp -> east\n    .task")),
    ("send_no_ramp", ONE.replace("ramp -> east", "west -> east"), 8,
     "never takes `ramp` in RX (RX west)",
     "route", "send on color 1, but the current route (position 0) does not receive from RAMP",
     ("west -> east", "ramp -> east")),
    ("fabout_no_route", ONE.replace("    .route 1, ramp -> east\n", "").replace(ONE[ONE.index("main:"):ONE.index("    .data")], FABOUT), 6,
     "`ldsd d0, out` loads a fabout DSD on color 1 for a tensor op to write, but PE (0, 0)",
     "route", "fabout on color 1, but the PE has no route for it", ("    .task", "    .route 1, ramp -> east\n    .task")),
]


def _assemble(src):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AssemblyWarning)
        data = assemble_text(src, "r.s")
    return data, [w.message.diagnostic for w in caught if isinstance(w.message, AssemblyWarning)]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_warned_layout_faults_and_the_fix_runs(case):
    _, src, line, text, kind, reason, (old, new) = case
    data, ws = _assemble(src)
    assert [(d.file, d.line) for d in ws] == [("r.s", line)], [d.render() for d in ws]
    assert text in ws[0].message and ws[0].severity == "warning"
    with pytest.raises(FaultError) as e:
        Fabric.from_object(data).run(max_cycles=10_000)
    assert e.value.kind == kind and reason in e.value.reason, e.value.reason
    assert old in src
    fixed, ws = _assemble(src.replace(old, new, 1))
    assert ws == [], [d.render() for d in ws]
    Fabric.from_object(fixed).run(max_cycles=10_000)


def test_a_rectangle_is_one_warning_that_names_its_pes():
    """A program on 8x4 PEs whose route sends South into its own South neighbours, which do
    not take it, and from the last row into empty PEs: one warning for each, naming the
    rectangles of senders and of neighbours; a set that is not a rectangle is named by its
    first PE and a count."""
    src = (".fabric 8, 8\n.program p\n    .route 3, ramp -> south\n.endprogram\n"
           ".place p, 0, 0, 8, 4\n")
    _, ws = _assemble(src)
    msgs = sorted(d.message for d in ws)
    assert [d.line for d in ws] == [3, 3], msgs
    assert msgs[0].startswith("color 3 is routed south from PEs (0..7, 0..2) to their south neighbours "
                              "(0..7, 1..3) (program `p`), whose route for color 3 never accepts `north`")
    assert msgs[1].startswith("color 3 is routed south from PEs (0..7, 3) to their south neighbours "
                              "(0..7, 4), which have no program")
    _, ws = _assemble(src + ".program q\n    .route 3, north -> ramp\n.endprogram\n.place q, 2, 4\n"
                            ".place q, 5, 4\n")
    msgs = sorted(d.message for d in ws)
    assert len(msgs) == 2
    assert msgs[0].startswith("color 3 is routed south from PE (0, 3) and 5 more PEs to their south "
                              "neighbours (the first: PE (0, 4)), which have no program"), msgs


def test_a_route_in_a_macro_is_warned_where_it_was_invoked_too():
    src = (".fabric 2, 1\n.macro out, c\n    .route c, ramp -> east\n.endm\n"
           ".program p\n    out 4\n.endprogram\n.place p, 0, 0\n")
    _, ws = _assemble(src)
    assert len(ws) == 1 and ws[0].line == 3 and (ws[0].col, ws[0].span) == (23, 4)
    assert any("in expansion of macro `out` at r.s:6:5" in n for n in ws[0].notes), ws[0].notes


def test_sends_are_judged_in_the_code_of_the_tasks_that_surely_run():
    """A send is judged in the code reached from a `start` task, from a data task whose color
    reaches the RAMP, and from the tasks these activate by name (also through `async ...
    activate`); on a 4x1 rectangle, once for the four PEs. The code of a task that only a
    control wavelet or the host could activate is not judged."""
    src = """\
.fabric 4, 1
.program p
    .route 1, west -> ramp
    .dsd m, mem1d, base=buf, len=2
    .task main, local, start
    .task later, local
    .task got, data, color=1
    .task remote, control, id=9
main:
    ldsd d0, m
    ldsd a0, m
    fmovs d0, a0 async ut1 activate later
    exit
later:
    send 2, r1
    exit
got:
    send 3, r1
    exit
remote:
    send 4, r1
    exit
    .data
buf: .zero 2, f32
.endprogram
.place p, 0, 0, 4, 1
"""
    _, ws = _assemble(src)
    got = sorted((d.line, d.message.split(":")[0]) for d in ws)
    assert got == [(15, "`send` on color 2, but PEs (0..3, 0) (program `p`) have no route for color 2"),
                   (18, "`send` on color 3, but PEs (0..3, 0) (program `p`) have no route for color 3")], got
