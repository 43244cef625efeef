"""GEMM kernel (kernels/gemm/gemm.s, Cannon's algorithm on P x P PEs) against NumPy, over
problem sizes and grids chosen by hypothesis (sizes that do not divide the grid, more PEs than
rows, K = 1, ...), its size limits and its cycle cost model.

Numerics, two checks per run:
1. Bit-exact equality with the NumPy model that adds in the kernel's order
   (kernels/gemm/model.py: C block (i, j) adds the K blocks (i + j + s) mod P for s = 0..P-1,
   k ascending inside a block). The product of two fp16 values is exact in fp32 (11 + 11
   significant bits, exponents far inside fp32's range), so the emulator's fmachs and NumPy
   float32 both round only the sums, the same sums in the same order: any difference is a
   kernel or emulator bug.
2. The error against float64 is within the a-priori bound for K exact terms summed in fp32
   in any order: |c - c_exact| <= gamma_{K-1} sum_k |a_ik b_kj|, gamma_n = n u / (1 - n u),
   u = 2^-24 (Higham eq. 3.5); no underflow term, since every product is a multiple of 2^-48,
   far above fp32's subnormals. This check does not share the model's design.

Cycles: the cost model (model.cost) simulates a step's compute on the main thread and the
datapath with the timing rules, and bounds the shifts by the RAMP (one wavelet per cycle into
the CE). When a step's compute is at least the shift estimate (compute-bound: every block of
the kernel table) the prediction is exact; when the shifts bind it is an estimate, which the
tests hold to 8% (the largest miss over 300 random shapes on both presets was 5.4%, the model
over: the wrap-around latency it charges every step overlaps with the previous step).
"""
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from wse.kernels.driver import SizeError, sram_words
from wse.kernels.gemm.model import block_sizes, cost, error_bound, gemm_model, predict
from wse.kernels.gemm.run import block_words, code_words, fits, gemm, utilization

SHIFT_TOL = 0.08


def _data(m, k, n, seed, lo=-2.0, hi=2.0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(lo, hi, (m, k)).astype(np.float16), rng.uniform(lo, hi, (k, n)).astype(np.float16))


def _check(r, a, b, p):
    m, n = a.shape[0], b.shape[1]
    assert r.out.shape == (m, n) and r.out.dtype == np.float32
    np.testing.assert_array_equal(r.out.view(np.uint32), gemm_model(a, b, p).view(np.uint32))
    err = np.abs(r.out.astype(np.float64) - a.astype(np.float64) @ b.astype(np.float64))
    assert np.all(err <= error_bound(a, b)), f"max err {err.max()} above the fp32 bound"


def _check_cycles(cycles, m, k, n, p, arch):
    c = cost(m, k, n, p, arch)
    if p == 1 or c["compute"] >= c["shift"]:
        assert cycles == c["total"], (cycles, c)
    else:
        assert abs(cycles / c["total"] - 1) <= SHIFT_TOL, (cycles, c)


@settings(max_examples=150)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40), st.integers(1, 5),
       st.sampled_from(["wse3", "wse2"]), st.integers(0, 2**31))
@example(1, 1, 1, 1, "wse3", 0)
@example(3, 1, 2, 3, "wse3", 1)          # K = 1 on 3 x 3: two of the three K blocks are padding
@example(2, 9, 2, 4, "wse2", 2)          # fewer rows and columns than PEs: whole blocks of padding
@example(17, 23, 9, 2, "wse3", 3)        # a group of 8 columns of A and a partial one (KB = 12)
@example(40, 40, 40, 1, "wse3", 4)       # one PE: no shift code at all
def test_gemm(m, k, n, p, arch, seed):
    a, b = _data(m, k, n, seed)
    r = gemm(a, b, grid=(p, p), arch=arch)
    _check(r, a, b, p)
    _check_cycles(r.cycles, m, k, n, p, arch)


