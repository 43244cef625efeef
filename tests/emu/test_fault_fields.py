"""The structured fields of a fault agree between the C core (wse.emu.Fabric) and the reference
interpreter (wse.emu.reference.ReferenceFabric): each small program below faults in one way,
both emulators run it, and kind, cycle, pe, task, task_name, pc, address, color, port, code,
line and expansions must be equal (the reference had task_name, address, color, port and code
always None, and for a pc past the end of the code the previous instruction's line).

Each case also pins the values that matter for it, on both, so that a case where both are
equally wrong fails too.

`insn` and the trace's texts are equal too: both print task operands by name where the image
has one (`activate other`), as wse-objdump does.

Faults in an async op on a microthread, after its issue, follow the spec of FaultError (the
op's issue, microthread N, a trace of what ran before the fault), in both emulators.
"""
from __future__ import annotations

import warnings

import pytest

from wse.asm import assemble_text
from wse.emu import Fabric, FaultError
from wse.emu.reference import ReferenceFabric
from wse.isa import objfile
from wse.isa.builder import ImageBuilder

from helpers import run_to_fault

N, E, S, W, R = 1, 2, 4, 8, 16
FIELDS = ("kind", "cycle", "pe", "task", "task_name", "pc", "address", "color", "port", "code",
          "line", "expansions", "microthread")


def _layout(body: str, other: str = "", w: int = 2) -> str:
    """A w x 1 layout: program `a` (body) on PE (0,0), program `b` (other, if any) on (1,0)."""
    out = f".fabric {w}, 1\n.program a\n{body}\n.endprogram\n.place a, 0, 0\n"
    if other:
        out += f".program b\n{other}\n.endprogram\n.place b, 1, 0\n"
    return out


MAIN = "    .task main, local, start\nmain:\n"

