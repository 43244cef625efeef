"""Host drivers for the GEMV kernels (gemv.s: y = A x + b; gemv_t.s: y = A^T x + b).

Calling convention (as every driver of the library): ``gemv(a, x, b, grid=(kx, ky), arch=,
backend=, max_cycles=)`` -> ``Result(out, cycles, run)`` (``.y`` is ``.out``); ``kx=``/``ky=``
still work as deprecated aliases of ``grid``. A block that does not fit a PE's SRAM is refused
with a :class:`SizeError` before assembling (:func:`check_size`).

Layout (both kernels): a kx x ky rectangle of PEs; PE (px, py) holds the mb x nb block
A[py*mb:(py+1)*mb, px*nb:(px+1)*nb] of the zero-padded A, column-major, as fp16.

- gemv.s: x (fp32, nb per PE) is written into the top row; b (fp32, mb per PE) into the y of
  column 0; the result y is read from the East column.
- gemv_t.s: x (length M, mb per PE) is written into the West column; b (length N) into the y
  of row 0; the result is read from the bottom row.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..driver import Result, SizeError, ceil_div, check_grid, check_int, col_of, fixed_words, host_array, \
    join_vector, kernel_source, nbytes, row_of, run_kernel, split_blocks, split_vector, sram_words

GemvResult = Result      # the drivers' old result type: Result has .y (= .out) for old callers
KERNELS = {"gemv": "gemv/gemv.s", "gemv_t": "gemv/gemv_t.s"}


def gemv_blocks(m: int, n: int, kx: int, ky: int) -> tuple[int, int]:
    """(mb, nb): rows and columns of A per PE."""
    return ceil_div(m, ky), ceil_div(n, kx)


def _fixed(kernel: str, kx: int, ky: int, arch: str) -> int:
    """Words of code and buffers on the PE that needs the most (a 2 x 2 block has an even
    fp16 A, so no alignment word, and 12 words of arrays: A 4, y and x 2 fp32 each)."""
    return fixed_words(KERNELS[kernel], {"KX": kx, "KY": ky, "MB": 2, "NB": 2}, 12, arch)


def block_words(mb: int, nb: int) -> int:
    """Words of a PE's arrays (the memory map of gemv.s and gemv_t.s): A fp16[MB*NB] (padded to
    an even count: the fp32 arrays after it are 2-word aligned), y and x fp32 (MB and NB)."""
    return mb * nb + (mb * nb) % 2 + 2 * mb + 2 * nb


def fits(m: int, n: int, grid, arch: str = "wse3", kernel: str = "gemv") -> bool:
    """True if an M x N A on ``grid`` = (kx, ky) fits every PE's SRAM."""
    kx, ky = check_grid(grid)
    mb, nb = gemv_blocks(m, n, kx, ky)
    return _fixed(kernel, kx, ky, arch) + block_words(mb, nb) <= sram_words(arch)


def _bigger(m: int, n: int, kx: int, ky: int, arch: str, kernel: str) -> tuple[int, int]:
    """The grid with the fewest PEs, at least kx x ky, whose blocks fit: for each ky, the
    smallest kx by the memory map (with the code of a 3 x 3 grid, which has every PE role),
    then checked with the grid's own code."""
    sram, fixed = sram_words(arch), _fixed(kernel, 3, 3, arch)
    best = None
    for ky2 in range(ky, min(4096, max(ky, m)) + 1):
        mb = ceil_div(m, ky2)
        nb = (sram - fixed - 2 * mb - 1) // (mb + 2)       # the widest block beside mb rows
        if nb < 1:
            continue
        kx2 = max(kx, ceil_div(n, nb))
        while kx2 <= 4096 and _fixed(kernel, 3, 3, arch) + block_words(mb, ceil_div(n, kx2)) > sram:
            kx2 += 1
        if kx2 <= 4096 and (best is None or kx2 * ky2 < best[0] * best[1]):
            best = (kx2, ky2)
    if best is None:
        return 4096, 4096
    kx2, ky2 = best
    while not fits(m, n, (kx2, ky2), arch, kernel) and kx2 < 4096:
        kx2 += 1
    return kx2, ky2


def check_size(m: int, n: int, grid, arch: str = "wse3", kernel: str = "gemv") -> None:
    """Refuse (SizeError, before assembling) an M x N A whose block does not fit a PE."""
    kx, ky = check_grid(grid)
    if fits(m, n, (kx, ky), arch, kernel):
        return
    mb, nb = gemv_blocks(m, n, kx, ky)
    fixed = _fixed(kernel, kx, ky, arch)
    bx, by = _bigger(m, n, kx, ky, arch, kernel)
    raise SizeError(f"A is {m} x {n} on grid=({kx}, {ky}): a PE's {mb} x {nb} block needs "
                    f"{nbytes(fixed + block_words(mb, nb))} (A fp16, x and y fp32, {2 * fixed:,} bytes "
                    f"of code and buffers); a PE has {nbytes(sram_words(arch))} of SRAM: use "
                    f"grid=({bx}, {by}) or larger")


def check_fits(mb: int, nb: int, kx: int = 1, ky: int = 1, arch: str = "wse3") -> None:
    """Refuse an mb x nb block that does not fit a PE of a kx x ky gemv (SizeError)."""
    check_size(mb * ky, nb * kx, (kx, ky), arch)


def defines_for(m: int, n: int, kx: int, ky: int, arch: str = "wse3", kernel: str = "gemv") -> dict:
    kx, ky = check_int("kx", kx, 1, 4096), check_int("ky", ky, 1, 4096)
    m, n = check_int("M", m, 1), check_int("N", n, 1)
    mb, nb = gemv_blocks(m, n, kx, ky)
    check_size(m, n, (kx, ky), arch, kernel)
    return {"KX": kx, "KY": ky, "MB": mb, "NB": nb}


