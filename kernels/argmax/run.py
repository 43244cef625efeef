"""Driver of ``argmax.s`` over a W x H rectangle."""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Limit, Result, check_size, grid_of, limit, run, scatter, vector

F32 = np.float32
KERNEL = "argmax/argmax.s"
PER_ELEMENT = 2          # words per element on a PE: x f32[CMAX] (argmax.s's memory map)


def _defines(n: int, w: int, h: int) -> dict:
    return {"N": n, "W": w, "H": h}


def limits(grid=(1, 1), arch: str = "wse3") -> Limit:
    """How many elements argmax() takes on ``grid`` (per PE and in all)."""
    return limit(KERNEL, _defines, PER_ELEMENT, grid, arch)


def check(n: int, grid=(1, 1), arch: str = "wse3") -> None:
    """Refuse, with a SizeError, an N that argmax() cannot hold on ``grid``: its first check, for a
    caller that has not made the data yet (the command line: N = 10**12 is refused, not allocated)."""
    check_size(KERNEL, _defines, PER_ELEMENT, n, grid_of(grid), arch)


def argmax(x, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
           max_cycles: int | None = None) -> Result:
    """Result.out = (value, index) as PE (0, 0) holds them (every PE holds the same pair)."""
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    check(n, (w, h), arch)
    r = run(KERNEL, _defines(n, w, h), {"x": scatter(x, w, h)}, ["value", "index"],
            arch=arch, backend=backend, max_cycles=max_cycles)
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
