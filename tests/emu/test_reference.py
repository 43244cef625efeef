"""Tests of the reference interpreter (wse.emu.reference) against numpy and the spec.

Each test builds a small program with wse.isa.builder, runs it on ReferenceFabric and checks
registers, memory, wavelets and cycle counts that docs/timing.md determines exactly.
"""
import numpy as np
import pytest

from wse.isa import objfile
from wse.isa.builder import ImageBuilder
from wse.emu.reference import (FaultError, HangError, ReferenceFabric, WatchdogError, bits16,
                               bits32, f16, f32)

from helpers import E, N, R, S, W, fbits, hbits, li  # noqa: F401  (the port bits, for the tests below)
from helpers import binop as _binop, make as _make, regs_after as _regs_after, single as _single


# --------------------------------------------------------------------------------------------
# helpers: those of tests/emu/helpers.py on the reference interpreter
def make(images, w=None, h=None, arch="wse2"):
    return _make(images, w, h, arch, cls=ReferenceFabric)


def single(build, arch="wse2"):
    """A 1x1 fabric running one activated task whose body `build(b)` emits (exit appended)."""
    return _single(build, arch, cls=ReferenceFabric)


def regs_after(build):
    return _regs_after(build, ReferenceFabric)


def binop(mn, a, b):
    return _binop(mn, a, b, ReferenceFabric)


# --------------------------------------------------------------------------------------------
# scalar integer semantics
M = 0xFFFFFFFF


@pytest.mark.parametrize("a,b", [(1, 2), (M, 1), (0x80000000, 0x80000000), (12345, M)])
def test_add_sub_mul_wrap(a, b):
    assert binop("add", a, b) == (a + b) & M
    assert binop("sub", a, b) == (a - b) & M
    assert binop("mul", a, b) == (a * b) & M


@pytest.mark.parametrize("sh", [0, 1, 31, 32, 33, 255, M])
def test_shifts_by_register_saturate(sh):
    a = 0x80000001
    assert binop("sll", a, sh) == ((a << sh) & M if sh < 32 else 0)
    assert binop("srl", a, sh) == (a >> sh if sh < 32 else 0)
    assert binop("sra", a, sh) == ((a - (1 << 32)) >> min(sh, 31)) & M


def test_compare_signed_unsigned():
    assert binop("slt", M, 1) == 1          # -1 < 1
    assert binop("sltu", M, 1) == 0
    assert binop("slt", 5, 5) == 0


def test_immediates_and_r0():
    def body(b):
        b.emit("addi", r1=1, r2=0, imm16=-1)          # sign-extended
        b.emit("andi", r1=2, r2=1, uimm16=0xF0F0)     # zero-extended
        b.emit("addi", r1=0, r2=1, imm16=5)           # writes to r0 are ignored
        b.emit("slti", r1=3, r2=1, imm16=0)
        b.emit("srai", r1=4, r2=1, shamt=31)
        b.emit("srli", r1=5, r2=1, shamt=28)
        b.emit("slli", r1=6, r2=1, shamt=31)
    r = regs_after(body)
    assert r[0] == 0 and r[1] == M and r[2] == 0xF0F0 and r[3] == 1
    assert r[4] == M and r[5] == 0xF and r[6] == 0x80000000


def test_loads_stores_sign_extension():
    b = ImageBuilder("t")
    b.label("main")
    buf = b.alloc("buf", "u32", 2, init=[0x8001FFFE, 0])
    # code: 9 instructions -> data at word 18
    base = 18
    b.emit("ld16s", r1=2, r2=0, imm16=base)       # low half 0xfffe -> sign-extended
    b.emit("ld16", r1=3, r2=0, imm16=base + 1)    # high half 0x8001
    b.emit("ld32", r1=4, r2=0, imm16=base)
    b.emit("st32", r1=4, r2=0, imm16=base + 2)
    b.emit("st16", r1=3, r2=0, imm16=base + 2)    # overwrite the low half
    b.emit("ld32", r1=5, r2=0, imm16=base + 2)
    b.emit("addi", r1=6, r2=0, imm16=1)
    b.emit("addi", r1=7, r2=0, imm16=2)
    b.emit("exit")
    b.task(0, "main", activated=True)
    img = b.build()
    assert b.addresses[buf] == base
    f = make({(0, 0): img})
    f.run()
    r = f.pe_state(0, 0)["regs"]
    assert r[2] == 0xFFFFFFFE and r[3] == 0x8001 and r[4] == 0x8001FFFE
    assert r[5] == 0x80018001
    assert list(f.read("buf")[0, 0]) == [0x8001FFFE, 0x80018001]


