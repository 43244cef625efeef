"""Host driver for the GEMM kernel (gemm.s: C = A B, Cannon's algorithm on P x P PEs).

Calling convention (as every driver of the library): ``gemm(a, b, grid=(p, p), arch=,
backend=, max_cycles=)`` -> ``Result(out, cycles, run)``; ``out`` is C (M x N, fp32). A and B
are converted to fp16 (a value that overflows fp16 is refused). A problem whose blocks do not
fit a PE's SRAM, and a grid that is not square, are refused with a :class:`SizeError` before
assembling (:func:`check_size`).

Layout: P x P PEs; with MB = ceil(M/P), KB = ceil(K/P), NB = ceil(N/P) and A, B zero-padded
to P*MB x P*KB and P*KB x P*NB, PE (px, py) computes the C block (py, px) and starts with the
A block (py, (py+px) % P) and the B block ((py+px) % P, px) (Cannon's skew, done by the host),
each column-major fp16.
"""
from __future__ import annotations

import numpy as np

from wse.asm import AssemblyError

from ..driver import Result, SizeError, check_grid, host_array, image_words, kernel_source, nbytes, \
    run_kernel, split_blocks, sram_overflow, sram_words
from .model import block_sizes

KERNEL = "gemm/gemm.s"


def block_words(mb: int, kb: int, nb: int) -> int:
    """Words of a PE's arrays (gemm.s's memory map): C fp32[MB*NB], two B buffers fp32[KB*NB],
    two A buffers fp16[MB*KB]."""
    return 2 * mb * nb + 4 * kb * nb + 2 * mb * kb


def code_words(p: int, kb: int, arch: str = "wse3") -> int:
    """Words of code on the PE that needs the most: the compute is unrolled over the KB
    columns of A, so the code grows with KB (and a 1 x 1 grid has no shift code). Found by
    assembling the kernel with MB = NB = 1 and subtracting its arrays (cached)."""
    d = {"P": min(p, 3), "MB": 1, "KB": kb, "NB": 1}
    try:
        return image_words(KERNEL, d, arch) - block_words(1, kb, 1)
    except AssemblyError as e:
        if sram_overflow(e) is None:
            raise
        raise SizeError(f"KB = {kb}: the compute code, unrolled over the KB columns of a PE's A "
                        f"block, does not fit a PE's {nbytes(sram_words(arch))} of SRAM even with "
                        f"1 x {kb} and {kb} x 1 blocks") from None


def words(m: int, k: int, n: int, p: int, arch: str = "wse3") -> int:
    """SRAM words a PE needs for C = A B (M x K times K x N) on P x P PEs."""
    mb, kb, nb = block_sizes(m, k, n, p)
    return code_words(p, kb, arch) + block_words(mb, kb, nb)


def _words_or_none(m: int, k: int, n: int, p: int, arch: str) -> int | None:
    """words(), or None when the compute code alone cannot fit (KB too large)."""
    try:
        return words(m, k, n, p, arch)
    except SizeError:
        return None


def fits(m: int, k: int, n: int, grid, arch: str = "wse3") -> bool:
    """True if the problem fits every PE of the square ``grid`` = (p, p)."""
    w, h = check_grid(grid)
    need = _words_or_none(m, k, n, w, arch) if w == h else None
    return need is not None and need <= sram_words(arch)


def _smallest_grid(m: int, k: int, n: int, p: int, arch: str) -> int | None:
    """The smallest q >= p whose q x q grid holds the problem, by bisection: a PE's words only
    fall as q grows, and each probe may assemble the code (a walk from p, one assembly per q,
    took 2 minutes for python -m wse.kernels.gemm --k 65536 --grid 1x1)."""
    def holds(q):
        if block_words(*block_sizes(m, k, n, q)) > sram_words(arch):    # (no code to assemble)
            return False
        need = _words_or_none(m, k, n, q, arch)
        return need is not None and need <= sram_words(arch)
    if not holds(4096):
        return None
    lo, hi = p, 4096                 # holds(hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def check_size(m: int, k: int, n: int, grid, arch: str = "wse3") -> None:
    """Refuse (SizeError, before assembling) a non-square grid or blocks that do not fit."""
    w, h = check_grid(grid)
    if w != h:
        raise SizeError(f"grid=({w}, {h}): the GEMM kernel (Cannon's algorithm) needs a square "
                        f"grid: use grid=({max(w, h)}, {max(w, h)})")
    p = w
    sram = sram_words(arch)
    need = _words_or_none(m, k, n, p, arch)
    if need is not None and need <= sram:
        return
    mb, kb, nb = block_sizes(m, k, n, p)
    q = _smallest_grid(m, k, n, p, arch)
    fix = f"use grid=({q}, {q}) or larger" if q else "no grid up to 4096 x 4096 holds it"
    if need is None:
        raise SizeError(f"C = A B with A {m} x {k} and B {k} x {n} on grid=({p}, {p}): a PE's compute "
                        f"code is unrolled over the KB = {kb} columns of its A block, and that code "
                        f"alone does not fit a PE's {nbytes(sram)} of SRAM: {fix}")
    raise SizeError(f"C = A B with A {m} x {k} and B {k} x {n} on grid=({p}, {p}): a PE's blocks "
                    f"(A {mb} x {kb}, B {kb} x {nb}, C {mb} x {nb}) need {nbytes(need)} (A twice "
                    f"in fp16, B twice and C in fp32, {nbytes(code_words(p, kb, arch))} of code); "
                    f"a PE has {nbytes(sram)} of SRAM: {fix}")


