"""Instruction semantics of the C core, checked against numpy and the spec's edge cases."""
import numpy as np
import pytest

from helpers import binop, fbits, hbits, li, regs_after, single

M32 = 0xFFFFFFFF


@pytest.mark.parametrize("a,b", [(0xFFFFFFFF, 1), (0x80000000, 0x80000000), (7, 9), (0, 0xFFFFFFFF)])
def test_integer_wraparound(a, b):
    assert binop("add", a, b) == (a + b) & M32
    assert binop("sub", a, b) == (a - b) & M32
    assert binop("mul", a, b) == (a * b) & M32
    sa = a - (1 << 32) if a >> 31 else a
    sb = b - (1 << 32) if b >> 31 else b
    assert binop("slt", a, b) == int(sa < sb)
    assert binop("sltu", a, b) == int(a < b)


@pytest.mark.parametrize("s", [0, 1, 31, 32, 33, 255, 0xFFFFFFFF])
def test_shifts_by_register(s):
    v = 0x80001234
    assert binop("sll", v, s) == ((v << s) & M32 if s < 32 else 0)
    assert binop("srl", v, s) == (v >> s if s < 32 else 0)
    sra = (v - (1 << 32)) >> min(s, 31)
    assert binop("sra", v, s) == sra & M32


def test_r0_ignores_writes_and_immediates():
    def build(b):
        b.emit("addi", r1=0, r2=0, imm16=5)
        b.emit("addi", r1=1, r2=0, imm16=-1)
        b.emit("andi", r1=2, r2=1, uimm16=0xF0F0)
        b.emit("xori", r1=3, r2=0, uimm16=0xFFFF)
        b.emit("slli", r1=4, r2=1, shamt=31)
        b.emit("srai", r1=5, r2=4, shamt=31)
        b.emit("srli", r1=6, r2=4, shamt=31)
        b.emit("slti", r1=7, r2=1, imm16=0)
    r = regs_after(build)
    assert r[0] == 0 and r[1] == M32 and r[2] == 0xF0F0 and r[3] == 0xFFFF
    assert r[4] == 0x80000000 and r[5] == M32 and r[6] == 1 and r[7] == 1


@pytest.mark.parametrize("a,b", [(1.5, 2.25), (3e38, 3e38), (-0.0, 0.0), (float("inf"), float("-inf")),
                                 (1e-45, 1e-45), (float("nan"), 1.0), (1.0000001, 0.9999999)])
def test_scalar_fp32_vs_numpy(a, b):
    fa, fb = np.float32(a), np.float32(b)
    with np.errstate(all="ignore"):
        for mn, want in (("addf", fa + fb), ("subf", fa - fb), ("mulf", fa * fb)):
            got = binop(mn, fbits(a), fbits(b))
            exp = 0x7FC00000 if np.isnan(want) else int(np.float32(want).view(np.uint32))
            assert got == exp, mn
    assert binop("feq", fbits(a), fbits(b)) == int(fa == fb)
    assert binop("flt", fbits(a), fbits(b)) == int(fa < fb)
    assert binop("fle", fbits(a), fbits(b)) == int(fa <= fb)


def test_max_min_zeros_and_nan():
    assert binop("maxf", fbits(-0.0), fbits(0.0)) == 0
    assert binop("maxf", fbits(0.0), fbits(-0.0)) == 0
    assert binop("minf", fbits(0.0), fbits(-0.0)) == 0x80000000
    assert binop("maxf", fbits(float("nan")), fbits(1.0)) == 0x7FC00000
    assert binop("minf", fbits(1.0), 0x7F800001) == 0x7FC00000


