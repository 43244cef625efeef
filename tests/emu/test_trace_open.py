"""The spans still open where a run stopped (wse_trace_open, Fabric.trace_open_array /
trace_open_events, ReferenceFabric.trace_open_events) and the unfinished spans of wse-emu
--trace.

A span (a task's run, a tensor op on the main thread or a microthread) is recorded when it ends,
so a trace of a run that stopped before its tasks ended held none of them: `--until`, the
watchdog, a hang or a fault left an empty trace, exactly where a user needs to see what was
running. The open spans are read from the state, cut at the cycle where the run stopped, and
never recorded: a run that goes on records each span once, when it ends. Both backends give
the same ones (tests/emu/test_differential.py compares them at every boundary of its lock-step
runs too)."""
import io
import json

import pytest
from hypothesis import given, settings, strategies as st

from wse.asm import assemble_text
from wse.emu import TRACE_OPEN, TRACE_TASK, TRACE_TENSOR, FaultError, HangError, WatchdogError
from wse.emu.cli import main, write_trace
from wse.emu.fabric import Fabric, ffi, lib
from wse.emu.records import opcode_mnemonic
from wse.emu.reference import ReferenceFabric
from wse.kernels.driver import assemble, kernel_source

BACKENDS = (Fabric, ReferenceFabric)
DSD_FAULT = kernel_source("examples/dsd_fault.s").read_text()
OPEN_TASK, OPEN_OP = TRACE_OPEN | TRACE_TASK, TRACE_OPEN | TRACE_TENSOR

SPIN = """.fabric 1, 1
.program p
    .task main, local, start
main:
    addi r1, r1, 1
    beq r0, r0, main
.endprogram
.place p, 0, 0
"""

# counts to 300 and exits: a task that ends after the cycles the tests stop it at
COUNT = """.fabric 1, 1
.program p
    .task main, local, start
main:
    li r2, 300
loop:
    addi r1, r1, 1
    bne r1, r2, loop
    exit
.endprogram
.place p, 0, 0
"""

# a synchronous fabric op that waits for ever (nothing sends color 1): a hang with the task and
# the main thread's op open
RECV = """.fabric 1, 1
.program p
    .route 1, west -> ramp
    .task main, local, start
    .dsd xin, fabin, color=1, len=4
    .dsd dx, mem1d, base=x, len=4
main:
    ldsd d0, dx
    ldsd a0, xin
    fmovs d0, a0
    exit
    .data
x: .zero 4, f32
.endprogram
.place p, 0, 0
"""

# two async memory ops: ut3's waits for the datapath that ut2's holds (issued, not started)
ASYNC_MEM = """.fabric 1, 1
.program p
    .task main, local, start
    .task done, local
    .dsd big, mem1d, base=buf, len=256
main:
    ldsd d0, big
    ldsd a0, big
    ldsd b0, big
    fadds d0, a0, b0 async ut2
    fadds d0, a0, b0 async ut3 activate done
    exit
done:
    exit
    .data
buf: .zero 256, f32
.endprogram
.place p, 0, 0
"""

# a loop of memory-only ops that its runs issue ahead of the fabric's cycle
AHEAD = """.fabric 1, 1
.program p
    .task main, local, start
    .dsd big, mem1d, base=buf, len=200
main:
    ldsd d0, big
    ldsd a0, big
    ldsd b0, big
    li r2, 40
loop:
    fadds d0, a0, b0
    addi r1, r1, 1
    bne r1, r2, loop
    exit
    .data
buf: .zero 200, f32
.endprogram
.place p, 0, 0
"""


def _fabric(cls, src_or_obj, **trace):
    obj = assemble_text(src_or_obj) if isinstance(src_or_obj, str) else src_or_obj
    fab = cls.from_object(obj) if cls is Fabric else cls(*_size(obj))
    if cls is not Fabric:
        fab.load(obj)
    fab.enable_trace(True, **trace)
    return fab


def _size(obj):
    from wse.isa import objfile
    o = objfile.read(obj)
    return o.width, o.height, o.arch


def _ended(fab, call):
    try:
        return call()
    except (FaultError, HangError, WatchdogError) as e:
        return e


def _json(fab, names=None):
    buf = io.BytesIO()
    write_trace(fab, buf, names or (lambda x, y: {}))
    return json.loads(buf.getvalue())["traceEvents"]


def _check_nesting(events):
    """Spans on one track (pid, tid) nest or follow each other, never overlap: the JSON trace
    format's rule for "X" events, which Perfetto enforces."""
    tracks = {}
    for e in events:
        if e["ph"] == "X":
            tracks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], -e["dur"], e["name"]))
    for key, spans in tracks.items():
        stack = []
        for ts, mdur, name in sorted(spans):
            end = ts - mdur
            while stack and stack[-1][0] <= ts:
                stack.pop()
            assert not stack or end <= stack[-1][0], f"{name} [{ts}, {end}) crosses {stack[-1][1]} on {key}"
            stack.append((end, name))