# name: (object bytes or source, (w, h), host action or None, the values both must give)
CASES = {
    "trap": (MAIN + "    nop\n    trap 0x42\n", (1, 1), None,
             dict(kind="trap", pc=1, task=0, task_name="main", code=0x42, line="<string>:4:5")),
    "ld16 past SRAM": (MAIN + "    li r2, 0x40000\n    ld16 r1, [r2 + 3]\n    exit\n", (1, 1), None,
                       dict(kind="mem_range", pc=2, address=0x40003, line="<string>:4:5")),
    # the first word past SRAM (24576 words): an off-by-one in the range check would read it
    # (core_mutants.py: load_one_word_past_sram)
    "ld16 one word past SRAM": (MAIN + "    li r2, 24576\n    ld16 r1, [r2 + 0]\n    exit\n", (1, 1), None,
                                dict(kind="mem_range", pc=2, address=24576)),
    "ld16 wraps to 0xffffffff": (MAIN + "    ld16 r1, [r0 - 1]\n    exit\n", (1, 1), None,
                                 dict(kind="mem_range", pc=0, address=0xFFFFFFFF)),
    "ld32 misaligned": (MAIN + "    ld32 r1, [r0 + 3]\n    exit\n", (1, 1), None,
                        dict(kind="misaligned", pc=0, address=3)),
    "st16 into code": (MAIN + "    nop\n    st16 r1, [r0 + 1]\n    exit\n", (1, 1), None,
                       dict(kind="write_code", pc=1, address=1)),
    "tensor dst past SRAM": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=24570, len=8\nmain:\n"
        "    ldsd d0, dst\n    fmovh d0, r2\n    exit\n", (1, 1), None,
        dict(kind="mem_range", pc=1, address=24576, color=None)),
    # the last element is the first word past SRAM (core_mutants.py: tensor_span_one_word_past_sram)
    "tensor dst one word past SRAM": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=24569, len=8\nmain:\n"
        "    ldsd d0, dst\n    fmovh d0, r2\n    exit\n", (1, 1), None,
        dict(kind="mem_range", pc=1, address=24576, color=None)),
    "tensor dst misaligned": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=buf+1, len=2\nmain:\n"
        "    ldsd d0, dst\n    fmovs d0, r2\n    exit\n    .data\nbuf: .zero 8\n", (1, 1), None,
        dict(kind="misaligned", pc=1, address=7)),
    "tensor dst in code": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=2, len=2\nmain:\n"
        "    ldsd d0, dst\n    fmovh d0, r2\n    exit\n", (1, 1), None,
        dict(kind="write_code", pc=1, address=2)),
    "tensor source below 0": (
        # a negative element address: the C core's wse_fault_info keeps -1 for "none", and
        # Fabric maps every negative address to None; the reference gives the same None
        "    .task main, local, start\n    .dsd dst, mem1d, base=buf, len=4\n"
        "    .dsd src, mem1d, base=buf, len=4, stride=-100\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    fmovh d0, a0\n    exit\n    .data\nbuf: .zero 4\n",
        (1, 1), None, dict(kind="mem_range", pc=2, address=None)),
    "dsd length": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=buf, len=4\n"
        "    .dsd src, mem1d, base=buf+4, len=3\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    fmovh d0, a0\n    exit\n    .data\nbuf: .zero 8\n",
        (1, 1), None, dict(kind="dsd_length", pc=2, address=None)),
    # a source longer than the destination is a fault too, not cut to the destination's count
    # (core_mutants.py: longer_source_accepted)
    "dsd length, a longer source": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=buf, len=4\n"
        "    .dsd src, mem1d, base=buf+4, len=5\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    fmovh d0, a0\n    exit\n    .data\nbuf: .zero 10\n",
        (1, 1), None, dict(kind="dsd_length", pc=2, address=None)),
    "empty source DSR": (
        "    .task main, local, start\n    .dsd dst, mem1d, base=buf, len=4\nmain:\n"
        "    ldsd d0, dst\n    fmovh d0, a1\n    exit\n    .data\nbuf: .zero 8\n",
        (1, 1), None, dict(kind="dsd_kind", pc=1)),
    "microthread busy": (
        "    .route 1, west -> ramp\n    .task main, local, start\n"
        "    .dsd dst, mem1d, base=buf, len=4\n    .dsd src, fabin, color=1, len=4\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    fmovh d0, a0 async ut2\n    nop\n"
        "    fmovh d0, r2 async ut2\n    exit\n    .data\nbuf: .zero 8\n",
        (1, 1), None, dict(kind="ut_busy", pc=4, task=0, microthread=None)),
    "two fabric sources on one color": (
        "    .route 1, west -> ramp\n    .task main, local, start\n"
        "    .dsd dst, mem1d, base=buf, len=4\n    .dsd src, fabin, color=1, len=4\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    ldsd b0, src\n    faddh d0, a0, b0\n    exit\n"
        "    .data\nbuf: .zero 8\n", (1, 1), None, dict(kind="queue_busy", pc=3, color=1)),
    "color used by an op in progress": (
        "    .route 3, west -> ramp\n    .task main, local, start\n"
        "    .dsd dst, mem1d, base=buf, len=4\n    .dsd src, fabin, color=3, len=4\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    fmovh d0, a0 async ut0\n    fmovh d0, a0\n"
        "    exit\n    .data\nbuf: .zero 8\n", (1, 1), None,
        dict(kind="queue_busy", pc=3, color=3, microthread=None)),
    "send without a route": (MAIN + "    send 5, r2\n    exit\n", (1, 1), None,
                             dict(kind="route", pc=0, color=5, port=None)),
    "send without RAMP in rx": ("    .route 5, west -> east\n" + MAIN + "    send 5, r2\n    exit\n",
                                (1, 1), None, dict(kind="route", pc=0, color=5, port=R)),
    "sync fabout without a route": (
        "    .task main, local, start\n    .dsd dst, fabout, color=6, len=4\n"
        "    .dsd src, mem1d, base=buf, len=4\nmain:\n"
        "    ldsd d0, dst\n    ldsd a0, src\n    fmovh d0, a0\n    exit\n    .data\nbuf: .zero 8\n",
        (1, 1), None, dict(kind="route", pc=2, task=0, color=6, port=None, microthread=None)),
    "route with an empty tx": ("    .route 5, ramp -> 0\n" + MAIN + "    send 5, r2\n    exit\n",
                               (1, 1), None,
                               dict(kind="route", task=None, pc=None, line=None, color=5, port=None)),
    "wavelet to a PE without a program": (
        _layout("    .route 5, ramp -> east\n" + MAIN + "    send 5, r2\n    exit"), (2, 1), None,
        dict(kind="empty_pe", pe=(0, 0), task=None, pc=None, color=5, port=E)),
    "wavelet refused by the next route": (
        _layout("    .route 3, ramp -> east\n" + MAIN + "    send 3, r0\n    exit",
                "    .route 3, north -> ramp\n" + MAIN + "    li r2, 100\nloop:\n"
                "    addi r2, r2, -1\n    bne r2, r0, loop\n    exit"), (2, 1), None,
        dict(kind="route", pe=(1, 0), task=None, task_name=None, pc=None, color=3, port=W)),
    "host wavelet through a port not in rx": (
        "    .route 1, west -> ramp\n" + MAIN + "    exit\n", (1, 1),
        lambda f: f.send(1, 0, 0, "north", [7]),
        dict(kind="route", task=None, pc=None, color=1, port=N)),
    "activate of an undefined task": (MAIN + "    nop\n    activate 9\n    exit\n", (1, 1), None,
                                      dict(kind="task", pc=1, task=0, task_name="main")),
    "control wavelet for an undefined task": (
        "    .route 1, west -> ramp\n    .task main, local\nmain:\n    exit\n", (1, 1),
        lambda f: f.send(1, 0, 0, "west", [9], control=True),
        dict(kind="task", task=None, pc=None, color=1)),
    "pc past the end of the code": (MAIN + "    nop\n    nop\n", (1, 1), None,
                                    dict(kind="pc_range", pc=2, line=None, expansions=[],
                                         task_name="main")),
    # a jump through a register to a pc at or past 2^31 (found by fuzzing): the C core kept the
    # pc in an int, so its fault (and pe_state) said "no pc" where the reference said the pc
    "jump through a register far past the code": (MAIN + "    li r2, 0xffffffe6\n    jr r2\n    exit\n",
                                                  (1, 1), None,
                                                  dict(kind="pc_range", pc=0xffffffe6, task=0, line=None)),
    "jump through a register to 2^31": (MAIN + "    li r2, 0x80000000\n    jr r2\n    exit\n", (1, 1), None,
                                        dict(kind="pc_range", pc=0x80000000, task=0, line=None)),
    "trap inside two macros": (
        ".macro boom, V\n    nop\n    trap V\n.endm\n.macro outer, X\n    boom X\n.endm\n"
        + MAIN + "    outer 7\n    exit\n", (1, 1), None,
        dict(kind="trap", pc=1, code=7, line="<string>:3:5",
             expansions=[("boom", "<string>:6:5"), ("outer", "<string>:10:5")])),
    "a named second task traps": (
        "    .task main, local, start\n    .task compute, local\nmain:\n    activate compute\n"
        "    exit\ncompute:\n    li r3, 5\n    trap 3\n", (1, 1), None,
        dict(kind="trap", task=1, task_name="compute", pc=4, code=3)),
}


