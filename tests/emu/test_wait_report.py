"""Hang reports say who waits on whom (csrc/wse_core.c wait_analyse and wait_print,
emu/reference.py wait_records with wse.emu.errors.format_waits): each CE thread stuck on the
fabric, the PEs at the other end of its color's routes (through pass-through PEs), which of
those have nothing running, where a color's path ends without a sender, and the first cycle of
waits, the deadlock itself. Before, a deadlock report listed each PE's wait on its own and left
the reader to match colors to routes.

Every case runs on both emulators, and their "who waits on whom" sections must be equal line
for line, as must the records the sections are printed from (HangError.waits, field by
field)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from wse.asm import assemble_text
from wse.emu import Fabric, HangError
from wse.emu.reference import ReferenceFabric

from helpers import check_records, record_diffs, send_loop

RECV = """    .dsd inbox{c}, fabin, color={c}, len=1
    .dsd slot{c}, mem1d, base=got, len=1
"""


def waits(src: str, grid: tuple[int, int]) -> list[str]:
    """The wait section of the hang report, the same from both emulators, whose records
    (HangError.waits, .deadlock) are equal field by field and print as that section."""
    data = assemble_text(src)
    out, errs = [], []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(*grid, "wse2")
        fab.load(data)
        with pytest.raises(HangError) as e:
            fab.run(max_cycles=10**5)
        text = str(e.value)
        out.append(text[text.index("who waits on whom"):].rstrip("\n").splitlines()
                   if "who waits on whom" in text else [])
        check_records(e.value)
        errs.append(e.value)
    assert out[0] == out[1], f"core:\n{out[0]}\nreference:\n{out[1]}"
    diffs = record_diffs(*errs)
    assert not diffs, "\n".join(diffs)
    return out[0]


def prog(name, routes, body, extra=""):
    return f""".program {name}
{routes}
    .task main, local, start
{extra}main:
{body}
    .data
got: .u32 0
.endprogram
"""


def receive(c):
    return f"""    ldsd d0, slot{c}
    ldsd a0, inbox{c}
    mov32 d0, a0"""


def test_two_pes_receiving_first():
    src = ".fabric 2, 1\n" + prog("l", "    .route 1, east -> ramp\n    .route 2, ramp -> east", receive(1) + "\n    send 2, r0\n    exit", RECV.format(c=1)) \
        + prog("r", "    .route 2, west -> ramp\n    .route 1, ramp -> west", receive(2) + "\n    send 1, r0\n    exit", RECV.format(c=2)) \
        + ".place l, 0, 0\n.place r, 1, 0\n"
    assert waits(src, (2, 1)) == [
        "who waits on whom (along the routes of the colors):",
        "  PE (0,0) waits for color 1 from PE (1,0)",
        "  PE (1,0) waits for color 2 from PE (0,0)",
        "  a cycle of waits: PE (0,0) -> PE (1,0) -> PE (0,0): each waits for the next, so none of them can go on (a deadlock)"]


def test_through_a_pass_through_pe():
    """PE (1,0) only forwards both colors: the waits name the CEs at the ends, not it."""
    src = ".fabric 3, 1\n" \
        + prog("l", "    .route 1, east -> ramp\n    .route 2, ramp -> east", receive(1) + "\n    send 2, r0\n    exit", RECV.format(c=1)) \
        + """.program mid
    .route 1, east -> west
    .route 2, west -> east
.endprogram
""" + prog("r", "    .route 2, west -> ramp\n    .route 1, ramp -> west", receive(2) + "\n    send 1, r0\n    exit", RECV.format(c=2)) \
        + ".place l, 0, 0\n.place mid, 1, 0\n.place r, 2, 0\n"
    assert waits(src, (3, 1))[1:] == [
        "  PE (0,0) waits for color 1 from PE (2,0)",
        "  PE (2,0) waits for color 2 from PE (0,0)",
        "  a cycle of waits: PE (0,0) -> PE (2,0) -> PE (0,0): each waits for the next, so none of them can go on (a deadlock)"]


def test_the_sender_has_finished():
    src = ".fabric 2, 1\n" + prog("l", "    .route 1, east -> ramp", receive(1) + "\n    exit", RECV.format(c=1)) \
        + prog("r", "    .route 1, ramp -> west", "    exit") + ".place l, 0, 0\n.place r, 1, 0\n"
    assert waits(src, (2, 1))[1:] == [
        "  PE (0,0) waits for color 1 from PE (1,0); nothing is running or activated on PE (1,0)"]


@pytest.mark.parametrize("grid, routes_far, words", [
    # the color comes in from the fabric's edge: only the host could send it
    ((1, 1), None, "PE (0,0)'s route takes it from outside the fabric (only the host can send it)"),
    # the neighbour's route sends it elsewhere
    ((2, 1), "    .route 1, ramp -> north", "PE (1,0)'s route for color 1 does not send it on that way"),
    # the neighbour has no program
    ((2, 1), "", "PE (1,0) has no program"),
])
def test_no_sender_on_the_path(grid, routes_far, words):
    route = "    .route 1, west -> ramp" if grid == (1, 1) else "    .route 1, east -> ramp"
    src = f".fabric {grid[0]}, {grid[1]}\n" + prog("l", route, receive(1) + "\n    exit", RECV.format(c=1)) + ".place l, 0, 0\n"
    if routes_far:
        src += prog("r", routes_far, "    exit") + ".place r, 1, 0\n"
    assert waits(src, grid)[1:] == [f"  PE (0,0) waits for color 1, but no CE sends it there: {words}"]


def test_a_send_into_a_pe_that_never_reads():
    src = """.fabric 2, 1