def test_gemm_special_values():
    """Signed zeros, fp16 subnormals (products down to 2^-48), the largest fp16 (products near
    2^32) and cancellation: bit for bit with the model, within the bound of float64."""
    a = np.array([[0.0, -0.0, 65504.0, 6e-8], [-65504.0, 1.0, 2.0 ** -14, -6e-8],
                  [1e-4, -1e-4, 0.5, 3.0]], dtype=np.float16)
    b = np.array([[-0.0, 65504.0], [0.0, -1.0], [65504.0, 6e-8], [6e-8, -65504.0]], dtype=np.float16)
    for p in (1, 2, 3):
        _check(gemm(a, b, grid=(p, p)), a, b, p)


def test_gemm_agrees_with_the_reference_interpreter():
    """The C core and the executable spec (emu/reference.py) give the same C and cycles."""
    a, b = _data(7, 10, 5, 5)
    rc = gemm(a, b, grid=(2, 2), backend="c")
    rr = gemm(a, b, grid=(2, 2), backend="reference")
    assert rc.cycles == rr.cycles == predict(7, 10, 5, 2)
    np.testing.assert_array_equal(rc.out.view(np.uint32), rr.out.view(np.uint32))


def test_cost_model_exact_on_the_table_blocks():
    """32 x 32 x 32 blocks (the kernel table's): compute-bound, so exact, on both presets; the
    utilization is the documented one and within (0, 1]."""
    a, b = _data(64, 64, 64, 0, -1, 1)
    for arch in ("wse3", "wse2"):
        r = gemm(a, b, grid=(2, 2), arch=arch)
        c = cost(64, 64, 64, 2, arch)
        assert c["compute"] > c["shift"]
        assert r.cycles == c["total"] == c["init"] + sum(c["steps"]) + c["last"]
        assert 0.94 < utilization(64, 64, 64, 2, r.cycles, arch) <= 1


def test_cost_model_when_the_shifts_bind():
    """Tall A blocks with one column of C (MB = 64, NB = 1): a step's shift moves 65 x KB
    wavelets into each CE, 4x its compute; the model charges the shift and stays within
    SHIFT_TOL, where the compute alone would be 3x too fast."""
    a, b = _data(256, 64, 4, 1)
    c = cost(256, 64, 4, 4)
    assert c["shift"] > 3 * c["compute"]
    r = gemm(a, b, grid=(4, 4))
    _check(r, a, b, 4)
    assert abs(r.cycles / c["total"] - 1) <= SHIFT_TOL
    assert r.cycles > 3 * c["compute"] * 4


def test_compute_is_the_sum_of_its_documented_parts():
    """gemm.s's header: per group of G columns of A, 2G + 4 cycles of set-up, then per column
    of C G ld32 + fmachs and 5 cycles of loop; with MB <= w every fmachs takes 1 cycle and the
    async ones hide nothing, so with one group of G = 5 (KB = 5: ops 1-4 async) a column costs
    1 + 1 (op 0: ld32, fmachs) + 4 x 2 + 5 = 15 cycles, then the drain (1)."""
    from wse.kernels.gemm.model import compute_cycles
    t, _ = compute_cycles(4, 5, 3, "wse3")
    assert t == (2 * 5 + 4) + 3 * 15 + 1


def test_too_big_for_a_pe_and_not_square():
    a = np.zeros((200, 200), np.float16)
    with pytest.raises(SizeError, match=r"A 200 x 200 and B 200 x 200 on grid=\(1, 1\): a PE's blocks "
                                        r"\(A 200 x 200, B 200 x 200, C 200 x 200\) need .* use grid=\(4, 4\) or larger"):
        gemm(a, a, grid=(1, 1))
    # a K block whose unrolled compute code alone is too long: the driver's SizeError with the
    # grid that holds it (it was the assembler's error about the driver's internal probe)
    with pytest.raises(SizeError, match=r"A 8 x 4000 and B 4000 x 8 on grid=\(1, 1\): .* unrolled over the "
                                        r"KB = 4000 columns .* alone does not fit .* use grid=\(4, 4\) or larger"):
        gemm(np.zeros((8, 4000)), np.zeros((4000, 8)), grid=(1, 1))
    assert not fits(8, 4000, 8, (1, 1)) and fits(8, 4000, 8, (4, 4))
    with pytest.raises(SizeError, match=r"grid=\(2, 3\): .* needs a square grid: use grid=\(3, 3\)"):
        gemm(a[:8, :8], a[:8, :8], grid=(2, 3))
    with pytest.raises(ValueError, match=r"B \(A is 3 x 4\) has shape \(5, 2\); expected \(4, any\)"):
        gemm(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="overflows float16"):
        gemm(np.full((2, 2), 1e6), np.ones((2, 2)))