def _dsd_index_object() -> bytes:
    b = ImageBuilder("t")
    b.label("main")
    b.emit("nop")
    b.emit("ldsd", dsr=0, dsdidx=7)            # the image has no DSD table
    b.emit("exit")
    b.task(0, "main", activated=True)
    return objfile.ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): b.build()}).to_bytes()


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric])
def test_an_ldsd_past_the_table_is_refused_at_load(cls):
    """An ldsd whose index is past the image's DSD table was a dsd_index fault when it ran; the
    table is fixed at load and wse-as never writes one, so both emulators now refuse the object
    at load (a dsd_index fault cannot happen any more), saying where and what to do."""
    from wse.emu import LoadError
    with pytest.raises(LoadError) as e:
        cls(1, 1, "wse2").load(_dsd_index_object())
    assert str(e.value) == ("image 0: pc 1: ldsd loads DSD 7, past the image's DSD table (0 entries): wse-as "
                            "never writes that; re-assemble the source with wse-as")


def _huge_dsd_object() -> bytes:
    """A fill of a 65535 x 65535 mem4d DSD whose second element is already outside SRAM. The
    reference listed every element address first (4.3e9 of them: MemoryError, or the host's
    memory; found by fuzzing): it now checks the DSD's extent, then the elements in order."""
    b = ImageBuilder("t")
    b.alloc("buf", "u32", 2, init=0)
    b.dsd("mem4d", base="buf", lens=[65535, 65535], strides=[20000, 0])
    b.label("main")
    b.emit("addi", r1=1, r2=0, imm16=7)
    b.emit("ldsd", dsr=0, dsdidx=0)
    b.emit("mov32", dd=0, rs=1)
    b.emit("exit")
    b.task(0, "main", activated=True)
    return objfile.ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): b.build()}).to_bytes()


