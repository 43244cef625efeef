"""Driver of ``rope.s``: rotate adjacent pairs of x (heads of head_dim concatenated) by
pos * theta^(-2j/head_dim), j the pair's index inside its head."""
from __future__ import annotations

import numpy as np

from wse.kernels import driver
from wse.kernels.lib.host import Result, gather, grid_of, run, scatter, vector
from wse.kernels.lib.model import rope_pieces

F32 = np.float32


def frequencies(head_dim: int, theta: float) -> np.ndarray:
    return theta ** (-2.0 * np.arange(head_dim // 2, dtype=np.float64) / head_dim)


def rope(x, pos: int, head_dim: int, theta: float = 10000.0, grid=(1, 1), **kw) -> Result:
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    head_dim = driver.check_int("head_dim", head_dim, 2)
    if n % head_dim or head_dim % 2:
        raise ValueError(f"N={n} must be a multiple of an even head_dim={head_dim}")
    pos = driver.check_int("pos", pos, 0, 2 ** 17 - 1)
    if isinstance(theta, (bool, np.bool_)) or not isinstance(theta, (int, float, np.integer, np.floating)) or not theta > 0:
        raise ValueError(f"theta must be a number > 0, got {theta!r}")
    freq = np.tile(frequencies(head_dim, theta), n // head_dim)      # one per pair
    pieces = rope_pieces(freq).reshape(-1)                            # 4 per pair
    inputs = {"x": scatter(x, w, h, group=2), "freq": scatter(pieces, w, h, group=4),
              "pos": {pe: np.array([pos], np.uint32) for pe in scatter(x, w, h, group=2)}}
    r = run("rope/rope.s", {"N": n, "W": w, "H": h}, inputs, ["y"], **kw)
    return Result(gather(r.outputs["y"], n, w, h, group=2), r.cycles, r)


def table_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n, hd, grid in [(64, 64, (1, 1)), (576, 64, (3, 3)), (4096, 128, (8, 8))]:
        r = rope(rng.standard_normal(n).astype(F32), 1234, hd, grid=grid)
        rows.append({"kernel": "rope", "problem": f"N={n} head_dim={hd}",
                     "pes": f"{grid[0]}x{grid[1]}", "cycles": r.cycles,
                     "notes": "sin/cos in software from the position"})
    return rows
