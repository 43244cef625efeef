"""Driver of ``softmax.s`` over a W x H rectangle."""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Limit, Result, check_size, gather, grid_of, limit, run, scatter, vector

F32 = np.float32
KERNEL = "softmax/softmax.s"
PER_ELEMENT = 4          # words per element on a PE: x, y f32[CMAX] (softmax.s's memory map)


def _defines(n: int, w: int, h: int) -> dict:
    return {"N": n, "W": w, "H": h}


def limits(grid=(1, 1), arch: str = "wse3") -> Limit:
    """How many elements softmax() takes on ``grid`` (per PE and in all)."""
    return limit(KERNEL, _defines, PER_ELEMENT, grid, arch)


def check(n: int, grid=(1, 1), arch: str = "wse3") -> None:
    """Refuse, with a SizeError, an N that softmax() cannot hold on ``grid``: its first check, for a
    caller that has not made the data yet (the command line: N = 10**12 is refused, not allocated)."""
    check_size(KERNEL, _defines, PER_ELEMENT, n, grid_of(grid), arch)


def softmax(x, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
            max_cycles: int | None = None) -> Result:
    """Result.out = softmax(x); Result.run.outputs["stats"] holds each PE's (max, sum)."""
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    check(n, (w, h), arch)
    r = run(KERNEL, _defines(n, w, h), {"x": scatter(x, w, h)}, ["y", "stats"],
            arch=arch, backend=backend, max_cycles=max_cycles)
    return Result(gather(r.outputs["y"], n, w, h), r.cycles, r)


def table_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n, grid in [(256, (1, 1)), (256, (4, 4)), (4096, (8, 8))]:
        r = softmax(rng.standard_normal(n).astype(F32) * 4, grid=grid)
        rows.append({"kernel": "softmax", "problem": f"N={n}", "pes": f"{grid[0]}x{grid[1]}",
                     "cycles": r.cycles, "notes": "software exp/rcp; two scalar all-reduces"})
    return rows
