"""HangError.waits / .deadlock / .waits_truncated: who waits on whom at a hang as records
(wse.emu.errors.Wait), from the C core (wse_waits) and from the reference interpreter
(wait_records). The two must give equal records, field by field, and each report's "who waits
on whom" section must be exactly what wse.emu.errors.format_waits prints from its records (the
C core prints the section from the same records, so text and records cannot disagree).

The property test generates chains of PEs on small fabrics, each receiving from the one before
and sending to the one after (through pass-through PEs, synchronously or on a microthread, by
send or by a fabout op, receiving first or sending first), open or closed into a ring; most of
them deadlock or starve somewhere."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from wse.asm import assemble_text
from wse.emu import Fabric, HangError
from wse.emu import errors as E
from wse.emu.fabric import ffi, lib
from wse.emu.reference import ReferenceFabric

from helpers import SEND_INTO_A_PE_AT_REST, assemble_quietly, send_loop, chain_program, chains, check_records, record_diffs, section



def hang_both(src: str, grid, act=None, max_cycles: int = 10**5):
    """Run the program on both emulators; (core HangError, reference HangError), checked to
    agree (records field by field, reports line by line), or None when it does not hang (then
    both end alike)."""
    data = assemble_quietly(src)
    outs = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(*grid, "wse2")
        fab.load(data)
        if act:
            act(fab)
        try:
            outs.append(("ok", fab.run(max_cycles=max_cycles)))
        except HangError as e:
            check_records(e)
            outs.append(("hang", e))
    (k1, a), (k2, b) = outs
    assert k1 == k2, (outs, src)
    if k1 == "ok":
        assert int(a) == int(b)
        return None
    d = record_diffs(a, b)
    assert not d, "\n".join(d) + "\n" + src
    return a, b


# ---------------------------------------------------------------------------------------------
# fixed cases with their records spelled out
def test_the_deadlock_example():
    core, _ = hang_both(open_deadlock(), (2, 1))
    line = core.waits[0].line
    assert line is not None and line.endswith(":23:5")      # the mov32 inside the macro
    assert core.waits == [
        E.Wait(pe=(0, 0), kind="fabin", color=1, task=0, task_name="main", pc=2, line=line,
               waits_on=((1, 0),), deadlock=True),
        E.Wait(pe=(1, 0), kind="fabin", color=2, task=0, task_name="main", pc=2, line=line,
               waits_on=((0, 0),), deadlock=True)]
    assert core.deadlock == [(0, 0), (1, 0)] and core.waits_truncated is False
    assert str(core.waits[0]) == "PE (0,0) waits for color 1 from PE (1,0)"




def test_a_send_into_a_pe_at_rest():
    core, _ = hang_both(SEND_INTO_A_PE_AT_REST, (2, 1))
    [w] = core.waits
    assert (w.kind, w.color, w.task, w.task_name, w.pc, w.line) == ("send", 5, 0, "main", 2, "<string>:8:5")
    assert w.waits_on == ((1, 0),) and w.at_rest == ((1, 0),) and not w.deadlock
    assert core.deadlock == []


ASYNC_AND_DEAD_ENDS = """.fabric 3, 1
.program l
    .route 1, west -> ramp
    .route 2, north -> ramp
    .dsd in1, fabin, color=1, len=1
    .dsd in2, fabin, color=2, len=1
    .dsd slot, mem1d, base=got, len=1
    .task main, local, start
main:
    ldsd d0, slot
    ldsd a0, in1
    mov32 d0, a0 async ut3
    ldsd a1, in2
    mov32 d0, a1
    exit
    .data
