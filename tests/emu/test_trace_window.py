"""The trace window (wse_trace_window, Fabric.enable_trace(rect=, cycles=), wse-emu
--trace-rect / --trace-cycles) and the chunked trace writer.

A run traced through a window records exactly the events of the whole-fabric trace that fall in
the window: a PE inside the rectangle, and a span that meets the cycles [start, end) (an
instant event at t counts as [t, t + 1)). The writer streams the events in chunks; the JSON does
not depend on the chunk size."""
import io
import json

import numpy as np
import pytest
from hypothesis import given, strategies as st

from wse.emu import Fabric
from wse.emu.cli import main, write_trace
from wse.emu.errors import BadArgError
from wse.kernels.driver import assemble, kernel_source

W, H = 4, 3


def _stencil():
    return assemble(kernel_source("examples/stencil.s"), {"P": W, "N": 6})


def _grid_program():
    """A GEMV on a 4x3 block grid: tasks, tensor ops and wavelets on every PE."""
    from wse.kernels.gemv.run import defines_for
    return assemble(kernel_source("gemv/gemv.s"), defines_for(24, 16, W, H))


@pytest.fixture(scope="module")
def program():
    return _grid_program()


def _run(data, **window):
    fab = Fabric.from_object(data)
    if window is not None:
        fab.enable_trace(True, **window)
    fab.run(max_cycles=10**6)
    return fab


@pytest.fixture(scope="module")
def full(program):
    ev = _run(program).trace_events()
    assert len({(e[1], e[2]) for e in ev}) == W * H and {e[0] for e in ev} == {1, 2, 3}
    return ev


def _meets(e, x0, y0, w, h, c0, c1):
    kind, x, y, _, _, t0, t1 = e
    return x0 <= x < x0 + w and y0 <= y < y0 + h and t0 < c1 and max(t1, t0 + 1) > c0


@given(x0=st.integers(0, W - 1), y0=st.integers(0, H - 1), w=st.integers(1, W), h=st.integers(1, H),
       c0=st.integers(0, 400), length=st.one_of(st.none(), st.integers(1, 300)))
def test_window_keeps_exactly_the_events_in_it(program, full, x0, y0, w, h, c0, length):
    w, h = min(w, W - x0), min(h, H - y0)
    c1 = None if length is None else c0 + length
    got = _run(program, rect=(x0, y0, w, h), cycles=(c0, c1)).trace_events()
    want = [e for e in full if _meets(e, x0, y0, w, h, c0, 2**64 - 1 if c1 is None else c1)]
    assert got == want


def test_window_default_is_everything(program, full):
    assert _run(program, rect=None, cycles=None).trace_events() == full
    fab = _run(program, rect=(0, 0, W, H), cycles=(0, None))
    assert fab.trace_events() == full and fab.trace_count == len(full)


@pytest.mark.parametrize("kw, words", [
    ({"rect": (3, 0, 2, 1)}, "outside"),
    ({"rect": (0, 0, 0, 1)}, ""),
    ({"rect": (-1, 0, 1, 1)}, ""),
    ({"cycles": (5, 5)}, "empty"),
    ({"cycles": (9, 2)}, "empty"),
    ({"cycles": (-1, None)}, "start cycle"),
    ({"cycles": 7}, "(start, end)"),
    ({"cycles": (0, 2**64)}, "end cycle"),
])
def test_bad_window_is_refused_before_anything_changes(kw, words):
    fab = Fabric.from_object(_stencil())
    with pytest.raises(BadArgError) as e:
        fab.enable_trace(True, **kw)
    assert words in str(e.value)
    fab.run(max_cycles=10**5)
    assert fab.trace_count == 0          # tracing was not turned on