.program a
    .route 5, ramp -> east
""" + send_loop() + """.endprogram
.program b
    .route 5, west -> ramp
    .task idle, local, blocked
idle:
    unblock idle
    exit
.endprogram
.place a, 0, 0
.place b, 1, 0
"""
    assert waits(src, (2, 1))[1:] == [
        "  PE (0,0) waits to send color 5 to PE (1,0); nothing is running or activated on PE (1,0)"]


def test_a_pe_that_sends_to_itself_while_its_reader_cannot_run():
    """The main task sends to its own RAMP; the data task that would drain the queue cannot run
    while main runs: the PE waits for itself."""
    src = """    .route 3, ramp -> ramp
    .task main, local, start
    .task take, data, color=3
main:
    li r2, 40
again:
    send 3, r2
    addi r2, r2, -1
    bne r2, r0, again
    exit
take:
    exit
"""
    assert waits(src, (1, 1))[1:] == [
        "  PE (0,0) waits to send color 3 to PE (0,0)",
        "  a cycle of waits: PE (0,0) -> PE (0,0): it waits for itself, so it cannot go on (a deadlock)"]


def test_a_microthread_waits():
    """An async receive on ut2 waits for PE (1,0), which waits for PE (0,0) in its main task."""
    src = """.fabric 2, 1
.program l
    .route 1, east -> ramp
    .route 2, ramp -> east
    .dsd inbox, fabin, color=1, len=1
    .dsd slot, mem1d, base=got, len=1
    .task main, local, start
main:
    ldsd d0, slot
    ldsd a0, inbox
    mov32 d0, a0 async ut2
    exit
    .data
got: .u32 0
.endprogram
""" + prog("r", "    .route 2, west -> ramp\n    .route 1, ramp -> west", receive(2) + "\n    send 1, r0\n    exit", RECV.format(c=2)) \
        + ".place l, 0, 0\n.place r, 1, 0\n"
    assert waits(src, (2, 1))[1:] == [
        "  PE (0,0) ut2 waits for color 1 from PE (1,0)",
        "  PE (1,0) waits for color 2 from PE (0,0)",
        "  a cycle of waits: PE (0,0) -> PE (1,0) -> PE (0,0): each waits for the next, so none of them can go on (a deadlock)"]


def _ring(n: int, starters: set[int]) -> tuple[str, list[tuple[int, int]]]:
    """A ring of 2n PEs on an n x 2 fabric, clockwise from (0,0) along row 0 and back along
    row 1. Each PE receives one wavelet from its predecessor and sends one to its successor; a
    starter sends first. The link into ring PE i uses color i % 2 (+1)."""
    ring = [(x, 0) for x in range(n)] + [(x, 1) for x in reversed(range(n))]
    dirs = {(1, 0): "east", (-1, 0): "west", (0, 1): "south", (0, -1): "north"}
    opp = {"east": "west", "west": "east", "north": "south", "south": "north"}
    src = f".fabric {n}, 2\n"
    for i, (x, y) in enumerate(ring):
        nx, ny = ring[(i + 1) % len(ring)]
        px, py = ring[i - 1]
        cin, cout = 1 + i % 2, 1 + (i + 1) % 2
        to = dirs[(nx - x, ny - y)]
        frm = opp[dirs[(x - px, y - py)]]
        routes = f"    .route {cin}, {frm} -> ramp\n    .route {cout}, ramp -> {to}"
        body = (f"    send {cout}, r0\n" + receive(cin) + "\n    exit") if i in starters \
            else (receive(cin) + f"\n    send {cout}, r0\n    exit")
        src += prog(f"p{i}", routes, body, RECV.format(c=cin)) + f".place p{i}, {x}, {y}\n"
    return src, ring


@given(n=st.integers(1, 6), data=st.data())
def test_a_ring_deadlocks_exactly_when_no_pe_sends_first(n, data):
    """The cycle named is the whole ring (each PE waits for its predecessor, so from (0,0) it runs
    against the ring's direction); with one starter or more the ring completes."""
    starters = data.draw(st.sets(st.integers(0, 2 * n - 1), max_size=2))
    src, ring = _ring(n, starters)
    if starters:
        for cls in (Fabric, ReferenceFabric):
            fab = cls(n, 2, "wse2")
            fab.load(assemble_text(src))
            fab.run(max_cycles=10**5)          # completes: no HangError
        return
    lines = waits(src, (n, 2))
    # each PE waits for its predecessor: the cycle runs against the ring, from (0,0)
    order = [ring[0]] + ring[:0:-1]
    assert lines[1:1 + min(2 * n, 16)] == [
        f"  PE ({x},{y}) waits for color {1 + i % 2} from PE ({ring[i - 1][0]},{ring[i - 1][1]})"
        for i, (x, y) in sorted(enumerate(ring), key=lambda e: (e[1][1], e[1][0]))][:16]
    cycle = " -> ".join(f"PE ({x},{y})" for x, y in order + [order[0]])
    assert lines[-1] == f"  a cycle of waits: {cycle}: each waits for the next, so none of them can go on (a deadlock)"
