"""Out of host memory during a run: the core stops with WSE_NOMEM (Python MemoryError) and says
what it could not grow, instead of dropping a trace record, an event or a host wavelet.

The failure is real: a child process limits its own address space (RLIMIT_AS) after the
fabric is loaded, then runs a program whose trace (or host output) outgrows the limit."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

# Under AddressSanitizer (csrc/build_sanitized.sh preloads libasan) the shadow memory alone is
# far beyond any address-space limit, so the child could not even start.
ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

CHILD = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {here!r})
    from helpers import E, W, make
    from wse.isa.builder import ImageBuilder
    from wse.emu import WseError

    kind = sys.argv[1]
    b = ImageBuilder("t")
    if kind == "trace":
        # a task that activates itself: one trace record per task span, without end
        b.label("main")
        b.emit("activate", tid=0)
        b.emit("exit")
        b.task(0, "main", activated=True)
        f = make({{(0, 0): b.build()}})
        f.enable_trace(True)
    else:
        # host wavelets straight through the PE back to the host: one output record each
        b.route(1, (W, E))
        b.label("main")
        b.emit("exit")
        b.task(0, "main", activated=True)
        f = make({{(0, 0): b.build()}})
        f.send(1, 0, 0, "west", list(range(6_000_000)))
    vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + (96 << 20), resource.RLIM_INFINITY))
    try:
        f.run(max_cycles=200_000_000)
    except MemoryError as e:
        print("MEMORYERROR", type(e).__name__, isinstance(e, WseError), e)
        try:
            f.run()
        except MemoryError as e2:
            print("AGAIN", e2)
        sys.exit(0)
    except WseError as e:
        print("OTHER", type(e).__name__, str(e)[:200])
        sys.exit(0)
    print("NO ERROR")
""")


def run_child(kind: str) -> str:
    r = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE)), kind],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


@pytest.mark.skipif(ASAN, reason="AddressSanitizer's shadow memory does not fit an address-space limit")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS (Linux)")
@pytest.mark.parametrize("kind, what", [("trace", "the trace buffer"),
                                        ("host", "the buffer of wavelets sent to the host")])
def test_run_out_of_memory_stops_with_a_clear_error(kind, what):
    out = run_child(kind)
    assert "MEMORYERROR" in out, out
    first = out.split("MEMORYERROR", 1)[1].split("\n", 1)[0]
    assert first.startswith(" OutOfMemoryError True "), first      # typed, and a WseError
    assert "out of host memory at cycle" in first and f"growing {what} failed" in first, first
    assert "load the program again" in first
    # the fabric refuses to go on from an incomplete state
    assert "AGAIN" in out and "load it again" in out.split("AGAIN", 1)[1], out


# ---- the hang analysis ("who waits on whom") out of host memory ----
# kernels/examples/deadlock.s (PEs (0,0) and (1,0) each wait for the other) on a 4096x4096
# fabric: the analysis then allocates arrays of the fabric's size, 64 MB each (csrc/wse_core.c,
# wait_analyse: a stamp and a queue per PE to walk the routes; then, for the cycle of waits, a
# node index per PE), while the run itself allocates almost nothing. So an address-space limit
# a little above what the process uses once the fabric is loaded picks the step that fails:
# 32 MB more fails the walk (no waits at all), 160 MB more lets the walk's 128 MB through and
# fails the cycle's 64 MB, and 512 MB more lets everything through. The allocator really
# fails (no test-only hook in the core), as in the tests above.
HANG_CHILD = textwrap.dedent("""
    import json, resource, sys
    from wse.emu import Fabric, HangError

    data, margin = open(sys.argv[1], "rb").read(), int(sys.argv[2]) << 20
    f = Fabric(4096, 4096)
    f.load(data)
    f.run_until(1)
    vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + margin, resource.RLIM_INFINITY))
    try:
        f.run()
    except HangError as e:
        import pickle
        back = pickle.loads(pickle.dumps(e))
        print(json.dumps({"waits": [str(w) for w in back.waits], "deadlock": back.deadlock,
                          "waits_out_of_memory": back.waits_out_of_memory,
                          "deadlock_out_of_memory": back.deadlock_out_of_memory,
                          "edges": [w.deadlock for w in back.waits],
                          "tail": back.report.rstrip().splitlines()[-3:]}))
""")


@pytest.fixture(scope="module")
def wide_deadlock(tmp_path_factory):
    from wse.asm import assemble_file
    from wse.isa import objfile
    obj = objfile.read(assemble_file(str(HERE.parents[1] / "kernels/examples/deadlock.s")))
    obj.width = obj.height = 4096          # the same two PEs, on a fabric 4096x4096
    path = tmp_path_factory.mktemp("wide") / "deadlock.wso"
    path.write_bytes(obj.to_bytes())
    return path


@pytest.mark.skipif(ASAN, reason="AddressSanitizer's shadow memory does not fit an address-space limit")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS (Linux)")
@pytest.mark.parametrize("margin, step", [(32, "waits"), (160, "deadlock"), (512, None)])
def test_the_hang_analysis_out_of_memory_says_what_it_lost(wide_deadlock, margin, step):
    import json
    r = subprocess.run([sys.executable, "-c", HANG_CHILD, str(wide_deadlock), str(margin)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout)
    waits = ["PE (0,0) waits for color 1 from PE (1,0)", "PE (1,0) waits for color 2 from PE (0,0)"]
    if step == "waits":           # nothing recorded, and the fields say that it is for lack of memory
        assert got["waits"] == [] and got["deadlock"] == []
        assert got["waits_out_of_memory"] and got["deadlock_out_of_memory"]
        assert got["tail"][-1] == "(not enough host memory to work out who waits on whom)"
    elif step == "deadlock":      # the waits, and no cycle because it could not be looked for
        assert got["waits"] == waits and got["deadlock"] == [] and got["edges"] == [False, False]
        assert not got["waits_out_of_memory"] and got["deadlock_out_of_memory"]
        assert got["tail"][-1] == "(not enough host memory to look for a cycle of waits)"
    else:                         # enough memory: the same hang, analysed whole
        assert got["waits"] == waits and got["deadlock"] == [[0, 0], [1, 0]] and got["edges"] == [True, True]
        assert not got["waits_out_of_memory"] and not got["deadlock_out_of_memory"]
        assert got["tail"][-1].startswith("  a cycle of waits: PE (0,0) -> PE (1,0) -> PE (0,0)")
