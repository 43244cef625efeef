"""Routing, multicast, backpressure, switches, conservation, faults, hangs, the watchdog,
determinism and a sparse 1024x1024 fabric, on the C core."""
import resource

import numpy as np
import pytest

from helpers import E, N, R, S, W, li, make, obj_bytes
from wse.emu import BadArgError, Fabric, FaultError, HangError, WatchdogError
from wse.isa.builder import ImageBuilder


def sender(color, payloads, tx=E, nops=0):
    b = ImageBuilder("send")
    b.label("main")
    for p in payloads:
        li(b, 2, p)
        b.emit("send", color=color, rq=2)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(color, (R, tx))
    return b.build()


def summer(color, rx=W, tx=R, nops=0):
    """A data task on `color` that adds its payload into r5 (after `nops` nops)."""
    b = ImageBuilder("sum")
    b.alloc("total", "u32", 1)
    b.label("on_data")
    for _ in range(nops):
        b.emit("nop")
    b.emit("add", r1=5, r2=5, r3=1)
    b.emit("exit")
    b.task(color, "on_data", kind="data", color=color)
    b.route(color, (rx, tx))
    return b.build()


def forwarder(color, rx, tx):
    b = ImageBuilder("fwd")
    b.emit("exit")
    b.route(color, (rx, tx))
    return b.build()


def test_multicast_chain_to_host():
    payloads = list(range(1, 9))
    imgs = {(0, 0): sender(3, payloads), (1, 0): summer(3, tx=E | R), (2, 0): summer(3, tx=E | R),
            (3, 0): forwarder(3, W, E)}
    f = make(imgs)
    res = f.run()
    got = f.received()
    assert [r.payload for r in got] == payloads
    assert all((r.x, r.y, r.port, r.color, r.ctrl) == (3, 0, E, 3, False) for r in got)
    assert f.pe_state(1, 0)["regs"][5] == sum(payloads) == f.pe_state(2, 0)["regs"][5]
    st = f.stats()
    # hops: 0->1, 1->{2, ramp}, 2->{3, ramp}, 3->host: 6 per wavelet
    assert st["wavelet_hops"] == 6 * len(payloads)
    assert st["wavelets_sent"] == len(payloads)
    assert st["wavelets_received"] == 2 * len(payloads)
    # neighbours on the chain see each wavelet hop_latency = 2 cycles apart
    cycles = [r.cycle for r in got]
    assert cycles == sorted(cycles) and int(res) == f.cycle


def test_backpressure_never_drops_and_keeps_order():
    payloads = list(range(100, 140))
    imgs = {(0, 0): sender(2, payloads), (1, 0): forwarder(2, W, E), (2, 0): summer(2, nops=30)}
    f = make(imgs)
    f.run()
    assert f.pe_state(2, 0)["regs"][5] == sum(payloads)
    assert f.stats()["stalls"] > 0
    assert f.pe_stats(2, 0)["tasks"] == len(payloads)


def test_conservation_every_cycle():
    """Every wavelet sent is received by the host or still in some buffer: none lost or
    duplicated, at every cycle boundary."""
    payloads = list(range(1, 25))
    imgs = {(0, 0): sender(5, payloads), (1, 0): forwarder(5, W, E), (2, 0): forwarder(5, W, E)}
    f = make(imgs)
    t = 0
    while True:
        t += 1
        idle = f.run_until(t)
        sent = f.stats()["wavelets_sent"]
        inflight = 0
        for x in range(3):
            s = f.pe_state(x, 0)
            inflight += sum(len(v) for k in ("rb", "oq", "iq") for v in s[k].values())
        got = f.received()
        assert sent == len(got) + inflight, t
        assert [r.payload for r in got] == payloads[:len(got)]
        if idle:
            break
    assert len(f.received()) == len(payloads)