def test_conversions():
    def build(b):
        li(b, 2, fbits(-3.99))
        b.emit("f2i", r1=3, r2=2)
        li(b, 4, fbits(3e10))
        b.emit("f2i", r1=5, r2=4)
        li(b, 6, 0x7FC00000)
        b.emit("f2i", r1=7, r2=6)
        li(b, 8, 16777217)
        b.emit("i2f", r1=9, r2=8)
        li(b, 10, hbits(65504.0))
        b.emit("h2f", r1=11, r2=10)
        li(b, 12, fbits(65520.0))
        b.emit("f2h", r1=13, r2=12)
        li(b, 14, 0x7D01)                # an fp16 signalling NaN -> canonical fp32 NaN
        b.emit("h2f", r1=15, r2=14)
    r = regs_after(build)
    assert r[3] == (-3) & M32 and r[5] == 0x7FFFFFFF and r[7] == 0
    assert r[9] == fbits(np.float32(16777216.0))     # round to nearest even
    assert r[11] == fbits(65504.0) and r[13] == 0x7C00 and r[15] == 0x7FC00000


def test_macf_is_not_fused():
    a, b, c = np.float32(1 + 2 ** -23), np.float32(1 - 2 ** -23), np.float32(-1.0)

    def build(bb):
        li(bb, 1, fbits(c))
        li(bb, 2, fbits(a))
        li(bb, 3, fbits(b))
        bb.emit("macf", r1=1, r2=2, r3=3)
    want = np.float32(c + np.float32(a * b))         # product rounded first: 0
    assert regs_after(build)[1] == fbits(want) == 0


def test_loads_stores_and_calls():
    def setup(b):
        b.alloc("buf", "u32", 4, init=[0x11223344, 0xFFFF8000, 0, 0])

    base = 0

    def build2(bb):
        bb.emit("addi", r1=2, r2=0, imm16=base)
        bb.emit("ld32", r1=3, r2=2, imm16=0)
        bb.emit("ld16", r1=4, r2=2, imm16=3)
        bb.emit("ld16s", r1=5, r2=2, imm16=2)
        bb.emit("st32", r1=3, r2=2, imm16=4)
        bb.emit("st16", r1=5, r2=2, imm16=6)
        bb.emit("call", target="sub")
        bb.emit("jmp", target="end")
        bb.label("sub")
        bb.emit("addi", r1=6, r2=0, imm16=77)
        bb.emit("jr", r1=15)
        bb.label("end")
    _, b = single(build2, setup=setup)           # first pass: learn the buffer's address
    base = b.addresses["buf"]
    f, b = single(build2, setup=setup)
    assert b.addresses["buf"] == base
    f.run()
    r = f.pe_state(0, 0)["regs"]
    assert r[3] == 0x11223344 and r[4] == 0xFFFF and r[5] == 0xFFFF8000 and r[6] == 77
    assert list(f.read("buf")[0, 0]) == [0x11223344, 0xFFFF8000, 0x11223344, 0x8000]


# ---- tensor ops ----------------------------------------------------------------------------
def tensor_prog(op, tdst, t0, t1, a, b, scalar=None, n=None, **kw):
    """Run `op` on memory operands: dst <- op(a, b[, scalar]); returns (dst array, fabric)."""
    n = n or len(a)

    def setup(bb):
        bb.alloc("a", t0, n, init=a)
        if t1:
            bb.alloc("b", t1, n, init=b)
        bb.alloc("d", tdst, n)
        bb.dsd("mem1d", base="d", length=n)
        bb.dsd("mem1d", base="a", length=n)
        if t1:
            bb.dsd("mem1d", base="b", length=n)

    def build(bb):
        bb.emit("ldsd", dsr=0, dsdidx=0)
        bb.emit("ldsd", dsr=8, dsdidx=1)
        fields = dict(dd=0, da=0)
        if t1:
            bb.emit("ldsd", dsr=16, dsdidx=2)
            fields["db"] = 0
        if scalar is not None:
            li(bb, 5, scalar)
            fields["rs"] = 5
        bb.emit(op, **fields)
    f, _ = single(build, setup=setup)
    f.run()
    return f.read("d")[0, 0], f


