"""The host API of the C core (wse.emu.Fabric) and of the reference interpreter
(wse.emu.reference.ReferenceFabric) refuse the same bad arguments with the same exception and
message, and a refused call changes neither: its state is as before, and a run after it ends as
the run of a fabric that never saw the call. (The reference used to take floats as
coordinates, wrap or truncate values, write half a rectangle before failing, and raise
TypeError, KeyError or RuntimeError where Fabric raised BadArgError or NotFoundError.)"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from wse.asm import assemble_text
from wse.emu import Fabric, WseError
from wse.emu.errors import BadArgError, LoadError, NotFoundError
from wse.emu.reference import ReferenceFabric

# PEs (0,0) and (0,1) run `a`; (1,0) runs `b`, whose symbols differ in length (buf) and type
# (u) and whose `got` is a data task too; (2,0), (1,1) and (2,1) are empty.
SRC = """
.fabric 3, 2
.program a
    .route 3, west -> ramp
    .task main, local
    .task got, data, color=3
main:
    li r2, 5
    st32 r2, [r0 + out]
    exit
got:
    st32 r1, [r0 + buf]
    exit
    .data
buf: .f32 0, 0, 0, 0, 0, 0, 0, 0
u: .u16 0, 0, 0, 0
h: .f16 0, 0, 0, 0
out: .u32 0
    .export buf, u, h, out
.endprogram
.program b
    .route 3, west -> ramp
    .task main, local
    .task got, data, color=3
main:
    exit
got:
    exit
    .data
buf: .f32 0, 0, 0, 0
u: .u32 0, 0, 0, 0
h: .f16 0, 0, 0, 0
    .export buf, u, h