def test_switch_advances_after_control_wavelet():
    b = ImageBuilder("sw")
    b.label("main")
    for v in (1, 2):
        li(b, 2, v)
        b.emit("send", color=4, rq=2)
    li(b, 2, 0x3F)                      # control payload; its task id (63) is not at a RAMP
    b.emit("sendc", color=4, rq=2)
    for v in (3, 4):
        li(b, 2, v)
        b.emit("send", color=4, rq=2)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(4, [(R, E), (R, S)])
    imgs = {(0, 0): b.build(), (1, 0): forwarder(4, W, E), (0, 1): forwarder(4, N, S)}
    f = make(imgs, 2, 2)
    f.run()
    east = [(r.payload, r.ctrl) for r in f.received() if (r.x, r.y) == (1, 0)]
    south = [(r.payload, r.ctrl) for r in f.received() if (r.x, r.y) == (0, 1)]
    assert east == [(1, False), (2, False), (0x3F, True)]
    assert south == [(3, False), (4, False)]
    assert f.pe_state(0, 0)["switch"] == {4: 1}


def test_host_send_into_data_task_and_control_activation():
    b = ImageBuilder("rx")
    b.label("on_data")
    b.emit("add", r1=5, r2=5, r3=1)
    b.emit("exit")
    b.label("on_ctrl")
    b.emit("addi", r1=6, r2=6, imm16=1)
    b.emit("exit")
    b.task(7, "on_data", kind="data", color=7)
    b.task(9, "on_ctrl", kind="control")
    b.route(7, (W, R))
    f = make({(0, 0): b.build()})
    f.send(7, 0, 0, "west", [5, 6, 7])
    f.send(7, 0, 0, "west", [9], control=True)
    f.run()
    s = f.pe_state(0, 0)
    assert s["regs"][5] == 18 and s["regs"][6] == 1
    assert s["stats"]["wavelets_received"] == 4


def fabin_receiver(name: str, **mov32) -> ImageBuilder:
    """A PE whose `main` receives 4 u32 wavelets of color 6 (from the West) into `buf` with
    one mov32 (extra fields, e.g. an async action, in ``mov32``) and exits; the caller adds
    tasks or code after it."""
    b = ImageBuilder(name)
    b.alloc("buf", "u32", 4)
    b.dsd("mem1d", base="buf", length=4)
    b.dsd("fabin", length=4, color=6)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=0)
    b.emit("ldsd", dsr=8, dsdidx=1)
    b.emit("mov32", dd=0, da=0, **mov32)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(6, (W, R))
    return b


def test_async_fabric_op_and_unblock():
    """fabin -> memory on a microthread, which unblocks a task when done."""
    b = fabin_receiver("async", act=3, ut=2, tid=5)
    b.label("done")
    b.emit("addi", r1=9, r2=0, imm16=1)
    b.emit("exit")
    b.task(5, "done", activated=True, blocked=True)
    f = make({(0, 0): b.build()})
    f.send(6, 0, 0, "west", [10, 20, 30, 40])
    f.run_until(5)             # issued at cycle 3 (after the two ldsd); 4 elements pending
    ut = f.pe_state(0, 0)["ut"][2]
    assert ut is not None and ut[0] == 0xC2 and ut[2] == 4 and ut[1] < 4
    f.run()
    assert list(f.read("buf")[0, 0]) == [10, 20, 30, 40]
    assert f.pe_state(0, 0)["regs"][9] == 1 and f.pe_state(0, 0)["ut"] == [None] * 8


def test_send_python_floats_as_fp32_bits_and_nothing_for_an_empty_list():
    """A list of Python floats (float64 to numpy) goes out as fp32 bits, as an fp32 array
    would (it used to fail with KeyError: '8'); an empty list sends nothing."""
    f = make({(0, 0): fabin_receiver("rx").build()})
    f.send(6, 0, 0, "west", [])
    f.send(6, 0, 0, "west", [1.5, -2.0])
    f.send(6, 0, 0, "west", np.array([0.25, 3.0], np.float32))
    f.run()
    want = np.array([1.5, -2.0, 0.25, 3.0], np.float32).view(np.uint32)
    assert list(f.read("buf")[0, 0]) == list(want)
    assert f.pe_state(0, 0)["stats"]["wavelets_received"] == 4