def test_branches_and_calls():
    b = ImageBuilder("t")
    b.label("main")
    b.emit("addi", r1=1, r2=0, imm16=10)
    b.label("top")
    b.emit("call", target="inc")
    b.emit("addi", r1=1, r2=1, imm16=-1)
    b.emit("blt", r1=0, r2=1, target="top")       # while 0 < r1 (signed)
    b.emit("exit")
    b.label("inc")
    b.emit("addi", r1=2, r2=2, imm16=3)
    b.emit("jr", r1=15)
    b.task(0, "main", activated=True)
    f = make({(0, 0): b.build()})
    f.run()
    st = f.pe_state(0, 0)
    assert st["regs"][2] == 30 and st["regs"][1] == 0 and st["regs"][15] == 2


# --------------------------------------------------------------------------------------------
# scalar floating point
def fop(mn, a, b):
    return binop(mn, fbits(a), fbits(b))


@pytest.mark.parametrize("a,b", [(1.5, 2.25), (3e38, 3e38), (1e-45, 1e-45), (-0.0, 0.0),
                                 (1.0, 1e-8), (np.inf, -np.inf), (0.1, 0.2)])
def test_fp32_arith_matches_numpy(a, b):
    a, b = np.float32(a), np.float32(b)
    with np.errstate(all="ignore"):
        for mn, ref in (("addf", a + b), ("subf", a - b), ("mulf", a * b)):
            got = fop(mn, a, b)
            want = 0x7FC00000 if np.isnan(ref) else fbits(ref)
            assert got == want, (mn, a, b, hex(got), hex(want))


def test_fp32_nan_canonical_and_max_min():
    snan = 0x7F800001
    assert binop("addf", snan, fbits(1.0)) == 0x7FC00000
    assert binop("maxf", snan, fbits(1.0)) == 0x7FC00000
    assert binop("minf", fbits(1.0), 0xFFC12345) == 0x7FC00000
    assert fop("maxf", -0.0, 0.0) == 0 and fop("maxf", 0.0, -0.0) == 0
    assert fop("minf", -0.0, 0.0) == 0x80000000 and fop("minf", 0.0, -0.0) == 0x80000000
    assert fop("maxf", -3.0, 2.0) == fbits(2.0)
    assert binop("feq", snan, snan) == 0 and fop("fle", 1.0, 1.0) == 1 and fop("flt", 1.0, 1.0) == 0


def test_subnormals_not_flushed():
    tiny = np.float32(1.4e-45)            # the smallest fp32 subnormal
    assert fop("addf", tiny, tiny) == 2
    assert fop("mulf", 1e-20, 1e-20) == fbits(np.float32(1e-20) * np.float32(1e-20)) != 0


def test_macf_is_not_fused():
    x = np.float32(1 + 2.0 ** -12)
    acc = -(x * x)                           # fp32-rounded product, negated
    def body(b):
        li(b, 1, fbits(acc))
        li(b, 2, fbits(x))
        b.emit("macf", r1=1, r2=2, r3=2)     # r1 = r1 + r2*r2: 0 unfused, 2^-24 fused
    assert regs_after(body)[1] == 0