def test_the_limit_is_the_assemblers():
    """On one PE: the largest square block that the driver accepts runs and is right; one more
    row, column or K is refused by the driver (SizeError, before assembling) and, assembled
    anyway, by the assembler (the image does not fit SRAM)."""
    from wse.asm import AssemblyError
    from wse.kernels.driver import assemble, kernel_source
    sram = sram_words("wse3")
    side = max(s for s in range(1, 100) if code_words(1, s) + block_words(s, s, s) <= sram)
    assert fits(side, side, side, (1, 1)) and not fits(side + 1, side + 1, side + 1, (1, 1))
    a, b = _data(side, side, side, 7, -1, 1)
    _check(gemm(a, b, grid=(1, 1)), a, b, 1)
    for m, k, n in ((side + 1, side, side), (side, side + 1, side), (side, side, side + 1)):
        assert fits(m, k, n, (1, 1)) == (code_words(1, k) + block_words(m, k, n) <= sram)
        if not fits(m, k, n, (1, 1)):
            with pytest.raises(SizeError):
                gemm(np.zeros((m, k)), np.zeros((k, n)), grid=(1, 1))
            with warnings.catch_warnings(), pytest.raises(AssemblyError, match="SRAM"):
                warnings.simplefilter("ignore")
                assemble(kernel_source("gemm/gemm.s"), {"P": 1, "MB": m, "KB": k, "NB": n})


@settings(max_examples=80)
@given(st.integers(1, 60), st.integers(1, 60), st.integers(1, 60), st.sampled_from([1, 2, 3]))
def test_fits_agrees_with_the_assembler(mb, kb, nb, p):
    """The driver's memory map (code measured at MB = NB = 1 for the KB, arrays from the
    header's memory map) says exactly what the assembler can place, on every PE of the grid."""
    from wse.asm import AssemblyError
    from wse.kernels.driver import assemble, kernel_source
    ok = fits(mb * p, kb * p, nb * p, (p, p))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assemble(kernel_source("gemm/gemm.s"), {"P": p, "MB": mb, "KB": kb, "NB": nb})
        assembled = True
    except AssemblyError as e:
        assert "SRAM" in str(e)
        assembled = False
    assert ok == assembled


def test_layout_is_cannons_skew():
    """The host writes PE (px, py) the A block (py, (py+px) % P) and the B block
    ((py+px) % P, px); the result is read from the C block (py, px)."""
    a = np.arange(36, dtype=np.float16).reshape(6, 6)
    r = gemm(a, np.eye(6, dtype=np.float16), grid=(3, 3))
    np.testing.assert_array_equal(r.out, a.astype(np.float32))
    blocks = r.run.outputs["C"]
    for (px, py), blk in blocks.items():
        np.testing.assert_array_equal(np.asarray(blk).reshape((2, 2), order="F"),
                                      a[2 * py:2 * py + 2, 2 * px:2 * px + 2].astype(np.float32))
    assert block_sizes(6, 6, 6, 3) == (2, 2, 2)


def test_calling_convention():
    """As tests/kernels/test_convention.py checks for the other drivers (whose 3 x 2 grid
    Cannon's algorithm cannot take): a Result that unpacks as a tuple, and arch=, backend=
    (test_gemm_agrees_with_the_reference_interpreter) and max_cycles= reach the run."""
    from wse.emu import WseError
    from wse.kernels import driver
    a, b = _data(6, 5, 4, 8)
    r = gemm(a, b, grid=(2, 2))
    assert isinstance(r, driver.Result) and isinstance(r.run, driver.KernelRun)
    out, cycles, run = r
    assert cycles == r.cycles > 0 and r.pes == 4 and run is r.run and out.dtype == np.float32
    with pytest.raises(WseError, match="max_cycles = 3"):
        gemm(a, b, grid=(2, 2), max_cycles=3)
    assert gemm(a, b, grid=(2, 2), arch="wse2").cycles == predict(6, 5, 4, 2, "wse2") != r.cycles
    with pytest.raises(ValueError, match="arch 'wse9'"):
        gemm(a, b, grid=(2, 2), arch="wse9")