def test_deterministic():
    payloads = list(range(50))
    imgs = {(0, 0): sender(2, payloads), (1, 0): forwarder(2, W, E), (2, 0): summer(2, nops=7)}
    data = obj_bytes(imgs)
    outs = []
    for _ in range(3):
        f = Fabric.from_object(data)
        f.run()
        outs.append((f.cycle, f.stats(), f.pe_state(2, 0)["regs"], f.pe_state(1, 0)["stats"]))
    assert outs[0] == outs[1] == outs[2]


# ---- faults ---------------------------------------------------------------------------------
def one(build, routes=(), tasks=(), setup=None):
    b = ImageBuilder("f")
    if setup:
        setup(b)
    b.label("main")
    build(b)
    b.emit("exit")
    b.task(0, "main", activated=True)
    for t in tasks:
        b.task(*t)
    for c, pos in routes:
        b.route(c, pos)
    return b.build()


def fault_of(img, w=1, h=1, extra=None):
    imgs = {(0, 0): img}
    imgs.update(extra or {})
    f = make(imgs, w, h)
    with pytest.raises(FaultError) as e:
        f.run()
    return e.value


FAULT_CASES = [
    (lambda b: (li(b, 2, 30000), b.emit("ld16", r1=3, r2=2, imm16=0)), "mem_range", ["30000", "outside SRAM (24576 16-bit words: a 2-byte access starts at word 0..24575)"]),
    (lambda b: (li(b, 2, 101), b.emit("ld32", r1=3, r2=2, imm16=0)), "misaligned", ["odd"]),
    (lambda b: b.emit("st16", r1=3, r2=0, imm16=1), "write_code", ["code"]),
    (lambda b: b.emit("trap", uimm16=0x42), "trap", ["0x42"]),
    (lambda b: (li(b, 2, 1000), b.emit("jr", r1=2)), "pc_range", ["1000"]),
    (lambda b: b.emit("activate", tid=9), "task", ["9"]),
    (lambda b: b.emit("fmovs", dd=0, da=0), "dsd_kind", ["empty"]),
    (lambda b: b.emit("send", color=3, rq=0), "route", ["no route"]),
]


@pytest.mark.parametrize("build,kind,words", FAULT_CASES)
def test_fault_reports(build, kind, words):
    e = fault_of(one(build))
    assert e.kind == kind and e.pe == (0, 0) and e.task == 0
    if kind == "pc_range":
        assert e.pc == 1000 and e.insn is None
    else:
        assert e.pc is not None and e.insn and e.line == "<builder>:1:1"
    for w in words:
        assert w in str(e), (w, str(e))
    assert "PE (0,0)" in str(e) and f"pc {e.pc}" in str(e) and "task 0 (main)" in str(e)


@pytest.mark.parametrize("build,kind,words", FAULT_CASES)
def test_fault_cycle_is_the_instructions_own(build, kind, words):
    """A fault is reported at the faulting instruction's own cycle: the task starts at cycle 1
    and each earlier instruction of these programs costs 1, so it is 1 + the instructions before
    it. The reference interpreter reports the same cycle."""
    from wse.emu.reference import ReferenceFabric

    img = one(build)
    core = fault_of(img)
    f = make({(0, 0): img}, 1, 1, cls=ReferenceFabric)
    with pytest.raises(FaultError) as r:
        f.run()
    assert core.kind == r.value.kind == kind
    assert core.cycle == r.value.cycle == 1 + len(core.trace), (core.cycle, r.value.cycle, core.trace)
    assert str(core).startswith(f"fault at cycle {core.cycle}:")