def test_core_refuses_a_window_outside_the_fabric():
    """The C core checks the rectangle and the cycles itself (the Python checks are not its only
    guard): a window the core is handed directly is refused with its message."""
    from wse.emu.fabric import lib
    fab = Fabric.from_object(_stencil())
    assert lib.wse_trace_window(fab._f, 0, 0, W + 1, 1, 0, 10) == lib.WSE_BAD_ARG
    assert "the rectangle (0, 0, 5, 1) is not inside the 4x1 fabric" in fab._msg()
    assert lib.wse_trace_window(fab._f, 2**32 - 1, 0, 2, 1, 0, 10) != 0     # x0 + w wraps
    assert lib.wse_trace_window(fab._f, 0, 0, 1, 1, 10, 10) == lib.WSE_BAD_ARG
    assert "the cycles [10, 10) are empty" in fab._msg()
    assert lib.wse_trace_window(fab._f, 0, 0, W, 1, 0, 1) == 0


def test_trace_array_reads_any_slice(program, full):
    fab = _run(program)
    n = fab.trace_count
    a = fab.trace_array()
    assert len(a) == n and a.dtype.names == ("kind", "x", "y", "a", "b", "t0", "t1")
    mid = fab.trace_array(n // 3, n // 3)
    assert mid.tobytes() == a[n // 3: n // 3 + n // 3].tobytes()
    assert len(fab.trace_array(n)) == 0
    with pytest.raises(BadArgError):
        fab.trace_array(n + 1)
    with pytest.raises(BadArgError):
        fab.trace_array(1, n)


@pytest.mark.parametrize("chunk", [1, 7, 1000, 1 << 17])
def test_writer_output_does_not_depend_on_the_chunk(program, chunk):
    fab = _run(program)
    ref, got = io.BytesIO(), io.BytesIO()
    n_ref = write_trace(fab, ref, chunk=1 << 20)
    assert write_trace(fab, got, chunk=chunk) == n_ref
    assert got.getvalue() == ref.getvalue()
    ev = json.loads(got.getvalue())["traceEvents"]
    assert len(ev) == n_ref
    # every recorded event is in the JSON once, at its cycle
    spans = sorted((e["pid"], e["ts"], e["ts"] + e["dur"]) for e in ev if e["ph"] == "X")
    want = sorted((y * W + x, t0, t1) for k, x, y, a, b, t0, t1 in fab.trace_events() if k in (1, 2))
    assert spans == want


def test_cli_trace_window(tmp_path, capsys):
    p = tmp_path / "g.wso"
    p.write_bytes(_grid_program())
    tr = tmp_path / "t.json"
    assert main([str(p), "--trace", str(tr), "--trace-rect", "1,1,2,1", "--trace-cycles", "10:60"]) == 0
    ev = [e for e in json.loads(tr.read_text())["traceEvents"] if e["ph"] != "M"]
    assert ev and {e["pid"] for e in ev} <= {1 * W + 1, 1 * W + 2}
    assert all(e["ts"] < 60 and e["ts"] + max(e.get("dur", 0), 1) > 10 for e in ev)
    assert f"trace: {len(json.loads(tr.read_text())['traceEvents'])} events" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["--trace-rect", "0,0"], "--trace-rect limits the trace: give the file to write with --trace"),
    (["--trace-cycles", "0:9"], "--trace-cycles limits the trace"),
    (["--trace", "{t}", "--trace-rect", "3,2,2,1"], "reaches outside the 4x3 fabric"),
    (["--trace", "{t}", "--trace-rect", "1"], "must be X,Y or X,Y,W,H"),
    (["--trace", "{t}", "--trace-cycles", "9:9"], "END must be above START"),
    (["--trace", "{t}", "--trace-cycles", "9"], "expected START:END or START:"),
    (["--trace", "{t}", "--trace-cycles", ":9"], "expected START:END or START:"),
])
def test_cli_bad_trace_window(tmp_path, capsys, args, words):
    p = tmp_path / "g.wso"
    p.write_bytes(_grid_program())
    t = tmp_path / "t.json"
    assert main([str(p)] + [a.format(t=t) for a in args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not t.exists()
