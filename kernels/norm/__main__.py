"""python -m wse.kernels.norm: run rmsnorm.s on seeded random inputs and compare it with the
fp32 NumPy RMSNorm (wse.kernels.llm.reference.rms_norm)."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, report, report_limits

PROG = "python -m wse.kernels.norm"
U = 2.0 ** -24
TOL = "rtol = (N + 9)u, u = 2^-24, atol = 0 (tests/kernels/test_norm_softmax.py)"


def main(argv=None) -> int:
    from wse.kernels.llm.reference import rms_norm
    from wse.kernels.norm.run import check, limits, rmsnorm
    ap = kernel_parser(PROG, "RMSNorm y = (x * rsqrt(mean(x*x) + eps)) * g over a vector of N fp32 "
                       "(x, g standard normal) spread over a W x H grid.", TOL, n_default=1024)
    ap.add_argument("--eps", type=float, default=1e-5, help="epsilon (default 1e-5)")
    a = ap.parse_args(argv)
    if a.limits:
        return report_limits(a, "rmsnorm", limits(a.grid, a.arch))
    if not (a.eps >= 0 and np.isfinite(a.eps)):
        ap.error(f"argument --eps: must be a finite number >= 0, got {a.eps!r}")
    check(a.n, a.grid, a.arch)           # before the inputs are made (N = 10**12)
    rng = np.random.default_rng(a.seed)
    x, g = (rng.standard_normal((2, a.n))).astype(np.float32)
    r = rmsnorm(x, g, a.eps, a.grid, arch=a.arch, backend=a.backend)
    rtol = (a.n + 9) * U
    return report(a, "rmsnorm", {"n": a.n, "eps": a.eps}, r, errors(r.out, rms_norm(x, g, a.eps), rtol, 0.0),
                  f"rtol = (N + 9)u = {rtol:.3g}, atol = 0")


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