.endprogram
.place a, 0, 0
.place b, 1, 0
.place a, 0, 1
"""
OBJ = assemble_text(SRC)
OTHER_ARCH = assemble_text(SRC, arch="wse3")
TOO_BIG = assemble_text(SRC.replace(".fabric 3, 2", ".fabric 4, 2"))
CLASSES = (Fabric, ReferenceFabric)


def _prepared(cls, loaded=True):
    """A fabric with something in flight: main launched on (0,0), two wavelets queued for its
    data task, and the first cycles run."""
    f = cls(3, 2, "wse2")
    if loaded:
        f.load(OBJ)
        f.write("buf", np.arange(8, dtype=np.float32), rect=(0, 0, 1, 1))
        f.launch("main", rect=(0, 0, 1, 1))
        f.send(3, 0, 0, "west", [1.5, 2.5])
        f.run_until(2)
    return f


def _state(f):
    """Everything the host can see of the fabric (pe_state of every PE, cycle, received)."""
    pes = []
    for y in range(f.height):
        for x in range(f.width):
            s = f.pe_state(x, y)
            s["mem"] = None if s["mem"] is None else s["mem"].tobytes()
            pes.append(s)
    return f.cycle, pes, f.received()


def _after_run(f):
    try:
        f.run(max_cycles=10_000)
        return _state(f)
    except WseError as e:
        return type(e).__name__


def _outcome(f, call):
    try:
        return "ok", call(f)
    except Exception as e:      # noqa: BLE001 - the test compares whatever each one raises
        return type(e), str(e)


REFUSALS = (BadArgError, NotFoundError, LoadError)


def _check_agreement(call, loaded=True, same_message=True):
    """Run `call` on both. Both refuse it with the same exception (BadArgError, NotFoundError
    or LoadError) and message, each unchanged by it; or both do it, with equal results and
    states (a run may end in the same WseError, a watchdog say, with the same state)."""
    got = []
    for cls in CLASSES:
        f = _prepared(cls, loaded)
        before = _state(f) if loaded else None
        out = _outcome(f, call)
        if out[0] != "ok":
            assert issubclass(out[0], WseError), (cls.__name__, out)
            if loaded and issubclass(out[0], REFUSALS):
                assert _state(f) == before, f"{cls.__name__}: the refused call changed the state"
                assert _after_run(f) == _after_run(_prepared(cls)), \
                    f"{cls.__name__}: the refused call changed what the fabric does next"
        got.append((out, _state(f) if loaded else None))
    (c, c_state), (r, r_state) = got
    assert c[0] == r[0], f"C core: {c}; reference: {r}"
    assert c_state == r_state
    if c[0] == "ok":
        if isinstance(c[1], np.ndarray):
            assert c[1].dtype == r[1].dtype and np.array_equal(c[1], r[1])
        return None
    if same_message:
        assert c[1] == r[1]
    return c


# (call, the exception, words of its message)
BAD = [
    (lambda f: f.read("nope"), NotFoundError, "PE (0,0) (image a) has no symbol 'nope'"),
    (lambda f: f.read("main"), NotFoundError, "has no data symbol 'main' (it is a task)"),
    # a missing symbol: the closest name, the PE's data symbols and the PEs that have it
    (lambda f: f.read("ou"), NotFoundError, "PE (0,0) (image a) has no symbol 'ou'. Did you mean 'out'? "
     "PE (0,0)'s data symbols: buf, h, out, u. No PE has a data symbol 'ou'."),
    (lambda f: f.read("main"), NotFoundError, "(it is a task). PE (0,0)'s data symbols: buf, h, out, u. "
     "No PE has a data symbol 'main'."),
    (lambda f: f.read("out", rect=(0, 0, 2, 1)), NotFoundError, "PE (1,0) (image b) has no data symbol 'out'. "
     "PE (1,0)'s data symbols: buf, h, u. 2 PEs have a data symbol 'out': (0,0), (0,1)."),
    (lambda f: f.write("out", [1], rect=(1, 0)), NotFoundError, "PE (1,0) (image b) has no symbol 'out'. "
     "PE (1,0)'s data symbols: buf, h, u. 2 PEs have a data symbol 'out': (0,0), (0,1)."),
    (lambda f: f.read("h", rect=(0, 0, 3, 1)), NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.read(5), BadArgError, "symbol name must be a str, got 5"),
    (lambda f: f.read(""), BadArgError, "is empty"),
    (lambda f: f.read("buf", rect=(0, 0, 2, 1)), BadArgError,
     "symbol 'buf' is f32[8] on PE (0,0) but f32[4] on PE (1,0): a rectangle read needs one type and length"),
    (lambda f: f.read("buf", rect=(0, 0, 1, 2)), None, None),
    (lambda f: f.read("out", rect=(0, 0, 2, 1)), NotFoundError, "PE (1,0) (image b) has no data symbol 'out'"),
    (lambda f: f.read("buf", rect=(2, 0, 1, 1)), NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.read("buf", rect=(0, 0, 4, 1)), BadArgError, "rectangle (0, 0, 4, 1) is outside the 3x2 fabric"),
    (lambda f: f.read("buf", rect=(0, 0, 0, 1)), BadArgError, "rect width 0 is out of range"),
    (lambda f: f.read("buf", rect=(0.5, 0, 1, 1)), BadArgError, "rect x must be an integer, got 0.5"),
    (lambda f: f.read("buf", rect=(-1, 0, 1, 1)), BadArgError, "rectangle (-1, 0, 1, 1) is outside the 3x2 fabric"),
    (lambda f: f.read("buf", rect=(0, 0, 1)), BadArgError, "rect must be (x, y, w, h)"),
    (lambda f: f.read("buf", rect="abcd"), BadArgError, "rect must be (x, y, w, h)"),
    (lambda f: f.write("buf", [1.0], rect=(0, 0, 3, 1)), NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.write("u", [1, 2], rect=(0, 0, 2, 1)), BadArgError,
     "symbol 'u' is u16[4] on PE (0,0) but u32[4] on PE (1,0): a rectangle write needs one element type"),
    (lambda f: f.write("buf", np.ones(6), rect=(0, 0, 2, 1)), BadArgError,
     "symbol 'buf' at PE (1,0) has 4 elements (8 words); 12 words asked"),
    (lambda f: f.write("buf", np.zeros(9)), BadArgError, "symbol 'buf' at PE (0,0) has 8 elements; the array gives 9"),
    (lambda f: f.write("buf", np.zeros((1, 2, 3))), BadArgError,
     "array shape (1, 2, 3) does not match the 3 x 2 rectangle: give (n,) for every PE or (2, 3, n), one row "
     "of n per PE (n up to 8, the symbol's elements)"),
    (lambda f: f.write("buf", np.zeros((2, 3))), BadArgError, "expected (n,) for every PE or (2, 3, n)"),
    (lambda f: f.write("buf", np.zeros((6, 3))), BadArgError,
     "one row of n per PE (n up to 8, the symbol's elements); to give row i to the i-th PE in row-major "
     "order, reshape it to (2, 3, 3)"),
    (lambda f: f.write("buf", None), BadArgError, "got object data, not numbers"),
    (lambda f: f.write("buf", [1 + 2j]), BadArgError, "got complex128 data"),
    (lambda f: f.write("buf", ["ab"]), BadArgError, "not numbers"),
    (lambda f: f.write("u", [-1, 70000], rect=(0, 0, 1, 1)), BadArgError, "takes uint16 values (0..65535)"),
    (lambda f: f.write("u", [1.5], rect=(0, 0, 1, 1)), BadArgError, "got a float64 array"),
    (lambda f: f.write("h", [1e6], rect=(0, 0, 1, 1)), BadArgError, "overflows it to infinity"),
    (lambda f: f.write("nope", [1.0]), NotFoundError, "has no symbol 'nope'"),
    (lambda f: f.write("buf", [], rect=(0, 0, 3, 1)), NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.launch("nope"), NotFoundError, "no PE in the rectangle (0,0) 3x2 defines task 'nope'"),
    (lambda f: f.launch("got"), BadArgError, "task 'got' of PE (0,0) is a data task"),
    (lambda f: f.launch(1), BadArgError, "task 1 of PE (0,0) (image a) is a data task"),
    (lambda f: f.launch(5), NotFoundError, "no PE in the rectangle (0,0) 3x2 defines task 5"),
    (lambda f: f.launch(64), BadArgError, "task id 64 is out of range 0..63"),
    (lambda f: f.launch(1.5), BadArgError, "task id must be an integer, got 1.5"),
    (lambda f: f.launch(None), BadArgError, "task id must be an integer, got None"),
    (lambda f: f.launch(""), BadArgError, "task name '' is empty"),
    (lambda f: f.launch("main", rect=(2, 0, 1, 2)), NotFoundError, "no PE in the rectangle (2,0) 1x2"),
    (lambda f: f.send(3, 0, 0, "east", [1]), BadArgError,
     "port east of PE (0,0) does not face the edge of the fabric, so no wavelet can enter there from "
     "the host; PE (0,0)'s ports on the edge are north, west"),
    (lambda f: f.send(3, 1, 0, "west", [1]), BadArgError, "PE (1,0)'s ports on the edge are north"),
    (lambda f: f.send(3, 2, 0, "east", [1]), NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.send(3, 0, 0, "ramp", [1]), BadArgError, "port 'ramp' is not one of north, east, south, west"),
    (lambda f: f.send(3, 0, 0, "up", [1]), BadArgError, "port 'up' is not one of"),
    (lambda f: f.send(3, 0, 0, 3, [1]), BadArgError, "port 3 is not one of north (1), east (2), south (4), west (8)"),
    (lambda f: f.send(3, 0, 0, None, [1]), BadArgError, "port must be a name"),
    (lambda f: f.send(3, 0, 0, 8.0, [1]), BadArgError, "port must be a name"),
    (lambda f: f.send(24, 0, 0, "west", [1]), BadArgError, "color 24 is out of range 0..23"),
    (lambda f: f.send(1.5, 0, 0, "west", [1]), BadArgError, "color must be an integer, got 1.5"),
    (lambda f: f.send(3, 3, 0, "west", [1]), BadArgError, "x 3 is out of range 0..2"),
    (lambda f: f.send(3, 0.0, 0, "west", [1]), BadArgError, "x must be an integer, got 0.0"),
    (lambda f: f.send(3, 0, 0, "west", [2**33]), BadArgError, "payloads must fit 32 bits"),
    (lambda f: f.send(3, 0, 0, "west", ["a"]), BadArgError, "payloads must be integers or floats"),
    (lambda f: f.send(3, 0, 0, "west", None), BadArgError, "payloads must be integers or floats"),
    (lambda f: f.send(3, 0, 0, "west", [1e300]), BadArgError, "overflows it to infinity"),
    (lambda f: f.received(24), BadArgError, "color 24 is out of range 0..23"),
    (lambda f: f.received("x"), BadArgError, "color must be an integer, got 'x'"),
    (lambda f: f.run(max_cycles=0), BadArgError, "max_cycles 0 is out of range 1.."),
    (lambda f: f.run(max_cycles=1), BadArgError, "max_cycles 1 is before the fabric's cycle 2"),
    (lambda f: f.run(max_cycles=1.5), BadArgError, "max_cycles must be an integer, got 1.5"),
    (lambda f: f.run(max_cycles=2**64), BadArgError, "max_cycles 18446744073709551616 is out of range"),
    (lambda f: f.run(max_cycles=True), BadArgError, "max_cycles must be an integer, got True"),
    (lambda f: f.run_until(1), BadArgError, "cycle 1 is before the fabric's cycle 2: run_until only goes forward"),
    (lambda f: f.run_until(None), BadArgError, "cycle must be an integer, got None"),
    (lambda f: f.run_until(1.5), BadArgError, "cycle must be an integer, got 1.5"),
    (lambda f: f.pe_state(3, 0), BadArgError, "x 3 is out of range 0..2"),
    (lambda f: f.pe_state(0, -1), BadArgError, "y -1 is out of range 0..1"),
    (lambda f: f.pe_state("0", 0), BadArgError, "x must be an integer, got '0'"),
    (lambda f: f.load(b"junk"), LoadError, "shorter than the 32-byte header"),
    (lambda f: f.load(12), BadArgError, "load takes the bytes of an object file, got int"),
    (lambda f: f.load("k.wso"), BadArgError, "a path? read the file"),
    (lambda f: f.load(OTHER_ARCH), LoadError, "the object is for wse3 but the fabric is wse2"),
    (lambda f: f.load(TOO_BIG), LoadError, "the object was made for a 4x2 fabric; this fabric is 3x2"),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_both_refuse_the_same_way(i):
    call, exc, words = BAD[i]
    out = _check_agreement(call)
    if exc is None:             # (a control: a call both accept, with the same result)
        assert out is None
        return
    assert out is not None and out[0] is exc and words in out[1], out


@pytest.mark.parametrize("call", [
    lambda f: f.read("buf"), lambda f: f.write("buf", [1.0]), lambda f: f.launch("main"),
    lambda f: f.send(3, 0, 0, "west", [1]), lambda f: f.run(), lambda f: f.run_until(5),
])
def test_both_refuse_calls_before_a_load(call):
    out = _check_agreement(call, loaded=False)
    assert out == (BadArgError, "no program is loaded: call load() first")


@pytest.mark.parametrize("args, words", [
    ((0, 1), "fabric width 0 is out of range 1..4096"), ((4.5, 1), "fabric width must be an integer"),
    ((1, 5000), "fabric height 5000 is out of range"), ((2, 2, "wse9"), "unknown arch 'wse9'; one of wse2, wse3"),
    ((2, 2, None), "unknown arch None"),
])
def test_both_refuse_a_bad_fabric(args, words):
    got = []
    for cls in CLASSES:
        with pytest.raises(BadArgError) as e:
            cls(*args)
        got.append(str(e.value))
    assert got[0] == got[1] and words in got[0]


def test_a_refused_write_leaves_every_pe_as_it_was():
    """The reference wrote PE by PE and failed at the first PE that did not fit, leaving the
    ones before it written (the C core checks every PE first)."""
    for cls in CLASSES:
        f = _prepared(cls)
        with pytest.raises(BadArgError, match=r"at PE \(1,0\) has 4 elements"):
            f.write("buf", np.full(6, 9.0, np.float32), rect=(0, 0, 2, 1))
        assert f.read("buf", rect=(0, 0, 1, 1))[0, 0, :6].tolist() == [0, 1, 2, 3, 4, 5], cls.__name__


# random arguments, from values that are right for some parameter and wrong for others
ANY = st.sampled_from([None, -1, 0, 1, 2, 3, 23, 24, 63, 64, 2**32, 2**64, 1.5, 0.0, True, np.int64(1),
                       "x", "", "buf", "u", "h", "out", "main", "got", "west", "north", "east", "ramp"])
RECTS = st.one_of(st.none(), st.tuples(*[st.integers(-1, 4)] * 4), st.sampled_from([(0, 0, 1), "abcd", 5]))
ARRAYS = st.one_of(
    st.sampled_from([None, [], [1.0], [1, 2], [1.5, -2.0], [70000], [-1], ["a"], [1 + 1j], [1e6], [1e300]]),
    st.integers(0, 9).map(lambda n: np.arange(n, dtype=np.float32)),
    st.sampled_from([(1, 1, 2), (2, 3, 2), (1, 2, 3), (2, 3)]).map(lambda s: np.ones(s, np.float16)),
    st.integers(0, 5).map(lambda n: np.arange(n, dtype=np.uint32)))
CALLS = st.one_of(
    st.tuples(st.just("read"), st.tuples(ANY), st.fixed_dictionaries({"rect": RECTS})),
    st.tuples(st.just("write"), st.tuples(ANY, ARRAYS), st.fixed_dictionaries({"rect": RECTS})),
    st.tuples(st.just("launch"), st.tuples(ANY), st.fixed_dictionaries({"rect": RECTS})),
    st.tuples(st.just("send"), st.tuples(ANY, ANY, ANY, ANY, ARRAYS), st.fixed_dictionaries({})),
    st.tuples(st.just("received"), st.tuples(ANY), st.fixed_dictionaries({})),
    st.tuples(st.just("run"), st.tuples(), st.fixed_dictionaries({"max_cycles": ANY})),
    st.tuples(st.just("run_until"), st.tuples(ANY), st.fixed_dictionaries({})),
    st.tuples(st.just("pe_state"), st.tuples(ANY, ANY), st.fixed_dictionaries({})),
    st.tuples(st.just("load"), st.tuples(st.sampled_from([OBJ, OTHER_ARCH, TOO_BIG, b"", 7, "x", None])),
              st.fixed_dictionaries({})))


@given(CALLS)
def test_random_calls_get_the_same_answer(c):
    name, args, kwargs = c
    # a run's own outcome (a watchdog's state report) is worded by each emulator its own way
    _check_agreement(lambda f: getattr(f, name)(*args, **kwargs),
                     same_message=name not in ("run", "run_until"))
