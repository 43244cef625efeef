"""python -m wse.kernels.gemm: run gemm.s (C = A B, Cannon's algorithm on a P x P grid) on
seeded random inputs and compare with the NumPy model that adds in the kernel's order
(wse.kernels.gemm.model), bit for bit, and with float64 within the fp32 error bound; print the
cycles beside the cost model's prediction and the utilization of the fmachs peak."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, positive, report

PROG = "python -m wse.kernels.gemm"
TOL = ("bit-exact against wse.kernels.gemm.model (which adds each C element's k in the kernel's "
       "order; the fp16 products are exact in fp32), and within gamma_(K-1) sum_k |a_ik b_kj| of "
       "float64 (tests/kernels/test_gemm.py)")


def main(argv=None) -> int:
    import json

    from wse.kernels.driver import sram_words
    from wse.kernels.gemm.model import block_sizes, cost, error_bound, gemm_model
    from wse.kernels.gemm.run import block_words, check_size, code_words, gemm, utilization
    ap = kernel_parser(PROG, "C = A B (A: M x K, B: K x N, fp16, uniform in [-1, 1]; C fp32) on a "
                       "P x P grid (Cannon's algorithm: --grid must be square).", TOL)
    ap.add_argument("--m", type=positive("--m", 1 << 16), default=128, help="rows of A and C (default 128)")
    ap.add_argument("--k", type=positive("--k", 1 << 16), default=128, help="columns of A, rows of B (default 128)")
    ap.add_argument("--n", type=positive("--n", 1 << 16), default=128, help="columns of B and C (default 128)")
    a = ap.parse_args(argv)
    p, q = a.grid
    if a.limits:
        if p != q:
            check_size(a.m, a.k, a.n, a.grid, a.arch)          # the SizeError for a non-square grid
        sram = sram_words(a.arch)
        # the largest square blocks b x b x b that fit (the code grows with KB)
        side = max(s for s in range(1, 200) if code_words(p, s, a.arch) + block_words(s, s, s) <= sram)
        mb, kb, nb = block_sizes(a.m, a.k, a.n, p)
        need = code_words(p, kb, a.arch) + block_words(mb, kb, nb)
        info = {"kernel": "gemm", "grid": [p, q], "arch": a.arch, "block": [mb, kb, nb],
                "block_bytes": 2 * block_words(mb, kb, nb), "code_bytes": 2 * code_words(p, kb, a.arch),
                "sram_bytes": 2 * sram, "fits": need <= sram, "max_square_block": side,
                "max_square_m_k_n": side * p}
        if a.json:
            print(json.dumps(info))
        else:
            print(f"gemm on {p}x{q} ({a.arch}): a PE holds an MB x KB block of A twice (fp16), a KB x NB "
                  f"block of B twice and an MB x NB block of C (fp32): 2*MB*KB + 4*KB*NB + 2*MB*NB words "
                  f"beside the code (unrolled over KB), in {2 * sram:,} bytes; square blocks up to "
                  f"{side} x {side} x {side}, so M = K = N up to {side * p}. --m {a.m} --k {a.k} --n {a.n}: "
                  f"blocks {mb} x {kb} x {nb}, {2 * need:,} bytes: {'fits' if need <= sram else 'does not fit'}.")
        return 0
    check_size(a.m, a.k, a.n, a.grid, a.arch)
    rng = np.random.default_rng(a.seed)
    A = rng.uniform(-1, 1, (a.m, a.k)).astype(np.float16)
    B = rng.uniform(-1, 1, (a.k, a.n)).astype(np.float16)
    r = gemm(A, B, grid=(p, q), arch=a.arch, backend=a.backend)
    chk = errors(r.out, gemm_model(A, B, p))
    err64 = np.abs(r.out - A.astype(np.float64) @ B.astype(np.float64))
    within = bool(np.all(err64 <= error_bound(A, B)))
    chk["pass"] = chk["pass"] and within
    c = cost(a.m, a.k, a.n, p, a.arch)
    util = utilization(a.m, a.k, a.n, p, r.cycles, a.arch)
    code = report(a, "gemm", {"m": a.m, "k": a.k, "n": a.n}, r, chk, "bit-exact against the model",
                  {"max_abs_err_float64": float(err64.max()), "within_fp32_bound": within,
                   "model_cycles": c["total"], "model_compute": c["compute"], "model_shift": c["shift"],
                   "utilization": util})
    if not a.json:
        print(f"against float64: max abs error {float(err64.max()):.3g}, "
              f"{'within' if within else 'OUTSIDE'} the fp32 error bound (wse.kernels.gemm.model.error_bound)")
        bound = "compute-bound: exact" if p == 1 or c["compute"] >= c["shift"] else "shift-bound: an estimate"
        steps = f"{len(c['steps'])} steps with a shift of {c['steps'][0]:,} to {c['steps'][-1]:,}, " if c["steps"] else ""
        print(f"cost model: {c['total']:,} cycles ({bound}): init {c['init']:,}, {steps}the last step "
              f"{c['last']:,}; a step's compute {c['compute']:,} cycles, its shift at least {c['shift']:,}")
        print(f"utilization {100 * util:.1f}% of the fmachs peak (2 flops x the mixed-class SIMD width per PE "
              f"per cycle)")
    return code


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