def test_fault_cycle_late_in_a_run():
    """The fault of _history_program's ld16 comes 8 instructions into a run that starts at cycle
    17: it is reported at its own cycle 25 (one after the last instruction in the history), by
    both emulators, while the fabric's cycle stays at the run's first."""
    from wse.emu.reference import ReferenceFabric

    img = _history_program()
    out = []
    for cls in (Fabric, ReferenceFabric):
        f = make({(0, 0): img}, cls=cls)
        with pytest.raises(FaultError) as e:
            f.run()
        out.append((e.value.cycle, e.value.trace[-1][0], f.cycle))
    assert out[0] == out[1]
    cycle, last, fabric_cycle = out[0]
    assert cycle == last + 1 and fabric_cycle < cycle, out


def test_fault_dsd_length_and_ut_busy_and_queue_busy():
    def setup(b):
        b.alloc("x", "f32", 64)
        b.dsd("mem1d", base="x", length=64)
        b.dsd("mem1d", base="x", length=8)
        b.dsd("fabin", length=4, color=2)
        b.dsd("mem1d", base="x", length=4)

    e = fault_of(one(lambda b: (b.emit("ldsd", dsr=0, dsdidx=0), b.emit("ldsd", dsr=8, dsdidx=1),
                                b.emit("fmovs", dd=0, da=0)), setup=setup))
    assert e.kind == "dsd_length" and "64" in e.reason and "8" in e.reason
    e = fault_of(one(lambda b: (b.emit("ldsd", dsr=0, dsdidx=0), b.emit("ldsd", dsr=8, dsdidx=0),
                                b.emit("fmovs", dd=0, da=0, act=1, ut=3),
                                b.emit("fmovs", dd=0, da=0, act=1, ut=3)), setup=setup))
    assert e.kind == "ut_busy" and "ut3" in e.reason
    e = fault_of(one(lambda b: (b.emit("ldsd", dsr=0, dsdidx=3), b.emit("ldsd", dsr=8, dsdidx=2),
                                b.emit("ldsd", dsr=16, dsdidx=2),
                                b.emit("fadds", dd=0, da=0, db=0)), setup=setup, routes=[(2, (W, R))]))
    assert e.kind == "queue_busy" and "2" in e.reason


def test_route_fault_and_empty_pe():
    e = fault_of(sender(3, [1], tx=E), 2, 1, {(1, 0): forwarder(3, N, S)})
    assert e.kind == "route" and e.pe == (1, 0) and "WEST" in str(e)
    # the receiver's own history says nothing about the wavelet: the sender's send is shown too
    sent = str(e).split("the wavelet came from PE (0,0), whose last 3 instructions were")[1]
    assert sent.splitlines()[-1].strip().startswith("cycle 3  pc 2: send 3, r2")
    b = ImageBuilder("e")
    img = sender(3, [1], tx=E)
    f = make({(0, 0): img}, 3, 1)
    with pytest.raises(FaultError) as ei:
        f.run()
    assert ei.value.kind == "empty_pe" and "(1,0)" in str(ei.value)


def test_hang_reports_who_waits_on_what():
    b = fabin_receiver("h")
    b.label("blk")
    b.emit("exit")
    b.task(5, "blk", activated=True, blocked=True)
    f = make({(0, 0): b.build()})
    f.send(6, 0, 0, "west", [1, 2])
    with pytest.raises(HangError) as e:
        f.run()
    rep = e.value.report
    assert "PE (0,0)" in rep and "2 of 4 elements" in rep and "color 6" in rep
    assert "activated but blocked tasks: 5(blk)" in rep
    assert e.value.cycle == f.cycle > 0


def test_hang_wavelet_nobody_reads():
    f = make({(0, 0): sender(3, [1, 2], tx=E), (1, 0): forwarder(3, W, R)})
    with pytest.raises(HangError) as e:
        f.run()
    assert "PE (1,0)" in e.value.report and "input queue 2" in e.value.report


def test_watchdog():
    f = make({(0, 0): one(lambda b: (b.label("spin"), b.emit("jmp", target="spin")))})
    with pytest.raises(WatchdogError) as e:
        f.run(max_cycles=10000)
    assert e.value.cycle == 10000 == f.cycle
    assert "running task 0" in str(e.value)


