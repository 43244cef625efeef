"""Long names are never cut silently (the project's rule: nothing lost).

The C core used to build its fault report in a fixed 64 KiB buffer, partly from the fixed-size
text fields of its API structs (wse_fault_info.task_name[64], file[256], insn[96],
reason[1024], recent_insn[16][96]; wse_wait.task_name[64]) and from fixed buffers of its own
(96-byte instruction texts, 1024-byte source positions, a 512-byte list of tasks), and cut a
long task name, DSD name or file name there with no mark. Now:

- the reports (str(FaultError), HangError.report, WatchdogError.report, Fabric.state_report())
  carry every name whole, composed from the image's own strings, and say the same as the
  reference interpreter (emu/reference.py) where the two share words: the whole hang and
  watchdog report, a fault's reason;
- the struct fields keep their sizes (the C API's ABI); a value that does not fit ends with
  "..." (cut at a UTF-8 character boundary) and is a prefix of the true value;
- FaultError.task_name, FaultError.line (and expansions) and Wait.task_name are whole (from
  the image's symbols and LINES); FaultError.reason, .insn and the trace's texts from the C
  core carry the "..." mark when they were cut.
"""
from __future__ import annotations

import re

import pytest

from wse.emu import Fabric, HangError, WatchdogError
from wse.emu.fabric import ffi, lib
from wse.emu.reference import ReferenceFabric

from helpers import assemble_quietly, check_records, record_diffs, report_diffs, run_to_fault
from test_hang_report import OPS_WAITING

TASK = "m" + "a" * 1500 + "in"                      # a task
TASK2 = "l" + "a" * 1500 + "ter"                    # another task
DSD = "d_r" + "o" * 1500 + "w"                      # a DSD
DSD_IN = "i" + "n" * 1500                           # a fabin DSD
FILE = "src/" + "a_rather_long_folder_name/" * 60 + "kernel.s"     # 1568 characters
MSG_LEN = 65536                                     # the C core's old fixed report buffer

# the struct fields' sizes (csrc/wse.h), the terminating NUL included
TASK_NAME, FILE_LEN, INSN, REASON = 64, 256, 96, 1024

# kernels/examples/dsd_fault.s: a DSD length mismatch whose reason names both DSDs, their
# ldsds' source positions and the macro expansion the long DSD was loaded in
DSD_FAULT = """
    .task main, local, start
    .dsd d_acc, mem1d, base=acc, len=4
    .dsd d_row, mem1d, base=mat, len=4
.macro row, DSR, R, N
    ldsd DSR, d_row
    dsdaddi DSR, 8 * R
    li r1, N
    dsdlen DSR, r1
.endm
main:
    ldsd d0, d_acc
    ldsd a0, d_acc
    row b1, 1, 3
    fadds d0, a0, b1
    exit
    .data
acc: .f32 0.0, 0.0, 0.0, 0.0
mat: .f32 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0
"""

# a busy microthread: the faulting instruction's text names a long task (`activate TASK2`)
UT_BUSY = """    .route 1, west -> ramp
    .task main, local, start
    .task later, local
    .dsd dst, mem1d, base=buf, len=4
    .dsd src, fabin, color=1, len=4
main:
    ldsd d0, dst
    ldsd a0, src
    fmovh d0, a0 async ut2
    nop
    fmovh d0, r2 async ut2 activate later
    exit
later:
    exit
    .data
buf: .zero 8
"""


def _rename(src: str, names: dict) -> str:
    for old, new in names.items():
        src = re.sub(rf"\b{old}\b", new, src)
    return src


def _asm(src: str, filename: str = FILE) -> bytes:
    return assemble_quietly(src, filename=filename)



def _fault_info(fab: Fabric):
    """The core's wse_fault_info (keep it while reading its fields: they point into it)."""
    fi = ffi.new("wse_fault_info *")
    assert lib.wse_fault_get(fab._f, fi) == lib.WSE_OK
    return fi