def test_conversions():
    def unop(mn, v):
        def body(b):
            li(b, 1, v)
            b.emit(mn, r1=2, r2=1)
        return regs_after(body)[2]
    assert unop("i2f", -3) == fbits(-3.0)
    assert unop("i2f", 16777217) == fbits(16777216.0)        # nearest even
    assert unop("f2i", fbits(-2.75)) == (-2) & M
    assert unop("f2i", fbits(3e9)) == 0x7FFFFFFF
    assert unop("f2i", fbits(-3e9)) == 0x80000000
    assert unop("f2i", 0x7FC00000) == 0
    assert unop("h2f", hbits(0.333)) == fbits(np.float32(np.float16(0.333)))
    assert unop("h2f", 0x0001) == fbits(np.float32(np.float16(2.0 ** -24)))   # fp16 subnormal
    # f2h: ties to even (1 + 2^-11 is exactly halfway between two fp16 values)
    assert unop("f2h", fbits(1 + 2.0 ** -11)) == hbits(1.0)
    assert unop("f2h", fbits(1 + 3 * 2.0 ** -11)) == hbits(1 + 2.0 ** -9)
    assert unop("f2h", fbits(70000.0)) == 0x7C00                  # overflow -> inf
    assert unop("f2h", 0x7F800001) == 0x7E00                      # canonical NaN
    assert unop("negf", 0x7F800001) == 0xFF800001                 # a pure sign flip
    assert unop("absf", fbits(-2.0)) == fbits(2.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_f16_conversion_matches_numpy_exhaustively_on_a_sample():
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 1 << 32, 20000, dtype=np.uint64).astype(np.uint32)
    for b in xs.tolist():
        x = f32(b)
        want = np.float32(x).astype(np.float16)
        got = bits16(x)
        if np.isnan(x):
            assert got == 0x7E00
        else:
            assert got == int(want.view(np.uint16))
    for h in range(0, 1 << 16, 7):
        x = f16(h)
        v = np.uint16(h).view(np.float16)
        assert np.isnan(v) or bits32(x) == int(np.float32(v).view(np.uint32))


# --------------------------------------------------------------------------------------------
# tensor ops over memory
def tensor_prog(mn, dtype_d, dtype_a, dtype_b, a, b_, d0, scalar=None, form="vv", stride=1):
    n = len(a)
    bb = ImageBuilder("t")
    bb.label("main")
    bb.alloc("d", dtype_d, n, init=d0)
    bb.alloc("a", dtype_a, n * stride, init=np.repeat(a, stride) if stride > 1 else a)
    if dtype_b:
        bb.alloc("b", dtype_b, n, init=b_)
    dd = bb.dsd("mem1d", "d", n)
    da = bb.dsd("mem1d", "a", n, stride=stride)
    db = bb.dsd("mem1d", "b", n) if dtype_b else None
    bb.emit("ldsd", dsr=0, dsdidx=dd)
    bb.emit("ldsd", dsr=8, dsdidx=da)
    if db is not None:
        bb.emit("ldsd", dsr=16, dsdidx=db)
    if scalar is not None:
        li(bb, 5, scalar)
    bb.emit("rdcyc", r1=7)
    fields = {"vv": dict(dd=0, da=0, db=0), "vs": dict(dd=0, da=0, rs=5),
              "v": dict(dd=0, da=0), "vvs": dict(dd=0, da=0, db=0, rs=5), "s": dict(dd=0, rs=5)}[form]
    bb.emit(mn, **fields)
    bb.emit("rdcyc", r1=8)
    bb.emit("exit")
    bb.task(0, "main", activated=True)
    f = make({(0, 0): bb.build()})
    f.run()
    r = f.pe_state(0, 0)["regs"]
    return f.read("d")[0, 0], r[8] - r[7] - 1