SPECIALS32 = np.array([0.0, -0.0, 1.0, -1.5, 3.4e38, 1e-45, 1.2e-38, np.inf, -np.inf, np.nan,
                       65504.0, 6e-8, 1 / 3], dtype=np.float32)


def canon32(x):
    x = np.asarray(x, dtype=np.float32).copy()
    x[np.isnan(x)] = np.uint32(0x7FC00000).view(np.float32)
    return x.view(np.uint32)


def canon16(x):
    x = np.asarray(x, dtype=np.float16).copy()
    x[np.isnan(x)] = np.uint16(0x7E00).view(np.float16)
    return x.view(np.uint16)


@pytest.mark.parametrize("op,fn", [("fadds", np.add), ("fsubs", np.subtract), ("fmuls", np.multiply)])
def test_fp32_vv_vs_numpy(op, fn):
    rng = np.random.default_rng(5)
    a = np.concatenate([SPECIALS32, rng.standard_normal(51).astype(np.float32)])
    b = np.concatenate([SPECIALS32[::-1], rng.standard_normal(51).astype(np.float32) * 1e3])
    got, _ = tensor_prog(op, "f32", "f32", "f32", a, b)
    with np.errstate(all="ignore"):
        assert np.array_equal(got.view(np.uint32), canon32(fn(a, b)))


def test_fmacs_not_fused_and_vs_numpy():
    rng = np.random.default_rng(7)
    a = rng.standard_normal(64).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    s = np.float32(1.7)
    got, _ = tensor_prog("fmacs", "f32", "f32", "f32", a, b, scalar=fbits(s))
    assert np.array_equal(got.view(np.uint32), canon32(a + (b * s).astype(np.float32)))


@pytest.mark.parametrize("op,fn", [("faddh", np.add), ("fsubh", np.subtract), ("fmulh", np.multiply)])
def test_fp16_ops_round_through_fp32(op, fn):
    h = np.arange(0, 65536, 97, dtype=np.uint16).view(np.float16)
    rng = np.random.default_rng(3)
    a = h
    b = rng.permutation(h)
    got, _ = tensor_prog(op, "f16", "f16", "f16", a, b, n=len(a))
    with np.errstate(all="ignore"):
        want = fn(a.astype(np.float32), b.astype(np.float32)).astype(np.float16)
    assert np.array_equal(got.view(np.uint16), canon16(want))


def test_fmachs_fh2s_fs2h():
    rng = np.random.default_rng(11)
    acc = rng.standard_normal(40).astype(np.float32)
    w = rng.standard_normal(40).astype(np.float16)
    s = np.float32(-0.37)
    got, _ = tensor_prog("fmachs", "f32", "f32", "f16", acc, w, scalar=fbits(s))
    assert np.array_equal(got.view(np.uint32), canon32(acc + (w.astype(np.float32) * s).astype(np.float32)))
    h = np.arange(0, 65536, 9, dtype=np.uint16).view(np.float16)
    got, _ = tensor_prog("fh2s", "f32", "f16", None, h, None, n=len(h))
    assert np.array_equal(got.view(np.uint32), canon32(h.astype(np.float32)))
    f = np.concatenate([SPECIALS32, np.float32(rng.standard_normal(100) * 1e4)])
    got, _ = tensor_prog("fs2h", "f16", "f32", None, f, None)
    with np.errstate(all="ignore"):
        assert np.array_equal(got.view(np.uint16), canon16(f.astype(np.float16)))


def test_fmachs_every_f16_value():
    """The contiguous fmachs fast path (a branch-free fp16 widening) against numpy for every
    fp16 bit pattern: subnormals, infinities and NaNs included (NaN results canonical)."""
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    for chunk in np.array_split(every, 16):
        acc = np.resize(np.array([0.0, 1.5, -2.0, np.inf, 1e-40], dtype=np.float32), len(chunk))
        s = np.float32(-0.75)
        got, _ = tensor_prog("fmachs", "f32", "f32", "f16", acc, chunk, scalar=fbits(s))
        with np.errstate(all="ignore"):
            want = acc + (chunk.astype(np.float32) * s).astype(np.float32)
        assert np.array_equal(got.view(np.uint32), canon32(want))


