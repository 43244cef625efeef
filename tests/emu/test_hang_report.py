"""Hang and watchdog reports carry the same information in the reference interpreter as in the
C core (csrc/wse_core.c, hang_report): that the fabric is not idle, the running task with its
name, pc, instruction and source line (file:line:col and the macro chain), what its main thread
waits for (room in an output queue, a fabric op's wavelets and the colors involved), each
microthread's op, the activated-but-blocked, activated data and blocked tasks, per color the
wavelets in each buffer with the route and who is full downstream, and the host's wavelets
that cannot enter. The reference used to print the task id and pc alone, without the source,
the colors an op waits on or whether a neighbour is full.

Each check runs on both emulators (the whole text of a hang report is the same on both:
tests/emu/test_hang_text.py, which compares watchdog reports too)."""
from __future__ import annotations

import re

import pytest

from wse.asm import assemble_text
from wse.emu import Fabric, HangError, WatchdogError
from wse.emu.reference import ReferenceFabric

from helpers import SEND_INTO_A_PE_AT_REST

BOTH = [pytest.param(Fabric, id="core"), pytest.param(ReferenceFabric, id="reference")]


OPS_WAITING = """.macro recv, DST, SRC
    fmovh DST, SRC
.endm
    .route 1, west -> ramp
    .route 2, west -> ramp
    .task main, local, start
    .task later, local, blocked
    .task data3, data, color=3, id=9
    .route 3, west -> ramp
    .dsd buf, mem1d, base=data, len=4
    .dsd in, fabin, color=1, len=4
    .dsd in2, fabin, color=2, len=4
main:
    activate later
    activate 9
    ldsd d0, buf
    ldsd a0, in2
    fmovh d0, a0 async ut5
    ldsd a0, in
    recv d0, a0
    exit
later:
    exit
data3:
    exit
    .data
data: .zero 8
"""

BLOCKED_DATA_TASK = """    .route 5, west -> ramp
    .task got, data, color=5, blocked
got:
    exit
"""

SPIN = """    .task main, local, start
main:
    li r2, 5
spin:
    addi r2, r2, 1
    b spin
"""


def hang_of(cls, src, grid=(1, 1), act=None, max_cycles=None):
    fab = cls(*grid, "wse2")
    fab.load(assemble_text(src))
    if act:
        act(fab)
    with pytest.raises((HangError, WatchdogError)) as e:
        fab.run(max_cycles=max_cycles)
    return e.value


def _lines_of(report: str, pe: str) -> str:
    """The block of the report that describes PE `pe` ("(1,0)")."""
    m = re.search(r"^PE " + re.escape(pe) + r":\n((?:  .*\n?)*)", report, re.M)
    assert m, f"no block for PE {pe} in:\n{report}"
    return m.group(1)


@pytest.mark.parametrize("cls", BOTH)
def test_a_send_waiting_for_room(cls):
    # (a blank first line: the send is at <string>:9:5, as the report is checked below)
    e = hang_of(cls, "\n" + SEND_INTO_A_PE_AT_REST, (2, 1))
    assert isinstance(e, HangError) and e.cycle == 28
    r = e.report
    assert r.startswith("hang at cycle 28: nothing can happen any more, but the fabric is not idle\n")
    a = _lines_of(r, "(0,0)")
    # the running task by name, its instruction and where it comes from
    assert "running task 0 (main) at pc 2: send 5, r2  (<string>:9:5)" in a
    assert "waits for room in the output queue of color 5 (full)" in a
    assert ("color 5: router buffer 0, output queue 2, input queue 0 wavelet(s); route position 0 "
            "tx EAST; next PE (1,0) buffer full") in a
    b = _lines_of(r, "(1,0)")
    assert "blocked tasks: 0(idle)" in b and "running task" not in b
    assert ("color 5: router buffer 4, output queue 0, input queue 2 wavelet(s); route position 0 "
            "tx RAMP; no data task or op reads it; own input queue full") in b


@pytest.mark.parametrize("cls", BOTH)
def test_fabric_ops_waiting_and_tasks(cls):
    e = hang_of(cls, OPS_WAITING)
    assert isinstance(e, HangError) and e.cycle == 9
    a = _lines_of(e.report, "(0,0)")
    # the synchronous op holds the main thread: its line inside the macro, and the invocation
    assert ("running task 0 (main) at pc 6: fmovh d0, a0  (<string>:2:5, in `recv` at "
            "<string>:20:5)") in a
    assert "fabric op: 0 of 4 elements done; waits for wavelets on color 1" in a
    # the async op on ut5 and the color it waits on
    assert re.search(r"ut5: fmovh.*0 of 4 elements done.*, waits for wavelets on color 2", a), a
    assert "activated but blocked tasks: 1(later)" in a
    assert "activated data tasks (they run only when a wavelet arrives on their color): 9(data3)" in a