def defines_for(m: int, k: int, n: int, p: int, arch: str = "wse3") -> dict:
    check_size(m, k, n, (p, p), arch)
    mb, kb, nb = block_sizes(m, k, n, p)
    return {"P": p, "MB": mb, "KB": kb, "NB": nb}


def skewed_inputs(a: np.ndarray, b: np.ndarray, p: int, mb: int, kb: int, nb: int) -> dict:
    """The host's writes: PE (px, py) gets A block (py, (py+px) % P) and B block
    ((py+px) % P, px), column-major fp16."""
    ablk = split_blocks(a, p, p, order="F", mb=mb, nb=kb)      # (l, i) -> A(i, l)
    bblk = split_blocks(b, p, p, order="F", mb=kb, nb=nb)      # (j, l) -> B(l, j)
    ins_a, ins_b = {}, {}
    for py in range(p):
        for px in range(p):
            l = (py + px) % p
            ins_a[(px, py)] = ablk[(l, py)]
            ins_b[(px, py)] = bblk[(px, l)]
    return {"A": ins_a, "B": ins_b}


def gemm(a: np.ndarray, b: np.ndarray, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
         max_cycles: int | None = None) -> Result:
    """C = A B on grid = (p, p) PEs. a: M x K, b: K x N (both converted to fp16).
    Result.out: C, M x N fp32."""
    a = host_array("A", a, np.float16, (None, None))
    m, k = a.shape
    b = host_array(f"B (A is {m} x {k})", b, np.float16, (k, None))
    n = b.shape[1]
    if min(m, k, n) < 1:
        raise ValueError(f"A is {m} x {k} and B {k} x {n}: every dimension must be at least 1")
    p, h = check_grid(grid)
    check_size(m, k, n, (p, h), arch)                      # a non-square grid is refused here
    d = defines_for(m, k, n, p, arch)
    mb, kb, nb = d["MB"], d["KB"], d["NB"]
    r = run_kernel(kernel_source(KERNEL), d, skewed_inputs(a, b, p, mb, kb, nb),
                   {"C": [(px, py) for py in range(p) for px in range(p)]}, arch=arch,
                   max_cycles=max_cycles, backend=backend)
    c = np.zeros((p * mb, p * nb), np.float32)
    for (px, py), blk in r.outputs["C"].items():
        c[py * mb:(py + 1) * mb, px * nb:(px + 1) * nb] = np.asarray(blk).reshape((mb, nb), order="F")
    return Result(c[:m, :n], r.cycles, r)


def useful_flops(m: int, k: int, n: int) -> int:
    """2 M K N: one multiply and one add per term (padding excluded)."""
    return 2 * m * k * n


def utilization(m: int, k: int, n: int, p: int, cycles: int, arch: str = "wse3") -> float:
    """Useful FLOPs / (PEs x SIMD peak x cycles); the peak is the mixed-class (fmachs) width x
    2 flops per cycle per PE."""
    from wse.isa import load
    width = load().presets[arch].simd["mixed"]
    return useful_flops(m, k, n) / (p * p * 2 * width * cycles)


TABLE_CASES = ((64, 64, 64, 8), (128, 128, 128, 4), (256, 256, 256, 8), (512, 512, 512, 16))


def table_rows(arch: str = "wse3") -> list[dict]:
    """Rows for docs/kernels.md (python -m wse.kernels.table): measured cycles, the cost model's
    prediction (wse.kernels.gemm.model.predict) and the utilization of the fmachs peak."""
    from .model import predict
    rows = []
    rng = np.random.default_rng(0)
    for m, k, n, p in TABLE_CASES:
        a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float16)
        r = gemm(a, b, grid=(p, p), arch=arch)
        mb, kb, nb = block_sizes(m, k, n, p)
        rows.append({"kernel": "gemm", "problem": f"{m}x{k}x{n} fp16, blocks {mb}x{kb}x{nb}",
                     "pes": f"{p}x{p}", "cycles": r.cycles, "model": predict(m, k, n, p, arch),
                     "utilization": utilization(m, k, n, p, r.cycles, arch),
                     "notes": "C = A B, fp32 C; Cannon's shifts; model = cost model"})
    return rows
