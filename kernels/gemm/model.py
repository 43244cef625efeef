"""NumPy model of the GEMM kernel (gemm.s), operation for operation, its error bound, and its
cycle cost model.

Numerics. The kernel computes C = A B with fp16 A and B and fp32 C: every C element starts at
+0 and adds fp32(a_ik) * b_kj with one `fmachs` per k (product rounded to fp32, then the sum:
docs/timing.md "Floating point"). A product of two fp16 values is exact in fp32 (11 + 11
significant bits <= 24, exponents well inside fp32's range), so the only roundings are the
K sums, and the result depends only on the order in which each element adds its k. NumPy
float32 array arithmetic rounds the same way, so :func:`gemm_model`, which adds in the
kernel's order (zero padding included), matches the emulator bit for bit.

The order (Cannon's algorithm on P x P PEs, blocks MB x KB x NB): the C block (i, j) adds the
K blocks l = (i + j + s) mod P for s = 0 .. P-1, and inside a block k ascending.
"""
from __future__ import annotations

import numpy as np

f32 = np.float32


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def block_sizes(m: int, k: int, n: int, p: int) -> tuple[int, int, int]:
    """(MB, KB, NB): the blocks of A (MB x KB), B (KB x NB) and C (MB x NB) on a P x P grid."""
    return ceil_div(m, p), ceil_div(k, p), ceil_div(n, p)


def k_order(p: int, kb: int, i: int, j: int) -> np.ndarray:
    """The (padded) k indices in the order C block (i, j) adds them."""
    return np.concatenate([np.arange(kb) + ((i + j + s) % p) * kb for s in range(p)])


def gemm_model(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    """C = A B (fp32) exactly as kernels/gemm/gemm.s computes it on p x p PEs."""
    m, k = a.shape
    k2, n = b.shape
    assert k == k2
    mb, kb, nb = block_sizes(m, k, n, p)
    ap = np.zeros((p * mb, p * kb), f32)
    ap[:m, :k] = np.asarray(a, np.float16)
    bp = np.zeros((p * kb, p * nb), f32)
    bp[:k, :n] = np.asarray(b, np.float16)
    # blocks as (i, j, rows, cols); step s, inner t adds k = ((i + j + s) % p) * kb + t
    c = np.zeros((p, p, mb, nb), f32)
    ii, jj = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    ab = ap.reshape(p, mb, p * kb)                   # (i, row, k)
    bb = bp.reshape(p * kb, p, nb).transpose(1, 0, 2)  # (j, k, col)
    for s in range(p):
        l = (ii + jj + s) % p
        for t in range(kb):
            kk = l * kb + t                            # (i, j)
            acol = ab[ii, :, kk]                       # (i, j, mb)
            brow = bb[jj, kk, :]                       # (i, j, nb)
            c = c + acol[:, :, :, None] * brow[:, :, None, :]   # exact products, fp32 sums
    out = c.transpose(0, 2, 1, 3).reshape(p * mb, p * nb)
    return out[:m, :n]


def error_bound(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-element bound on |C_kernel - C_exact| for fp16 A and B.

    The products are exact (see the module docstring), so each C element is a sum of K exact
    terms with one fp32 rounding per addition, in some order: |err| <= gamma_{K-1} sum_k
    |a_ik b_kj| (Higham, Accuracy and Stability, eq. 3.5), gamma_n = n u / (1 - n u),
    u = 2^-24. No underflow term is needed: every product is a multiple of 2^-48, far above
    fp32's subnormal range, so the sums are exact or rounded as normal numbers.
    """
    a64 = np.abs(np.asarray(a, np.float64))
    b64 = np.abs(np.asarray(b, np.float64))
    n = max(a64.shape[1] - 1, 0)
    u = 2.0 ** -24
    return (n * u / (1 - n * u)) * (a64 @ b64)
