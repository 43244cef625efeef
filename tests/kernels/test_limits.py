"""The drivers' size limits are the kernels' own, exactly: at each limit the driver runs the
kernel (and the answer is right), one past it the driver refuses with a SizeError that names
N, the limit and a grid that fits, and the assembler refuses the same defines too (so the
driver is not stricter than the kernel). A hypothesis test over sizes and grids checks that a
call either runs and matches NumPy or is refused by the driver: the assembler never errors.

The limits come from the .s files' memory maps (words per element) and the code and buffers
of the PE that needs the most (assembled at one element per PE); the audit found a too-large
N answered by an assembler error ('does not fit in SRAM' or an .error line) instead."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from wse.asm import AssemblyError
from wse.kernels import driver
from wse.kernels.argmax.run import argmax, limits as argmax_limits
from wse.kernels.collectives import run as C
from wse.kernels.collectives.model import reduce_rect
from wse.kernels.elementwise import run as E
from wse.kernels.gemv import run as G
from wse.kernels.gemv.model import gemv_model, gemv_t_model
from wse.kernels.norm.run import limits as norm_limits, rmsnorm
from wse.kernels.rope.run import limits as rope_limits, rope
from wse.kernels.softmax.run import limits as softmax_limits, softmax

F32 = np.float32


def vec(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n).astype(F32)


def assembles(rel, defines) -> bool:
    try:
        driver.assemble(driver.kernel_source(rel), defines)
        return True
    except AssemblyError as e:
        assert "does not fit in SRAM" in str(e) or ".error" in str(e) or "error" in str(e)
        return False


# name -> (limits(grid), call(n, grid), numpy model(n) or None, kernel, defines(n, w, h))
def _rms(n, grid):
    return rmsnorm(vec(n), np.ones(n, F32), 1e-5, grid)


VECTOR = {
    "add": (lambda g: E.limits("add", g), lambda n, g: E.add(vec(n), vec(n, 1), g),
            lambda n: vec(n) + vec(n, 1), "elementwise/elementwise.s",
            lambda n, w, h: {"N": n, "W": w, "H": h, "OP": 0}),
    "scale": (lambda g: E.limits("scale", g), lambda n, g: E.scale(vec(n), 0.5, g),
              lambda n: F32(0.5) * vec(n), "elementwise/elementwise.s",
              lambda n, w, h: {"N": n, "W": w, "H": h, "OP": 2}),
    "silu": (lambda g: E.limits("silu", g), lambda n, g: E.silu(vec(n), g), None,
             "elementwise/silu.s", lambda n, w, h: {"N": n, "W": w, "H": h, "GLU": 0}),
    "swiglu": (lambda g: E.limits("swiglu", g), lambda n, g: E.swiglu(vec(n), vec(n, 1), g), None,
               "elementwise/silu.s", lambda n, w, h: {"N": n, "W": w, "H": h, "GLU": 1}),
    "softmax": (softmax_limits, lambda n, g: softmax(vec(n), g), None, "softmax/softmax.s",
                lambda n, w, h: {"N": n, "W": w, "H": h}),
    "rmsnorm": (norm_limits, _rms, None, "norm/rmsnorm.s",
                lambda n, w, h: {"N": n, "W": w, "H": h, "EPS_BITS": 0x3727C5AC}),
    "argmax": (argmax_limits, lambda n, g: argmax(vec(n), g), None, "argmax/argmax.s",
               lambda n, w, h: {"N": n, "W": w, "H": h}),
    "rope": (rope_limits, lambda n, g: rope(vec(n), 7, 2, 10000.0, g), None, "rope/rope.s",
             lambda n, w, h: {"N": n, "W": w, "H": h}),
}


@pytest.mark.parametrize("grid", [(1, 1), (3, 2)])
@pytest.mark.parametrize("name", list(VECTOR))
def test_vector_limit_is_exact(name, grid):
    lim_fn, call, model, rel, defines = VECTOR[name]
    lim = lim_fn(grid)
    w, h = grid
    group = 2 if name == "rope" else 1
    assert lim.max_n == lim.per_pe * w * h * group and lim.per_pe > 1000
    r = call(lim.max_n, grid)                       # just inside: runs
    assert r.out is not None and r.cycles > 0 and r.pes == w * h
    if model is not None:
        np.testing.assert_array_equal(r.out, model(lim.max_n))
    if name == "argmax":
        assert r.out[1] == int(np.argmax(vec(lim.max_n)))
    else:
        assert len(r.out) == lim.max_n and np.all(np.isfinite(r.out))
    over = lim.max_n + group                        # just outside: refused, with the numbers
    with pytest.raises(driver.SizeError, match=rf"N={over} on {w}x{h} .* at most {lim.per_pe:,} .*"
                                                 rf"so N <= {lim.max_n:,} on {w}x{h}: use grid=\(\d+, \d+\) or larger"):
        call(over, grid)
    assert not assembles(rel, defines(over, w, h))  # ... and the kernel cannot hold it either


@pytest.mark.parametrize("name", list(VECTOR))
def test_vector_too_few_elements(name):
    """Fewer elements (pairs) than PEs: refused before assembling, with a grid that fits, and
    by the assembler too (spread.inc's, or rope.s's, .error: on a PE without an element the
    scalar loops would start from a count of 0 and run 2^32 times), for whoever assembles the
    .s file without the driver."""
    lim_fn, call, _, rel, defines = VECTOR[name]
    group = 2 if name == "rope" else 1
    with pytest.raises(driver.SizeError, match=r"cannot be spread over 3x2 = 6 PEs: every PE needs at "
                                               r"least one .* use a grid of at most 5 PEs \(e.g. grid=\(2, 2\)\)"):
        call(5 * group, (3, 2))
    with pytest.raises(AssemblyError, match=r"needs (N >= W\*H|N/2 >= W\*H)"):
        driver.assemble(driver.kernel_source(rel), defines(5 * group, 3, 2))
    assert lim_fn((3, 2)).min_n == 6 * group
    call(6 * group, (3, 2))
    assert assembles(rel, defines(6 * group, 3, 2))


def test_suggested_grid_fits():
    """The grid a refusal suggests holds the problem."""
    n = 70000
    with pytest.raises(driver.SizeError) as e:
        E.add(vec(n), vec(n, 1))
    w, h = (int(v) for v in str(e.value).split("use grid=(")[1].split(")")[0].split(", "))
    assert E.limits("add", (w, h)).max_n >= n > E.limits("add", (w - 1, h)).max_n
    np.testing.assert_array_equal(E.add(vec(n), vec(n, 1), (w, h)).out, vec(n) + vec(n, 1))


@pytest.mark.parametrize("fn, model, kernel", [(G.gemv, gemv_model, "gemv"), (G.gemv_t, gemv_t_model, "gemv_t")])
@pytest.mark.parametrize("grid, nb", [((1, 1), 16), ((2, 3), 7)])
def test_gemv_limit_is_exact(fn, model, kernel, grid, nb):
    kx, ky = grid
    sram, fixed = driver.sram_words(), G._fixed(kernel, kx, ky, "wse3")
    mb = max(m for m in range(1, sram) if fixed + G.block_words(m, nb) <= sram)
    m, n = mb * ky, nb * kx
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (m + ky, n)).astype(np.float16)
    xin = rng.uniform(-1, 1, max(m + ky, n)).astype(F32)
    xlen = m if kernel == "gemv_t" else n
    r = fn(a[:m], xin[:xlen], grid=grid)                               # just inside
    np.testing.assert_array_equal(r.out, model(a[:m], xin[:xlen], None, kx, ky))
    xlen = m + 1 if kernel == "gemv_t" else n
    with pytest.raises(driver.SizeError, match=rf"A is {m + 1} x {n} on grid=\({kx}, {ky}\): a PE's "
                                                 rf"{mb + 1} x {nb} block needs .* use grid=\(\d+, \d+\) or larger"):
        fn(a[:m + 1], xin[:xlen], grid=grid)                           # one row more: refused
    assert not assembles(G.KERNELS[kernel], {"KX": kx, "KY": ky, "MB": mb + 1, "NB": nb})


def test_gemv_suggested_grid_fits():
    with pytest.raises(driver.SizeError) as e:
        G.gemv(np.zeros((1000, 1000), np.float16), np.zeros(1000, F32))
    kx, ky = (int(v) for v in str(e.value).split("use grid=(")[1].split(")")[0].split(", "))
    assert G.fits(1000, 1000, (kx, ky))


def test_gemv_kx_ky_are_deprecated_aliases():
    a = np.ones((12, 10), np.float16)
    with pytest.deprecated_call():
        old = G.gemv(a, np.ones(10), kx=2, ky=3)
    with pytest.deprecated_call():
        positional = G.gemv(a, np.ones(10), None, 2, 3)        # the documented gemv(a, x, b, kx, ky)
    new = G.gemv(a, np.ones(10), grid=(2, 3))
    assert old.cycles == positional.cycles == new.cycles and old.pes == 6
    np.testing.assert_array_equal(old.y, new.out)
    with pytest.raises(TypeError, match="not both"):
        G.gemv(a, np.ones(10), grid=(2, 3), kx=2)


@pytest.mark.parametrize("kind", ["broadcast", "reduce", "allreduce"])
@pytest.mark.parametrize("grid", [(1, 1), (3, 2)])
def test_collective_limit_is_exact(kind, grid):
    w, h = grid
    n = C.limits(kind, grid)
    assert n > 12000
    data = np.random.default_rng(0).standard_normal((h, w, n + 1)).astype(F32)

    def call(d):
        if kind == "broadcast":
            return C.broadcast(d[0, 0], grid)
        return getattr(C, kind)(d, "sum", "chain")
    r = call(data[:, :, :n])                                            # just inside
    if kind == "broadcast":
        np.testing.assert_array_equal(r.out, np.broadcast_to(data[0, 0, :n], (h, w, n)))
    else:
        want = reduce_rect(data[:, :, :n], "sum", "chain")
        got = r.out if kind == "reduce" else r.out[h - 1, w - 1]
        np.testing.assert_array_equal(got, want)
    with pytest.raises(driver.SizeError, match=rf"n={n + 1:,} fp32 per PE .* at most n={n:,} .* a bigger "
                                                 r"grid does not help"):
        call(data)
    d = {"W": w, "H": h, "N": n + 1, "RX": 0, "RY": 0}
    if kind != "broadcast":
        d.update(OP=0, SCHEME=0, SEGX=1, SEGY=1)
    assert not assembles(C.KERNELS[kind], d)


def test_tree_colors_limit_is_exact():
    """The tree reduce to the middle of 65 x 65 needs 24 colors (12 per phase: runs); of 65 x 97
    25 (refused, by the driver and by the kernel's .error)."""
    assert C.colors_needed("reduce", 65, 65, "tree", (32, 32)) == 24
    assert C.colors_needed("reduce", 65, 97, "tree", (32, 32)) == 25
    data = np.ones((65, 65, 1), F32)
    assert C.reduce(data, "sum", "tree", root=(32, 32)).out[0] == 65 * 65
    with pytest.raises(driver.SizeError, match=r"scheme='tree' on 65x97 with root \(32, 32\) needs 25 colors"
                                               r".* a router has 24: use scheme='chain' or 'twophase'"):
        C.reduce(np.ones((97, 65, 1), F32), "sum", "tree", root=(32, 32))
    d = {"W": 65, "H": 97, "N": 1, "OP": 0, "SCHEME": 1, "SEGX": 1, "SEGY": 1, "RX": 32, "RY": 32}
    assert not assembles("collectives/reduce.s", d)
    # the all-reduce's broadcast takes one more: 23 colors before it at most
    assert C.colors_needed("allreduce", 65, 65, "tree", (32, 32)) == 25
    with pytest.raises(driver.SizeError, match="and one to broadcast"):
        C.allreduce(data, "sum", "tree", root=(32, 32))
    assert not assembles("collectives/allreduce.s", dict(d, H=65))


def test_tree_line_limit_is_exact():
    """The tree reduce takes lines of up to 256 PEs on each side of the root."""
    assert C.reduce(np.ones((1, 256, 1), F32), "sum", "tree").out[0] == 256
    with pytest.raises(driver.SizeError, match="lines of 257 and 1 PEs, and the tree reduce supports lines of up to 256"):
        C.reduce(np.ones((1, 257, 1), F32), "sum", "tree")
    assert C.reduce(np.ones((1, 257, 1), F32), "sum", "tree", root=(1, 0)).out[0] == 257
    d = {"W": 257, "H": 1, "N": 1, "OP": 0, "SCHEME": 1, "SEGX": 1, "SEGY": 1, "RX": 0, "RY": 0}
    assert not assembles("collectives/reduce.s", d)


@st.composite
def sized(draw):
    w, h = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    per_pe = draw(st.one_of(st.integers(0, 8), st.integers(4000, 4200)))
    return per_pe * w * h + draw(st.integers(0, w * h - 1)), (w, h)


@settings(max_examples=20)
@given(sized(), st.sampled_from(["add", "rmsnorm"]))
@example((4094 * 6, (3, 2)), "add")
@example((4094 * 6 + 1, (3, 2)), "add")
@example((2, (3, 1)), "rmsnorm")
def test_runs_and_matches_or_is_refused(case, name):
    n, grid = case
    if n == 0:
        return
    x, y = vec(n), vec(n, 1)
    try:
        r = E.add(x, y, grid) if name == "add" else rmsnorm(x, y, 1e-5, grid)
    except driver.SizeError as e:
        msg = str(e)
        assert f"N={n}" in msg and ("use grid=" in msg or "use a grid of at most" in msg)
        lim = (E.limits("add", grid) if name == "add" else norm_limits(grid))
        assert n > lim.max_n or n < lim.min_n
        return
    if name == "add":
        np.testing.assert_array_equal(r.out, x + y)
    else:
        from wse.kernels.llm.reference import rms_norm
        np.testing.assert_allclose(r.out, rms_norm(x, y, 1e-5), rtol=(n + 9) * 2.0 ** -24, atol=0)


def test_docs_quote_the_limits_and_outputs(capsys):
    """docs/kernels.md's limits, refusal message and CLI outputs are what the code prints."""
    import re
    from pathlib import Path

    from wse.kernels.softmax.__main__ import main as softmax_cli
    doc = " ".join((Path(__file__).resolve().parents[2] / "docs" / "kernels.md").read_text().split())
    one = {op: E.limits(op).max_n for op in E.OPS}
    assert len({one[op] for op in ("add", "mul", "residual")}) == 1
    coll = [C.limits(k, g) for g in ((1, 1), (3, 2), (16, 16)) for k in ("broadcast", "reduce", "allreduce")]
    assert coll[:3] == [coll[0]] * 3 and coll[3:6] == coll[6:]
    side = max(s for s in range(1, 400) if G._fixed("gemv", 1, 1, "wse3") + G.block_words(s, s) <= driver.sram_words())
    from wse.kernels.gemm.run import fits as gemm_fits
    mm = max(s for s in range(1, 100) if gemm_fits(s, s, s, (1, 1)))
    want = (f"On one PE (`--limits --grid 1x1`): add, mul, residual {one['add']:,} elements; scale "
            f"{one['scale']:,}; SiLU "
            f"{one['silu']:,}; SwiGLU {one['swiglu']:,}; RMSNorm {norm_limits((1, 1)).max_n:,}; softmax "
            f"{softmax_limits((1, 1)).max_n:,}; argmax {argmax_limits((1, 1)).max_n:,}; RoPE "
            f"{rope_limits((1, 1)).per_pe:,} pairs (N = {rope_limits((1, 1)).max_n:,}); broadcast, reduce, "
            f"all-reduce {coll[0]:,} fp32 per PE (on 3 x 2 or 16 x 16, chain to (0, 0): {coll[3]:,}, "
            f"{coll[4]:,} and {coll[5]:,}); GEMV square blocks up to {side} x {side}; GEMM square "
            f"blocks up to {mm} x {mm} x {mm} (M = K = N = {mm} P on P x P PEs).")
    assert want in doc
    with pytest.raises(driver.SizeError) as e:
        E.add(np.ones(70000), np.ones(70000))
    assert f"SizeError: {e.value}" in doc
    for argv in (["--limits", "--grid", "8x8"], ["--n", "4096", "--grid", "8x8"]):
        assert softmax_cli(argv) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert out in doc, out
    assert re.search(r"\| softmax \| N=4096 \| 8x8 \| 3852 \|", doc)


def test_limits_are_per_arch():
    """The probe assembles for the arch asked for: on wse2 the limit is wse2's own, exactly."""
    lim = softmax_limits((2, 1), "wse2")
    r = softmax(vec(lim.max_n), (2, 1), arch="wse2")
    assert len(r.out) == lim.max_n and r.run.fabric is not None
    with pytest.raises(driver.SizeError, match=rf"so N <= {lim.max_n:,} on 2x1"):
        softmax(vec(lim.max_n + 1), (2, 1), arch="wse2")
    with pytest.raises(AssemblyError, match="does not fit in SRAM"):
        driver.assemble(driver.kernel_source("softmax/softmax.s"), {"N": lim.max_n + 1, "W": 2, "H": 1}, "wse2")