CASES["a DSD of 4.3e9 elements, the second outside SRAM"] = (
    _huge_dsd_object(), (1, 1), None, dict(kind="mem_range", pc=2, task=0, address=8 + 40000))


def fault_of(cls, obj, grid, act):
    return run_to_fault(cls, obj, grid, act, max_cycles=20000)[0]


def _obj(src):
    if isinstance(src, bytes):
        return src
    with warnings.catch_warnings():          # the DSDs that reach outside SRAM do so on purpose
        warnings.simplefilter("ignore")
        return assemble_text(src)


@pytest.mark.parametrize("name", list(CASES))
def test_fault_fields_agree(name):
    src, grid, act, want = CASES[name]
    obj = _obj(src)
    core = fault_of(Fabric, obj, grid, act)
    ref = fault_of(ReferenceFabric, obj, grid, act)
    got_core = {k: getattr(core, k) for k in FIELDS}
    got_ref = {k: getattr(ref, k) for k in FIELDS}
    assert got_ref == got_core, "\n".join(
        f"{k}: reference {got_ref[k]!r} vs core {got_core[k]!r}"
        for k in FIELDS if got_ref[k] != got_core[k])
    for k, v in want.items():
        assert got_ref[k] == v, (k, got_ref[k], v)
    # the instruction and the ones before it: the same text
    assert ref.insn == core.insn
    n = len(core.trace)
    assert [t for _, _, t in ref.trace[-n:]] == [t for _, _, t in core.trace] if n else True
    # fields that do not apply are None
    if ref.kind not in ("mem_range", "misaligned", "write_code"):
        assert ref.address is None
    if ref.kind != "trap":
        assert ref.code is None


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric])
def test_a_pc_far_past_the_code_is_whole(cls):
    """After a jump through a register to 0xffffffe6, the fault's report names that pc and the
    PE's state holds it (the C core had -1, "no pc", for any pc at or past 2^31)."""
    obj = _obj(MAIN + "    li r2, 0xffffffe6\n    jr r2\n    exit\n")
    e, fab = run_to_fault(cls, obj)
    assert e.pc == 0xffffffe6 and "4294967270" in str(e)
    assert fab.pe_state(0, 0)["pc"] == 0xffffffe6