# ---- the three commands of the report, and a hang, on the command line -------------------
@pytest.mark.parametrize("src, args, t1, status", [
    (SPIN, ["--until", "100"], 100, 0),
    (SPIN, ["--max-cycles", "100"], 100, 1),
    (DSD_FAULT, [], 9, 1),      # the fault is at cycle 8
    (RECV, [], None, 1),                                     # a hang
])
def test_cli_trace_shows_what_was_running(tmp_path, capsys, src, args, t1, status):
    p = tmp_path / "p.wso"
    p.write_bytes(assemble_text(src))
    tr = tmp_path / "t.json"
    assert main([str(p), "--trace", str(tr)] + args) == status
    out = capsys.readouterr().out
    ev = json.loads(tr.read_text())["traceEvents"]
    spans = [e for e in ev if e["ph"] == "X"]
    assert spans and all(e["args"] == {"unfinished": True} and e["name"].endswith(" (unfinished)") for e in spans)
    task = [e for e in spans if e["cat"] == "task"]
    assert [(e["name"], e["ts"]) for e in task] == [("task 0 (main) (unfinished)", 0)]
    if t1 is not None:
        assert task[0]["dur"] == t1
    else:                                   # the hang: the receive on the main thread, nested
        op = [e for e in spans if e["cat"] == "tensor"]
        assert [(e["name"], e["tid"]) for e in op] == [("fmovs (unfinished)", 0)]
        assert op[0]["ts"] + op[0]["dur"] == task[0]["dur"]
    _check_nesting(ev)
    assert f"trace: {len(ev)} events ({len(spans)} unfinished: what was running where the run stopped)" in out


def test_cli_trace_of_a_run_that_ends_has_nothing_unfinished(tmp_path, capsys):
    p = tmp_path / "p.wso"
    p.write_bytes(assemble_text(COUNT))
    tr = tmp_path / "t.json"
    assert main([str(p), "--trace", str(tr)]) == 0
    spans = [e for e in json.loads(tr.read_text())["traceEvents"] if e["ph"] == "X"]
    assert [(e["name"], e["ts"], "args" in e) for e in spans] == [("task 0 (main)", 0, False)]
    assert "unfinished" not in capsys.readouterr().out


# ---- both backends: the same open spans --------------------------------------------------
@pytest.mark.parametrize("cls", BACKENDS)
def test_until_watchdog_and_fault(cls):
    fab = _fabric(cls, SPIN)
    assert fab.run_until(100) is False
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 100)]
    e = _ended(fab, lambda: fab.run(max_cycles=150))
    assert isinstance(e, WatchdogError) and fab.cycle == 150
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 150)]
    # the fault: the fabric stops at the first cycle of the run (1); the task ran to the
    # fault's cycle (8), which its span takes in
    fab = _fabric(cls, DSD_FAULT)
    e = _ended(fab, fab.run)
    assert isinstance(e, FaultError) and (e.cycle, fab.cycle) == (8, 1)
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 9)]


def test_the_core_records_nothing_for_them():
    fab = _fabric(Fabric, SPIN)
    fab.run_until(100)
    assert fab.trace_count == 0 and fab.trace_open_count == 1
    a = fab.trace_open_array()
    assert a.dtype == fab.trace_array().dtype and a["kind"].tolist() == [lib.WSE_TRACE_OPEN | 1]
    assert TRACE_OPEN == lib.WSE_TRACE_OPEN
    assert fab.trace_open_events() == fab.trace_open_events()     # a read changes nothing
    assert fab.trace_count == 0


@pytest.mark.parametrize("cls", BACKENDS)
def test_hang_with_the_main_threads_op(cls):
    fab = _fabric(cls, RECV)
    e = _ended(fab, fab.run)
    assert isinstance(e, HangError)
    fmovs = [op for op in range(256) if opcode_mnemonic(op) == "fmovs"][0]
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, e.cycle),
                                       (OPEN_OP, 0, 0, fmovs, 8, 3, e.cycle)]


@pytest.mark.parametrize("cls", BACKENDS)
def test_hang_with_a_microthreads_op(cls):
    """async_square with nothing sent: main has ended, its receive waits on ut1."""
    fab = _fabric(cls, assemble(kernel_source("examples/async_square.s"), {"N": 4}))
    e = _ended(fab, fab.run)
    assert isinstance(e, HangError)
    ev = fab.trace_open_events()
    assert [(k, a, b, t1) for k, x, y, a, b, t0, t1 in ev] == [
        (OPEN_OP, [op for op in range(256) if opcode_mnemonic(op) == "fmovs"][0], 1, e.cycle)]
    # main's span was recorded when it ended; the op's is not (it has not ended)
    if cls is Fabric:
        assert [(k, a) for k, x, y, a, b, t0, t1 in fab.trace_events()] == [(TRACE_TASK, 0)]


