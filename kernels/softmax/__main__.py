"""python -m wse.kernels.softmax: run softmax.s on seeded random inputs and compare it with the
fp32 NumPy softmax (wse.kernels.llm.reference.softmax)."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, report, report_limits

PROG = "python -m wse.kernels.softmax"
U = 2.0 ** -24
TOL = "rtol = 2(N + 10)u, u = 2^-24, atol = 1e-37 (tests/kernels/test_norm_softmax.py)"


def main(argv=None) -> int:
    from wse.kernels.llm.reference import softmax as model
    from wse.kernels.softmax.run import check, limits, softmax
    ap = kernel_parser(PROG, "softmax(x) over a vector of N fp32 (x = 4 * standard normal) spread "
                       "over a W x H grid.", TOL, n_default=1024)
    a = ap.parse_args(argv)
    if a.limits:
        return report_limits(a, "softmax", limits(a.grid, a.arch))
    check(a.n, a.grid, a.arch)           # before the inputs are made (N = 10**12)
    x = (np.random.default_rng(a.seed).standard_normal(a.n) * 4).astype(np.float32)
    r = softmax(x, a.grid, arch=a.arch, backend=a.backend)
    rtol = 2 * (a.n + 10) * U
    return report(a, "softmax", {"n": a.n}, r, errors(r.out, model(x), rtol, 1e-37),
                  f"rtol = 2(N + 10)u = {rtol:.3g}, atol = 1e-37")


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