def test_faddh_rounding_nan_inf_match_numpy():
    a = np.array([1.0, 65504, -0.0, np.inf, np.nan, 6e-8, 0.1, 2049], dtype=np.float16)
    b = np.array([2.0 ** -11, 65504, 0.0, -np.inf, 1.0, 6e-8, 0.2, 1.0], dtype=np.float16)
    d, cost = tensor_prog("faddh", "f16", "f16", "f16", a, b, 0)
    with np.errstate(all="ignore"):
        want = (a.astype(np.float32) + b.astype(np.float32)).astype(np.float16)
    got = d.view(np.uint16)
    for g, w_ in zip(got, want):
        assert (g == 0x7E00) if np.isnan(w_) else g == w_.view(np.uint16)
    assert cost == 2                        # 8 fp16 elements at SIMD width 4 (wse2)


def test_fmacs_vs_numpy_unfused_and_strided_cost():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(6).astype(np.float32)
    x = rng.standard_normal(6).astype(np.float32)
    s = np.float32(0.37)
    d, cost = tensor_prog("fmacs", "f32", "f32", "f32", a, x, 0, scalar=fbits(s), form="vvs")
    assert np.array_equal(d.view(np.uint32), (a + (x * s).astype(np.float32)).view(np.uint32))
    assert cost == 3                        # 6 fp32 elements at s_mul width 2
    d2, cost2 = tensor_prog("fnegs", "f32", "f32", None, a, None, 0, form="v", stride=2)
    assert np.array_equal(d2, -a)
    assert cost2 == 6                       # a non-unit stride: width 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fmachs_mixed_and_conversions():
    a = np.array([1.0, -2.5, 3e38], dtype=np.float32)
    w = np.array([0.5, 1024, 65504], dtype=np.float16)
    s = np.float32(3.0)
    d, _ = tensor_prog("fmachs", "f32", "f32", "f16", a, w, 0, scalar=fbits(s), form="vvs")
    with np.errstate(all="ignore"):
        want = a + (w.astype(np.float32) * s).astype(np.float32)
    assert np.array_equal(d.view(np.uint32), want.view(np.uint32))
    d, _ = tensor_prog("fs2h", "f16", "f32", None, a, None, 0, form="v")
    assert np.array_equal(d.view(np.uint16), a.astype(np.float16).view(np.uint16))


def test_integer_tensor_ops():
    a = np.array([0xFFFF, 0x8000, 3, 0x1234], dtype=np.uint16)
    b = np.array([1, 16, 17, 4], dtype=np.uint16)
    d, cost = tensor_prog("add16", "u16", "u16", "u16", a, b, 0)
    assert list(d) == [0, 0x8010, 20, 0x1238] and cost == 1
    d, _ = tensor_prog("sll16", "u16", "u16", "u16", a, b, 0)
    assert list(d) == [0xFFFE, 0, 0, 0x2340]
    d, _ = tensor_prog("sar16", "u16", "u16", "u16", a, b, 0)
    assert list(d) == [0xFFFF, 0xFFFF, 0, 0x0123]
    d, _ = tensor_prog("slr16", "u16", "u16", None, a, None, 0, scalar=40, form="vs")
    assert list(d) == [0, 0, 0, 0]
    d, _ = tensor_prog("sub16", "u16", "u16", None, a, None, 0, scalar=0x10004, form="vs")
    assert list(d) == [(int(v) - 4) & 0xFFFF for v in a]
    d, _ = tensor_prog("mov16", "u16", "u16", None, a, None, 0, scalar=0xABCD1234, form="s")
    assert list(d) == [0x1234] * 4


def test_fmaxh_nan_and_signed_zero():
    a = np.array([np.nan, -0.0, 0.0, 1.0], dtype=np.float16)
    b = np.array([1.0, 0.0, -0.0, -1.0], dtype=np.float16)
    d, cost = tensor_prog("fmaxh", "f16", "f16", "f16", a, b, 0)
    assert list(d.view(np.uint16)) == [0x7E00, 0, 0, hbits(1.0)]
    assert cost == 4                          # fmaxh has width 1 on wse2