@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 15, 17, 31])
def test_fmachs_vector_tails(n):
    """fmachs lengths that are not multiples of the 8-lane fast path: the scalar tail must give
    the same bits (specials placed at the end, where the tail handles them)."""
    specials = np.array([0x7C01, 0xFE00, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x3C00, 0x0000], dtype=np.uint16)
    rng = np.random.default_rng(n)
    w = rng.standard_normal(n).astype(np.float16)
    k = min(n, len(specials))
    w.view(np.uint16)[n - k:] = specials[:k]
    acc = rng.standard_normal(n).astype(np.float32)
    acc[-1] = np.inf
    s = np.float32(0.5)
    got, _ = tensor_prog("fmachs", "f32", "f32", "f16", acc, w, scalar=fbits(s))
    with np.errstate(all="ignore"):
        want = acc + (w.astype(np.float32) * s).astype(np.float32)
    assert np.array_equal(got.view(np.uint32), canon32(want))


def test_fmax_nan_and_neg_abs_canonical():
    a = np.array([1.0, np.nan, -0.0, 0.0, -np.inf], dtype=np.float32)
    b = np.array([np.nan, 2.0, 0.0, -0.0, 3.0], dtype=np.float32)
    got, _ = tensor_prog("fmaxs", "f32", "f32", "f32", a, b)
    assert list(got.view(np.uint32)) == [0x7FC00000, 0x7FC00000, 0, 0, fbits(3.0)]
    sn = np.array([0x7F800001, 0xFFC00001, fbits(-2.0)], dtype=np.uint32).view(np.float32)
    got, _ = tensor_prog("fnegs", "f32", "f32", None, sn, None)
    assert list(got.view(np.uint32)) == [0x7FC00000, 0x7FC00000, fbits(2.0)]


@pytest.mark.parametrize("op,fn", [("add16", lambda a, b: a + b), ("sub16", lambda a, b: a - b),
                                   ("and16", np.bitwise_and), ("or16", np.bitwise_or),
                                   ("xor16", np.bitwise_xor)])
def test_int16_wraparound(op, fn):
    rng = np.random.default_rng(2)
    a = rng.integers(0, 65536, 64, dtype=np.uint16)
    b = rng.integers(0, 65536, 64, dtype=np.uint16)
    got, _ = tensor_prog(op, "u16", "u16", "u16", a, b)
    assert np.array_equal(got, fn(a, b).astype(np.uint16))


def test_int16_shifts_by_width_and_more():
    a = np.array([0x8001, 0x8001, 0x8001, 0x7FFF, 0xFFFF, 0x1234], dtype=np.uint16)
    s = np.array([1, 15, 16, 17, 40000, 0], dtype=np.uint16)
    got, _ = tensor_prog("sll16", "u16", "u16", "u16", a, s)
    assert list(got) == [0x0002, 0x8000, 0, 0, 0, 0x1234]
    got, _ = tensor_prog("slr16", "u16", "u16", "u16", a, s)
    assert list(got) == [0x4000, 0x0001, 0, 0, 0, 0x1234]
    got, _ = tensor_prog("sar16", "u16", "u16", "u16", a, s)
    assert list(got) == [0xC000, 0xFFFF, 0xFFFF, 0, 0xFFFF, 0x1234]
    got, _ = tensor_prog("sll16", "u16", "u16", None, a, None, scalar=0xFFFFFFFF)
    assert list(got) == [0] * 6