def _cut(field: bytes, whole: str, size: int) -> None:
    """A fixed-size field that could not hold `whole`: as much as fits, then "...", cut at a
    character boundary (it decodes as UTF-8), a prefix of the true value."""
    assert len(whole.encode()) >= size
    assert field.endswith(b"...") and size - 4 <= len(field) <= size - 1, (len(field), field[-8:])
    assert whole.encode().startswith(field[:-3])
    field.decode("utf-8")                            # strict: no character split


def _marked(copy: str, whole: str) -> None:
    """A Python field that carries the C core's cut copy: the mark, and a prefix of the truth."""
    assert copy.endswith("...") and whole.startswith(copy[:-3]) and len(copy) < len(whole), (copy[-20:], whole[-20:])


# =============================================================================================
# faults
def test_a_long_named_fault_report_is_whole_on_both_emulators():
    obj = _asm(_rename(DSD_FAULT, {"main": TASK, "d_row": DSD}))
    core, fab = run_to_fault(Fabric, obj)
    ref, _ = run_to_fault(ReferenceFabric, obj)
    report = str(core)
    # the report: the whole task name, instruction texts, reason (the same words as the
    # reference's: its DSDs by name, the ldsds' positions in the long file) and source lines
    assert f"  PE (0,0), task 0 ({TASK})\n" in report
    assert f"  reason: {ref.reason}\n" in report
    assert f"loaded from DSD `{DSD}` by the ldsd at pc 2, {FILE}:6:5, in `row` at {FILE}:14:5;" in ref.reason
    assert f"  pc 7: fadds d0, a0, b1    at {FILE}:15:5\n" in report
    assert f"pc 2: ldsd b1, {DSD}    at {FILE}:6:5, in `row` at {FILE}:14:5\n" in report
    # the instructions before the fault: the same lines as the reference's report
    lines = [ln for ln in report.splitlines() if ln.startswith("    cycle ")]
    ref_lines = [ln for ln in str(ref).splitlines() if ln.startswith("    cycle ")]
    assert len(lines) == 7 and lines == ref_lines[-7:]
    # the fields both emulators fill whole
    for k in ("kind", "cycle", "pe", "task", "task_name", "pc", "insn", "line", "expansions"):
        assert getattr(core, k) == getattr(ref, k), k
    assert core.task_name == TASK and core.line == f"{FILE}:15:5"
    assert core.expansions == [] and ref.expansions == []
    # the reason from the core's field: cut, marked, a prefix
    assert len(ref.reason.encode()) > REASON
    _marked(core.reason, ref.reason)
    # the trace: the ldsd of the long DSD is cut and marked in the core's copy, the rest equal
    texts = [t for _, _, t in core.trace]
    want = [t for _, _, t in ref.trace[-len(texts):]]
    assert [c for c, _, _ in core.trace] == [c for c, _, _ in ref.trace[-len(texts):]]
    for c, r in zip(texts, want):
        if len(r.encode()) >= INSN:
            _marked(c, r)
        else:
            assert c == r
    assert f"ldsd b1, {DSD}" in want
    # the C struct itself: the sizes of the ABI, the values cut with the mark
    fi = _fault_info(fab)
    _cut(ffi.string(fi.task_name), TASK, TASK_NAME)
    _cut(ffi.string(fi.file), FILE, FILE_LEN)
    _cut(ffi.string(fi.reason), ref.reason, REASON)
    assert ffi.string(fi.insn) == b"fadds d0, a0, b1"           # fits: whole, no mark
    assert (fi.line, fi.column) == (15, 5)
    _cut(ffi.string(fi.recent_insn[2]), f"ldsd b1, {DSD}", INSN)
    assert ffi.string(fi.recent_insn[3]) == b"dsdaddi b1, 8"


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric], ids=["core", "reference"])
def test_a_long_instruction_text_is_whole_in_the_report(cls):
    """The faulting instruction names a long task (`activate TASK2`): whole in the report; the
    core's insn field (96 bytes) cut and marked, the reference's whole."""
    obj = _asm(_rename(UT_BUSY, {"main": TASK, "later": TASK2}))
    e, fab = run_to_fault(cls, obj)
    text = f"fmovh d0, r2 async ut2 activate {TASK2}"
    assert e.kind == "ut_busy" and e.pc == 4 and e.task_name == TASK and e.line == f"{FILE}:11:5"
    if cls is Fabric:
        assert f"  pc 4: {text}    at {FILE}:11:5\n" in str(e)
        _marked(e.insn, text)
        fi = _fault_info(fab)
        _cut(ffi.string(fi.insn), text, INSN)
    else:
        assert e.insn == text and f"`{text}`" in str(e)