def test_tensor_out_of_bounds_faults_before_writing():
    b = ImageBuilder("t")
    b.label("main")
    b.alloc("d", "f32", 4, init=7)
    dd = b.dsd("mem1d", "d", 4)
    b.emit("ldsd", dsr=0, dsdidx=dd)
    li(b, 2, 24574)
    b.emit("dsdbase", dsr=0, rq=2)           # 4 fp32 elements from 24574 overrun SRAM
    b.emit("fmovs", dd=0, rs=0)
    b.emit("exit")
    b.task(0, "main", activated=True)
    f = make({(0, 0): b.build()})
    with pytest.raises(FaultError) as e:
        f.run()
    assert e.value.kind == "mem_range" and e.value.pe == (0, 0) and e.value.pc == 4
    assert "fmovs" in e.value.insn and e.value.task == 0
    assert f.pe_state(0, 0)["mem"][24574] == 0


# --------------------------------------------------------------------------------------------
# faults and hangs
def test_trap_report():
    f, _ = single(lambda b: (b.emit("nop"), b.emit("trap", uimm16=0x42)))
    with pytest.raises(FaultError) as e:
        f.run()
    err = e.value
    assert err.kind == "trap" and err.pe == (0, 0) and err.task == 0 and err.pc == 1
    assert "0x42" in str(err) and err.insn.startswith("trap")
    assert err.trace and err.trace[-1][1] == 0          # the last executed instruction: the nop


def test_store_into_code_and_misaligned_faults():
    f, _ = single(lambda b: b.emit("st16", r1=0, r2=0, imm16=1))
    with pytest.raises(FaultError) as e:
        f.run()
    assert e.value.kind == "write_code"
    f, _ = single(lambda b: b.emit("ld32", r1=1, r2=0, imm16=3))
    with pytest.raises(FaultError) as e:
        f.run()
    assert e.value.kind == "misaligned"
    f, _ = single(lambda b: b.emit("ld16", r1=1, r2=0, imm16=-1))
    with pytest.raises(FaultError) as e:
        f.run()
    assert e.value.kind == "mem_range"


def test_hang_blocked_task_and_watchdog():
    b = ImageBuilder("t")
    b.label("main")
    b.emit("exit")
    b.task(0, "main", activated=True, blocked=True)
    f = make({(0, 0): b.build()})
    with pytest.raises(HangError) as e:
        f.run()
    assert "activated but blocked tasks: 0(main)" in e.value.report and e.value.cycle == 1
    b = ImageBuilder("t")
    b.label("main")
    b.emit("jmp", target="main")
    b.task(0, "main", activated=True)
    f = make({(0, 0): b.build()})
    with pytest.raises(WatchdogError):
        f.run(max_cycles=10000)
    assert f.cycle == 10000


def test_idle_cycle_count_exact():
    # pick at 0, first instruction at 1 (task_switch), 3 nops at 1..3 (one run), exit at 4,
    # the scheduler looks at 5: idle at boundary 5.
    f, _ = single(lambda b: [b.emit("nop") for _ in range(3)])
    assert f.run() == 5
    st = f.pe_state(0, 0)["stats"]
    assert st["instructions"] == 4 and st["busy_cycles"] == 5


def test_instructions_counted_at_their_own_cycle():
    f, _ = single(lambda b: [b.emit("nop") for _ in range(3)])
    f.run_until(2)                            # the run executed at 1; only its first counted
    st = f.pe_state(0, 0)
    assert st["pc"] == 3 and st["stats"]["instructions"] == 1    # stopped before exit
    f.run_until(4)
    assert f.pe_state(0, 0)["stats"]["instructions"] == 3


