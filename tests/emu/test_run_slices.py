"""A run in slices (wse_run_slice: of visited cycles; wse_run_timed: of host time, what
Fabric.run uses so that Ctrl-C can stop it) is exactly the run of one wse_run call, and Ctrl-C
stops a run that would never end, in the API and in wse-emu, soon, even when every PE of a large
fabric is busy, leaving a fabric that goes on as if it had not stopped."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wse.asm import assemble_file, assemble_text
from wse.emu import Fabric
from wse.emu._core import lib

ROOT = Path(__file__).resolve().parents[2]
LOOP = """
    .task main, local, start
main:
    addi r2, r2, 1
    b main
"""


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v.tolist() if hasattr(v, "tolist") else v


def _state(fab, w, h):
    return _plain((fab.cycle, fab.stats(), [fab.pe_state(x, y) for y in range(h) for x in range(w)]))


@pytest.mark.parametrize("slice_", [1, 2, 7, 64])
def test_slices_give_the_same_run(slice_):
    obj = assemble_file(str(ROOT / "kernels/examples/hello.s"), defines={"W": 4, "H": 4})
    one, sliced = Fabric.from_object(obj), Fabric.from_object(obj)
    assert lib.wse_run(one._f, 2**64 - 1, 0) == lib.WSE_OK
    n = 0
    while (st := lib.wse_run_slice(sliced._f, 2**64 - 1, 0, slice_)) == lib.WSE_YIELD:
        n += 1
    assert st == lib.WSE_OK and n >= 40 // slice_
    assert _state(one, 4, 4) == _state(sliced, 4, 4)
    assert one.read("total", rect=(3, 3, 1, 1)).item() == 136


# every PE loops on a 1-element tensor op forever: each CE event is a run of 4096 instructions,
# and all the PEs have theirs in the same cycles (the audit's spin.s)
SPIN = """
.ifndef W
W = 32
.endif
.fabric W, W
.program p
    .task main, local, start
    .dsd dst, mem1d, base=B, len=1
    .dsd src, mem1d, base=A, len=1
main:
    ldsd d0, dst
    ldsd a0, src
loop:
    fmovs d0, a0
    b loop
    .data
A: .zero 1, f32
B: .zero 1, f32
    .export A, B
