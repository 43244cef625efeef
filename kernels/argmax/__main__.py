"""python -m wse.kernels.argmax: run argmax.s on seeded random inputs and compare (value, index)
with its NumPy model (wse.kernels.argmax.model.argmax_model)."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, report, report_limits

PROG = "python -m wse.kernels.argmax"
TOL = "exact: the value and the index (ties to the lowest index, NaNs ignored; wse.kernels.argmax.model)"


def main(argv=None) -> int:
    from wse.kernels.argmax.model import argmax_model
    from wse.kernels.argmax.run import argmax, check, limits
    ap = kernel_parser(PROG, "(value, index) of the largest element of a vector of N fp32 (standard "
                       "normal; --ties: small integers, so the maximum repeats) over a W x H grid.",
                       TOL, n_default=1024)
    ap.add_argument("--ties", action="store_true", help="draw integers in -3..2 (repeated maxima)")
    a = ap.parse_args(argv)
    if a.limits:
        return report_limits(a, "argmax", limits(a.grid, a.arch))
    check(a.n, a.grid, a.arch)           # before the inputs are made (N = 10**12)
    rng = np.random.default_rng(a.seed)
    x = (rng.integers(-3, 3, a.n) if a.ties else rng.standard_normal(a.n)).astype(np.float32)
    r = argmax(x, a.grid, arch=a.arch, backend=a.backend)
    (v, i), (ev, ei) = r.out, argmax_model(x)
    chk = errors([v], [ev])
    chk["pass"] = chk["pass"] and i == ei
    return report(a, "argmax", {"n": a.n, "index": i, "expected_index": ei}, r, chk, "exact")


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
