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
        print("MEMORYERROR", e)
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
    assert "out of host memory at cycle" in first and f"growing {what} failed" in first, first
    assert "load the program again" in first
    # the fabric refuses to go on from an incomplete state
    assert "AGAIN" in out and "load it again" in out.split("AGAIN", 1)[1], out
