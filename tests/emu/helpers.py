"""Program-building helpers for the C core's tests (no assembler: wse.isa.builder), and the
checks of a HangError's wait records that several test files share."""
import dataclasses

import numpy as np
import pytest
from hypothesis import strategies as st

from wse.emu import Fabric, HangError
from wse.emu import errors as WE
from wse.isa import objfile
from wse.isa.builder import ImageBuilder

N, E, S, W, R = 1, 2, 4, 8, 16


def li(b, r, v):
    v &= 0xFFFFFFFF
    b.emit("lui", r1=r, uimm16=v >> 16)
    b.emit("ori", r1=r, r2=r, uimm16=v & 0xFFFF)


def fbits(x):
    return int(np.float32(x).view(np.uint32))


def hbits(x):
    return int(np.float16(x).view(np.uint16))


def obj_bytes(images, w=None, h=None, arch="wse2"):
    w = w or max(x for x, _ in images) + 1
    h = h or max(y for _, y in images) + 1
    return objfile.ObjectFile.from_pe_images(arch, w, h, images).to_bytes()


def make(images, w=None, h=None, arch="wse2", cls=Fabric):
    data = obj_bytes(images, w, h, arch)
    w = w or max(x for x, _ in images) + 1
    h = h or max(y for _, y in images) + 1
    f = cls(w, h, arch)
    f.load(data)
    return f


def single(build, arch="wse2", cls=Fabric, setup=None):
    """A 1x1 fabric running one activated task whose body `build(b)` emits (exit appended)."""
    b = ImageBuilder("t")
    if setup:
        setup(b)
    b.label("main")
    build(b)
    b.emit("exit")
    b.task(0, "main", activated=True)
    img = b.build()
    return make({(0, 0): img}, arch=arch, cls=cls), b


def regs_after(build, cls=Fabric):
    """The registers of PE (0, 0) after `single(build)` ran to the end."""
    f, _ = single(build, cls=cls)
    f.run()
    return f.pe_state(0, 0)["regs"]


def binop(mn, a, b, cls=Fabric):
    """r3 = mn(a, b) on a 1x1 fabric of class cls."""
    def body(bb):
        li(bb, 1, a)
        li(bb, 2, b)
        bb.emit(mn, r1=3, r2=1, r3=2)
    return regs_after(body, cls)[3]


# ---- wait records (HangError.waits) ----
def record_diffs(core: HangError, ref: HangError) -> list[str]:
    """Where the two emulators' records differ, field by field (empty: equal)."""
    out = []
    if len(core.waits) != len(ref.waits):
        out.append(f"{len(core.waits)} waits in the core, {len(ref.waits)} in the reference")
    for i, (a, b) in enumerate(zip(core.waits, ref.waits)):
        for fld in dataclasses.fields(WE.Wait):
            va, vb = getattr(a, fld.name), getattr(b, fld.name)
            if va != vb:
                out.append(f"waits[{i}].{fld.name}: core {va!r}, reference {vb!r}")
    for name in ("deadlock", "waits_truncated", "waits_out_of_memory", "deadlock_out_of_memory", "cycle"):
        if getattr(core, name) != getattr(ref, name):
            out.append(f"{name}: core {getattr(core, name)!r}, reference {getattr(ref, name)!r}")
    if hasattr(core, "report") and hasattr(ref, "report"):
        out += report_diffs(core.report, ref.report)
    return out


def report_diffs(core: str, ref: str) -> list[str]:
    """Where the two emulators' hang reports differ, as a diff of their lines (empty: equal).
    The whole text is compared: the state of each PE (task, pc, instruction, source, registers,
    ops, tasks, colors, host) and who waits on whom; both emulators describe the same state in
    the same words."""
    if core == ref:
        return []
    import difflib
    return ["the reports differ (- core, + reference):"] + list(
        difflib.unified_diff(core.splitlines(), ref.splitlines(), "core", "reference", lineterm=""))


def section(report: str) -> list[str]:
    """The report's lines from "who waits on whom" (or from the out-of-memory note) on."""
    lines = report.rstrip("\n").splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("who waits on whom") or ln.startswith("(not enough host memory"):
            return lines[i:]
    return []