def test_a_fault_report_beyond_64_kib_is_whole():
    """A control wavelet for a task the PE does not define: the reason lists every task the PE
    has, by name. 63 tasks of 2000 characters: the C core listed about 430 bytes of them (and
    its report stopped at 64 KiB), silently."""
    names = [f"t{i:02d}_" + "x" * 2000 for i in range(63)]
    src = "    .route 1, west -> ramp\n" + "".join(f"    .task {n}, local\n" for n in names)
    src += "".join(f"{n}:\n    exit\n" for n in names)
    obj = _asm(src)
    core, fab = run_to_fault(Fabric, obj, act=lambda f: f.send(1, 0, 0, "west", [63], control=True))
    report = str(core)
    assert core.kind == "task" and len(report) > MSG_LEN
    tasks = ", ".join(f"{i} ({n})" for i, n in enumerate(names))
    assert f"does not define (its tasks: {tasks})\n" in report
    assert report.endswith(f"(its tasks: {tasks})\n")
    whole = report.split("  reason: ", 1)[1][:-1]
    _marked(core.reason, whole)
    fi = _fault_info(fab)
    _cut(ffi.string(fi.reason), whole, REASON)
    assert "not enough host memory" not in report


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric], ids=["core", "reference"])
def test_a_cut_keeps_utf8_characters_whole(cls):
    """A file name of two-byte characters: the core's file field (256 bytes) is cut before a
    character, never inside one; the line and the report have the name whole."""
    name = "x" + "é" * 200 + ".s"
    obj = _asm("    .task main, local, start\nmain:\n    nop\n    trap 1\n", filename=name)
    e, fab = run_to_fault(cls, obj)
    assert e.line == f"{name}:4:5"
    if cls is Fabric:
        assert f"    at {name}:4:5\n" in str(e)
        fi = _fault_info(fab)                      # (kept: its fields point into it)
        raw = ffi.string(fi.file)
        _cut(raw, name, FILE_LEN)
        # 252 bytes and "..." would fit, but bytes 251 and 252 are one character: 251 are kept
        assert len(raw) == FILE_LEN - 2 and raw[:251] == name.encode()[:251]


def test_wse_disasm_marks_a_cut():
    """wse_disasm into a caller's buffer too small for the text: "..." at its end."""
    out = ffi.new("char[]", 8)
    word = _asm("    .task main, local, start\nmain:\n    addi r1, r2, 1234\n    exit\n")
    from wse.isa import objfile
    code = objfile.read(word).images[0].code[0]
    full = ffi.new("char[]", 64)
    assert lib.wse_disasm(code, full, 64) == lib.WSE_OK
    assert lib.wse_disasm(code, out, 8) == lib.WSE_OK
    _cut(ffi.string(out), ffi.string(full).decode(), 8)


