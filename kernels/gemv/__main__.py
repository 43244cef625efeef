"""python -m wse.kernels.gemv: run gemv.s (y = A x + b) or, with --transpose, gemv_t.s
(y = A^T x + b) on seeded random inputs and compare with the NumPy model that adds in the
kernel's order (wse.kernels.gemv.model), bit for bit."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, positive, report

PROG = "python -m wse.kernels.gemv"
TOL = ("bit-exact against wse.kernels.gemv.model (which adds in the kernel's order; "
       "tests/kernels/test_gemv.py); the error against float64 is printed beside it")


def main(argv=None) -> int:
    import json

    from wse.kernels.gemv.model import error_bound, gemv_model, gemv_t_model
    from wse.kernels.gemv.run import _fixed, block_words, check_size, gemv, gemv_blocks, gemv_t
    from wse.kernels.driver import sram_words
    ap = kernel_parser(PROG, "y = A x + b (A: M x N fp16, x, b fp32, uniform in [-1, 1]) on a "
                       "W x H grid of blocks of A (W columns of blocks, H rows).", TOL)
    ap.add_argument("--m", type=positive("--m", 1 << 16), default=256, help="rows of A (default 256)")
    ap.add_argument("--n", type=positive("--n", 1 << 16), default=256, help="columns of A (default 256)")
    ap.add_argument("--transpose", action="store_true", help="y = A^T x + b (gemv_t.s)")
    a = ap.parse_args(argv)
    kx, ky = a.grid
    kernel = "gemv_t" if a.transpose else "gemv"
    if a.limits:
        fixed, sram = _fixed(kernel, kx, ky, a.arch), sram_words(a.arch)
        mb, nb = gemv_blocks(a.m, a.n, kx, ky)
        side = max(s for s in range(1, 200) if fixed + block_words(s, s) <= sram)
        info = {"kernel": kernel, "grid": [kx, ky], "arch": a.arch, "block": [mb, nb],
                "block_bytes": 2 * block_words(mb, nb), "fixed_bytes": 2 * fixed, "sram_bytes": 2 * sram,
                "fits": fixed + block_words(mb, nb) <= sram, "max_square_block": side,
                "max_square_m_n": [side * ky, side * kx]}
        if a.json:
            print(json.dumps(info))
        else:
            print(f"{kernel} on {kx}x{ky} ({a.arch}): a PE holds an mb x nb block of A (fp16) with x "
                  f"and y (fp32): mb*nb + 2*(mb + nb) words (+1 if mb*nb is odd) beside "
                  f"{2 * fixed} bytes of code and buffers, in {2 * sram:,} bytes; square blocks up to "
                  f"{side} x {side}, so A up to {side * ky} x {side * kx}. --m {a.m} --n {a.n}: block "
                  f"{mb} x {nb}, {2 * block_words(mb, nb):,} bytes: "
                  f"{'fits' if info['fits'] else 'does not fit'}.")
        return 0
    check_size(a.m, a.n, a.grid, a.arch, kernel)   # before A is made (65536 x 65536: out of memory)
    rng = np.random.default_rng(a.seed)
    A = rng.uniform(-1, 1, (a.m, a.n)).astype(np.float16)
    xlen, ylen = (a.m, a.n) if a.transpose else (a.n, a.m)
    x = rng.uniform(-1, 1, xlen).astype(np.float32)
    b = rng.uniform(-1, 1, ylen).astype(np.float32)
    fn, mod = (gemv_t, gemv_t_model) if a.transpose else (gemv, gemv_model)
    r = fn(A, x, b, grid=(kx, ky), arch=a.arch, backend=a.backend)
    chk = errors(r.out, mod(A, x, b, kx, ky))
    a64 = A.astype(np.float64)
    exact = (a64.T if a.transpose else a64) @ x.astype(np.float64) + b
    err64 = np.abs(r.out - exact)
    within = bool(np.all(err64 <= error_bound(A, x, b, transpose=a.transpose)))
    chk["pass"] = chk["pass"] and within
    code = report(a, kernel, {"m": a.m, "n": a.n}, r, chk, "bit-exact against the model",
                  {"max_abs_err_float64": float(err64.max()), "within_fp32_bound": within})
    if not a.json:
        print(f"against float64: max abs error {float(err64.max()):.3g}, "
              f"{'within' if within else 'OUTSIDE'} the fp32 error bound (wse.kernels.gemv.model.error_bound)")
    return code


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
