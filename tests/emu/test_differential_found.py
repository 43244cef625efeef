"""Divergences between the C core and the reference that a differential fuzz found (each once
a failing case of this file): the two must agree on the outcome, its cycle, PE, task and pc."""
import numpy as np
import pytest

from wse.asm import AssemblyWarning, assemble_text
from wse.emu import Fabric, FaultError, WatchdogError
from wse.emu.reference import ReferenceFabric

SWITCH_SEND = """
.fabric 2, 1
.program b
    .route 0, west|ramp -> east, west -> east
    .task main, local, start
main:
SENDS
    exit
.endprogram
.program c
    .route 0, west -> ramp
    .task got, data, color=0
    .task ctl, control, id=40
got:
    li r5, 6
loop:
    addi r5, r5, -1
    bne r5, r0, loop
    exit
ctl:
    exit
.endprogram
.place b, 0, 0
.place c, 1, 0
"""


def _outcome(fab, act):
    try:
        act(fab)
        return ("ok", fab.run())
    except FaultError as e:
        return (e.kind, e.cycle, e.pe, e.task, e.pc)


def _both(obj, act, w=2, h=1):
    out = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(w, h, "wse2")
        fab.load(obj)
        out.append(_outcome(fab, act))
    assert out[0] == out[1], out
    return out[0]


def test_a_send_waiting_for_room_sees_the_switch_move():
    """PE (0,0) waits in `send` for room while a control wavelet from the host moves its switch
    to a position without RAMP: the next retry faults in that cycle (the route check comes
    first). The C core only retried when the oq popped, 16 cycles later, after one of its
    wavelets had left through the switched route."""
    obj = assemble_text(SWITCH_SEND.replace("SENDS", "\n".join(["    send 0, r4"] * 30)))

    def act(f):
        f.send(0, 0, 0, "west", [7] * 6)
        f.send(0, 0, 0, "west", [40], control=True)
        f.send(0, 0, 0, "west", [7] * 6)
    assert _both(obj, act) == ("route", 39, (0, 0), 0, 8)


def test_a_route_fault_is_at_the_refusing_router_and_no_task():
    """A wavelet refused by the neighbour's route: reported at that PE (its router), with no
    task (the reference named the sender; C the receiver's running task). wse-as warns of the
    mismatched routes too."""
    with pytest.warns(AssemblyWarning, match="never accepts `west`"):
        obj = assemble_text("""
.fabric 2, 1
.program a
    .route 3, ramp -> east
    .task main, local, start
main:
    send 3, r0
    exit
.endprogram
.program b
    .route 3, north -> ramp
    .task main, local, start
main:
    li r2, 100
loop:
    addi r2, r2, -1
    bne r2, r0, loop
    exit
.endprogram
.place a, 0, 0
.place b, 1, 0
""")
    kind, cycle, pe, task, pc = _both(obj, lambda f: None)
    assert (kind, pe, task, pc) == ("route", (1, 0), None, None)


def test_an_async_ops_undefined_activate_names_the_op():
    obj = assemble_text("""
    .task main, local, start
    .dsd dst, mem1d, base=buf, len=8
    .dsd src, mem1d, base=buf+8, len=8
main:
    ldsd d0, dst
    ldsd a0, src
    fmovh d0, a0 async ut0 activate 50
    li r2, 100
loop:
    addi r2, r2, -1
    bne r2, r0, loop
    exit
    .data
buf: .zero 16
""")
    kind, cycle, pe, task, pc = _both(obj, lambda f: None, 1, 1)
    assert kind == "task" and pc == 2                     # the fmovh, not the main thread's pc


def test_max_cycles_before_now_is_refused_and_the_clock_stays():
    obj = assemble_text("    .task main, local, start\nmain:\n    addi r2, r2, 1\n    b main\n")
    for cls in (Fabric, ReferenceFabric):
        f = cls(1, 1, "wse2")
        f.load(obj)
        f.run_until(100)
        with pytest.raises(ValueError, match="max_cycles 50 is .*fabric's cycle 100"):
            f.run(max_cycles=50)
        assert f.cycle == 100


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric])
def test_max_cycles_equal_to_now_runs_no_cycle(cls):
    """max_cycles is absolute and the watchdog fires at the boundary cycle == max_cycles unless
    the fabric is idle there (timing.md, Run end): equal to the fabric's cycle, a run executes
    no cycle; a busy fabric raises WatchdogError there, an idle one returns its cycle. (The C
    core's wse_run and the reference did this; Fabric.run refused the call.)"""
    loop = assemble_text("    .task main, local, start\nmain:\n    addi r2, r2, 1\n    b main\n")
    f = cls(1, 1, "wse2")
    f.load(loop)
    f.run_until(100)
    before = f.pe_state(0, 0)
    with pytest.raises(WatchdogError, match="max_cycles = 100") as e:
        f.run(max_cycles=100)
    assert e.value.cycle == 100 and f.cycle == 100
    after = f.pe_state(0, 0)
    assert after["regs"] == before["regs"] and after["pc"] == before["pc"]
    assert after["stats"]["instructions"] == before["stats"]["instructions"]
    with pytest.raises(WatchdogError):                  # and again: still nothing runs
        f.run(max_cycles=100)
    assert f.cycle == 100 and f.pe_state(0, 0)["regs"] == before["regs"]

    done = assemble_text("    .task main, local, start\nmain:\n    addi r2, r2, 1\n    exit\n")
    f = cls(1, 1, "wse2")
    f.load(done)
    end = int(f.run())
    assert end > 0
    assert int(f.run(max_cycles=end)) == end and f.cycle == end
    assert f.pe_state(0, 0)["regs"][2] == 1
    with pytest.raises(ValueError, match=f"max_cycles {end - 1} is before the fabric's cycle {end}"):
        f.run(max_cycles=end - 1)


def test_reference_send_takes_python_floats():
    """A list of Python floats (float64) is rounded to fp32 and sent as its bits, as the C core
    does (the reference raised KeyError: 8)."""
    obj = assemble_text("    .route 1, west -> east\n    .task main, local, start\nmain:\n    exit\n")
    got = []
    for cls in (Fabric, ReferenceFabric):
        f = cls(1, 1, "wse2")
        f.load(obj)
        f.send(1, 0, 0, "west", [1.5, -2.25])
        f.run()
        got.append([r.payload for r in f.received()])
    assert got[0] == got[1] == np.array([1.5, -2.25], np.float32).view(np.uint32).tolist()