# --------------------------------------------------------------------------------------------
# routing
def chain(n_pes, multicast=True):
    """PE 0 sends 1..5 east on color 2; PEs 1..n-1 receive (data task 2 stores r1 into a
    ring) and pass on (multicast)."""
    imgs = {}
    b = ImageBuilder("src")
    b.label("main")
    for v in range(1, 6):
        b.emit("addi", r1=1, r2=0, imm16=v)
        b.emit("send", color=2, rq=1)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(2, (R, E))
    imgs[(0, 0)] = b.build()
    for x in range(1, n_pes):
        b = ImageBuilder("sink")
        b.alloc("got", "u32", 8, init=0)
        b.label("t")
        g = 18                                               # 9 instructions, then `got`
        b.emit("ld32", r1=3, r2=0, imm16=g + 14)             # count at got[7]
        b.emit("slli", r1=4, r2=3, shamt=1)
        b.emit("st32", r1=1, r2=4, imm16=g)                  # got[count] = payload
        b.emit("addi", r1=3, r2=3, imm16=1)
        b.emit("st32", r1=3, r2=0, imm16=g + 14)
        for _ in range(3):
            b.emit("nop")
        b.emit("exit")
        b.task(2, "t", kind="data", color=2)
        last = x == n_pes - 1
        b.route(2, (W, R if last or not multicast else R | E))
        img = b.build()
        assert b.addresses["got"] == g
        imgs[(x, 0)] = img
    return make(imgs)


def test_multicast_chain_delivers_everything_in_order():
    f = chain(4)
    f.run()
    for x in range(1, 4):
        got = f.read("got", (x, 0, 1, 1))[0, 0]
        assert list(got[:5]) == [1, 2, 3, 4, 5] and got[7] == 5
        assert f.pe_state(x, 0)["stats"]["wavelets_received"] == 5
    assert f.pe_state(0, 0)["stats"]["wavelets_sent"] == 5


def test_neighbours_on_multicast_chain_receive_two_cycles_apart():
    f = chain(3)
    arrivals = {1: None, 2: None}
    for t in range(60):
        f.run_until(t + 1)
        for x in (1, 2):
            if arrivals[x] is None and f.pe_state(x, 0)["stats"]["wavelets_received"]:
                arrivals[x] = t
    assert arrivals[2] - arrivals[1] == 2


def test_route_fault_when_neighbour_does_not_accept():
    f = chain(3, multicast=True)
    # rebuild PE 2 with a route that does not accept WEST
    imgs = {}
    obj = f.obj
    for y in range(1):
        for x in range(3):
            imgs[(x, y)] = obj.image_at(x, y)
    bad = imgs[(2, 0)]
    bad = objfile.Image(bad.name + "x", bad.code, bad.mem_words, bad.chunks, bad.dsds, bad.tasks,
                        [objfile.Route(2, ((N, R),), 2, 2)], bad.symbols, bad.lines)
    imgs[(2, 0)] = bad
    g = make(imgs)
    with pytest.raises(FaultError) as e:
        g.run()
    # reported at the PE whose route refuses the wavelet, naming where it came from, as the C
    # core does (the reference named the sending router: a differential fuzz found the two apart)
    assert e.value.kind == "route" and e.value.pe == (2, 0) and "from PE (1,0)" in e.value.reason
    assert e.value.task is None


def test_backpressure_nothing_dropped_and_sender_waits():
    """The receiver's data task is blocked until a local task has spun for a while, so the
    iq, the router buffer and the sender's oq fill up; the sender waits; nothing is lost."""
    n = 20
    b = ImageBuilder("src")
    b.label("main")
    b.emit("addi", r1=2, r2=0, imm16=n)
    b.label("loop")
    b.emit("send", color=1, rq=2)
    b.emit("addi", r1=2, r2=2, imm16=-1)
    b.emit("bne", r1=2, r2=0, target="loop")
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(1, (R, E))
    src = b.build()
    b = ImageBuilder("dst")
    b.alloc("sum", "u32", 1, init=0)
    b.label("spin")
    b.emit("addi", r1=5, r2=0, imm16=300)
    b.label("s")
    b.emit("addi", r1=5, r2=5, imm16=-1)
    b.emit("bne", r1=5, r2=0, target="s")
    b.emit("unblock", tid=1)
    b.emit("exit")
    b.label("t")
    b.emit("add", r1=6, r2=6, r3=1)
    b.emit("exit")
    b.task(0, "spin", activated=True)
    b.task(1, "t", kind="data", color=1, blocked=True)
    b.route(1, (W, R))
    dst = b.build()
    f = make({(0, 0): src, (1, 0): dst})
    max_iq = max_rb = max_oq = 0
    waited = False
    while True:
        idle = f.run_until(f.cycle + 1)
        s0, s1 = f.pe_state(0, 0), f.pe_state(1, 0)
        max_iq = max(max_iq, len(s1["iq"].get(1, [])))
        max_rb = max(max_rb, len(s1["rb"].get(1, [])))
        max_oq = max(max_oq, len(s0["oq"].get(1, [])))
        if idle:
            break
    assert (max_iq, max_rb, max_oq) == (6, 4, 2)   # wse2: iq1 6, router 4, oq1 2
    s0, s1 = f.pe_state(0, 0), f.pe_state(1, 0)
    assert s1["regs"][6] == n * (n + 1) // 2
    assert s0["stats"]["wavelets_sent"] == n == s1["stats"]["wavelets_received"]
    assert s0["stats"]["stalls"] > 0