def test_bench_gemm_small_and_its_wse_bench_section(monkeypatch):
    """The wse-bench GEMM entry point on a small case: its keys, its cycles those of the kernel
    (they do not depend on the values), a utilization in (0, 1]; and wse-bench's gemm section
    takes medians of its runs and the emulator / numpy ratio of those medians."""
    from wse.kernels import bench
    from wse.kernels.gemm import bench as gb
    d = gb.bench_gemm(m=40, k=24, n=32, p=2)
    assert set(d) == {"gemm_cycles", "gemm_utilization", "gemm_wall_s", "gemm_pe_cycles_per_s",
                      "gemm_numpy_wall_s", "gemm_useful_flops", "gemm_instructions",
                      "gemm_wavelets_received", "gemm_wavelet_hops", "gemm_tensor_elements"}
    # every fmachs element: M K N, padded to the blocks of P = 2 and to the SIMD width (MB = 20)
    assert d["gemm_tensor_elements"] >= 40 * 24 * 32 and d["gemm_wavelets_received"] > 0
    assert 0 < d["gemm_utilization"] <= 1 and d["gemm_useful_flops"] == 2 * 40 * 24 * 32
    assert d["gemm_cycles"] == gemm(np.zeros((40, 24), np.float16), np.zeros((24, 32), np.float16),
                                    grid=(2, 2)).cycles
    walls = iter([3.0, 1.0, 2.0])
    monkeypatch.setattr(gb, "bench_gemm", lambda: {"gemm_cycles": 7, "gemm_wall_s": next(walls),
                                                   "gemm_numpy_wall_s": 0.5, "gemm_pe_cycles_per_s": 1.0})
    out = bench.bench_gemm(3)
    assert out["gemm_wall_s"] == 2.0 and out["gemm_wall_ratio"] == 4.0 and out["gemm_cycles"] == 7


def test_compare_cores_on_gemm_a_core_against_itself(monkeypatch):
    """wse-bench --against's GEMM half: a second copy of the installed core runs the benchmark's
    GEMM beside it (a small one here), with C bit for bit and the statistics equal; a core whose
    C differs is an error, not a ratio."""
    import wse.emu._core as installed
    from wse.emu.fabric import load_core
    from wse.kernels.gemm import bench as gb

    other = load_core(installed.__file__)
    d = gb.compare_cores(other, rounds=2, m=64, p=2)
    assert d["ab_gemm_stats_identical"] is True and len(d["ab_gemm_ratio_rounds"]) == 2
    assert d["ab_gemm_ratio"] > 0 and d["ab_gemm_this_s"] > 0 and d["ab_gemm_other_s"] > 0
    real = gb.gemm
    calls = []

    def off_by_one_ulp(a, b, **kw):      # the second core's runs give another C
        r = real(a, b, **kw)
        calls.append(1)
        if len(calls) > 2 and len(calls) % 2 == 0:
            r.out[0, 0] = np.nextafter(r.out[0, 0], np.float32(np.inf))
        return r
    monkeypatch.setattr(gb, "gemm", off_by_one_ulp)
    with pytest.raises(AssertionError, match="the two cores' C differ"):
        gb.compare_cores(other, rounds=1, m=64, p=2)


@pytest.mark.parametrize("m, k, n, p", [(200, 200, 200, 1), (8, 4000, 8, 1), (500, 30, 500, 2), (64, 64, 64, 3)])
def test_the_grid_suggested_is_the_smallest_that_holds(m, k, n, p):
    """check_size's grid comes from a bisection (a walk from p assembled the code once per q:
    two minutes for python -m wse.kernels.gemm --k 65536 --grid 1x1): it is the walk's answer."""
    from wse.kernels.gemm.run import _smallest_grid
    walk = next(q for q in range(p, 4097) if fits(m, k, n, (q, q)))
    assert _smallest_grid(m, k, n, p, "wse3") == walk