# ---- scale ----------------------------------------------------------------------------------
def test_sparse_1024x1024_fits():
    """A 1024x1024 fabric with a program on a few PEs allocates state only for those."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    imgs = {(0, 0): sender(3, [1, 2, 3], tx=E), (1, 0): summer(3, tx=R),
            (1023, 1023): one(lambda b: b.emit("addi", r1=4, r2=0, imm16=9))}
    f = make(imgs, 1024, 1024)
    f.run()
    assert f.pe_state(1, 0)["regs"][5] == 6 and f.pe_state(1023, 1023)["regs"][4] == 9
    assert f.pe_state(500, 500)["mem"] is None
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024        # ~8 MB of pointers, not 48 GiB of SRAM


def _history_program():
    """Task main: a loop of 3 rounds, a memory-only tensor op, then activates task `more` and
    exits; `more` counts down again and loads from outside SRAM (the fault)."""
    b = ImageBuilder("t")
    b.alloc("x", "f32", 8)
    b.dsd("mem1d", base="x", length=8)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=0)
    li(b, 2, 3)
    b.label("loop")
    b.emit("addi", r1=2, r2=2, imm16=-1)
    b.emit("bne", r1=2, r2=0, target="loop")
    b.emit("fmovs", dd=0, rs=2)
    b.emit("activate", tid=1)
    b.emit("exit")
    b.label("more")
    li(b, 2, 2)
    b.label("loop2")
    b.emit("addi", r1=2, r2=2, imm16=-1)
    b.emit("bne", r1=2, r2=0, target="loop2")
    li(b, 4, 30000)
    b.emit("ld16", r1=3, r2=4, imm16=0)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.task(1, "more")
    return b.build()


def test_fault_report_lists_the_instructions_before_it():
    """The core's FaultError carries the PE's last instructions (own cycle, pc, text), oldest
    first and without the faulting one, across the task switch; they are the reference
    interpreter's (which keeps 32) for the last 16, and the report prints them with their
    source lines."""
    from wse.emu.reference import ReferenceFabric

    img = _history_program()
    with pytest.raises(FaultError) as e:
        make({(0, 0): img}).run()
    core = e.value
    with pytest.raises(Exception) as r:
        make({(0, 0): img}, cls=ReferenceFabric).run()
    ref = r.value
    assert core.kind == ref.kind == "mem_range" and core.pc == ref.pc
    assert len(ref.trace) > 16 and len(core.trace) == 16
    assert [(c, pc) for c, pc, _ in core.trace] == [(c, pc) for c, pc, _ in ref.trace[-16:]]
    cycles = [c for c, _, _ in core.trace]
    assert cycles == sorted(cycles) and core.trace[-1][1] == core.pc - 1
    assert core.trace[-1][2].startswith("ori")            # the low half of li r4, 30000
    assert "bne" in {t.split()[0] for _, _, t in core.trace}
    report = str(core)
    assert "the last 16 instructions PE (0,0) executed before (oldest first):" in report
    assert f"pc {core.trace[0][1]}: {core.trace[0][2]}" in report and "at <builder>:1:1" in report


def test_fault_report_history_is_short_after_few_instructions():
    e = fault_of(one(lambda b: (li(b, 2, 30000), b.emit("ld16", r1=3, r2=2, imm16=0))))
    assert [pc for _, pc, _ in e.trace] == [0, 1] and [t.split()[0] for _, _, t in e.trace] == ["lui", "ori"]
    assert "the last 2 instructions" in str(e)


MACRO_FAULT = """
.fabric 2, 1
.program p
.macro load, addr
    li r2, addr
    ld32 r1, [r2]
.endm
.macro outer, a
    nop
    load a
.endm
.task main, local, start
    li r3, 1
    outer 0x7ff0
    exit