def test_switch_advances_after_control_wavelet():
    """PE 0 sends a data wavelet, a control wavelet, and another data wavelet on color 4.
    PE 1's route has two positions: deliver to the RAMP, then forward east to the host."""
    b = ImageBuilder("src")
    b.label("main")
    b.emit("addi", r1=1, r2=0, imm16=11)
    b.emit("send", color=4, rq=1)
    b.emit("addi", r1=1, r2=0, imm16=63)          # control payload: activates task 63 at a RAMP
    b.emit("sendc", color=4, rq=1)
    b.emit("addi", r1=1, r2=0, imm16=22)
    b.emit("send", color=4, rq=1)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(4, (R, E))
    src = b.build()
    b = ImageBuilder("sw")
    b.label("t")
    b.emit("add", r1=6, r2=6, r3=1)
    b.emit("exit")
    b.label("ctl")
    b.emit("addi", r1=7, r2=7, imm16=1)
    b.emit("exit")
    b.task(4, "t", kind="data", color=4)
    b.task(63, "ctl", kind="control")
    b.route(4, [(W, R), (W, E)])
    sw = b.build()
    f = make({(0, 0): src, (1, 0): sw})
    f.run()
    st = f.pe_state(1, 0)
    assert st["regs"][6] == 11 and st["regs"][7] == 1        # data 11 and the control task
    assert st["switch"] == {4: 1}
    got = f.received()
    assert [(r.x, r.y, r.port, r.color, r.payload, r.ctrl) for r in got] == [(1, 0, E, 4, 22, False)]


def test_host_stream_in_and_out():
    """Host wavelets enter PE 0 from the west, pass PE 0 and PE 1, leave east to the host."""
    b = ImageBuilder("pass")
    b.label("t")
    b.emit("exit")
    b.task(0, "t")
    b.route(5, (W, E))
    img = b.build()
    f = make({(0, 0): img, (1, 0): img})
    f.send(5, 0, 0, "west", [1, 2, 3])
    f.run()
    got = f.received(5)
    assert [r.payload for r in got] == [1, 2, 3]
    # inject at 0 (ready 2), PE0 -> PE1 at 2 (ready 4), PE1 -> host at 4: one per cycle
    assert [r.cycle for r in got] == [4, 5, 6]
    with pytest.raises(ValueError):
        f.send(5, 0, 0, "east", [1])                # not an edge port


def test_conservation_random_host_traffic():
    """Every injected wavelet is either received at a RAMP or delivered back to the host."""
    rng = np.random.default_rng(3)
    b = ImageBuilder("mix")
    b.label("t")
    b.emit("add", r1=6, r2=6, r3=1)
    b.emit("exit")
    b.task(7, "t", kind="data", color=7)
    b.route(7, (W, R | E))                           # deliver and pass on
    img = b.build()
    f = make({(x, 0): img for x in range(3)})
    vals = rng.integers(0, 1000, 30).tolist()
    f.send(7, 0, 0, "west", vals)
    f.run()
    assert [r.payload for r in f.received()] == vals
    for x in range(3):
        st = f.pe_state(x, 0)
        assert st["stats"]["wavelets_received"] == 30 and st["regs"][6] == sum(vals)


