"""Driver of ``rmsnorm.s``: y = (x * rsqrt(mean(x*x) + eps)) * g over a W x H rectangle."""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Limit, Result, check_size, gather, grid_of, limit, run, scatter, vector

F32 = np.float32
KERNEL = "norm/rmsnorm.s"
PER_ELEMENT = 6          # words per element on a PE: x, g, y f32[CMAX] (rmsnorm.s's memory map)


def _defines(n: int, w: int, h: int, eps_bits: int = 0x3727C5AC) -> dict:
    return {"N": n, "W": w, "H": h, "EPS_BITS": eps_bits}


def limits(grid=(1, 1), arch: str = "wse3") -> Limit:
    """How many elements rmsnorm() takes on ``grid`` (per PE and in all)."""
    return limit(KERNEL, _defines, PER_ELEMENT, grid, arch)


def check(n: int, grid=(1, 1), arch: str = "wse3") -> None:
    """Refuse, with a SizeError, an N that rmsnorm() cannot hold on ``grid``: its first check, for a
    caller that has not made the data yet (the command line: N = 10**12 is refused, not allocated)."""
    check_size(KERNEL, _defines, PER_ELEMENT, n, grid_of(grid), arch)


def rmsnorm(x, g, eps: float = 1e-5, grid=(1, 1), *, arch: str = "wse3",
            backend: str | None = None, max_cycles: int | None = None) -> Result:
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    g = vector("g", g, n)
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, (int, float, np.integer, np.floating)) or not eps >= 0:
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    eps_bits = int(np.array(eps, F32).view(np.uint32))
    check(n, (w, h), arch)
    r = run(KERNEL, _defines(n, w, h, eps_bits),
            {"x": scatter(x, w, h), "g": scatter(g, w, h)}, ["y", "rinv"],
            arch=arch, backend=backend, max_cycles=max_cycles)
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
