"""The Python host API of the C core refuses bad arguments with a BadArgError (or NotFoundError)
that names the argument, instead of an OverflowError/AttributeError/KeyError from cffi or numpy,
and never changes a value silently (truncated floats, wrapped integers, dropped imaginary parts,
fp16 overflow to infinity, mixed element types over a rectangle). Found by an adversarial pass
over the API; each case here used to misbehave."""
import numpy as np
import pytest

from helpers import obj_bytes
from wse.emu import BadArgError, Fabric, NotFoundError
from wse.isa.builder import ImageBuilder


def _prog(kinds=None):
    """A 3x1 fabric; `buf` has the element type kinds[x] on PE (x, 0) (default f32 everywhere),
    `u` is u16[4] and `h` f16[4]."""
    kinds = kinds or ["f32", "f32", "f32"]
    imgs = {}
    for x, k in enumerate(kinds):
        b = ImageBuilder(f"p{x}")
        b.alloc("buf", k, 8)
        b.alloc("u", "u16", 4)
        b.alloc("h", "f16", 4)
        b.label("main")
        b.emit("exit")
        b.task(0, "main")
        imgs[(x, 0)] = b.build()
    return obj_bytes(imgs, 3, 1)


@pytest.fixture
def fab():
    return Fabric.from_object(_prog())


BAD = [
    ("f.read_mem(-1, 0, 0, 1)", "x -1 is out of range 0..2"),
    ("f.read_mem(0, 0, 2**32, 1)", "addr 4294967296 is out of range"),
    ("f.read_mem(0, 0, 0, -1)", "n -1 is out of range"),
    ("f.read_mem(0, 0, 0, None)", "n must be an integer, got None"),
    ("f.write_mem(0, 0, -1, [1])", "addr -1 is out of range"),
    ("f.write_mem(0, 0, 100, [70000])", "write_mem takes uint16 values (0..65535); the array has values 70000..70000"),
    ("f.write_mem(0, 0, 100, [1.7])", "write_mem takes uint16 values; got a float64 array"),
    ("f.send(-1, 0, 0, 'west', [1])", "color -1 is out of range 0..23"),
    ("f.send(0, 10**12, 0, 'west', [1])", "x 1000000000000 is out of range 0..2"),
    ("f.send(0, 0, 0, -1, [1])", "port -1 is not one of north (1), east (2), south (4), west (8)"),
    ("f.send(0, 0, 0, 'west', [2**33])", "payloads must fit 32 bits"),
    ("f.pe_stats(3, 0)", "x 3 is out of range 0..2"),
    ("f.pe_state('0', 0)", "x must be an integer, got '0'"),
    ("f.run_until(-1)", "cycle -1 is out of range"),
    ("f.launch(2**40)", "task id 1099511627776 is out of range 0..63"),
    ("f.launch(1.5)", "task id must be an integer, got 1.5"),
    ("f.run(max_cycles=2**64)", "max_cycles 18446744073709551616 is out of range"),
    ("f.run(max_cycles=0)", "max_cycles 0 is out of range 1.."),
    ("f.run(max_cycles=float('inf'))", "max_cycles must be an integer"),
    ("Fabric(4.7, 4)", "fabric width must be an integer, got 4.7"),
    ("f.write(5, [1.0])", "symbol name must be a str, got 5"),
    ("f.read(b'buf')", "symbol name must be a str"),
    ("f.write('buf\\0junk', [1.0])", "holds a NUL character"),
    ("f.write('buf', None)", "takes float32 values; got object data, not numbers"),
    ("f.write('buf', [1 + 2j])", "got complex128 data"),
    ("f.write('buf', ['ab'])", "not numbers"),
    ("f.write('u', [-1, 70000])", "symbol 'u' takes uint16 values (0..65535); the array has values -1..70000"),
    ("f.write('h', [1e6])", "symbol 'h' takes float16 values; 1000000.0 overflows it to infinity (largest finite: 65504)"),
    ("f.write('h', np.array([100000]))", "overflows it to infinity"),
    ("f.read('buf', rect=(0.5, 0, 1, 1))", "rect x must be an integer, got 0.5"),
]


@pytest.mark.parametrize("call, words", BAD, ids=[c for c, _ in BAD])
def test_bad_argument_names_itself(fab, call, words):
    f = fab  # noqa: F841  (used by eval)
    with pytest.raises(BadArgError) as e:
        eval(call)
    assert words in str(e.value)


def test_pe_stats_outside_says_so_even_after_another_error(fab):
    """The C core set no message for a PE outside the fabric, so the last error's showed."""
    with pytest.raises(NotFoundError):
        fab.read("nope")
    import wse.emu.fabric as F
    with pytest.raises(BadArgError, match=r"PE \(7,0\) is outside the 3x1 fabric"):
        fab._check(F.lib.wse_pe_stats(fab._f, 7, 0, F.ffi.new("wse_stats *")))


def test_rectangle_transfers_need_one_type():
    """A symbol whose type differs between the PEs of a rectangle is refused, naming both
    PEs (it used to write u16 bits into an f16 symbol and read the f16 one as u16)."""
    f = Fabric.from_object(_prog(["f32", "u16", "f16"]))
    with pytest.raises(BadArgError, match=r"symbol 'buf' is u16\[8\] on PE \(1,0\) but f16\[8\] on PE \(2,0\)"):
        f.write("buf", np.array([1, 2], np.uint16), rect=(1, 0, 2, 1))
    with pytest.raises(BadArgError, match="read the PEs separately"):
        f.read("buf", rect=(0, 0, 3, 1))
    assert f.read("buf", rect=(2, 0, 1, 1)).dtype == np.float16


def test_run_until_does_not_go_back(fab):
    fab.run_until(10)
    with pytest.raises(BadArgError, match="cycle 5 is before the fabric's cycle 10"):
        fab.run_until(5)


