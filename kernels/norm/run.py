"""Driver of ``rmsnorm.s``: y = (x * rsqrt(mean(x*x) + eps)) * g over a W x H rectangle."""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Result, gather, run, scatter

F32 = np.float32


def rmsnorm(x, g, eps: float = 1e-5, grid=(1, 1), **kw) -> Result:
    w, h = grid
    x = np.asarray(x, F32).reshape(-1)
    g = np.asarray(g, F32).reshape(-1)
    n = len(x)
    if len(g) != n:
        raise ValueError(f"x has {n} elements, g {len(g)}")
    eps_bits = int(np.array(eps, F32).view(np.uint32))
    r = run("norm/rmsnorm.s", {"N": n, "W": w, "H": h, "EPS_BITS": eps_bits},
            {"x": scatter(x, w, h), "g": scatter(g, w, h)}, ["y", "rinv"], **kw)
    return Result(gather(r.outputs["y"], n, w, h), r.cycles, r)


def table_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n, grid in [(576, (1, 1)), (576, (8, 1)), (4096, (8, 8))]:
        x = rng.standard_normal(n).astype(F32)
        r = rmsnorm(x, np.ones(n, F32), grid=grid)
        rows.append({"kernel": "rmsnorm", "problem": f"N={n}", "pes": f"{grid[0]}x{grid[1]}",
                     "cycles": r.cycles, "notes": "software rsqrt; scalar all-reduce"})
    return rows