@pytest.mark.parametrize("cls", BOTH)
def test_a_waiting_fabric_op_names_the_dsd_of_its_dsr(cls):
    """Each op names the DSD its fabric operand was loaded from, as it was at the op's issue:
    ut5's a0 was loaded from `in2`, and reloaded from `in` for the main thread's op since."""
    a = _lines_of(hang_of(cls, OPS_WAITING).report, "(0,0)")
    assert ("fabric op: 0 of 4 elements done; waits for wavelets on color 1 (a0 loaded from DSD `in` by "
            "the ldsd at pc 5, <string>:19:5)\n") in a, a
    assert (", waits for wavelets on color 2 (a0 loaded from DSD `in2` by the ldsd at pc 3, "
            "<string>:17:5)\n") in a, a


@pytest.mark.parametrize("cls", BOTH)
def test_both_say_where_an_async_op_was_issued(cls):
    e = hang_of(cls, OPS_WAITING)
    assert ("ut5: fmovh d0, a0 async ut5 (issued by task 0 (main) at pc 4, <string>:18:5), 0 of 4 "
            "elements done, waits for wavelets on color 2") in e.report


@pytest.mark.parametrize("cls", BOTH)
def test_a_blocked_data_task_and_the_host_waiting(cls):
    e = hang_of(cls, BLOCKED_DATA_TASK, act=lambda f: f.send(5, 0, 0, "west", list(range(20))))
    assert isinstance(e, HangError) and e.cycle == 8
    a = _lines_of(e.report, "(0,0)")
    assert "blocked tasks: 0(got)" in a
    assert re.search(r"color 5: router buffer 4, output queue 0, input queue 2 wavelet\(s\); route "
                     r"position 0 tx RAMP; its data task 0\(got\) is blocked; own input queue full", a), a
    assert "host: 14 wavelet(s) waiting to enter through WEST" in a


@pytest.mark.parametrize("cls", BOTH)
def test_watchdog_state(cls):
    e = hang_of(cls, SPIN, max_cycles=5000)
    assert isinstance(e, WatchdogError) and e.cycle == 5000
    assert e.report.startswith("watchdog: the cycle counter reached max_cycles = 5000; the state:\n")
    assert "running task 0 (main) at pc 2: addi r2, r2, 1  (<string>:5:5)" in _lines_of(e.report, "(0,0)")
    assert str(e) == e.report


@pytest.mark.parametrize("cls", BOTH)
def test_watchdog_with_a_fabric_op_waiting(cls):
    """A watchdog one cycle before the hang shows the same state as the hang."""
    e = hang_of(cls, OPS_WAITING, max_cycles=8)
    assert isinstance(e, WatchdogError) and e.cycle == 8
    a = _lines_of(e.report, "(0,0)")
    assert "fabric op: 0 of 4 elements done; waits for wavelets on color 1" in a
    assert re.search(r"ut5: fmovh.*0 of 4 elements done.*, waits for wavelets on color 2", a), a


WRONG_COLOR = """
.fabric 2, 1
.program a
    .route 4, ramp -> east
    .task main, local, start
main:
    li r2, 7
    send 4, r2
    exit
.endprogram
.program b
    .route 4, west -> ramp
    .task carry, data, color=5
    .task main, local, start
main:
    exit
carry:
    exit
.endprogram
.place a, 0, 0
.place b, 1, 0
"""


@pytest.mark.parametrize("cls", BOTH)
def test_an_unread_color_names_the_data_tasks_on_other_colors(cls):
    """The wavelet on color 4 waits for a reader; the PE's one data task listens on color 5 (the
    newcomer's wrong color): the report names it with its color, where it used to say only that
    nothing reads color 4."""
    e = hang_of(cls, WRONG_COLOR, grid=(2, 1))
    block = _lines_of(str(e), "(1,0)")
    assert re.search(r"color 4: .*input queue 1 wavelet\(s\).*; no data task or op reads it "
                     r"\(its data tasks: \d+\(carry\) on color 5\)", block), block