def check_records(e: HangError) -> None:
    """What holds of any HangError's records."""
    assert section(e.report) == WE.format_waits(e.waits, e.deadlock, e.waits_truncated, e.waits_out_of_memory,
                                                e.deadlock_out_of_memory)
    assert not (e.waits_out_of_memory and (e.waits or e.deadlock)) and not (e.deadlock_out_of_memory and e.deadlock)
    assert e.deadlock_out_of_memory or not e.waits_out_of_memory
    for w in e.waits:
        assert isinstance(w, WE.Wait) and w.kind in WE.WAIT_KINDS
        assert set(w.at_rest) <= set(w.waits_on)
        assert list(w.waits_on) == sorted(w.waits_on, key=lambda p: (p[1], p[0]))   # row-major
        assert len(w.waits_on) <= WE.WAIT_TARGETS
        assert not (w.waits_on and w.dead_ends) and not (w.kind != "fabin" and w.dead_ends)
        assert all(d.reason in WE.DEAD_END_REASONS for d in w.dead_ends)
        assert (w.task is None) == (w.pc is None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            w.color = 0
    # a wait is an edge of the deadlock exactly when its PE is in the cycle and it waits on the
    # next PE of the cycle
    cyc = e.deadlock
    nxt = {p: cyc[(i + 1) % len(cyc)] for i, p in enumerate(cyc)}
    for w in e.waits:
        assert w.deadlock == (w.pe in nxt and nxt[w.pe] in w.waits_on), w
    for p in cyc:
        assert any(w.pe == p and w.deadlock for w in e.waits), p


# ---- chains of PEs that wait on each other (wait records, differential tests) ----
def send_loop(color: int = 5, n: int = 40) -> str:
    """A task `main` (started at load) that sends n, n-1, .., 1 on `color` and exits."""
    return f"""    .task main, local, start
main:
    li r2, {n}
again:
    send {color}, r2
    addi r2, r2, -1
    bne r2, r0, again
    exit
"""


# PE (0,0) sends 40 wavelets East to PE (1,0), whose only task is blocked and never reads them:
# the send waits on a full queue, and the receiver is at rest (test_hang_report, test_wait_records)
SEND_INTO_A_PE_AT_REST = """.fabric 2, 1
.program a
    .route 5, ramp -> east
""" + send_loop() + """.endprogram
.program b
    .route 5, west -> ramp
    .task idle, local, blocked
idle:
    exit
.endprogram
.place a, 0, 0
.place b, 1, 0
"""


def assemble_quietly(src: str, arch=None, filename: str = "<string>") -> bytes:
    """assemble_text without the assembler's lints: these programs route colors toward PEs
    without a program and leave tasks blocked on purpose."""
    import warnings

    from wse.asm import AssemblyWarning, assemble_text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        return assemble_text(src, arch=arch, filename=filename)


def run_to_fault(cls, obj, grid=(1, 1), act=None, max_cycles=100_000):
    """Load obj on a wse2 fabric of cls (Fabric or ReferenceFabric), call act(fab) if given,
    run: it must fault. Returns (the FaultError, the fabric)."""
    import pytest

    from wse.emu import FaultError
    fab = cls(*grid, "wse2")
    fab.load(obj)
    if act:
        act(fab)
    with pytest.raises(FaultError) as e:
        fab.run(max_cycles=max_cycles)
    return e.value, fab


DIRS = {"east": (1, 0), "west": (-1, 0), "south": (0, 1), "north": (0, -1)}
OPP = {"east": "west", "west": "east", "north": "south", "south": "north"}


def chain_program(w, h, path, closed, roles, head_from, counts, fillers=None):
    """Assembly for a chain of PEs along `path` (adjacent PEs), closed into a ring or not.
    roles[i]: "pass" (routes only: forwards the color), or (order, recv, send) with order
    "rs" (receive, then send) or "sr", recv "sync" or "utN" (an async receive), send "send"
    (counts[i] wavelets by send) or "fabout" (a fabout op of counts[i] elements); each CE reads
    one wavelet. The first PE is a CE; in an open chain it reads from direction head_from (off
    the fabric, a PE without a program, or one that does not send toward it) and the last PE
    sends nowhere. A ring needs two CEs or more. fillers: {(x, y): (color, direction)} of PEs
    off the path given a program that only exits, with a route sending that color from its
    RAMP that way (a sender at rest, or a route that does not lead where a PE waits)."""
    n = len(path)
    ce = [i == 0 or r != "pass" for i, r in enumerate(roles)]
    assert not closed or sum(ce) >= 2
    # the color changes at each CE: the segment after the s-th CE carries 1 + s % 2; in a ring
    # the last segment (into the first PE) gets 3 when it would be the first one's color
    seg, in_seg, out_seg = 0, [], []
    for i in range(n):
        in_seg.append(seg)
        seg += ce[i]
        out_seg.append(seg)
    last = out_seg[-1]

    def color(s):
        return 3 if closed and s == last and last % 2 == 1 else 1 + s % 2
    if closed:
        in_seg[0] = last
    src = f".fabric {w}, {h}\n"
    for i, (x, y) in enumerate(path):
        out_dir = None
        if i + 1 < n or closed:
            nx, ny = path[(i + 1) % n]
            out_dir = next(d for d, v in DIRS.items() if v == (nx - x, ny - y))
        if i > 0 or closed:
            px, py = path[i - 1]
            frm = next(d for d, v in DIRS.items() if v == (px - x, py - y))
        else:
            frm = head_from
        cin, cout = color(in_seg[i]), color(out_seg[i])
        if not ce[i]:
            to = out_dir or "ramp"
            src += f".program p{i}\n    .route {cin}, {frm} -> {to}\n.endprogram\n.place p{i}, {x}, {y}\n"
            continue
        order, recv, send = roles[i] if roles[i] != "pass" else ("rs", "sync", "send")
        k = counts[i]
        decl = (f"    .route {cin}, {frm} -> ramp\n    .dsd inbox, fabin, color={cin}, len=1\n"
                f"    .dsd slot, mem1d, base=got, len=1\n")
        rcv = "    ldsd d0, slot\n    ldsd a0, inbox\n    mov32 d0, a0" + (f" async {recv}" if recv != "sync" else "") + "\n"
        snd = ""
        if out_dir:
            decl += f"    .route {cout}, ramp -> {out_dir}\n"
            if send == "send":
                snd = f"    li r2, {k}\nagain:\n    send {cout}, r2\n    addi r2, r2, -1\n    bne r2, r0, again\n"
            else:
                decl += (f"    .dsd outbox, fabout, color={cout}, len={k}\n"
                         f"    .dsd buf, mem1d, base=data, len={k}\n")
                snd = "    ldsd d1, outbox\n    ldsd a1, buf\n    mov32 d1, a1\n"
        body = rcv + snd if order == "rs" else snd + rcv
        src += (f".program p{i}\n{decl}    .task main, local, start\nmain:\n{body}    exit\n"
                f"    .data\ngot: .u32 0\ndata: .zero {2 * k}\n.endprogram\n.place p{i}, {x}, {y}\n")
    for j, ((x, y), (c, d)) in enumerate(sorted((fillers or {}).items())):
        src += (f".program f{j}\n    .route {c}, ramp -> {d}\n    .task main, local, start\nmain:\n"
                f"    exit\n.endprogram\n.place f{j}, {x}, {y}\n")
    return src


@st.composite
def chains(draw):
    w, h = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    closed = w * h >= 2 and draw(st.booleans())
    if closed:
        # the border of a sub-rectangle (two PEs side by side when it is one PE thick),
        # clockwise, from one of its PEs
        rw, rh = draw(st.integers(1, w)), draw(st.integers(1, h))
        if rw * rh == 1:
            rw, rh = (2, 1) if w >= 2 else (1, 2)
        x0, y0 = draw(st.integers(0, w - rw)), draw(st.integers(0, h - rh))
        if rw == 1 or rh == 1:
            border = [(x0, y0), (x0 + rw - 1, y0 + rh - 1)] if rw * rh == 2 else None
            if border is None:      # a line: go along it and not back
                closed = False
                path = [(x0 + i, y0) for i in range(rw)] if rh == 1 else [(x0, y0 + i) for i in range(rh)]
        else:
            border = ([(x0 + i, y0) for i in range(rw)] + [(x0 + rw - 1, y0 + j) for j in range(1, rh)]
                      + [(x0 + i, y0 + rh - 1) for i in range(rw - 2, -1, -1)]
                      + [(x0, y0 + j) for j in range(rh - 2, 0, -1)])
        if closed:
            k = draw(st.integers(0, len(border) - 1))
            path = border[k:] + border[:k]
    else:
        x, y = draw(st.integers(0, w - 1)), draw(st.integers(0, h - 1))
        path = [(x, y)]
        for d in draw(st.lists(st.sampled_from(sorted(DIRS)), max_size=8)):
            nx, ny = path[-1][0] + DIRS[d][0], path[-1][1] + DIRS[d][1]
            if 0 <= nx < w and 0 <= ny < h and (nx, ny) not in path:
                path.append((nx, ny))
    n = len(path)
    role = st.one_of(st.just("pass"), st.tuples(st.sampled_from(["rs", "sr"]),
                                                 st.sampled_from(["sync", "ut1", "ut6"]),
                                                 st.sampled_from(["send", "fabout"])))
    roles = [draw(role) for _ in range(n)]
    if roles[0] == "pass":
        roles[0] = ("rs", "sync", "send")
    if closed and all(r == "pass" for r in roles[1:]):
        roles[1] = ("rs", "sync", "send")       # a ring needs two CEs
    if not closed and n > 1 and roles[-1] == "pass":
        roles[-1] = ("rs", "sync", "send")
    head_from = draw(st.sampled_from(sorted(DIRS)))
    if n > 1 and not closed:
        nx, ny = path[1]
        out_dir = next(d for d, v in DIRS.items() if v == (nx - path[0][0], ny - path[0][1]))
        if head_from == out_dir:
            head_from = OPP[out_dir]
    counts = [draw(st.sampled_from([1, 40])) for _ in range(n)]
    off = [(x, y) for y in range(h) for x in range(w) if (x, y) not in path]
    fillers = {pe: (draw(st.integers(1, 3)), draw(st.sampled_from(sorted(DIRS))))
               for pe in off if draw(st.booleans())}
    return w, h, path, closed, roles, head_from, counts, fillers