def test_backends_agree_cycle_by_cycle_on_microthread_ops():
    """Each boundary of ASYNC_MEM and async_square (fed): the same open spans on both; ut3's op
    is left out while it waits for the datapath (it has not started), then appears."""
    seen = set()
    progs = [(assemble_text(ASYNC_MEM), ()),
             (assemble(kernel_source("examples/async_square.s"), {"N": 4}), ((1, 0, 0, "west", [1.0, 2.0, 3.0, 4.0]),))]
    for obj, host in progs:
        fabs = [_fabric(cls, obj) for cls in BACKENDS]
        for f in fabs:
            for color, x, y, port, vals in host:
                f.send(color, x, y, port, vals)
        for t in range(1, 400):
            idle = [f.run_until(t) for f in fabs]
            core, ref = (f.trace_open_events() for f in fabs)
            assert core == ref, (t, core, ref)
            for k, x, y, a, b, t0, t1 in core:
                assert t0 < t1 == t
                seen.add((k, b))
            if idle[0]:
                assert idle == [True, True] and core == []
                break
        else:
            raise AssertionError("the program did not end")
    assert {(OPEN_OP, 1), (OPEN_OP, 2), (OPEN_OP, 3), (OPEN_OP, 8), (OPEN_TASK, 0)} <= seen, seen


def test_an_op_that_has_not_started_is_left_out():
    fab = _fabric(Fabric, ASYNC_MEM)
    for t in range(1, 60):
        fab.run_until(t)
        st = fab.pe_state(0, 0)["ut"]
        open_uts = {b for k, x, y, a, b, t0, t1 in fab.trace_open_events() if k == OPEN_OP}
        if st[3] is not None and 3 not in open_uts:
            assert 2 in open_uts                  # ut3's op waits behind ut2's
            return
    raise AssertionError("ut3's op never waited for the datapath")


# ---- a run that goes on: each span once, finished -----------------------------------------
@pytest.mark.parametrize("cls", BACKENDS)
def test_a_resumed_run_records_the_span_once(cls):
    fab = _fabric(cls, COUNT)
    fab.run_until(100)
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 100)]
    fab.run_until(200)
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 200)]
    end = fab.run()
    assert fab.trace_open_events() == []
    if cls is Fabric:
        assert fab.trace_events() == [(TRACE_TASK, 0, 0, 0, 0, 0, end)]
        spans = [e for e in _json(fab) if e["ph"] == "X"]
        assert [(e["name"], e["ts"], e["dur"], "args" in e) for e in spans] == [("task 0", 0, end, False)]


def test_a_run_resumed_after_a_yield_records_the_span_once():
    """Ctrl-C stops a run between slices (Fabric._run_sliced): the open spans are there, and the
    run that goes on records the span once."""
    fab = _fabric(Fabric, RECV.replace("len=4", "len=3"))
    fab.send(1, 0, 0, "west", [1.0])
    f = fab._f
    assert lib.wse_run_slice(f, 2**64 - 1, 0, 3) == lib.WSE_YIELD
    lib.wse_run(f, lib.wse_cycle(f), 0)               # as Fabric does after a KeyboardInterrupt
    t = fab.cycle
    ev = fab.trace_open_events()
    assert ev and {e[0] for e in ev} <= {OPEN_TASK, OPEN_OP} and all(e[6] == t for e in ev)
    fab.send(1, 0, 0, "west", [2.0, 3.0])
    fab.run()
    assert fab.trace_open_events() == []
    kinds = sorted(e[0] for e in fab.trace_events() if e[0] != 3)
    assert kinds == [TRACE_TASK, TRACE_TENSOR]        # the task and its receive, once each


def test_the_writer_draws_an_unfinished_task_over_the_ops_its_run_issued_ahead():
    """A run of local instructions executes ahead of the fabric's cycle and its memory-only ops
    are recorded at issue: they may end after the cycle the run stopped at. The JSON draws the
    unfinished task to the end of the last of them, so that the main track nests (Perfetto
    refuses spans that cross); the core's open span itself stops at the cycle."""
    fab = _fabric(Fabric, AHEAD)
    fab.run_until(30)
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 30)]
    ops = [e for e in fab.trace_events() if e[0] == TRACE_TENSOR]
    assert max(e[6] for e in ops) > 30                  # recorded ahead of cycle 30
    ev = _json(fab)
    _check_nesting(ev)
    task = [e for e in ev if e["ph"] == "X" and e["cat"] == "task"]
    assert len(task) == 1 and task[0]["dur"] == max(e[6] for e in ops)


# ---- the trace window ----------------------------------------------------------------------
W, H = 4, 3