def test_tensor_cost_and_strided_width_one():
    """faddh over 10 contiguous fp16 costs ceil(10/4) = 3 cycles on wse2; a stride-2 operand
    makes the width 1 (10 cycles)."""
    def prog(stride):
        def setup(bb):
            bb.alloc("a", "f16", 20, init=1.0)
            bb.alloc("d", "f16", 20)
            bb.dsd("mem1d", base="d", length=10, stride=stride)
            bb.dsd("mem1d", base="a", length=10)

        def build(bb):
            bb.emit("ldsd", dsr=0, dsdidx=0)
            bb.emit("ldsd", dsr=8, dsdidx=1)
            bb.emit("rdcyc", r1=2)
            bb.emit("fmovh", dd=0, da=0)
            bb.emit("rdcyc", r1=3)
        f, _ = single(build, setup=setup)
        f.run()
        r = f.pe_state(0, 0)["regs"]
        return r[3] - r[2]
    assert prog(1) == 1 + 3
    assert prog(2) == 1 + 10


def test_hang_report_names_an_activated_data_task():
    """A data task runs only for wavelets: activating it leaves a bit set that can never be
    consumed, so the run ends in a hang whose report must say so (it used to be empty)."""
    from wse.asm import assemble_text
    from wse.emu import Fabric
    from wse.emu.errors import HangError
    # (by its id: wse-as refuses `activate d` for a data task named in the source)
    src = (".task main, local, start\n.task d, data, color=2, id=1\n.route 2, west -> ramp\n"
           "main:\n activate 1\n exit\nd:\n exit\n")
    fab = Fabric.from_object(assemble_text(src, "a.s"))
    try:
        fab.run()
    except HangError as e:
        assert "activated data tasks" in str(e) and "1(d)" in str(e)
    else:
        raise AssertionError("expected a hang")


RELAUNCH = """
    .task main, local, start
main:
    rdcyc r1
    ld32 r2, [count]
    addi r2, r2, 1
    st32 r2, [count]
    st32 r1, [when]
    exit
    .data
count: .u32 0
when:  .u32 0
    .export count, when
"""


@pytest.mark.parametrize("pause", [False, True])
def test_launch_between_runs_runs_the_task_at_the_current_cycle(pause):
    """Host calls take no cycles: a task launched after a run ends (or while it is paused by
    run_until) is picked at the fabric's cycle, on the C core as on the reference. The C core
    used to drop that event when the PE's last event was the run's final, empty cycle (its
    scheduler and visit dedupes still named that cycle), and the second run hung."""
    from wse.asm import assemble_text
    from wse.emu import Fabric
    from wse.emu.reference import ReferenceFabric
    obj = assemble_text(RELAUNCH)
    got = []
    for fab in (Fabric(1, 1), ReferenceFabric(1, 1)):
        fab.load(obj)
        first = int(fab.run())
        fab.launch("main")
        if pause:
            assert fab.run_until(first + 2) is False
        second = int(fab.run())
        got.append((first, second, int(fab.read("count")[0, 0, 0]), int(fab.read("when")[0, 0, 0])))
    assert got[0] == got[1]
    first, second, count, when = got[0]
    assert count == 2 and second == 2 * first and when == first + 1


def test_trace_records_each_tensor_op_once():
    """A memory-only op is traced at issue when synchronous and at completion when async (it
    was recorded at both, so --trace showed the async op twice): one span per op, with its
    microthread, from issue to the finishing cycle."""
    from wse.asm import assemble_text
    from wse.emu import Fabric
    from wse.emu.records import opcode_mnemonic as _mnemonic
    src = """
    .task main, local, start
    .task done, local
    .dsd Ds, mem1d, base=S0, len=10
    .dsd As, mem1d, base=S1, len=10
main:
    ldsd d0, Ds
    ldsd a0, As
    ldsd b0, As
    fadds d0, a0, b0 async ut3 activate done
    fadds d0, a0, b0
    exit
done:
    exit
    .data
S0: .fill f32, 10, 0.0
S1: .fill f32, 10, 1.0
"""
    fab = Fabric.from_object(assemble_text(src))
    fab.enable_trace()
    fab.run()
    ops = [(_mnemonic(a), b, t0, t1) for kind, _, _, a, b, t0, t1 in fab.trace_events() if kind == 2]
    assert sorted((m, ut) for m, ut, _, _ in ops) == [("fadds", 3), ("fadds", 8)]
    spans = {ut: (t0, t1) for _, ut, t0, t1 in ops}
    # wse2: 10 fp32 / 2 = 5 cycles each; the synchronous op, issued a cycle later, waits for the
    # datapath until the async one has finished
    assert spans[3][1] - spans[3][0] == 5 and spans[8] == (spans[3][1], spans[3][1] + 5)