def test_every_macro_level_is_named():
    """64 nested macros in a .rep, a .rep inside the innermost: the instructions come from 65 and
    66 levels of invocations. The C core named at most 64 (the outermost were left out,
    silently); now every level, as LINES and the reference have them."""
    n = 63
    src = "".join(f".macro m{i}\n    m{i + 1}\n.endm\n" for i in range(n))
    src += f".macro m{n}\n    .rep 2\n    nop\n    .endr\n    trap 1\n.endm\n"
    src += "    .task main, local, start\nmain:\n    .rep 1\n    m0\n    .endr\n    exit\n"
    obj = _asm(src, "<string>")
    core, _ = run_to_fault(Fabric, obj)
    ref, _ = run_to_fault(ReferenceFabric, obj)
    assert core.expansions == ref.expansions and len(core.expansions) == 65
    report = str(core)
    # the trap: one level a line; the outermost is the .rep around m0
    assert report.count("\n      in ") == 65
    assert "\n      in iteration 0 of the `.rep` at <string>:198:5\n" in report
    # the nop before it (in the inner .rep, 66 levels): every level on its trace line
    [nop] = [ln for ln in report.splitlines() if ln.startswith("    cycle 1  pc 0: nop")]
    assert nop.count(", in `") == 66 and nop.endswith(", in `.rep` iteration 0 at <string>:198:5")


# =============================================================================================
# hangs
LONG_OPS_WAITING = _rename(OPS_WAITING, {"main": TASK, "later": TASK2, "in": DSD_IN})


def _hang_both(obj: bytes) -> tuple[HangError, HangError, Fabric]:
    """The hang of the object on each emulator (core, reference), their records equal field by
    field and their reports line by line (as test_wait_records.hang_both), and the core's
    fabric."""
    out = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(1, 1, "wse2")
        fab.load(obj)
        with pytest.raises(HangError) as e:
            fab.run(max_cycles=10**5)
        check_records(e.value)
        out.append((e.value, fab))
    (core, fab), (ref, _) = out
    d = record_diffs(core, ref)
    assert not d, "\n".join(d)
    return core, ref, fab


def test_a_long_named_hang_report_is_whole_and_the_same_on_both_emulators():
    core, ref, fab = _hang_both(_asm(LONG_OPS_WAITING))
    report = core.report
    assert f"  running task 0 ({TASK}) at pc 6: fmovh d0, a0  ({FILE}:2:5, in `recv` at {FILE}:20:5)\n" in report
    assert f"waits for wavelets on color 1 (a0 loaded from DSD `{DSD_IN}` by the ldsd at pc 5, {FILE}:19:5)" in report
    assert f"  activated but blocked tasks: 1({TASK2})\n" in report
    # Wait.task_name and line: whole, from the image (the same records as the reference's)
    assert core.waits and all(w.task_name == TASK for w in core.waits)
    assert [w.line for w in core.waits] == [w.line for w in ref.waits]
    assert all(w.line.startswith(FILE + ":") for w in core.waits)
    # the C records: the task's name cut to wse_wait.task_name[64], with the mark
    info = ffi.new("wse_waits_info *")
    assert lib.wse_waits(fab._f, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) == lib.WSE_OK
    ws = ffi.new("wse_wait[]", info.n_waits)
    es = ffi.new("wse_wait_end[]", max(info.n_ends, 1))
    cs = ffi.new("wse_wait_end[]", max(info.n_cycle, 1))
    assert lib.wse_waits(fab._f, info, ws, info.n_waits, es, info.n_ends, cs, info.n_cycle) == lib.WSE_OK
    assert info.n_waits == len(core.waits)
    for w in ws[0:info.n_waits]:
        _cut(ffi.string(w.task_name), TASK, TASK_NAME)
    # the state report (wse-emu prints it on Ctrl-C) is built the same way
    text = fab.state_report()
    assert text.split("\n", 1)[1] == report.split("\n", 1)[1].split("who waits on whom")[0]


@pytest.mark.parametrize("stop", [3, 5, 7])
def test_a_long_named_watchdog_report_is_the_same_on_both_emulators(stop):
    obj = _asm(LONG_OPS_WAITING)
    reports = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(1, 1, "wse2")
        fab.load(obj)
        with pytest.raises(WatchdogError) as e:
            fab.run(max_cycles=stop)
        reports.append(e.value.report)
    d = report_diffs(*reports)
    assert not d, "\n".join(d)
    assert f"({TASK})" in reports[0]