.endprogram
.place p, 0, 0, 2, 1
"""


def test_fault_inside_macros_names_each_invocation():
    """A fault in a macro's body names the body's line and every invocation it was expanded from
    (object format EXPANSIONS), innermost first: in the exception's fields, in both emulators,
    and in the core's report, for the faulting instruction and for the history before it."""
    from wse.asm import assemble_text
    from wse.emu.reference import ReferenceFabric

    data = assemble_text(MACRO_FAULT, "mf.s")
    want = [("load", "mf.s:10:5"), ("outer", "mf.s:14:5")]
    errs = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(2, 1)
        fab.load(data)
        with pytest.raises(FaultError) as e:
            fab.run()
        errs.append(e.value)
        assert e.value.line == "mf.s:6:5" and e.value.expansions == want, cls
    report = str(errs[0])
    assert ("pc 5: ld32 r1, [r2]    at mf.s:6:5\n"
            "      in expansion of macro `load` at mf.s:10:5\n"
            "      in expansion of macro `outer` at mf.s:14:5\n") in report
    assert "pc 2: nop    at mf.s:9:5, in `outer` at mf.s:14:5\n" in report
    assert "pc 4: ori r2, r2, 0x7ff0    at mf.s:5:5, in `load` at mf.s:10:5, in `outer` at mf.s:14:5\n" in report
    assert "pc 1: ori r3, r3, 1    at mf.s:13:5\n" in report          # outside macros: as before
    assert "(mf.s:6:5, in `load` at mf.s:10:5, in `outer` at mf.s:14:5)" in str(errs[1])

    fab = Fabric.from_object(data)
    assert fab.source(1, 0, 5) == ("mf.s:6:5", want)
    assert fab.source(1, 0, 0) == ("mf.s:13:5", [])
    with pytest.raises(Exception, match="pc 7 is outside the code of PE \\(1,0\\)"):
        fab.source(1, 0, 7)
    with pytest.raises(Exception, match="x 2 is out of range"):
        fab.source(2, 0, 0)


def test_hang_report_names_the_macro_invocations():
    """A PE that waits forever inside a macro: the hang report's position carries the chain."""
    from wse.asm import assemble_text

    src = """
.fabric 1, 1
.program p
.macro wait_for, c
    .dsd inp, fabin, color=c, len=1
    ldsd a0, inp
    fmovs d1, a0
.endm
    .route 2, west -> ramp
    .dsd out, mem1d, base=buf, len=1
    .task main, local, start
main:
    ldsd d1, out
    wait_for 2
    exit
    .data
buf: .f32 0.0
.endprogram
.place p, 0, 0
"""
    fab = Fabric.from_object(assemble_text(src, "hang.s"))
    with pytest.raises(HangError) as e:
        fab.run()
    assert "(hang.s:7:5, in `wait_for` at hang.s:14:5)" in str(e.value), str(e.value)


def _asm_fault(src: str, name: str, cls=Fabric):
    import warnings
    from wse.asm import assemble_text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # (the bugs are on purpose; wse-as warns of some)
        data = assemble_text(src, name)
    fab = cls.from_object(data) if cls is Fabric else cls(*Fabric.peek(data)[1:])
    if cls is not Fabric:
        fab.load(data)
    with pytest.raises(FaultError) as e:
        fab.run(max_cycles=100_000)
    return e.value


ASYNC_FAULT = (__import__("pathlib").Path(__file__).parent / "async_fault.s").read_text()


@pytest.mark.parametrize("other_runs", [True, False])
def test_fault_of_an_async_op_is_the_microthreads(other_runs):
    """A fabric op on ut3 faults 40 cycles after task main issued it and exited (its fabout color
    has no route): the fault is the microthread's, reported with the issuing task and the op's
    pc, whether another task runs by then (other_runs) or the main thread is idle; the history
    holds only instructions from before the fault (the main thread ran `other`'s loop ahead)."""
    src = ASYNC_FAULT if other_runs else ASYNC_FAULT.replace("    activate other\n", "    nop\n")
    e = _asm_fault(src, "af.s")
    assert (e.kind, e.microthread, e.task, e.task_name, e.pc) == ("route", 3, 0, "main", 2)
    assert e.insn.startswith("fmovs d0, a0 async ut3") and e.line.startswith("af.s:")
    assert all(c < e.cycle for c, _, _ in e.trace)
    report = str(e)
    assert "PE (1,0), microthread ut3 (async op issued by task 0 (main))" in report
    if other_runs:       # every instruction in the ring is from `other`'s loop, after the fault
        assert not e.trace and "after the fault: it runs local instructions ahead" in report
    else:
        assert [pc for _, pc, _ in e.trace] == [0, 1, 2, 3, 4]


