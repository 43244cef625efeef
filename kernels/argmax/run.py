"""Driver of ``argmax.s`` over a W x H rectangle."""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Result, grid_of, run, scatter, vector

F32 = np.float32


def argmax(x, grid=(1, 1), **kw) -> Result:
    """Result.out = (value, index) as PE (0, 0) holds them (every PE holds the same pair)."""
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    r = run("argmax/argmax.s", {"N": n, "W": w, "H": h}, {"x": scatter(x, w, h)},
            ["value", "index"], **kw)
    v = F32(r.outputs["value"][(0, 0)][0])
    i = int(r.outputs["index"][(0, 0)][0])
    return Result((v, i), r.cycles, r)


def table_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n, grid in [(4096, (1, 1)), (4096, (8, 8)), (49152, (16, 16))]:
        r = argmax(rng.standard_normal(n).astype(F32), grid=grid)
        rows.append({"kernel": "argmax", "problem": f"N={n}", "pes": f"{grid[0]}x{grid[1]}",
                     "cycles": r.cycles, "notes": "pair all-reduce (value, index)"})
    return rows
