"""python -m wse.kernels.elementwise OP: run elementwise.s (add, mul, scale, residual) or silu.s
(silu, swiglu) on seeded random inputs and compare with NumPy in fp32."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, report, report_limits

PROG = "python -m wse.kernels.elementwise"
U = 2.0 ** -24
TOLS = {"add": (0, 0), "mul": (0, 0), "scale": (0, 0), "residual": (0, 0),
        "silu": (10 * U, 1e-37), "swiglu": (12 * U, 1e-37)}
TOL = ("add, mul, scale, residual: bit-exact (one fp32 operation, rounded as numpy); silu: "
       "rtol = 10u, swiglu: rtol = 12u, u = 2^-24, atol = 1e-37 (tests/kernels/test_elementwise.py)")


def model(op: str, x, y, alpha):
    f32 = np.float32
    with np.errstate(over="ignore"):
        return {"add": lambda: x + y, "mul": lambda: x * y, "scale": lambda: f32(alpha) * x,
                "residual": lambda: x + y, "silu": lambda: x / (f32(1) + np.exp(-x)),
                "swiglu": lambda: x / (f32(1) + np.exp(-x)) * y}[op]()


def main(argv=None) -> int:
    from wse.kernels.elementwise import run as E
    ap = kernel_parser(PROG, "One element-wise kernel over vectors of N fp32 (x, y: 4 * standard "
                       "normal) spread over a W x H grid: add (x + y), mul (x * y), scale "
                       "(alpha * x), residual (x += y in place), silu (x / (1 + exp(-x))), swiglu "
                       "(silu(x) * y).", TOL, n_default=1024)
    ap.add_argument("op", choices=E.OPS, help="the operation")
    ap.add_argument("--alpha", type=float, default=0.5, help="scale's factor (default 0.5)")
    a = ap.parse_args(argv)
    if a.limits:
        return report_limits(a, a.op, E.limits(a.op, a.grid, a.arch))
    with np.errstate(over="ignore"):       # (1e300: an overflow to inf, said below, not a warning)
        finite = np.isfinite(np.float32(a.alpha))
    if not finite:
        ap.error(f"argument --alpha: must be a finite fp32 number, got {a.alpha!r}")
    E.check(a.op, a.n, a.grid, a.arch)   # before the inputs are made (N = 10**12)
    rng = np.random.default_rng(a.seed)
    x, y = (rng.standard_normal((2, a.n)) * 4).astype(np.float32)
    kw = {"arch": a.arch, "backend": a.backend}
    r = {"add": lambda: E.add(x, y, a.grid, **kw), "mul": lambda: E.mul(x, y, a.grid, **kw),
         "scale": lambda: E.scale(x, a.alpha, a.grid, **kw),
         "residual": lambda: E.residual_add(x, y, a.grid, **kw),
         "silu": lambda: E.silu(x, a.grid, **kw), "swiglu": lambda: E.swiglu(x, y, a.grid, **kw)}[a.op]()
    rtol, atol = TOLS[a.op]
    tol = "bit-exact" if rtol == 0 else f"rtol = {'10' if a.op == 'silu' else '12'}u = {rtol:.3g}, atol = 1e-37"
    problem = {"n": a.n, **({"alpha": a.alpha} if a.op == "scale" else {})}
    return report(a, a.op, problem, r, errors(r.out, model(a.op, x, y, a.alpha), rtol, atol), tol)


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