def test_reports_of_busy_microthreads_and_colors_name_the_op():
    src = """
    .dsd xin, fabin, color=1, len=4
    .dsd yin, fabin, color=2, len=4
    .dsd dx, mem1d, base=x, len=4
    .dsd dy, mem1d, base=y, len=4
    .route 1, west -> ramp
    .route 2, west -> ramp
    .task main, local, start
main:
    ldsd d0, dx
    ldsd a0, xin
    fmovs d0, a0 async ut2
    ldsd d1, dy
    ldsd a1, yin
    fmovs d1, a1 async UT
    exit
    .data
x: .zero 4, f32
y: .zero 4, f32
"""
    e = _asm_fault(src.replace("UT", "ut2"), "busy.s")
    assert e.kind == "ut_busy" and e.pc == 5 and e.microthread is None and e.task_name == "main"
    assert ("microthread ut2 is busy with the fmovs issued at pc 2, busy.s:12:5 (0 of 4 elements done); "
            "wait for its completion") in e.reason
    e = _asm_fault(src.replace("UT", "ut3").replace("yin, fabin, color=2", "yin, fabin, color=1"), "busy.s")
    assert e.kind == "queue_busy" and e.color == 1
    assert ("color 1 is used by an operation in progress: the fmovs on microthread ut2, issued at pc 2, "
            "busy.s:12:5 (0 of 4 elements done)") in e.reason


def test_running_off_the_end_of_the_code_says_so():
    """wse-as warns of it; the fault's reason says what happened."""
    from wse.asm import AssemblyWarning, assemble_text
    src = """
    .task main, local, start
    .task second, local
main:
    li r2, 5
    activate second
    exit
second:
    st32 r2, [r0 + 10]
"""
    with pytest.warns(AssemblyWarning, match="task `second` can run past the end of the code"):
        assemble_text(src, "end.s")
    e = _asm_fault("""
    .task main, local, start
    .task second, local
main:
    li r2, 5
    activate second
    exit
second:
    st32 r2, [r0 + 10]
""", "end.s")
    assert e.kind == "pc_range" and e.pc == 5 and e.task_name == "second" and e.line is None
    assert ("pc 5 is outside the code (5 instructions): the task ran past the last instruction (pc 4, "
            "at end.s:9:5); is an `exit` missing?") in e.reason
    assert "pc 5: past the end of the code (5 instructions)" in str(e)


def test_control_wavelet_for_an_undefined_task_names_color_and_tasks():
    e = _asm_fault("""
.fabric 2, 1
.program a
    .route 3, ramp -> east
    .task main, local, start
main:
    addi r2, r0, 2
    sendc 3, r2
    exit
.endprogram
.program b
    .route 3, west -> ramp
    .task done, control, id=1
done:
    exit
.endprogram
.place a, 0, 0
.place b, 1, 0
""", "ctrl.s")
    assert e.kind == "task" and e.pe == (1, 0) and e.color == 3 and e.task is None
    assert ("a control wavelet on color 3 (payload 0x2, from the fabric) activates task 2, which PE (1,0) "
            "does not define (its tasks: 1 (done))") in e.reason


def test_one_instruction_of_history_is_singular():
    e = _asm_fault("""
    .task main, local, start
main:
    ld32 r1, [r0 + 1]
    exit
""", "one.s")
    assert e.kind == "misaligned" and e.trace == []
    e = _asm_fault("""
    .task main, local, start
main:
    nop
    ld32 r1, [r0 + 1]
    exit
""", "one.s")
    assert len(e.trace) == 1 and "the last instruction PE (0,0) executed before:\n" in str(e)