got: .u32 0
.endprogram
.place l, 1, 0
"""


def test_a_microthread_and_dead_ends():
    """ut3 waits for color 1 from the west, where PE (0,0) has no program; the main thread for
    color 2 from the north, off the fabric."""
    core, _ = hang_both(ASYNC_AND_DEAD_ENDS, (3, 1))
    main, ut = sorted(core.waits, key=lambda w: w.microthread is not None)
    assert (ut.microthread, ut.kind, ut.color, ut.task_name, ut.pc) == (3, "fabin", 1, "main", 2)
    assert ut.dead_ends == (E.DeadEnd((0, 0), "no_program"),) and ut.waits_on == ()
    assert (main.microthread, main.color, main.pc) == (None, 2, 4)
    assert main.dead_ends == (E.DeadEnd((1, 0), "edge"),)
    # the main thread's wait comes first (as the report lists them)
    assert core.waits[0] is main or core.waits[0] == main
    assert core.deadlock == [] and not any(w.deadlock for w in core.waits)


def test_records_are_those_of_the_last_run():
    """A run that hangs leaves its waits; loading again drops them (the core's wse_waits says
    so, and the next HangError is built from the next hang)."""
    fab = Fabric(2, 1, "wse2")
    fab.load(assemble_quietly(SEND_INTO_A_PE_AT_REST))
    with pytest.raises(HangError) as e:
        fab.run()
    info = ffi.new("wse_waits_info *")
    assert lib.wse_waits(fab._f, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_OK
    assert (info.hang, info.status, info.truncated, info.n_waits, info.n_ends, info.n_cycle) == (1, 0, 0, 1, 1, 0)
    assert len(e.value.waits) == 1
    fab.load(assemble_quietly(SEND_INTO_A_PE_AT_REST))
    assert lib.wse_waits(fab._f, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_OK
    assert (info.hang, info.n_waits, info.n_ends) == (0, 0, 0)
    fab.run_until(3)        # a run that does not hang: still none
    assert lib.wse_waits(fab._f, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_OK
    assert (info.hang, info.n_waits) == (0, 0)


def test_wse_waits_checks_its_arguments():
    fab = Fabric(2, 1, "wse2")
    fab.load(assemble_text(open_deadlock()))
    with pytest.raises(HangError):
        fab.run()
    f = fab._f
    info = ffi.new("wse_waits_info *")
    assert lib.wse_waits(ffi.NULL, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_BAD_ARG
    assert lib.wse_waits(f, ffi.NULL, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_BAD_ARG
    assert "null info" in fab._msg()
    # a NULL buffer with a capacity, and buffers too small for what the hang has
    assert lib.wse_waits(f, info, ffi.NULL, 2, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_BAD_ARG
    assert "null buffer" in fab._msg()
    ws, es, cs = ffi.new("wse_wait[2]"), ffi.new("wse_wait_end[2]"), ffi.new("wse_wait_end[2]")
    assert lib.wse_waits(f, info, ws, 1, es, 2, cs, 2) == lib.WSE_BAD_ARG
    assert fab._msg() == "wse_waits: room for 1 waits, the hang has 2"
    assert lib.wse_waits(f, info, ws, 2, es, 1, cs, 2) == lib.WSE_BAD_ARG
    assert lib.wse_waits(f, info, ws, 2, es, 2, cs, 1) == lib.WSE_BAD_ARG
    # exactly enough room: filled
    assert lib.wse_waits(f, info, ws, 2, es, 2, cs, 2) == lib.WSE_OK
    assert (info.n_waits, info.n_ends, info.n_cycle) == (2, 2, 2)
    assert [(w.x, w.y, w.kind, w.color, w.deadlock, w.first_target, w.n_targets) for w in ws] == [
        (0, 0, lib.WSE_WAIT_FABIN, 1, 1, 0, 1), (1, 0, lib.WSE_WAIT_FABIN, 2, 1, 1, 1)]
    assert [(e.x, e.y, e.what) for e in es] == [(1, 0, 0), (0, 0, 0)]
    # the cycle's PEs, each with the index of its wait on the next
    assert [(c.x, c.y, c.what) for c in cs] == [(0, 0, 0), (1, 0, 1)]
    assert lib.WSE_WAIT_MAX == E.WAIT_MAX and lib.WSE_WAIT_TARGETS == E.WAIT_TARGETS


def open_deadlock() -> str:
    from pathlib import Path
    return (Path(__file__).resolve().parents[2] / "kernels/examples/deadlock.s").read_text()


# a program body that reads one wavelet of color 1 into `got` (the route is the caller's)
READ_ONE = """    .dsd inbox, fabin, color=1, len=1
    .dsd slot, mem1d, base=got, len=1
    .task main, local, start
main:
    ldsd d0, slot
    ldsd a0, inbox
    mov32 d0, a0
    exit
    .data