def test_insn_names_tasks_in_both():
    """Task operands are printed by name in both emulators' texts (the C core printed ids),
    in the trace, in insn and in the async clause; an id with no name stays a number. So is the
    DSD an ldsd loads (object format 3 keeps DSD names)."""
    src = ("    .task main, local, start\n    .task other, local\n    .task third, local, id=9\n"
           "    .dsd m, mem1d, base=buf, len=2\nmain:\n    activate other\n    ldsd d0, m\n"
           "    fmovs d0, r0 async ut1 activate third\n    block 12\n    trap 1\nother:\n    exit\n"
           "third:\n    exit\n    .data\nbuf: .f32 0, 0\n")
    obj = assemble_text(src)
    for cls in (Fabric, ReferenceFabric):
        e = fault_of(cls, obj, (1, 1), None)
        texts = [t for _, _, t in e.trace]
        assert texts[-4:] == ["activate other", "ldsd d0, m", "fmovs d0, r0 async ut1 activate third",
                              "block 12"], (cls, texts)
        assert e.insn == "trap 1"


def test_reports_name_the_fields():
    """str() of the reference's fault names the task, the instruction with its source line and
    the fields (the color and port of a route fault, the address, the trap code)."""
    ref = fault_of(ReferenceFabric, _obj(CASES["send without RAMP in rx"][0]), (1, 1), None)
    s = str(ref)
    assert "task 0 (main)" in s and "`send 5, r2`" in s and "<string>:4:5" in s
    assert "color 5" in s and "ramp" in s
    ref = fault_of(ReferenceFabric, _obj(CASES["ld16 past SRAM"][0]), (1, 1), None)
    assert "address 0x40003" in str(ref)
    ref = fault_of(ReferenceFabric, _obj(CASES["trap inside two macros"][0]), (1, 1), None)
    assert "in `boom` at <string>:6:5, in `outer` at <string>:10:5" in str(ref)
    # the instructions before the fault, with their lines
    assert "pc 0: nop" in str(ref) and "<string>:2:5" in str(ref)


# =============================================================================================
# faults of async ops on microthreads, after their issue
#
# PE (0,0) waits DELAY loop iterations, then sends one wavelet east on color 1; PE (1,0)'s task
# main issues an async fabric op that reads color 1 and then goes on (AFTER): the op can do
# nothing until the wavelet arrives, long after main has ended, and then faults (a fabout
# without a route, or its completion activating an undefined task) while another task runs
# or while the CE is idle. The fault is the op's: microthread N, at its issue (task main, the
# op's pc), and the trace holds only instructions before the fault's cycle, although the
# interpreter has run the main thread ahead of it.
SENDER = """    .route 1, ramp -> east
    .task main, local, start
main:
    li r2, 60
wait:
    addi r2, r2, -1
    bne r2, r0, wait
    send 1, r2
    exit"""

ASYNC_OP = """    .route 1, west -> ramp
    .task main, local, start
    .task other, local
    .task done, local
    .dsd out, fabout, color=5, len=1
    .dsd buf, mem1d, base=data, len=1
    .dsd in, fabin, color=1, len=1
main:
    ldsd d0, DST
    ldsd a0, in
    OP
AFTER
    exit
other:
    li r3, 2000
spin:
    addi r3, r3, -1
    bne r3, r0, spin
    exit
done:
    exit
    .data
data: .zero 2"""


def _async_case(dst, op, after):
    with warnings.catch_warnings():          # (the fault is on purpose; wse-as warns of it)
        warnings.simplefilter("ignore")
        return assemble_text(_layout(SENDER, ASYNC_OP.replace("DST", dst).replace("OP", op)
                                     .replace("AFTER", after)))