def test_hang_report_gives_where_a_microthreads_op_was_issued():
    from wse.asm import assemble_text
    fab = Fabric.from_object(assemble_text("""
    .route 1, west -> ramp
    .task main, local, start
    .task compute, local
    .dsd xin, fabin, color=1, len=4
    .dsd dx, mem1d, base=x, len=4
main:
    ldsd d0, dx
    ldsd a0, xin
    fmovs d0, a0 async ut1 activate compute
    exit
compute:
    exit
    .data
x: .zero 4, f32
""", "h.s"))
    with pytest.raises(HangError) as e:
        fab.run()
    assert ("ut1: fmovs d0, a0 async ut1 activate compute (issued by task 0 (main) at pc 2, h.s:10:5), "
            "0 of 4 elements done") in str(e.value), str(e.value)


def test_state_report_and_watchdog_show_where_a_loop_spins():
    """A loop that never ends (it counts down the wrong register): the watchdog report and the
    state report (what wse-emu prints on Ctrl-C) give the pc, the line and the registers."""
    from wse.asm import assemble_text
    src = """
    .task main, local, start
main:
    addi r3, r0, 100
loop:
    addi r4, r4, -1
    bne r3, r0, loop
    exit
"""
    fab = Fabric.from_object(assemble_text(src, "spin.s"))
    with pytest.raises(BadArgError):
        Fabric(1, 1).state_report()
    with pytest.raises(WatchdogError) as e:
        fab.run(max_cycles=5000)
    assert "running task 0 (main) at pc 2: bne r3, r0, .-1  (spin.s:7:5)\n    registers: r3=100 r4=" in str(e.value)
    fab.run_until(9000)
    rep = fab.state_report()
    assert rep.startswith("state at cycle 9000:\nPE (0,0):\n  running task 0 (main) at pc ")
    assert "registers: r3=100 r4=" in rep and fab.cycle == 9000


def test_fault_in_a_rep_iteration_names_the_iteration():
    """A macro invoked in a .rep: the report says which iteration faulted (the macro's
    invocation line is the same in all of them), in both emulators' fields."""
    from wse.emu.reference import ReferenceFabric
    src = """
.macro load_row, base
    ld32 r3, [r5 + 0]
    addi r5, r5, base
.endm
    .task main, local, start
main:
    li r5, table
    .rep 6, i
        load_row 0x2000
    .endr
    exit
    .data
table: .u32 1, 2, 3, 4
"""
    want = ("rep.s:3:5", [("load_row", "rep.s:10:9"), (".rep[3]", "rep.s:9:5")])
    for cls in (Fabric, ReferenceFabric):
        e = _asm_fault(src, "rep.s", cls)
        assert (e.kind, e.line, e.expansions) == ("mem_range", *want), cls
    assert ("      in expansion of macro `load_row` at rep.s:10:9\n"
            "      in iteration 3 of the `.rep` at rep.s:9:5\n") in str(_asm_fault(src, "rep.s"))
    from wse.asm import assemble_text
    assert Fabric.from_object(assemble_text(src, "rep.s")).source(0, 0, 2) == (
        "rep.s:3:5", [("load_row", "rep.s:10:9"), (".rep[0]", "rep.s:9:5")])


def test_fault_report_gives_the_registers_and_the_address_in_hex():
    """A load through a register holding a float's bits: the report shows the address in hex
    and the registers, so the wrong value is visible at once."""
    e = _asm_fault("""
    .task main, local, start
main:
    li r1, 3.0
    slli r4, r1, 1
    ld32 r5, [r4 + 10]
    exit
""", "regs.s")
    assert "address 2155872266 (0x8080000a) is outside SRAM" in e.reason
    assert "\n  registers: r1=0x40400000 r4=0x80800000\n" in str(e)
