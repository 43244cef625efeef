"""GEMM benchmark for ``wse-bench --json``: C = A B with 512 x 512 fp16 A and B on 16 x 16 PEs
(wse3 preset; blocks of 32 x 32 x 32 per PE, Cannon's algorithm).

    python -m wse.kernels.gemm.bench        # prints the dict as JSON

Unlike the GEMV benchmark, every PE of the grid is busy on every cycle here (the fmachs of a
step overlap the shifts of the next A and B blocks), so gemm_pe_cycles_per_s is the emulator's
rate on a fully loaded fabric.
"""
from __future__ import annotations

import json
import statistics
import time

import numpy as np

from ..driver import assemble, kernel_source
from .model import error_bound, gemm_model
from .run import KERNEL, defines_for, gemm, useful_flops, utilization

SIZE, GRID = 512, 16
STATS = ("instructions", "wavelets_received", "wavelet_hops", "tensor_elements")


def bench_gemm(m: int = SIZE, k: int = SIZE, n: int = SIZE, p: int = GRID, arch: str = "wse3",
               seed: int = 0) -> dict:
    """Run C = A B once on the emulator and once in NumPy (fp32 matmul of the same fp16 values);
    return cycles, utilization and times.

    gemm_utilization = 2 M K N / (PEs x mixed-class SIMD width x 2 x cycles).
    gemm_wall_s is the emulator run (write the skewed blocks, run, read C; assembly excluded, it
    is done first); gemm_numpy_wall_s the median of five matmuls after a first one. The
    statistics of the run (STATS) are given as gemm_instructions, ... . gemm_pe_cycles_per_s = P^2 x cycles / gemm_wall_s.
    The result is checked bit for bit against wse.kernels.gemm.model and against float64 within
    the fp32 error bound: a wrong answer raises instead of reporting a time.
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float16)
    assemble(kernel_source(KERNEL), defines_for(m, k, n, p, arch), arch)   # warm the cache
    t0 = time.perf_counter()
    r = gemm(a, b, grid=(p, p), arch=arch)
    wall = time.perf_counter() - t0
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    a32 @ b32                       # warm numpy's BLAS threads: its first call takes ~10x longer
    times = []
    for _ in range(5):              # one matmul takes ~1-20 ms here, with the machine's load
        t0 = time.perf_counter()
        a32 @ b32
        times.append(time.perf_counter() - t0)
    np_wall = statistics.median(times)
    model = gemm_model(a, b, p)
    if not np.array_equal(r.out.view(np.uint32), model.view(np.uint32)):
        i, j = np.argwhere(r.out.view(np.uint32) != model.view(np.uint32))[0]
        raise AssertionError(f"bench_gemm: C[{i}, {j}] = {r.out[i, j]!r}, the model's {model[i, j]!r}")
    err = np.abs(r.out.astype(np.float64) - a.astype(np.float64) @ b.astype(np.float64))
    if not np.all(err <= error_bound(a, b)):
        raise AssertionError(f"bench_gemm: C is outside the fp32 error bound (max error {err.max():.3g})")
    return {
        "gemm_cycles": r.cycles,
        "gemm_utilization": utilization(m, k, n, p, r.cycles, arch),
        "gemm_wall_s": wall,
        "gemm_pe_cycles_per_s": p * p * r.cycles / wall,
        "gemm_numpy_wall_s": np_wall,
        "gemm_useful_flops": useful_flops(m, k, n),
        # the emulated work, totals over the PEs (wse-emu --stats names)
        **{f"gemm_{key}": int(r.run.stats[key]) for key in STATS},
    }


def compare_cores(core, rounds: int = 3, m: int = SIZE, p: int = GRID, arch: str = "wse3",
                  seed: int = 0) -> dict:
    """This build of the C core against another (``core``: loaded by wse.emu.fabric.load_core)
    on the GEMM benchmark, in one process: each round runs it once on each core (this one first
    in even rounds), timed in CPU time. ab_gemm_ratio is the median over the rounds of (this run
    / other run), below 1 this core is faster; ab_gemm_stats_identical says whether the two
    runs' statistics were equal in every round (C must be equal bit for bit, else this raises).
    Unlike the decode steps of compare_cores in wse.kernels.llm.fabric_bench, every PE is busy
    on every cycle here."""
    from wse.emu.fabric import use_core

    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (m, m)).astype(np.float16)
    b = rng.uniform(-1, 1, (m, m)).astype(np.float16)
    cores = (None, core)
    for c in cores:     # a run on each first: the first of a size pays for its memory (2.5x slower)
        with use_core(c):
            gemm(a, b, grid=(p, p), arch=arch)
    ratios, secs, identical = [], ([], []), True
    for rnd in range(rounds):
        res = [None, None]
        for k in ((0, 1) if rnd % 2 == 0 else (1, 0)):
            with use_core(cores[k]):
                t0 = time.process_time()
                res[k] = gemm(a, b, grid=(p, p), arch=arch)
                secs[k].append(time.process_time() - t0)
        if not np.array_equal(res[0].out.view(np.uint32), res[1].out.view(np.uint32)):
            raise AssertionError("compare_cores: the two cores' C differ")
        identical = identical and res[0].run.stats == res[1].run.stats
        ratios.append(secs[0][-1] / secs[1][-1])
        res = None
    return {"ab_gemm_ratio": statistics.median(ratios), "ab_gemm_ratio_rounds": ratios,
            "ab_gemm_this_s": statistics.median(secs[0]), "ab_gemm_other_s": statistics.median(secs[1]),
            "ab_gemm_stats_identical": identical}


def main(argv: list[str] | None = None) -> int:
    from wse.kernels._cli import Parser, guarded, positive

    ap = Parser(prog="python -m wse.kernels.gemm.bench",
                description=f"The GEMM benchmark of wse-bench: C = A B, {SIZE} x {SIZE} fp16 on {GRID} x "
                f"{GRID} PEs (wse3), printed as JSON (cycles, utilization, wall time beside numpy). "
                "--grid and --size run another square problem, e.g. to see the emulator's rate on a "
                "larger fully loaded fabric.")
    ap.add_argument("--grid", type=positive("--grid", 256), default=GRID, metavar="P",
                    help=f"P x P PEs (default {GRID})")
    ap.add_argument("--size", type=positive("--size", 65536), metavar="N",
                    help="M = K = N (default 32 P: blocks of 32 x 32 x 32 per PE)")

    def run() -> None:
        args = ap.parse_args(argv)
        n = args.size or 32 * args.grid
        print(json.dumps(bench_gemm(n, n, n, args.grid), indent=2))
    return guarded("python -m wse.kernels.gemm.bench", run)


if __name__ == "__main__":
    import sys

    sys.exit(main())
