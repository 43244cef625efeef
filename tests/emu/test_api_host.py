"""The conveniences of the host API that scripts would otherwise each re-implement, on the C
core's Fabric and (where the interface is shared) the reference interpreter alike:
rect=(x, y) for one PE, received(start=) to poll a stream without re-reading it all (polling
a 50 000-wavelet stream every 500 cycles took 5.4 s with received(), 0.3 s with start=),
received_payloads for the payloads as floats, the trace's kind constants, a repr that says
what the fabric is, and errors that say what to do."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from wse.asm import assemble_text
from wse.emu import (TRACE_TASK, TRACE_TENSOR, TRACE_WAVELET, BadArgError, Fabric, payloads_as)
from wse.emu.reference import ReferenceFabric

CLASSES = (Fabric, ReferenceFabric)

# a 3x2 fabric: every PE stores 10*x + y in `v` when launched, and sends it East out of the
# fabric's edge along its row (row y on color y), tagged as an fp32 (x + y / 4).
ROWS = """
.fabric 3, 2
.program p
    .if pe_x == rect_w - 1
        .route pe_y, west | ramp -> east
    .elif pe_x > 0
        .route pe_y, west | ramp -> east
    .else
        .route pe_y, ramp -> east
    .endif
    .task main, local
main:
    li r2, 10 * pe_x + pe_y
    st32 r2, [v]
    li r3, float(pe_x) + float(pe_y) / 4.0
    send pe_y, r3
    exit
    .data
v: .u32 0
w: .f32 0, 0
    .export v, w