UT_CASES = {
    # a fabout without a route, while task `other` spins (it ran far ahead of the fault)
    "fabout route fault while another task runs": (
        _async_case("out", "fmovh d0, a0 async ut3 activate done", "    activate other"),
        dict(kind="route", microthread=3, task=0, task_name="main", pc=2, color=5, port=None,
             line="<string>:25:5", insn_has="async ut3", busy=True)),
    # the same with the CE idle: no task runs when it faults, the op's task is named
    "fabout route fault with the CE idle": (
        _async_case("out", "fmovh d0, a0 async ut3", "    nop"),
        dict(kind="route", microthread=3, task=0, task_name="main", pc=2, color=5,
             line="<string>:25:5", insn_has="async ut3", busy=False)),
    # the completion of an op into memory activates a task the PE does not define
    "completion activates an undefined task while another task runs": (
        _async_case("buf", "fmovh d0, a0 async ut6 activate 50", "    activate other"),
        dict(kind="task", microthread=6, task=0, task_name="main", pc=2, color=None,
             line="<string>:25:5", insn_has="async ut6 activate 50", busy=True)),
}
BOTH = [pytest.param(Fabric, id="core"), pytest.param(ReferenceFabric, id="reference")]


@pytest.mark.parametrize("cls", BOTH)
@pytest.mark.parametrize("name", list(UT_CASES))
def test_async_op_fault_is_the_ops(cls, name):
    obj, want = UT_CASES[name]
    e = fault_of(cls, obj, (2, 1), None)
    want = dict(want)
    insn_has, busy = want.pop("insn_has"), want.pop("busy")
    got = {k: getattr(e, k) for k in want}
    assert got == want
    assert e.pe == (1, 0) and insn_has in e.insn and e.expansions == []
    # long after the op's issue: main has ended (and `other` has run, where it was started)
    assert e.cycle > 60
    # the trace: only the main thread's instructions before the fault's cycle
    assert all(c < e.cycle for c, _pc, _t in e.trace), e.trace
    if busy and cls is Fabric:
        # the C core keeps the last 16, and `other`'s loop ran ahead past the fault (a run of
        # local instructions executes at its first cycle): none is from before, and it says so
        assert not e.trace and "after the fault: it runs local instructions ahead" in str(e)
    elif busy:
        # `other` spins 2000 times, one instruction a cycle: it runs up to the fault's cycle
        assert e.trace[-1][0] == e.cycle - 1 and {pc for _c, pc, _t in e.trace} == {7, 8}
    else:
        # main's last instructions, the op's issue among them, long before the fault
        assert [pc for _c, pc, _t in e.trace] == [0, 1, 2, 3, 4] and e.trace[-1][0] < 10
    # the report says whose op it is
    assert f"microthread ut{e.microthread} (async op issued by task 0 (main))" in str(e)


def test_async_op_fault_cycle_agrees():
    """The cycle of an async op's fault does not depend on whom it is reported against: the
    two emulators agree on it (and on the PE and kind) today."""
    for name, (obj, _want) in UT_CASES.items():
        core = fault_of(Fabric, obj, (2, 1), None)
        ref = fault_of(ReferenceFabric, obj, (2, 1), None)
        assert (core.kind, core.cycle, core.pe, core.color) == (ref.kind, ref.cycle, ref.pe, ref.color), name


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric])
def test_the_running_task_is_named_when_it_faults_itself(cls):
    """A fault at the issuing instruction (the microthread is busy) is the main thread's."""
    e = fault_of(cls, _obj(CASES["microthread busy"][0]), (1, 1), None)
    assert e.microthread is None and e.task == 0 and e.pc == 4


# =============================================================================================
# a fault that names a DSR names the DSD it was loaded from, in the same words in both
DSR_CASES = {
    "tensor dst past SRAM": "d0 operand (loaded from DSD `dst` by the ldsd at pc 0, <string>:4:5): element "
                            "address 24576 is outside SRAM",
    "tensor dst misaligned": "d0 operand (loaded from DSD `dst` by the ldsd at pc 0, <string>:4:5): 32-bit "
                             "element at odd word address 7",
    "tensor dst in code": "d0 operand (loaded from DSD `dst` by the ldsd at pc 0, <string>:4:5): element at "
                          "word 2 is in the code region [0, 6)",
    "tensor source below 0": "a0 operand (loaded from DSD `src` by the ldsd at pc 1, <string>:6:5): element "
                             "address -",
    "dsd length": "source a0 (loaded from DSD `src` by the ldsd at pc 1, <string>:6:5) has 3 elements but the "
                  "destination d0 (loaded from DSD `dst` by the ldsd at pc 0, <string>:5:5) has 4",
    "empty source DSR": "source a1 is an empty DSR",
}


