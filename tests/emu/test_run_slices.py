"""A run in slices (wse_run_slice, what Fabric.run uses so that Ctrl-C can stop it) is exactly
the run of one wse_run call, and Ctrl-C stops a run that would never end, in the API and in
wse-emu, leaving a fabric that goes on as if it had not stopped."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