def _grid(grid, kx, ky) -> tuple[int, int]:
    """(kx, ky) from grid=(w, h), or from the deprecated kx=/ky= (also a positional kx, ky)."""
    if grid is not None and not isinstance(grid, (tuple, list, np.ndarray)):
        grid, kx = None, grid                     # gemv(a, x, b, kx, ky): the old positional form
    if kx is not None or ky is not None:
        if grid is not None:
            raise TypeError("pass grid=(kx, ky) or the deprecated kx=/ky=, not both")
        warnings.warn("kx=/ky= are deprecated: pass grid=(kx, ky)", DeprecationWarning, stacklevel=4)
        return (check_int("kx", 1 if kx is None else kx, 1, 4096),
                check_int("ky", 1 if ky is None else ky, 1, 4096))
    return check_grid((1, 1) if grid is None else grid)


def _setup(kernel: str, a, grid, kx, ky, arch):
    a = host_array("A", a, np.float16, (None, None))
    m, n = a.shape
    kx, ky = _grid(grid, kx, ky)
    d = defines_for(m, n, kx, ky, arch, kernel)
    return a, m, n, kx, ky, d["MB"], d["NB"], d


def gemv(a: np.ndarray, x: np.ndarray, b: np.ndarray | None = None, grid=None, ky: int | None = None,
         *, kx: int | None = None, arch: str = "wse3", backend: str | None = None,
         max_cycles: int | None = None) -> Result:
    """y = A x (+ b) on grid = (kx, ky) PEs (kx columns of A's blocks, ky rows). a: M x N
    (converted to fp16); x: N; b: M (fp32). Result.out (also .y): y, fp32. kx=/ky= are
    deprecated aliases of grid=(kx, ky)."""
    a, m, n, kx, ky, mb, nb, d = _setup("gemv", a, grid, kx, ky, arch)
    xs = split_vector(host_array(f"x (A is {m} x {n})", x, np.float32, (n,)), kx, nb)
    inputs = {"A": split_blocks(a, kx, ky, order="F", mb=mb, nb=nb), "x": row_of(xs, y=0)}
    if b is not None:
        inputs["y"] = col_of(split_vector(host_array(f"b (A is {m} x {n})", b, np.float32, (m,)), ky, mb), x=0)
    outs = {"y": [(kx - 1, py) for py in range(ky)]}
    r = run_kernel(kernel_source(KERNELS["gemv"]), d, inputs, outs, arch=arch, max_cycles=max_cycles,
                   backend=backend)
    y = join_vector([r.outputs["y"][(kx - 1, py)] for py in range(ky)], m)
    return Result(y.astype(np.float32), r.cycles, r)


def gemv_t(a: np.ndarray, x: np.ndarray, b: np.ndarray | None = None, grid=None, ky: int | None = None,
           *, kx: int | None = None, arch: str = "wse3", backend: str | None = None,
           max_cycles: int | None = None) -> Result:
    """y = A^T x (+ b) with A stored exactly as for gemv(). x: M; b: N."""
    a, m, n, kx, ky, mb, nb, d = _setup("gemv_t", a, grid, kx, ky, arch)
    xs = split_vector(host_array(f"x (A^T of a {m} x {n} A)", x, np.float32, (m,)), ky, mb)
    inputs = {"A": split_blocks(a, kx, ky, order="F", mb=mb, nb=nb), "x": col_of(xs, x=0)}
    if b is not None:
        inputs["y"] = row_of(split_vector(host_array(f"b (A^T of a {m} x {n} A)", b, np.float32, (n,)), kx, nb), y=0)
    outs = {"y": [(px, ky - 1) for px in range(kx)]}
    r = run_kernel(kernel_source(KERNELS["gemv_t"]), d, inputs, outs, arch=arch, max_cycles=max_cycles,
                   backend=backend)
    y = join_vector([r.outputs["y"][(px, ky - 1)] for px in range(kx)], n)
    return Result(y.astype(np.float32), r.cycles, r)


def useful_flops(m: int, n: int) -> int:
    """2 M N: one multiply and one add per element of A (padding excluded)."""
    return 2 * m * n


def utilization(m: int, n: int, kx: int, ky: int, cycles: int, arch: str = "wse3") -> float:
    """Useful FLOPs / (PEs x SIMD peak x cycles); SIMD peak = mixed-class width x 2 flops."""
    from wse.isa import load
    width = load().presets[arch].simd["mixed"]
    return useful_flops(m, n) / (kx * ky * 2 * width * cycles)


TABLE_CASES = ((64, 64, 4, 4), (256, 256, 8, 8), (1000, 1000, 16, 16), (4096, 4096, 64, 64))


def table_rows(arch: str = "wse3") -> list[dict]:
    """Rows for docs/kernels.md (python -m wse.kernels.table)."""
    rows = []
    rng = np.random.default_rng(0)
    for m, n, kx, ky in TABLE_CASES:
        a = rng.uniform(-1, 1, (m, n)).astype(np.float16)
        x = rng.uniform(-1, 1, n).astype(np.float32)
        for name, fn in (("gemv", gemv), ("gemv_t", gemv_t)):
            xx = x if name == "gemv" else rng.uniform(-1, 1, m).astype(np.float32)
            r = fn(a, xx, grid=(kx, ky), arch=arch)
            mb, nb = gemv_blocks(m, n, kx, ky)
            rows.append({"kernel": name, "problem": f"{m}x{n} fp16, block {mb}x{nb}",
                         "pes": f"{kx}x{ky}", "cycles": r.cycles,
                         "utilization": utilization(m, n, kx, ky, r.cycles, arch),
                         "notes": "y = A x" if name == "gemv" else "y = A^T x (strided rows)"})
    return rows
