"""GEMV benchmark for ``wse-bench --json``: 4096 x 4096 fp16 A on 64 x 64 PEs (wse3 preset).

    python -m wse.kernels.gemv.bench        # prints the dict as JSON
"""
from __future__ import annotations

import json
import time

import numpy as np

from ..driver import assemble, kernel_source
from .model import error_bound
from .run import defines_for, gemv, useful_flops, utilization


def bench_gemv(m: int = 4096, n: int = 4096, kx: int = 64, ky: int = 64, arch: str = "wse3",
               seed: int = 0) -> dict:
    """Run y = A x once on the emulator and once in NumPy; return cycles, utilization, times.

    gemv_utilization = 2 M N / (PEs x mixed-class SIMD width x 2 x cycles).
    gemv_wall_s is the emulator run (write inputs, run, read y; assembly excluded, it is
    done first). gemv_pe_cycles_per_s = placed PEs x cycles / gemv_wall_s.
    The result is checked against a float64 reference with the fp32 error bound: a wrong
    answer raises instead of reporting a time.
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (m, n)).astype(np.float16)
    x = rng.uniform(-1, 1, n).astype(np.float32)
    assemble(kernel_source("gemv/gemv.s"), defines_for(m, n, kx, ky), arch)   # warm the cache
    t0 = time.perf_counter()
    r = gemv(a, x, grid=(kx, ky), arch=arch)
    wall = time.perf_counter() - t0
    a32 = a.astype(np.float32)
    t0 = time.perf_counter()
    y_np = a32 @ x
    np_wall = time.perf_counter() - t0
    exact = a.astype(np.float64) @ x.astype(np.float64)
    err = np.abs(r.y.astype(np.float64) - exact)
    bound = error_bound(a, x, None)
    if not np.all(err <= bound):
        i = int(np.argmax(err - bound))
        raise AssertionError(f"bench_gemv: y[{i}] = {r.y[i]!r}, exact {exact[i]!r}, bound {bound[i]!r}")
    del y_np
    return {
        "gemv_cycles": r.cycles,
        "gemv_utilization": utilization(m, n, kx, ky, r.cycles, arch),
        "gemv_wall_s": wall,
        "gemv_pe_cycles_per_s": kx * ky * r.cycles / wall,
        "gemv_numpy_wall_s": np_wall,
        "gemv_useful_flops": useful_flops(m, n),
    }


if __name__ == "__main__":
    import argparse
    import sys

    from wse.kernels._cli import guarded

    argparse.ArgumentParser(prog="python -m wse.kernels.gemv.bench",
                            description="The GEMV benchmark of wse-bench: 4096 x 4096 fp16 on 64 x 64 PEs "
                            "(wse3), printed as JSON (cycles, utilization, wall time beside numpy).").parse_args()
    sys.exit(guarded("python -m wse.kernels.gemv.bench", lambda: print(json.dumps(bench_gemv(), indent=2))))