got: .u32 0
"""


def _starved_grid(w: int, h: int) -> str:
    """Every PE of a w x h fabric reads color 1 from the west and nobody sends: w*h waits,
    each with its dead end (the west neighbour's route does not send color 1 east)."""
    return f""".fabric {w}, {h}
.program s
    .route 1, west -> ramp
{READ_ONE}.endprogram
.place s, 0, 0, {w}, {h}
"""


def test_more_waits_than_the_report_shows():
    core, _ = hang_both(_starved_grid(5, 4), (5, 4))
    assert len(core.waits) == 20 and not core.waits_truncated
    assert section(core.report)[-1] == "  ... and 4 more waits"
    assert core.waits[0].dead_ends == (E.DeadEnd((0, 0), "edge"),)
    assert core.waits[1].dead_ends == (E.DeadEnd((0, 0), "not_toward"),)
    assert [w.pe for w in core.waits] == [(x, y) for y in range(4) for x in range(5)]


def test_more_waits_than_are_analysed():
    """4160 PEs wait: the first WAIT_MAX are analysed, and the report and the records say so
    (the C core alone: the reference takes minutes on a fabric this size)."""
    fab = Fabric(65, 64, "wse2")
    fab.load(assemble_text(_starved_grid(65, 64)))
    with pytest.raises(HangError) as e:
        fab.run()
    check_records(e.value)
    assert len(e.value.waits) == E.WAIT_MAX and e.value.waits_truncated
    assert section(e.value.report)[-2:] == [f"  ... and {E.WAIT_MAX - E.WAIT_SHOW} more waits",
                                            f"  (only the first {E.WAIT_MAX} waits were analysed)"]
    assert e.value.waits[-1].pe == ((E.WAIT_MAX - 1) % 65, (E.WAIT_MAX - 1) // 65)


# ---------------------------------------------------------------------------------------------
# generated chains and rings
@given(chains())
def test_generated_chains_give_equal_records_on_both_emulators(chain):
    w, h, path, closed, roles, head_from, counts, fillers = chain
    src = chain_program(w, h, path, closed, roles, head_from, counts, fillers)
    got = hang_both(src, (w, h))         # records compared field by field, text from records
    if got is None:
        return
    core, _ = got
    ces = {p for p, r in zip(path, roles) if r != "pass"} | {path[0]}
    for wt in core.waits:
        assert wt.pe in ces, (wt, src)
        assert wt.task == 0 and wt.task_name == "main" and wt.line and wt.line.startswith("<string>:")
        assert all(t in ces or t in fillers for t in wt.waits_on), (wt, src)
        assert set(wt.at_rest) >= {t for t in wt.waits_on if t in fillers}   # they only exit


@given(n=st.integers(1, 6), passes=st.sets(st.integers(2, 11), max_size=4), fabout=st.booleans())
def test_a_ring_where_every_pe_receives_first_deadlocks_whole(n, passes, fabout):
    """A ring on an n x 2 fabric, every CE receiving before it sends: the deadlock is the ring
    of its CEs, against the ring's direction from its first, every wait is one of its edges and
    waits on the CE before it (the pass-through PEs between are skipped)."""
    ring = [(x, 0) for x in range(n)] + [(x, 1) for x in reversed(range(n))]
    roles = [("rs", "sync", "fabout" if fabout else "send") if i < 2 or i not in passes else "pass"
             for i in range(len(ring))]
    src = chain_program(n, 2, ring, True, roles, None, [1] * len(ring))
    core, _ = hang_both(src, (n, 2))
    ces = [p for p, r in zip(ring, roles) if r != "pass"]
    assert [w.pe for w in core.waits] == sorted(ces, key=lambda p: (p[1], p[0]))   # row-major
    prev = {p: ces[i - 1] for i, p in enumerate(ces)}
    for w in core.waits:
        assert w.kind == "fabin" and w.waits_on == (prev[w.pe],) and w.deadlock
        assert w.microthread is None and w.at_rest == () and w.dead_ends == ()
    start = min(ces, key=lambda p: (p[1], p[0]))
    i = ces.index(start)
    assert core.deadlock == [start] + [ces[(i - k) % len(ces)] for k in range(1, len(ces))]


@pytest.mark.parametrize("route, reason, words", [
    ("    .route 1, west -> east\n", "no_ramp",
     "its route for color 1 does not deliver to its CE (no ramp among its outputs)"),
    ("", "no_route", "it has no route for color 1"),
])
def test_a_pe_whose_own_route_cannot_feed_it(route, reason, words):
    src = route + READ_ONE
    core, _ = hang_both(src, (1, 1))
    [w] = core.waits
    assert w.dead_ends == (E.DeadEnd((0, 0), reason),) and w.waits_on == ()
    assert str(w) == f"PE (0,0) waits for color 1, but no CE sends it there: {words}"


def test_a_hang_pickles_whole():
    """A sweep that runs fabrics in worker processes gets the HangError back with its records
    (it raised TypeError in the parent before: the exception could not be rebuilt)."""
    import pickle
    core, ref = hang_both(open_deadlock(), (2, 1))
    for e in (core, ref):
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is HangError and str(back) == str(e)
        fields = ("cycle", "waits", "deadlock", "waits_truncated", "waits_out_of_memory", "deadlock_out_of_memory")
        assert [getattr(back, k) for k in fields] == [getattr(e, k) for k in fields]
        assert (e.waits_out_of_memory, e.deadlock_out_of_memory) == (False, False)


@pytest.mark.parametrize("step", ["_wait_threads", "_wait_cycle", "_wait_objects"])
def test_the_reference_out_of_host_memory_in_the_analysis(monkeypatch, step):
    """The reference's analysis is Python: a MemoryError in one of its steps (raised on purpose
    here) gives what the C core gives when its allocations fail (test_core_nomem.py makes those
    fail for real): the records say what was lost, the report has the core's note, and the
    error pickles with those fields. Host memory that runs out in the cycle search leaves the
    waits; anywhere else, no waits."""
    def out_of_memory(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(ReferenceFabric, step, out_of_memory)
    fab = ReferenceFabric(2, 1, "wse2")
    fab.load(assemble_text(open_deadlock()))
    with pytest.raises(HangError) as info:
        fab.run()
    e = info.value
    check_records(e)
    if step == "_wait_cycle":
        assert [str(w) for w in e.waits] == ["PE (0,0) waits for color 1 from PE (1,0)",
                                             "PE (1,0) waits for color 2 from PE (0,0)"]
        assert e.deadlock == [] and not any(w.deadlock for w in e.waits)
        assert (e.waits_out_of_memory, e.deadlock_out_of_memory) == (False, True)
        assert section(e.report)[-1] == E.NO_MEMORY_FOR_DEADLOCK == "(not enough host memory to look for a cycle of waits)"
    else:
        assert e.waits == [] and e.deadlock == []
        assert (e.waits_out_of_memory, e.deadlock_out_of_memory) == (True, True)
        assert section(e.report) == [E.NO_MEMORY_FOR_WAITS] == ["(not enough host memory to work out who waits on whom)"]
    import pickle
    back = pickle.loads(pickle.dumps(e))
    assert (back.waits, back.deadlock, back.waits_out_of_memory, back.deadlock_out_of_memory) == \
           (e.waits, e.deadlock, e.waits_out_of_memory, e.deadlock_out_of_memory)


def test_format_waits_prints_the_out_of_memory_notes():
    w = E.Wait(pe=(0, 0), kind="fabin", color=1, waits_on=((1, 0),))
    assert E.format_waits([w], [], False, True, True) == [E.NO_MEMORY_FOR_WAITS]
    assert E.format_waits([w], [], False, False, True) == [
        "who waits on whom (along the routes of the colors):", "  PE (0,0) waits for color 1 from PE (1,0)",
        E.NO_MEMORY_FOR_DEADLOCK]
    assert E.format_waits([w]) == E.format_waits([w], [], False, False, False)
    assert E.NO_MEMORY_FOR_DEADLOCK not in E.format_waits([w])
    # a HangError built with waits_out_of_memory alone has lost the cycle too
    e = HangError(5, "r", waits_out_of_memory=True)
    assert e.deadlock_out_of_memory and not HangError(5, "r").deadlock_out_of_memory


def test_a_wait_that_a_ce_feeds_has_no_dead_ends():
    """PE (0,0)'s route for color 1 takes it from its CE and from off the fabric: PE (1,0)'s
    wait has a CE to wait on, so the edge is no dead end. Both emulators listed it among
    dead_ends too, which wse.h (wse_wait) and Wait say only a wait that no CE can feed has
    (check_records failed on it)."""
    src = _feeders(1)
    core, _ = hang_both(src, (2, 1))
    [w] = core.waits
    assert w.waits_on == ((0, 0),) and w.at_rest == ((0, 0),) and w.dead_ends == ()
    info = ffi.new("wse_waits_info *")
    fab = Fabric(2, 1, "wse2")
    fab.load(assemble_quietly(src))
    with pytest.raises(HangError):
        fab.run()
    assert lib.wse_waits(fab._f, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_OK
    assert (info.n_waits, info.n_ends) == (1, 1)          # the target, and no dead end


# ---------------------------------------------------------------------------------------------
# the rarer lines of the section: a route that leads to no CE, and the 64 targets a wait keeps

# Color 5 goes round a ring of routes, PE (0,0) -> (1,0) -> (1,1) -> (0,1) -> (0,0), whose only
# RAMP is PE (0,0)'s input: its CE sends into the ring, and no route of the ring delivers to a
# CE. The wavelets circle until every router buffer of the ring is full; then nothing moves,
# and the sender waits for room with nobody downstream to drain it. (A send on a color without
# a route, or whose route's TX is empty or leaves for a PE without a program, is a fault
# instead; a TX off the fabric goes to the host, which always drains: a ring is the way to
# reach this line.)
RING_WITHOUT_A_CE = """.fabric 2, 2
.program a
    .route 5, ramp | south -> east
{body}.endprogram
.program b
    .route 5, west -> south
.endprogram
.program c
    .route 5, north -> west
.endprogram
.program d
    .route 5, east -> north
.endprogram
.place a, 0, 0
.place b, 1, 0
.place c, 1, 1
.place d, 0, 1
"""
SEND_40 = send_loop()
FABOUT_40_ON_UT2 = """    .dsd outbox, fabout, color=5, len=40
    .dsd buf, mem1d, base=data, len=40
    .task main, local, start
main:
    ldsd d1, outbox
    ldsd a1, buf
    mov32 d1, a1 async ut2
    exit
    .data
data: .zero 80
"""


@pytest.mark.parametrize("body, kind, ut, pc, who", [
    (SEND_40, "send", None, 2, "PE (0,0)"),
    (FABOUT_40_ON_UT2, "fabout", 2, 2, "PE (0,0) ut2"),
])
def test_a_route_that_leads_to_no_ce(body, kind, ut, pc, who):
    core, ref = hang_both(RING_WITHOUT_A_CE.format(body=body), (2, 2))
    [w] = core.waits
    assert (w.pe, w.kind, w.color, w.microthread, w.task_name, w.pc) == ((0, 0), kind, 5, ut, "main", pc)
    assert w.waits_on == () and w.at_rest == () and w.dead_ends == () and not w.deadlock
    line = f"{who} waits to send color 5, but its route leads to no CE"
    assert str(w) == line
    for e in (core, ref):
        assert section(e.report) == ["who waits on whom (along the routes of the colors):", "  " + line]
        # the ring is full: each of its routers holds wavelets it cannot pass on
        assert e.report.count("buffer full") >= 4


def _feeders(n: int) -> str:
    """PEs (0,0) .. (n-1,0) feed color 1 east along one route (each takes it from its CE and
    from the west), and PE (n,0) waits for it; none of the feeders sends."""
    return f""".fabric {n + 1}, 1
.program f
    .route 1, ramp | west -> east
    .task main, local, start
main:
    exit
.endprogram
.program w
    .route 1, west -> ramp
{READ_ONE}.endprogram
.place f, 0, 0, {n}, 1
.place w, {n}, 0
"""


def _multicast(n: int, rows: int = 1) -> str:
    """PE (0,y) sends color 2 east, and the route delivers it to each of the n PEs after it
    (west -> ramp | east); none of them reads, so the queues fill back to the sender. With
    rows > 1 the same on each of `rows` rows: one wait per row, on n CEs."""
    return f""".fabric {n + 1}, {rows}
.program s
    .route 2, ramp -> east
{send_loop(2, 100)}.endprogram
.program r
    .route 2, west -> ramp | east
    .task main, local, start
main:
    exit
.endprogram
.program last
    .route 2, west -> ramp
    .task main, local, start
main:
    exit
.endprogram
.place s, 0, 0, 1, {rows}
.place r, 1, 0, {n - 1}, {rows}
.place last, {n}, 0, 1, {rows}
"""


@pytest.mark.parametrize("n", [E.WAIT_TARGETS, E.WAIT_TARGETS + 1])
@pytest.mark.parametrize("program, kind", [(_feeders, "fabin"), (_multicast, "send")])
def test_a_wait_keeps_at_most_64_targets_the_nearest_along_the_route(program, kind, n):
    """64 CEs at the other end are all kept; of 65, the farthest along the route is dropped
    (the walk is breadth-first from the waiting PE), on both emulators."""
    core, _ = hang_both(program(n), (n + 1, 1))
    [w] = core.waits
    assert w.kind == kind and w.dead_ends == ()
    if kind == "fabin":       # PE (n,0) waits on the feeders (0,0) .. (n-1,0), nearest first
        want = [(x, 0) for x in range(n - E.WAIT_TARGETS, n)]
        assert w.pe == (n, 0)
    else:                     # PE (0,0) waits on the receivers (1,0) .. (n,0)
        want = [(x, 0) for x in range(1, E.WAIT_TARGETS + 1)]
        assert w.pe == (0, 0)
    assert list(w.waits_on) == want and len(w.waits_on) == E.WAIT_TARGETS
    assert w.at_rest == w.waits_on                      # none of them runs anything
    [text] = section(core.report)[1:]
    named = [tuple(map(int, m)) for m in re.findall(r"PE \((\d+),(\d+)\)", text)]
    assert named == [w.pe] + want + want          # the waiter, its targets, a note for each
