"""python -m wse.kernels.rope: run rope.s on seeded random inputs and compare it with the fp32
NumPy RoPE (wse.kernels.llm.reference.apply_rope)."""
import sys

import numpy as np

from wse.cli.files import int_arg
from wse.kernels._cli import errors, guarded, kernel_parser, positive, report, report_limits

PROG = "python -m wse.kernels.rope"
U = 2.0 ** -24
SINCOS = 2.2e-7 + 3e-8 + 6 * U
TOL = ("per element |err| <= (|x0| + |x1|) * (2.2e-7 + 3e-8 + 6u) of its pair (x0, x1), "
       "u = 2^-24 (tests/kernels/test_elementwise.py)")


def main(argv=None) -> int:
    from wse.kernels.llm.reference import apply_rope
    from wse.kernels.rope.run import POS_LIMIT, check, limits, rope
    ap = kernel_parser(PROG, "Rotary position embedding of a vector of N fp32 (heads of head_dim "
                       "concatenated, standard normal) at position --pos, spread over a W x H grid "
                       "in pairs.", TOL, n_default=1024)
    ap.add_argument("--pos", type=int_arg, default=1234, help=f"the position, 0..{POS_LIMIT} (default 1234)")
    ap.add_argument("--head-dim", type=positive("--head-dim"), default=64, help="even (default 64)")
    ap.add_argument("--theta", type=float, default=10000.0, help="base (default 10000)")
    a = ap.parse_args(argv)
    if a.limits:
        return report_limits(a, "rope", limits(a.grid, a.arch), unit="pair")
    check(a.n, a.grid, a.arch)           # before the inputs are made (N = 10**12)
    x = np.random.default_rng(a.seed).standard_normal(a.n).astype(np.float32)
    r = rope(x, a.pos, a.head_dim, a.theta, a.grid, arch=a.arch, backend=a.backend)
    ref = apply_rope(x.reshape(-1, a.head_dim), a.pos, a.theta).reshape(-1)
    tol = np.repeat(np.abs(x[0::2]) + np.abs(x[1::2]), 2).astype(np.float64) * SINCOS
    return report(a, "rope", {"n": a.n, "pos": a.pos, "head_dim": a.head_dim, "theta": a.theta}, r,
                  errors(r.out, ref, tol=tol), "|err| <= (|x0| + |x1|) * 6.1e-7 per pair")


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
