"""NumPy models of the GEMV kernels, operation for operation.

The kernels compute in IEEE fp32 with one rounding per operation (`fmachs` rounds the product
to fp32, then the sum: docs/timing.md "Floating point"). NumPy float32 arithmetic on arrays
rounds the same way, so these models reproduce the emulator's result bit for bit when they
perform the same operations in the same order. The tests compare against them exactly, and
separately against a float64 reference with an error bound derived from fp32 precision.
"""
from __future__ import annotations

import numpy as np

f32 = np.float32


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def block_sizes(m: int, n: int, kx: int, ky: int) -> tuple[int, int]:
    """Rows and columns of A per PE for y = A x on kx columns x ky rows of PEs."""
    return ceil_div(m, ky), ceil_div(n, kx)


def gemv_model(a: np.ndarray, x: np.ndarray, b: np.ndarray | None, kx: int, ky: int) -> np.ndarray:
    """y = A x (+ b) exactly as kernels/gemv/gemv.s computes it.

    PE (px, py) owns rows [py*mb, (py+1)*mb) and columns [px*nb, (px+1)*nb) of the zero-padded
    A. Its partial y starts at b's block on column 0 and at 0 elsewhere; each x element j (in
    order) does y += fp32(A[:, j]) * x[j]. The partials are then summed West to East along the
    row: s = y_0; s = y_px + s for px = 1..kx-1.
    """
    m, n = a.shape
    mb, nb = block_sizes(m, n, kx, ky)
    ap = np.zeros((mb * ky, nb * kx), dtype=np.float16)
    ap[:m, :n] = a
    xp = np.zeros(nb * kx, dtype=f32)
    xp[:n] = x
    bp = np.zeros(mb * ky, dtype=f32)
    if b is not None:
        bp[:m] = b
    af = ap.astype(f32)
    part = np.zeros((kx, mb * ky), dtype=f32)
    part[0] = bp
    for px in range(kx):
        acc = part[px]
        for j in range(px * nb, (px + 1) * nb):
            acc = acc + af[:, j] * xp[j]          # fp32 product, then fp32 sum
        part[px] = acc
    s = part[0]
    for px in range(1, kx):
        s = part[px] + s
    return s[:m]


def gemv_t_model(a: np.ndarray, x: np.ndarray, b: np.ndarray | None, kx: int, ky: int) -> np.ndarray:
    """y = A^T x (+ b) exactly as kernels/gemv/gemv_t.s computes it.

    The same A blocks as gemv_model (PE (px, py) owns A[py-block, px-block]); x (length M)
    enters on the West column and is multicast East along each row; element i (in order) does
    y_blk += fp32(A[i, blk]) * x[i]. Partials are summed North to South down each column, b
    entering at row 0.
    """
    m, n = a.shape
    mb, nb = block_sizes(m, n, kx, ky)
    ap = np.zeros((mb * ky, nb * kx), dtype=np.float16)
    ap[:m, :n] = a
    xp = np.zeros(mb * ky, dtype=f32)
    xp[:m] = x
    bp = np.zeros(nb * kx, dtype=f32)
    if b is not None:
        bp[:n] = b
    af = ap.astype(f32)
    part = np.zeros((ky, nb * kx), dtype=f32)
    part[0] = bp
    for py in range(ky):
        acc = part[py]
        for i in range(py * mb, (py + 1) * mb):
            acc = acc + af[i, :] * xp[i]
        part[py] = acc
    s = part[0]
    for py in range(1, ky):
        s = part[py] + s
    return s[:n]


def error_bound(a: np.ndarray, x: np.ndarray, b: np.ndarray | None, transpose: bool = False) -> np.ndarray:
    """Per-element bound on |y_kernel - y_exact| for fp16 A, fp32 x and b.

    A and x are exact inputs (fp16 -> fp32 widening is exact). Each output is a sum of
    n + 1 terms (n products and b) evaluated with one fp32 rounding per product and per
    addition, in some order. The standard bound for recursive summation of rounded products
    (Higham, Accuracy and Stability, eq. 3.5) is |err| <= gamma_n * sum_i |a_i x_i| + |b|...,
    gamma_n = n u / (1 - n u), u = 2^-24 (fp32 unit roundoff). We use gamma_{n+1} applied to
    sum|a_i x_i| + |b|, plus a tiny absolute term for fp32 subnormal underflow.
    """
    af = np.asarray(a, dtype=np.float64)
    if transpose:
        af = af.T
    xa = np.abs(np.asarray(x, dtype=np.float64))
    mag = np.abs(af) @ xa
    if b is not None:
        mag = mag + np.abs(np.asarray(b, dtype=np.float64))
    n = af.shape[1] + 1
    u = 2.0 ** -24
    gamma = n * u / (1 - n * u)
    return gamma * mag + n * 2.0 ** -149
