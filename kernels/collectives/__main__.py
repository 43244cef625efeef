"""python -m wse.kernels.collectives KIND: run bcast.s, reduce.s or allreduce.s on seeded random
vectors and compare with the NumPy model that combines in the kernel's order
(wse.kernels.collectives.model.reduce_rect), bit for bit. The measured-vs-cost-model table is
python -m wse.kernels.collectives.run [--sweep]."""
import sys

import numpy as np

from wse.kernels._cli import errors, guarded, kernel_parser, report

PROG = "python -m wse.kernels.collectives"
TOL = ("bit-exact: broadcast copies, and reduce/allreduce match wse.kernels.collectives.model."
       "reduce_rect, which combines in the kernel's order (tests/kernels/test_collectives.py)")


def root_arg(text: str) -> tuple[int, int]:
    import argparse
    from wse.cli.files import int_arg
    try:
        x, y = (int_arg(v) for v in text.split(","))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected X,Y, e.g. 2,1, got {text!r}") from None
    return x, y


def main(argv=None) -> int:
    import json

    from wse.kernels.collectives import run as C
    from wse.kernels.collectives.model import OPS, SCHEMES, reduce_rect
    from wse.kernels.driver import SizeError
    ap = kernel_parser(PROG, "A collective over a W x H grid, every PE holding a vector of n fp32 "
                       "(standard normal): broadcast (the root's vector to every PE), reduce (to "
                       "the root), allreduce (reduce, then broadcast).", TOL, n_default=64)
    ap.add_argument("kind", choices=tuple(C.KERNELS), help="the collective")
    ap.add_argument("--op", choices=OPS, default="sum", help="reduce/allreduce: default sum")
    ap.add_argument("--scheme", choices=SCHEMES, default="chain", help="reduce/allreduce: default chain")
    ap.add_argument("--root", type=root_arg, default=(0, 0), help="the root PE X,Y (default 0,0)")
    a = ap.parse_args(argv)
    w, h = a.grid
    if a.limits:
        most = C.limits(a.kind, a.grid, a.arch, a.op, a.scheme, a.root)
        if a.json:
            print(json.dumps({"kernel": a.kind, "grid": [w, h], "arch": a.arch, "max_n_per_pe": most}))
        else:
            how = f", scheme {a.scheme}" if a.kind != "broadcast" else ""
            print(f"{a.kind} on {w}x{h} ({a.arch}{how}, root {a.root}): n up to {most:,} "
                  f"fp32 per PE (every PE holds the whole vector: a bigger grid does not raise it)")
        return 0
    most = C.limits(a.kind, a.grid, a.arch, a.op, a.scheme, a.root)
    if a.n > most:          # before the h x w x n inputs are made (n = 10**10: out of host memory)
        raise SizeError(f"n={a.n:,} fp32 per PE: the {a.kind} on {w}x{h} takes at most n={most:,} "
                        f"(--limits); every PE holds the whole vector, so a bigger grid does not help")
    rng = np.random.default_rng(a.seed)
    data = rng.standard_normal((h, w, a.n)).astype(np.float32)
    kw = {"arch": a.arch, "backend": a.backend}
    problem = {"n": a.n, "root": list(a.root)}
    if a.kind == "broadcast":
        v = data[a.root[1] if 0 <= a.root[1] < h else 0, a.root[0] if 0 <= a.root[0] < w else 0]
        r = C.broadcast(v, a.grid, root=a.root, **kw)
        ref = np.broadcast_to(v, (h, w, a.n))
    else:
        problem.update(op=a.op, scheme=a.scheme)
        fn = C.reduce if a.kind == "reduce" else C.allreduce
        r = fn(data, a.op, a.scheme, root=a.root, **kw)
        ref = reduce_rect(data, a.op, a.scheme, root=a.root)
        if a.kind == "allreduce":
            ref = np.broadcast_to(ref, (h, w, a.n))
    return report(a, a.kind, problem, r, errors(r.out, ref), "bit-exact")


if __name__ == "__main__":
    sys.exit(guarded(PROG, main))