def test_close_and_context_manager():
    with Fabric.from_object(_prog()) as f:
        f.write("buf", [1.0, 2.0])
        assert f.read("buf")[0, 0, 1] == 2.0
    with pytest.raises(BadArgError, match="the fabric is closed"):
        f.run()
    f.close()   # twice is harmless


def test_a_failed_rectangle_write_changes_nothing():
    """Every PE of the rectangle is checked before any is written: a write too long for the
    second PE's symbol (f32[4] there, f32[8] on the first) leaves the first as it was (the
    core used to copy PE by PE and fail half way)."""
    imgs = {}
    for x, count in enumerate((8, 4)):
        b = ImageBuilder(f"p{x}")
        b.alloc("buf", "f32", count)
        b.label("main")
        b.emit("exit")
        b.task(0, "main")
        imgs[(x, 0)] = b.build()
    f = Fabric.from_object(obj_bytes(imgs, 2, 1))
    with pytest.raises(BadArgError, match=r"symbol 'buf' at PE \(1,0\) has 4 elements"):
        f.write("buf", np.arange(6, dtype=np.float32))
    assert not f.read("buf", rect=(0, 0, 1, 1)).any()


def test_launching_a_data_task_is_refused_and_changes_nothing():
    """A data task's activated bit would stay set and end the run in a hang (timing.md): both
    the C core and the reference refuse it, by name or id, before touching any PE."""
    from helpers import E as EAST, R as RAMP, W as WEST, obj_bytes
    from wse.emu.reference import ReferenceFabric
    from wse.isa.builder import ImageBuilder
    a = ImageBuilder("a")             # task 1 is local here ...
    a.label("go")
    a.emit("exit")
    a.task(1, "go")
    b = ImageBuilder("b")             # ... and a data task here, under the same name
    b.label("go")
    b.emit("exit")
    b.task(1, "go", kind="data", color=3)
    b.route(3, (WEST, RAMP))
    data = obj_bytes({(0, 0): a.build(), (1, 0): b.build()}, 2, 1)
    for fab in (Fabric(2, 1), ReferenceFabric(2, 1)):
        fab.load(data)
        for task in ("go", 1):
            with pytest.raises(ValueError, match=r"task .* of PE \(1,0\).* is a data task.*color 3"):
                fab.launch(task)
        assert fab.pe_state(0, 0)["activated"] == 0        # nothing was activated
        fab.launch("go", rect=(0, 0, 1, 1))                 # the local task alone is fine
        assert fab.pe_state(0, 0)["activated"] == 2


def test_a_fabric_cannot_be_copied_and_its_code_cannot_be_written():
    """copy.copy shared the C handle: after close(), the copy read a new fabric's state. And a
    write_mem over the code showed in read_mem but not in execution (the code is decoded at
    load). Both are refused."""
    import copy
    import pickle
    b = ImageBuilder("c")
    b.alloc("out", "u32", 1)
    b.label("main")
    b.emit("exit")
    b.task(0, "main", activated=True)
    f = Fabric(1, 1)
    f.load(obj_bytes({(0, 0): b.build()}, 1, 1))
    for make in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="cannot be"):
            make(f)
    with pytest.raises(BadArgError, match=r"overlap its code \[0, 2\).*decoded at load"):
        f.write_mem(0, 0, 1, [0x1234])
    before = f.read_mem(0, 0, 0, 2).tolist()
    f.write_mem(0, 0, 2, [7, 0])                      # data after the code is fine
    assert f.read_mem(0, 0, 0, 4).tolist() == before + [7, 0]


def test_rect_of_zero_size_names_the_size():
    f = Fabric(2, 1)
    b = ImageBuilder("z")
    b.alloc("y", "f32", 2)
    b.label("main")
    b.emit("exit")
    f.load(obj_bytes({(0, 0): b.build(), (1, 0): b.build()}, 2, 1))
    with pytest.raises(BadArgError, match="rect width 0 is out of range 1.."):
        f.write("y", [1.0, 2.0], rect=(0, 0, 0, 1))


def test_many_received_wavelets_and_a_launch_by_name_on_a_large_sparse_fabric():
    """received()/received_array() read the core's buffer in bulk (a million took 5.7 s one by
    one), and launch by name runs in the core (on 2048x2048 with two PEs placed it took 4 s in
    Python): the same records and activations as before."""
    from helpers import E as EAST, R as RAMP, li
    n = 50_000
    s = ImageBuilder("s")
    s.label("loop")
    s.emit("addi", r1=3, r2=3, imm16=1)
    s.emit("send", color=2, rq=3)
    li(s, 4, n)
    s.emit("bne", r1=3, r2=4, target="loop")
    s.emit("exit")
    s.task(0, "loop")
    s.route(2, (RAMP, EAST))
    f = Fabric(1024, 1024)
    f.load(obj_bytes({(1023, 5): s.build(), (0, 0): s.build()}, 1024, 1024))
    f.launch("loop", rect=(512, 0, 512, 1024))          # only (1023, 5) is in the rectangle
    assert f.pe_state(1023, 5)["activated"] == 1 and f.pe_state(0, 0)["activated"] == 0
    f.run()
    got = f.received_array()
    assert len(got) == n and got["payload"].tolist() == list(range(1, n + 1))
    assert set(got["x"].tolist()) == {1023} and set(got["port"].tolist()) == {2}
    assert got["ctrl"].dtype == bool and not got["ctrl"].any()
    rec = f.received(color=2)
    assert len(rec) == n and rec[0] == (1023, 5, 2, 2, 1, False, int(got["cycle"][0]))
    assert type(rec[-1].payload) is int and type(rec[-1].ctrl) is bool