.endprogram
.place p, 0, 0, 3, 2
"""
OBJ = assemble_text(ROWS)


def _fab(cls):
    f = cls(3, 2, "wse2")
    f.load(OBJ)
    return f


@pytest.mark.parametrize("cls", CLASSES)
@given(x=st.integers(0, 2), y=st.integers(0, 1))
@settings(max_examples=12)
def test_rect_x_y_is_the_one_pe_there(cls, x, y):
    a, b = _fab(cls), _fab(cls)
    a.write("w", [1.5, 2.5], rect=(x, y))
    b.write("w", [1.5, 2.5], rect=(x, y, 1, 1))
    a.launch("main", rect=(x, y))
    b.launch("main", rect=(x, y, 1, 1))
    a.run(), b.run()
    assert np.array_equal(a.read("w"), b.read("w"))
    assert np.array_equal(a.read("v"), b.read("v"))
    assert a.read("v", rect=(x, y)).shape == (1, 1, 1)
    assert a.read("v", rect=(x, y)).item() == 10 * x + y     # only that PE ran
    assert int(a.read("v").sum()) == 10 * x + y


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("rect", [(0, 0, 1), (0,), (1, 2, 3, 4, 5), "ab", 7])
def test_other_rect_shapes_are_refused_saying_both_forms(cls, rect):
    with pytest.raises(BadArgError, match=r"rect must be \(x, y, w, h\), or \(x, y\) for one PE"):
        _fab(cls).read("v", rect=rect)


def test_rect_x_y_outside_the_fabric_is_refused():
    with pytest.raises(BadArgError, match=r"rectangle \(3, 0, 1, 1\) is outside the 3x2 fabric"):
        _fab(Fabric).read("v", rect=(3, 0))


def _ran(cls, rows=(0, 1)):
    f = _fab(cls)
    for y in rows:
        f.launch("main", rect=(0, y, 3, 1))
    f.run()
    return f


@pytest.mark.parametrize("cls", CLASSES)
@given(color=st.sampled_from([None, 0, 1]), start=st.integers(0, 8))
@settings(max_examples=20)
def test_received_from_start_is_the_rest_of_the_list(cls, color, start):
    f = _ran(cls)
    every = f.received(color)
    assert len(f.received()) == 6
    assert f.received(color, start) == every[start:]
    assert f.received(color, start=start) == every[start:]
    if cls is Fabric:
        arr = f.received_array(color, start)
        assert [tuple(r) for r in arr.tolist()] == [tuple(r) for r in every[start:]]


@pytest.mark.parametrize("cls", CLASSES)
def test_polling_with_start_sees_each_wavelet_once(cls):
    f = _fab(cls)
    f.launch("main")
    seen, c = [], 0
    while True:
        c += 1
        idle = f.run_until(c)
        seen += f.received(start=len(seen))
        if idle:
            break
    assert seen == f.received() and len(seen) == 6


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("start", [-1, 0.5, "1", None])
def test_a_bad_start_is_refused(cls, start):
    with pytest.raises(BadArgError, match="start"):
        _ran(cls).received(start=start)


@pytest.mark.parametrize("cls", CLASSES)
def test_received_payloads_are_the_floats_sent(cls):
    f = _ran(cls)
    for y in (0, 1):
        got = f.received_payloads(y)
        assert got.dtype == np.float32
        # row y's PEs send x + y/4; each hop passes them on in order
        assert sorted(got.tolist()) == [x + y / 4 for x in range(3)]
        bits = np.array([r.payload for r in f.received(y)], np.uint32)
        assert np.array_equal(got, bits.view(np.float32))          # the idiom it replaces
        assert np.array_equal(f.received_payloads(y, "uint32"), bits)
        assert np.array_equal(f.received_payloads(y, np.float32, start=1), got[1:])


@given(st.lists(st.integers(0, 2**32 - 1), max_size=20))
def test_payloads_as_reinterprets_the_bits(words):
    w = np.array(words, np.uint32)
    assert np.array_equal(payloads_as(words, "uint32"), w)
    assert np.array_equal(payloads_as(words, "float32").view(np.uint32), w)
    assert np.array_equal(payloads_as(words, "int32"), w.view(np.int32))
    assert np.array_equal(payloads_as(words, "float16").view(np.uint16), (w & 0xFFFF).astype(np.uint16))


@pytest.mark.parametrize("dtype", ["float64", "int8", "complex64"])
def test_payloads_as_refuses_a_type_a_payload_is_not(dtype):
    with pytest.raises(BadArgError, match="payload dtype must be one of"):
        payloads_as([1], dtype)


def test_trace_kinds_name_the_events():
    f = _fab(Fabric)
    f.enable_trace()
    f.launch("main")
    f.run()
    ev = f.trace_array()
    tasks = ev[ev["kind"] == TRACE_TASK]
    assert len(tasks) == 6 and set(tasks["a"].tolist()) == {0}     # main is task 0 everywhere
    assert not (ev["kind"] == TRACE_TENSOR).any()       # no tensor op in this program
    assert set(np.unique(ev["kind"]).tolist()) <= {TRACE_TASK, TRACE_WAVELET}


def test_a_tensor_op_is_traced_as_trace_tensor():
    src = (".task main, local, start\n.dsd d, mem1d, base=x, len=4\nmain:\n ldsd d0, d\n"
           " ldsd a0, d\n fmovs d0, a0\n exit\n.data\nx: .f32 0, 0, 0, 0\n")
    f = Fabric.from_object(assemble_text(src), trace=True)
    f.run()
    kinds = f.trace_array()["kind"].tolist()
    assert kinds.count(TRACE_TENSOR) == 1 and kinds.count(TRACE_TASK) == 1


def test_pe_stats_sum_to_the_fabric_and_leave_the_host_to_it():
    f = _ran(Fabric)
    total = f.stats()
    per = [f.pe_stats(x, y) for y in range(2) for x in range(3)]
    for k in ("instructions", "wavelets_sent", "wavelets_received", "tasks", "busy_cycles"):
        assert sum(p[k] for p in per) == total[k], k
    assert total["host_out"] == 6 and all(p["host_out"] == 0 and p["host_in"] == 0 for p in per)
    assert all(p["pes"] == 1 and p["cycles"] == total["cycles"] for p in per)
    assert "seconds" in total and "seconds" not in per[0]


def test_pe_stats_grid_is_every_pe_stats_at_its_place():
    """pe_stats_grid()[y, x] holds pe_stats(x, y)'s counters; a PE without a program is all
    zero; the columns sum to the fabric's totals."""
    from wse.emu.fabric import PE_STAT_FIELDS
    f = _ran(Fabric)
    g = f.pe_stats_grid()
    assert g.shape == (2, 3) and g.dtype.names == PE_STAT_FIELDS
    for y in range(2):
        for x in range(3):
            p = f.pe_stats(x, y)
            assert {k: int(g[k][y, x]) for k in PE_STAT_FIELDS} == {k: p[k] for k in PE_STAT_FIELDS}
    total = f.stats()
    for k in PE_STAT_FIELDS:
        assert int(g[k].sum()) == total[k], k
    # a fabric larger than the program: the PEs outside it are zero, [y, x] is not [x, y]
    obj = assemble_text(".fabric 3, 2\n.program p\n.task main, local, start\nmain:\n addi r1, r0, 1\n"
                        " exit\n.endprogram\n.place p, 0, 1\n")
    f = Fabric.from_object(obj)
    f.run()
    g = f.pe_stats_grid()
    assert g["pes"].tolist() == [[0, 0, 0], [1, 0, 0]] and g["instructions"][1, 0] == 2
    assert all(int(g[k][y, x]) == 0 for k in PE_STAT_FIELDS for y in range(2) for x in range(3) if (x, y) != (0, 1))
    with pytest.raises(BadArgError, match=r"no program is loaded: call load\(\) first"):
        Fabric(2, 2, "wse2").pe_stats_grid()


def test_repr_says_size_arch_and_state():
    f = Fabric(3, 2, "wse3")
    assert repr(f) == "<Fabric 3x2 wse3, nothing loaded>"
    f = _ran(Fabric)
    assert repr(f) == f"<Fabric 3x2 wse2, cycle {f.cycle}>"
    f.close()
    assert repr(f) == "<Fabric 3x2 wse2, closed>"


def test_a_closed_fabric_says_what_to_do():
    with Fabric.from_object(OBJ) as f:
        pass
    with pytest.raises(BadArgError, match=r"the fabric is closed .*make another, e.g. Fabric.from_object"):
        f.read("v")


@pytest.mark.parametrize("call", [Fabric.from_object, Fabric.peek])
def test_an_object_given_as_a_path_gets_a_hint(call, tmp_path):
    p = tmp_path / "k.wso"
    p.write_bytes(OBJ)
    with pytest.raises(BadArgError, match=r"takes the bytes of an object file, got str \(a path\? "
                                          r"read the file: open\(path, 'rb'\).read\(\)\)"):
        call(str(p))
    assert Fabric.peek(p.read_bytes()) == ("wse2", 3, 2)