.endprogram
.place p, 0, 0, W, W
"""


def _jacobi(trace):
    px, py, nx, ny = 4, 3, 8, 8
    fab = Fabric.from_object(assemble_file(str(ROOT / "kernels/examples/jacobi2d.s"), arch="wse3",
                                           defines={"PX": px, "PY": py, "NX": nx, "NY": ny, "T": 12}))
    u = np.random.default_rng(5).standard_normal((py, px, (ny + 2) * (nx + 2))).astype(np.float32)
    fab.write("u", u)
    if trace:
        fab.enable_trace(True)
    return fab


def _hello(trace):
    fab = Fabric.from_object(assemble_file(str(ROOT / "kernels/examples/hello.s"), defines={"W": 6, "H": 5}))
    if trace:
        fab.enable_trace(True)
    return fab


def _spin(trace):
    fab = Fabric.from_object(assemble_text(SPIN, defines={"W": 4}))
    if trace:
        fab.enable_trace(True, rect=(1, 1, 2, 2))
    return fab


def _deadlock(trace):
    return Fabric.from_object(assemble_file(str(ROOT / "kernels/examples/deadlock.s")))


def _timed(fab, stop_at, mc):
    yields = 0
    while (st := lib.wse_run_timed(fab._f, stop_at, mc, 1)) == lib.WSE_YIELD:
        yields += 1
    return st, yields


def _outcome(fab, run, stops, mc):
    """Run to each of stops (run_until's boundaries, NEVER: to the end) with run(f, stop_at, mc),
    and what the fabric holds after each: its statuses, messages (the reports), state, trace
    and the wavelets it sent to the host."""
    out, yields = [], 0
    for stop in stops:
        st, n = run(fab, stop, mc)
        yields += n
        lib.wse_run(fab._f, lib.wse_cycle(fab._f), 0)      # (what Fabric does after a yield)
        w, h = fab.width, fab.height
        out.append((st, fab._msg(), _state(fab, w, h), fab.trace_events(), fab.trace_open_events(),
                    fab.received_array().tolist()))
    return out, yields


@pytest.mark.parametrize("make, stops, mc, at_least", [
    (_jacobi, [700, 701, 2**64 - 1], 0, 4),              # async ops on microthreads, a run to the end
    (_hello, [7, 2**64 - 1], 0, 0),                      # wavelets between PEs, to the host
    (_spin, [9000, 2**64 - 1], 50_000, 10),              # 4096-instruction runs, then the watchdog
    (_deadlock, [2**64 - 1], 0, 0),                      # a hang and its report
])
@pytest.mark.parametrize("trace", [False, True])
def test_timed_slices_give_the_same_run(make, stops, mc, at_least, trace):
    """wse_run_timed with a slice of 1 ns yields at every look at the clock (every few thousand
    units of work): wherever those boundaries fall, in the middle of runs of local
    instructions, of async ops, of wavelets in flight, the run is that of one wse_run call."""
    one, _ = _outcome(make(trace), lambda fab, stop, mc: (lib.wse_run(fab._f, stop, mc), 0), stops, mc)
    sliced, yields = _outcome(make(trace), _timed, stops, mc)
    assert yields >= at_least
    assert sliced == one
    assert one[-1][0] in (lib.WSE_OK, lib.WSE_WATCHDOG, lib.WSE_HANG)


def test_timed_slices_end_near_their_time():
    """A slice of 20 ms on a fabric whose every PE runs 4096 instructions per visited cycle ends
    within that plus about one visited cycle, and one without a limit (0) runs to the end."""
    fab = Fabric.from_object(assemble_text(SPIN, defines={"W": 16}))
    f = fab._f
    assert lib.wse_run_timed(f, 2**64 - 1, 3, 0) == lib.WSE_WATCHDOG      # (no cycle visited yet)
    t0 = time.perf_counter()
    assert lib.wse_run_timed(f, 2**64 - 1, 0, 20_000_000) == lib.WSE_YIELD
    took = time.perf_counter() - t0
    assert fab.cycle > 4096 and took < 2.0, took      # one visited cycle is ~10 ms here
    assert lib.wse_run_timed(f, fab.cycle + 100_000, 0, 0) == lib.WSE_PAUSED


def test_ctrl_c_stops_a_run_and_run_goes_on():
    fab = Fabric.from_object(assemble_text(LOOP))

    def interrupt(*_):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            fab.run()
        assert time.perf_counter() - t0 < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    stopped = fab.cycle
    assert stopped > 0 and fab.pe_state(0, 0)["regs"][2] > 0
    with pytest.raises(Exception, match="watchdog"):
        fab.run(max_cycles=stopped + 1000)            # goes on from where it stopped
    assert fab.cycle == stopped + 1000


def test_max_cycles_before_the_current_cycle_is_refused():
    fab = Fabric.from_object(assemble_text(LOOP))
    with pytest.raises(Exception, match="watchdog"):
        fab.run(max_cycles=1000)
    with pytest.raises(ValueError, match="max_cycles 500 is before the fabric's cycle 1000"):
        fab.run(max_cycles=500)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the child's CPU time from /proc (Linux)")
def test_wse_emu_ctrl_c(tmp_path):
    src = tmp_path / "loop.s"
    src.write_text(LOOP)
    obj = tmp_path / "loop.wso"
    obj.write_bytes(assemble_text(LOOP))
    p = subprocess.Popen([sys.executable, "-m", "wse.emu.cli", str(obj)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # the interrupt comes once the child has used 1.5 s of CPU (its imports take ~0.3 s, the
    # rest is the run), not after 1.5 s of wall time: on a loaded machine a wall-clock sleep
    # could land in the imports, before wse-emu's handler is installed
    stat = Path(f"/proc/{p.pid}/stat")
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    while stat.exists() and time.monotonic() - t0 < 60:
        f = stat.read_text().rsplit(")", 1)[1].split()
        if (int(f[11]) + int(f[12])) / hz >= 1.5:       # utime + stime
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 130, (out, err)
    # where it was (the state report), then what was interrupted
    assert err.startswith("state at cycle ") and "running task 0" in err and "Traceback" not in err
    assert "\nwse-emu: interrupted at cycle " in err


def _cpu_seconds(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")       # utime + stime


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the child's CPU time from /proc (Linux)")
def test_wse_emu_ctrl_c_on_a_busy_fabric(tmp_path):
    """Every PE of 32x32 busy in the same cycles (a visited cycle is ~30 ms of host time, and
    slices counted in visited cycles took 40 s to end): Ctrl-C ends wse-emu in well under a
    second, with the state report."""
    obj = tmp_path / "spin.wso"
    obj.write_bytes(assemble_text(SPIN))
    p = subprocess.Popen([sys.executable, "-m", "wse.emu.cli", str(obj), "--max-cycles", str(10**12)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # once the child has used 1.5 s of CPU (the imports and the load take ~0.5 s): running
        t0 = time.monotonic()
        while p.poll() is None and time.monotonic() - t0 < 60 and _cpu_seconds(p.pid) < 1.5:
            time.sleep(0.05)
        assert p.poll() is None, p.communicate()
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        p.kill()
    assert p.returncode == 130, (out, err)
    assert err.startswith("state at cycle ") and "Traceback" not in err
    assert "\nwse-emu: interrupted at cycle " in err
    # ~0.05 s on an idle machine; the bound leaves room for a loaded one (2 shared cores)
    assert took < 5, took