@pytest.mark.parametrize("arch,lag,n,want", [
    ("wse2", 1, 15, 15),     # a running sum: one element per cycle
    ("wse3", 1, 15, 15),
    ("wse3", 2, 14, 7),      # fp32 width 4 on wse3, capped at the lag of 2
    ("wse3", 3, 13, 5),
    ("wse3", 4, 12, 3),      # a lag of the full width costs nothing extra
    ("wse3", -1, 15, 4),     # a source after the destination reads unwritten elements: full width
])
def test_recurrence_cost_is_capped_by_its_lag(arch, lag, n, want):
    """timing.md, Instruction costs: y[L:] = y[:-L] + y[L:] in place is a recurrence whose
    element i needs element i - L of the same op, so it goes min(width, L) elements per cycle
    (the kernel-author walk-through found a prefix sum costed at the full SIMD width). The C
    core and the reference agree on the cycles and on the values (the sums run in order)."""
    from wse.asm import assemble_text
    from wse.emu import Fabric
    from wse.emu.reference import ReferenceFabric
    dst, src = (lag, 0) if lag > 0 else (0, -lag)
    src_text = f"""
    .task main, local, start
    .dsd D, mem1d, base=y + {2 * dst}, len={n}
    .dsd A, mem1d, base=y + {2 * src}, len={n}
main:
    rdcyc r1
    ldsd d0, D
    ldsd a0, A
    ldsd b0, D
    fadds d0, a0, b0
    rdcyc r2
    sub r3, r2, r1
    st32 r3, [cost]
    exit
    .data
y: .fill f32, 16, 1.0
cost: .u32 0
    .export y, cost
"""
    obj = assemble_text(src_text, arch=arch)
    res = []
    for fab in (Fabric(1, 1, arch), ReferenceFabric(1, 1, arch)):
        fab.load(obj)
        fab.run()
        res.append((int(fab.read("cost")[0, 0, 0]) - 4, fab.read("y").ravel().tolist()))
    assert res[0] == res[1]
    assert res[0][0] == want
    y = np.ones(16, np.float32)
    for i in range(n):                       # the sequential semantics ("like a C loop")
        y[dst + i] = y[src + i] + y[dst + i]
    assert res[0][1] == y.tolist()