def _grid():
    from wse.kernels.gemv.run import defines_for
    return assemble(kernel_source("gemv/gemv.s"), defines_for(24, 16, W, H))


@pytest.fixture(scope="module")
def grid():
    return _grid()


def _meets(e, x0, y0, w, h, c0, c1):
    kind, x, y, _, _, t0, t1 = e
    return x0 <= x < x0 + w and y0 <= y < y0 + h and t0 < c1 and t1 > c0


@settings(max_examples=40, deadline=None)
@given(t=st.integers(1, 70), x0=st.integers(0, W - 1), y0=st.integers(0, H - 1), w=st.integers(1, W),
       h=st.integers(1, H), c0=st.integers(0, 70), length=st.one_of(st.none(), st.integers(1, 50)))
def test_window_keeps_exactly_the_open_spans_in_it(grid, t, x0, y0, w, h, c0, length):
    w, h = min(w, W - x0), min(h, H - y0)
    c1 = None if length is None else c0 + length
    full = _fabric(Fabric, grid)
    full.run_until(t)
    want = [e for e in full.trace_open_events() if _meets(e, x0, y0, w, h, c0, 2**64 if c1 is None else c1)]
    fab = _fabric(Fabric, grid, rect=(x0, y0, w, h), cycles=(c0, c1))
    fab.run_until(t)
    assert fab.trace_open_events() == want
    # the window may be set after the run as well: the open spans are read from the state
    full.enable_trace(True, rect=(x0, y0, w, h), cycles=(c0, c1))
    assert full.trace_open_events() == want


def test_window_on_both_backends():
    obj = assemble(kernel_source("examples/stencil.s"), {"P": 4, "N": 6})
    windows = [dict(), dict(rect=(1, 0, 2, 1)), dict(cycles=(5, 9)), dict(rect=(3, 0), cycles=(0, 3))]
    for t in (2, 5, 8, 12, 20):
        got = []
        for cls in BACKENDS:
            fab = _fabric(cls, obj)
            _ended(fab, lambda: fab.run_until(t))
            per = []
            for win in windows:
                fab.enable_trace(True, **win)
                per.append(fab.trace_open_events())
            got.append(per)
        assert got[0] == got[1], (t, got)
    assert any(got[0])


def test_open_spans_do_not_need_tracing_on():
    fab = Fabric.from_object(assemble_text(SPIN))
    fab.run_until(10)
    assert fab.trace_open_events() == [(OPEN_TASK, 0, 0, 0, 0, 0, 10)] and fab.trace_count == 0


def test_before_a_load_and_after_one():
    fab = Fabric(2, 2)
    assert fab.trace_open_count == 0 and len(fab.trace_open_array()) == 0
    fab.load(assemble_text(SPIN))
    fab.run_until(5)
    assert fab.trace_open_count == 1
    fab.load(assemble_text(SPIN))                   # back to cycle 0: nothing has run
    assert fab.trace_open_count == 0


def test_trace_open_array_reads_any_slice(grid):
    fab = _fabric(Fabric, grid)
    fab.run_until(30)
    a = fab.trace_open_array()
    n = len(a)
    assert n > 3 and n == fab.trace_open_count
    assert fab.trace_open_array(1, n - 2).tobytes() == a[1:n - 1].tobytes()
    assert len(fab.trace_open_array(n)) == 0
    from wse.emu.errors import BadArgError
    with pytest.raises(BadArgError):
        fab.trace_open_array(n + 1)
    with pytest.raises(BadArgError):
        fab.trace_open_array(1, n)
    # the core's call directly: the count alone, and a range past the end
    cnt = ffi.new("unsigned long long *")
    assert lib.wse_trace_open(fab._f, 0, 0, ffi.NULL, cnt) == lib.WSE_OK and cnt[0] == n
    buf = ffi.new("wse_trace_event[2]")
    assert lib.wse_trace_open(fab._f, n - 1, 2, buf, cnt) == lib.WSE_BAD_ARG and cnt[0] == n
    assert f"spans [{n - 1}, +2) are not within the {n} open" in fab._msg()


@pytest.mark.parametrize("chunk", [1, 2, 1 << 17])
def test_writer_output_with_open_spans_does_not_depend_on_the_chunk(grid, chunk):
    fab = _fabric(Fabric, grid)
    fab.run_until(30)
    ref, got = io.BytesIO(), io.BytesIO()
    n = write_trace(fab, ref, chunk=1 << 20)
    assert write_trace(fab, got, chunk=chunk) == n and got.getvalue() == ref.getvalue()
    ev = json.loads(got.getvalue())["traceEvents"]
    unfinished = [e for e in ev if e.get("args", {}).get("unfinished")]
    assert len(unfinished) == fab.trace_open_count
    _check_nesting(ev)
