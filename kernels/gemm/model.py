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


# ---------------------------------------------------------------------------------------------
# Cycle cost model (docs/timing.md): the compute is simulated instruction by instruction on
# one PE's main thread and SIMD datapath, the shifts are bounded by the RAMP.
def _widths(arch: str) -> dict:
    from wse.isa import load
    return load().presets[arch].simd


def compute_cycles(mb: int, kb: int, nb: int, arch: str = "wse3", t0: int = 0) -> tuple[int, int]:
    """(main thread, datapath) free cycles after one step's compute (gemm.s, label compute, up
    to and including the drain), started at t0 with an idle datapath.

    Rules used (docs/timing.md, Instruction costs): a scalar instruction costs 1; a memory-only
    tensor op of n elements takes ceil(n / w) cycles on the PE's one datapath, from
    max(its issue, the end of the previous op); a synchronous one holds the main thread until
    it ends, an async one costs the main thread 1 cycle. fmachs is of the mixed class.
    """
    w = _widths(arch)["mixed"]
    c = max(1, ceil_div(mb, w))
    t = t0
    dp = t0
    for g in range(ceil_div(kb, 8)):
        gsz = min(8, kb - 8 * g)
        t += 2 * gsz + 4                    # setb (addi + dsdbase) x G, ldsd d0, a0, 2 addi
        for _ in range(nb):
            for i in range(gsz):
                t += 1                      # ld32 of B[k, j]
                start = max(t, dp)
                dp = start + c
                t = dp if i % 5 == 0 else t + 1    # ops 0 and 5 synchronous, the others async
            t += 5                          # dsdaddi x 2, addi x 2, bne
    start = max(t, dp)                      # the drain: a 1-element fmovs, synchronous
    dp = start + 1
    t = dp
    return t, dp


def init_cycles(p: int, kb: int, nb: int, arch: str = "wse3") -> int:
    """Cycle at which main reaches the first step: picked at 0, first instruction at 1
    (task_switch), 10 ldsd, the fh2s widening of B (conv class), 5 addi, 2 ldsd, and with a
    shift 8 more ldsd."""
    conv = _widths(arch)["conv"]
    return 1 + 10 + max(1, ceil_div(kb * nb, conv)) + 5 + 2 + (8 if p > 1 else 0)


def shift_cycles(p: int, mb: int, kb: int, nb: int) -> int:
    """A lower bound on one step's shift at the PE that waits longest: the (MB + NB) KB
    wavelets of the next A and B blocks enter its CE through the RAMP at most one per cycle,
    after the wrap-around's P - 1 hops of 2 cycles (hop_latency) and its first wavelet's way
    into the queues (a few cycles)."""
    return (mb + nb) * kb + 2 * (p - 1) + 4


def cost(m: int, k: int, n: int, p: int, arch: str = "wse3") -> dict:
    """Predicted cycles of gemm.s for C = A B (M x K times K x N) on P x P PEs, by terms.

    init: main up to step 0 (:func:`init_cycles`). Each of the P - 1 steps with a shift:
    10 cycles of prologue (beq, addi, 4 x (dsdbase + async issue)), the compute with its drain
    (:func:`compute_cycles`), then the join: beq, the compute's decrement (addi, bne, exit), and
    the four join tasks, each picked the cycle after the previous exit and starting one cycle
    later (task_switch): three of 3 instructions (addi, bne, exit) and the last, which swaps
    the buffers (10 instructions to `b step`). The step takes at least :func:`shift_cycles`
    from its prologue, when the shifts are slower than the compute (small blocks). The last
    step: beq, the compute, beq, exit; the run ends the cycle after the exit.
    """
    mb, kb, nb = block_sizes(m, k, n, p)
    comp, _ = compute_cycles(mb, kb, nb, arch)
    t = init_cycles(p, kb, nb, arch)
    steps = []
    for _ in range(p - 1):
        start = t
        t += 10
        t_c, _ = compute_cycles(mb, kb, nb, arch, t)
        t = t_c + 1 + 2                   # beq; addi, bne of joined
        t_exit = t                        # its exit executes here
        t = t_exit + 1 + 3 * 4            # 3 join tasks: pick, +1, 3 instructions
        t = max(t, start + shift_cycles(p, mb, kb, nb) + 1)   # the last op's task, picked
        t += 1 + 10                       # the last: task_switch, addi, bne, 6 mov, addi, b
        steps.append(t - start)
    last_start = t
    t += 1 if p > 1 else 0                # beq (to compute); a 1 x 1 grid has no shift code
    t_c, _ = compute_cycles(mb, kb, nb, arch, t)
    t = t_c + 1                           # beq r9 -> done; exit here
    total = t + 1
    return {"init": init_cycles(p, kb, nb, arch), "steps": steps, "last": total - last_start,
            "compute": comp, "shift": shift_cycles(p, mb, kb, nb) if p > 1 else 0, "total": total}


def predict(m: int, k: int, n: int, p: int, arch: str = "wse3") -> int:
    """Predicted cycles of the run (:func:`cost`'s total)."""
    return cost(m, k, n, p, arch)["total"]