@pytest.mark.parametrize("name", list(DSR_CASES))
def test_dsr_faults_name_the_dsd_in_both(name):
    src, grid, act, _ = CASES[name]
    obj = _obj(src)
    core = fault_of(Fabric, obj, grid, act)
    ref = fault_of(ReferenceFabric, obj, grid, act)
    assert core.reason == ref.reason
    assert DSR_CASES[name] in core.reason, core.reason
    assert f"reason: {core.reason}\n" in str(core)      # the report's reason line


# a tensor op whose source comes from a DSD that dsdaddi/dsdlen changed since, in a macro; the
# fabout destination faults (no route) only after the kind and length checks
CHANGED = """    .task main, local, start
    .dsd d_out, fabout, color=4, len=4
    .dsd d_k4, mem1d, base=buf, len=4
.macro load_k, R
    ldsd a5, d_k4
    dsdaddi a5, 2
    dsdlen a5, R
.endm
main:
    li r1, 3
    load_k r1
    ldsd d2, d_out
    fmovh d2, a5
    exit
    .data
buf: .zero 8
"""


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric], ids=["core", "reference"])
def test_a_changed_dsr_says_what_changed_it(cls):
    e = fault_of(cls, _obj(CHANGED), (1, 1), None)
    assert e.kind == "dsd_length" and e.pc == 6          # (li r1, 3 is two instructions)
    assert e.reason == ("source a5 (loaded from DSD `d_k4` by the ldsd at pc 2, <string>:5:5, in `load_k` at "
                        "<string>:11:5; base and length changed since, last by the dsdlen at pc 4) has 3 elements "
                        "but the destination d2 (loaded from DSD `d_out` by the ldsd at pc 5, <string>:12:5) has 4"), \
        e.reason
    fab = cls(1, 1, "wse2")
    fab.load(_obj(CHANGED))
    with pytest.raises(FaultError):
        fab.run(max_cycles=1000)
    from wse.emu.records import DsrOrigin
    origins = fab.pe_state(0, 0)["dsr_origins"]
    assert origins[2] == DsrOrigin(0, "d_out", 5)
    assert origins[8 + 5] == DsrOrigin(1, "d_k4", 2, "base and length", "dsdlen", 4)
    assert origins[0] is None and origins[8] is None


def test_an_unnamed_dsd_is_named_by_its_index():
    """A DSD without a name (an ImageBuilder image, or name="") is DSD N, in both."""
    b = ImageBuilder("t")
    b.alloc("buf", "f16", 4)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=1)
    b.emit("ldsd", dsr=8, dsdidx=0)
    b.emit("fmovh", dd=0, da=0)
    b.emit("exit")
    b.dsd("mem1d", "buf", 3)
    b.dsd("mem1d", "buf", 4, name="whole")
    b.task(0, "main", activated=True)
    obj = objfile.ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): b.build()}).to_bytes()
    faults = [fault_of(cls, obj, (1, 1), None) for cls in (Fabric, ReferenceFabric)]
    for e in faults:      # the ldsd operands: by name where the DSD has one
        assert [t for _, _, t in e.trace] == ["ldsd d0, whole", "ldsd a0, 0"], e.trace
    reasons = {e.reason for e in faults}
    assert reasons == {"source a0 (loaded from DSD 0 by the ldsd at pc 1, <builder>:1:1) has 3 elements but the "
                       "destination d0 (loaded from DSD `whole` by the ldsd at pc 0, <builder>:1:1) has 4"}