@pytest.mark.parametrize("arch", ["wse2", "wse3"])
@pytest.mark.parametrize("mode", ["sync", "async", "mixed"])
def test_memory_ops_share_one_datapath(arch, mode):
    """Eight fmacs of 1024 fp32 cost the same whether issued synchronously or on eight
    microthreads: memory-only tensor ops of a PE, on any thread, run one after another on its one
    SIMD datapath (they ran side by side, each at full width, so a kernel could show 245% of the
    SIMD peak). The values are the same in every mode (effects at issue), and C and the
    reference agree on every cycle."""
    from wse.asm import assemble_text
    from wse.emu import Fabric
    from wse.emu.reference import ReferenceFabric
    ops = []
    for k in range(8):
        clause = {"sync": "", "async": f" async ut{k}", "mixed": f" async ut{k}" if k % 2 else ""}[mode]
        if k == 7 and clause:
            clause += " activate fin"
        ops.append(f"    fmacs d0, a0, b0, r1{clause}")
    src = "\n".join([
        "    .task main, local, start", "    .task fin, local",
        "    .dsd dv, mem1d, base=v, len=1024",
        "main:", "    ldsd d0, dv", "    ldsd a0, dv", "    ldsd b0, dv", "    li r1, 1.0",
        *ops, "    exit", "fin:", "    exit", "    .data", "v: .fill f32, 1024, 1.0", "    .export v", ""])
    obj = assemble_text(src, arch=arch)
    res = []
    for fab in (Fabric(1, 1, arch), ReferenceFabric(1, 1, arch)):
        fab.load(obj)
        res.append((int(fab.run()), fab.read("v")[0, 0, :4].tolist()))
    assert res[0] == res[1]
    width = 2 if arch == "wse2" else 4
    cycles, v = res[0]
    assert v == [256.0] * 4                               # 1 doubled 8 times
    assert 8 * 1024 // width <= cycles <= 8 * 1024 // width + 16


@pytest.mark.parametrize("op", ["sll16", "slr16", "sar16", "add16", "and16", "mov16"])
def test_a_16_bit_fabric_source_is_the_low_half_of_the_payload(op):
    """A u16 element read from the fabric is the low 16 bits of its wavelet (timing.md, *DSD
    operands*): the high half must not reach the op. For a shift the high half would turn a
    count of 1 into one >= 16 (a zero result); every other op masks its result anyway. The
    fabric source is src1 (the count) of the shifts and src0 of mov16; C and the reference
    agree (core_mutants.py: fabin_16_bit_keeps_high_half)."""
    from wse.asm import assemble_text
    from wse.emu import Fabric
    from wse.emu.reference import ReferenceFabric
    a = [0x8001, 0x1234, 0x00F0, 0xFFFF, 0x4321, 0x8000]
    lo = [1, 4, 15, 0, 16, 3]                                   # the counts (or the values)
    payloads = [(0xA5A5 + 7 * i) << 16 | v for i, v in enumerate(lo)]
    n = len(a)
    operands = "d0, b0" if op == "mov16" else "d0, a0, b0"
    src = f"""
.fabric 1,1
.program p
  .route 3, west -> ramp
  .task main, local, start
  .dsd dv, mem1d, base=out, len={n}
  .dsd av, mem1d, base=x, len={n}
  .dsd bv, fabin, color=3, len={n}
main:
  ldsd d0, dv
  ldsd a0, av
  ldsd b0, bv
  {op} {operands}
  exit
  .data
x: .u16 {", ".join(map(str, a))}
out: .zero {n}, u16
  .export out
.endprogram
.place p,0,0
"""
    if op == "mov16":                       # mov16 has one source: the fabric one is a0
        src = src.replace("ldsd b0, bv", "ldsd a0, bv").replace("ldsd a0, av\n", "").replace("d0, b0", "d0, a0")
    obj = assemble_text(src)
    got = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(1, 1, "wse2")
        fab.load(obj)
        fab.send(3, 0, 0, "west", np.array(payloads, dtype=np.uint32))
        fab.run()
        got.append([int(v) for v in fab.read("out")[0, 0]])
    assert got[0] == got[1]
    def sar(x, s):
        return ((x - 0x10000 if x & 0x8000 else x) >> min(s, 15)) & 0xFFFF
    want = {"sll16": [(x << s) & 0xFFFF if s < 16 else 0 for x, s in zip(a, lo)],
            "slr16": [x >> s if s < 16 else 0 for x, s in zip(a, lo)],
            "sar16": [sar(x, s) for x, s in zip(a, lo)],
            "add16": [(x + s) & 0xFFFF for x, s in zip(a, lo)],
            "and16": [x & s for x, s in zip(a, lo)],
            "mov16": lo}[op]
    assert got[0] == want
