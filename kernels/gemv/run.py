"""Host drivers for the GEMV kernels (gemv.s: y = A x + b; gemv_t.s: y = A^T x + b).

Layout (both kernels): a kx x ky rectangle of PEs; PE (px, py) holds the mb x nb block
A[py*mb:(py+1)*mb, px*nb:(px+1)*nb] of the zero-padded A, column-major, as fp16.

- gemv.s: x (fp32, nb per PE) is written into the top row; b (fp32, mb per PE) into the y of
  column 0; the result y is read from the East column.
- gemv_t.s: x (length M, mb per PE) is written into the West column; b (length N) into the y
  of row 0; the result is read from the bottom row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..driver import KernelRun, ceil_div, check_int, col_of, host_array, join_vector, \
    kernel_source, row_of, run_kernel, split_blocks, split_vector

SRAM_WORDS = 24576
CODE_WORDS_BUDGET = 1024   # generous bound on the kernels' code + DSD-free data, in words


@dataclass
class GemvResult:
    y: np.ndarray
    cycles: int
    run: KernelRun


def gemv_blocks(m: int, n: int, kx: int, ky: int) -> tuple[int, int]:
    """(mb, nb): rows and columns of A per PE."""
    return ceil_div(m, ky), ceil_div(n, kx)


def check_fits(mb: int, nb: int) -> None:
    words = mb * nb + 2 * max(mb, nb) + 2 * max(mb, nb) + CODE_WORDS_BUDGET
    if words > SRAM_WORDS:
        raise ValueError(f"a {mb} x {nb} block needs ~{words} words; a PE has {SRAM_WORDS}")


def defines_for(m: int, n: int, kx: int, ky: int) -> dict:
    kx, ky = check_int("kx", kx, 1, 4096), check_int("ky", ky, 1, 4096)
    m, n = check_int("M", m, 1), check_int("N", n, 1)
    mb, nb = gemv_blocks(m, n, kx, ky)
    check_fits(mb, nb)
    return {"KX": kx, "KY": ky, "MB": mb, "NB": nb}


def gemv(a: np.ndarray, x: np.ndarray, b: np.ndarray | None = None, kx: int = 1, ky: int = 1,
         arch: str = "wse3", max_cycles: int | None = None) -> GemvResult:
    """y = A x (+ b) on kx x ky PEs. a: M x N (converted to fp16); x: N; b: M (fp32)."""
    a = host_array("A", a, np.float16, (None, None))
    m, n = a.shape
    d = defines_for(m, n, kx, ky)
    kx, ky, mb, nb = d["KX"], d["KY"], d["MB"], d["NB"]
    xs = split_vector(host_array(f"x (A is {m} x {n})", x, np.float32, (n,)), kx, nb)
    inputs = {"A": split_blocks(a, kx, ky, order="F", mb=mb, nb=nb), "x": row_of(xs, y=0)}
    if b is not None:
        inputs["y"] = col_of(split_vector(host_array(f"b (A is {m} x {n})", b, np.float32, (m,)), ky, mb), x=0)
    outs = {"y": [(kx - 1, py) for py in range(ky)]}
    r = run_kernel(kernel_source("gemv/gemv.s"), d, inputs, outs, arch=arch, max_cycles=max_cycles)
    y = join_vector([r.outputs["y"][(kx - 1, py)] for py in range(ky)], m)
    return GemvResult(y.astype(np.float32), r.cycles, r)


def gemv_t(a: np.ndarray, x: np.ndarray, b: np.ndarray | None = None, kx: int = 1, ky: int = 1,
           arch: str = "wse3", max_cycles: int | None = None) -> GemvResult:
    """y = A^T x (+ b) with A stored exactly as for gemv(). x: M; b: N."""
    a = host_array("A", a, np.float16, (None, None))
    m, n = a.shape
    d = defines_for(m, n, kx, ky)
    kx, ky, mb, nb = d["KX"], d["KY"], d["MB"], d["NB"]
    xs = split_vector(host_array(f"x (A^T of a {m} x {n} A)", x, np.float32, (m,)), ky, mb)
    inputs = {"A": split_blocks(a, kx, ky, order="F", mb=mb, nb=nb), "x": col_of(xs, x=0)}
    if b is not None:
        inputs["y"] = row_of(split_vector(host_array(f"b (A^T of a {m} x {n} A)", b, np.float32, (n,)), kx, nb), y=0)
    outs = {"y": [(px, ky - 1) for px in range(kx)]}
    r = run_kernel(kernel_source("gemv/gemv_t.s"), d, inputs, outs, arch=arch, max_cycles=max_cycles)
    y = join_vector([r.outputs["y"][(px, ky - 1)] for px in range(kx)], n)
    return GemvResult(y.astype(np.float32), r.cycles, r)


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
            r = fn(a, xx, kx=kx, ky=ky, arch=arch)
            mb, nb = gemv_blocks(m, n, kx, ky)
            rows.append({"kernel": name, "problem": f"{m}x{n} fp16, block {mb}x{nb}",
                         "pes": f"{kx}x{ky}", "cycles": r.cycles,
                         "utilization": utilization(m, n, kx, ky, r.cycles, arch),
                         "notes": "y = A x" if name == "gemv" else "y = A^T x (strided rows)"})
    return rows