# --------------------------------------------------------------------------------------------
# fabric tensor ops and async ops
def test_fabin_fmovs_and_async_activate():
    """PE 1 reads 4 fp32 wavelets from color 3 into memory with an async fmovs whose
    completion activates task 9, which copies them out with a synchronous fabout fmovs."""
    b = ImageBuilder("src")
    b.label("main")
    for v in (1.5, -2.0, 3.25, 1e-3):
        li(b, 1, fbits(v))
        b.emit("send", color=3, rq=1)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.route(3, (R, E))
    src = b.build()
    b = ImageBuilder("dst")
    b.alloc("buf", "f32", 4, init=0)
    din = b.dsd("fabin", color=3, length=4)
    dbuf = b.dsd("mem1d", "buf", 4)
    dout = b.dsd("fabout", color=6, length=4)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=dbuf)
    b.emit("ldsd", dsr=8, dsdidx=din)
    b.emit("fmovs", dd=0, da=0, act=2, ut=1, tid=9)
    b.emit("exit")
    b.label("out")
    b.emit("ldsd", dsr=1, dsdidx=dout)
    b.emit("ldsd", dsr=9, dsdidx=dbuf)
    b.emit("fnegs", dd=1, da=1)
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.task(9, "out")
    b.route(3, (W, R))
    b.route(6, (R, S))
    dst = b.build()
    f = make({(0, 0): src, (1, 0): dst}, 2, 1)
    seen_ut = False
    while not f.run_until(f.cycle + 1):
        ut = f.pe_state(1, 0)["ut"]
        if ut[1] is not None:
            seen_ut = True
            assert ut[1][0] == 0x90 and ut[1][2] == 4
    assert seen_ut
    want = np.array([1.5, -2.0, 3.25, 1e-3], dtype=np.float32)
    assert np.array_equal(f.read("buf", (1, 0, 1, 1))[0, 0], want)
    got = f.received(6)
    assert [r.payload for r in got] == [fbits(-v) for v in want]
    assert [r.port for r in got] == [S] * 4
    cyc = [r.cycle for r in got]
    assert cyc == list(range(cyc[0], cyc[0] + 4))      # one element per cycle


def test_async_on_busy_microthread_faults():
    b = ImageBuilder("t")
    b.alloc("a", "f32", 64, init=1)
    d = b.dsd("mem1d", "a", 64)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=d)
    b.emit("fmovs", dd=0, rs=0, act=1, ut=3)
    b.emit("fmovs", dd=0, rs=0, act=1, ut=3)
    b.emit("exit")
    b.task(0, "main", activated=True)
    f = make({(0, 0): b.build()})
    with pytest.raises(FaultError) as e:
        f.run()
    assert e.value.kind == "ut_busy" and e.value.pc == 2


def test_wse3_preset_widths():
    a = np.arange(16, dtype=np.float16)
    bb = ImageBuilder("t")
    bb.alloc("d", "f16", 16, init=0)
    bb.alloc("a", "f16", 16, init=a)
    dd, da = bb.dsd("mem1d", "d", 16), bb.dsd("mem1d", "a", 16)
    bb.label("main")
    bb.emit("ldsd", dsr=0, dsdidx=dd)
    bb.emit("ldsd", dsr=8, dsdidx=da)
    bb.emit("rdcyc", r1=7)
    bb.emit("faddh", dd=0, da=0, db=0)       # db is b0: empty -> fault
    bb.emit("exit")
    bb.task(0, "main", activated=True)
    f = make({(0, 0): bb.build()}, arch="wse3")
    with pytest.raises(FaultError) as e:
        f.run()
    assert e.value.kind == "dsd_kind"
