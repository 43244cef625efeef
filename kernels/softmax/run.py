"""Driver of ``softmax.s`` over a W x H rectangle."""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Result, gather, grid_of, run, scatter, vector

F32 = np.float32


def softmax(x, grid=(1, 1), **kw) -> Result:
    """Result.out = softmax(x); Result.run.outputs["stats"] holds each PE's (max, sum)."""
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    r = run("softmax/softmax.s", {"N": n, "W": w, "H": h}, {"x": scatter(x, w, h)},
            ["y", "stats"], **kw)
    return Result(gather(r.outputs["y"], n, w, h), r.cycles, r)


def table_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n, grid in [(256, (1, 1)), (256, (4, 4)), (4096, (8, 8))]:
        r = softmax(rng.standard_normal(n).astype(F32) * 4, grid=grid)
        rows.append({"kernel": "softmax", "problem": f"N={n}", "pes": f"{grid[0]}x{grid[1]}",
                     "cycles": r.cycles, "notes": "software exp/rcp; two scalar all-reduces"})
    return rows
