"""Driver of ``rope.s``: rotate adjacent pairs of x (heads of head_dim concatenated) by
pos * theta^(-2j/head_dim), j the pair's index inside its head."""
from __future__ import annotations

import numpy as np

from wse.kernels import driver
from wse.kernels.lib.host import Limit, Result, check_size, gather, grid_of, limit, run, scatter, vector
from wse.kernels.lib.model import rope_pieces

F32 = np.float32
KERNEL = "rope/rope.s"
PER_PAIR = 16            # words per pair on a PE: x, y f32[2*CMAXP], freq f32[4*CMAXP] (rope.s)


def _defines(n: int, w: int, h: int) -> dict:
    return {"N": n, "W": w, "H": h}


def limits(grid=(1, 1), arch: str = "wse3") -> Limit:
    """How many elements rope() takes on ``grid``: Limit.per_pe counts pairs, max_n elements."""
    return limit(KERNEL, _defines, PER_PAIR, grid, arch, group=2)


def check(n: int, grid=(1, 1), arch: str = "wse3") -> None:
    """Refuse, with a SizeError, an N that rope() cannot hold on ``grid``: its first check, for a
    caller that has not made the data yet (the command line: N = 10**12 is refused, not allocated)."""
    check_size(KERNEL, _defines, PER_PAIR, n, grid_of(grid), arch, group=2, unit="pair")


def frequencies(head_dim: int, theta: float) -> np.ndarray:
    return theta ** (-2.0 * np.arange(head_dim // 2, dtype=np.float64) / head_dim)


POS_LIMIT = 2 ** 17 - 1    # pos * each 7-bit piece is exact in fp32 (17 + 7 = 24 bits)
REDUCE_LIMIT = 2 ** 22     # k = round(p) by adding 1.5*2^23 is exact while p <= 2^22


def _top_piece(head_dim: int, theta: float) -> float:
    """The largest c0 (top 7-bit piece of freq*2/pi, fp32) over the head's frequencies."""
    with np.errstate(over="ignore"):
        c0 = rope_pieces(frequencies(head_dim, theta))[:, 0]
    return float(np.max(c0.astype(np.float64)))


def max_position(head_dim: int, theta: float) -> int:
    """The largest position rope() accepts for head_dim and theta: below 2^17 (exact products
    pos * piece) and with pos * c0 <= 2^22 for every frequency, c0 the top piece of freq*2/pi
    (rope.s rounds each pos * piece to an integer number of quarter turns by adding 1.5*2^23,
    exact only while the product stays <= 2^22; past it the angle is off by whole units and
    the error is O(1)). theta >= 1 never binds (c0 < 1); theta < 1 does (theta=0.01,
    head_dim=64: c0 = 55, pos <= 76260). -1 when a frequency overflows fp32."""
    c0 = _top_piece(head_dim, theta)
    if not np.isfinite(c0):
        return -1
    return int(min(POS_LIMIT, REDUCE_LIMIT // c0)) if c0 > 0 else POS_LIMIT


def rope(x, pos: int, head_dim: int, theta: float = 10000.0, grid=(1, 1), *, arch: str = "wse3",
         backend: str | None = None, max_cycles: int | None = None) -> Result:
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    head_dim = driver.check_int("head_dim", head_dim, 2)
    if n % head_dim or head_dim % 2:
        raise ValueError(f"N={n} must be a multiple of an even head_dim={head_dim}")
    pos = driver.check_int("pos", pos, 0, POS_LIMIT)
    if isinstance(theta, (bool, np.bool_)) or not isinstance(theta, (int, float, np.integer, np.floating)) \
            or not theta > 0 or not np.isfinite(theta):
        raise ValueError(f"theta must be a finite number > 0, got {theta!r}")
    if not np.isfinite(_top_piece(head_dim, theta)):
        raise ValueError(f"theta={theta!r} with head_dim={head_dim} gives a frequency beyond fp32")
    check(n, (w, h), arch)
    pos_max = max_position(head_dim, theta)
    if pos > pos_max:
        raise ValueError(
            f"pos={pos} is beyond the exact angle reduction for head_dim={head_dim}, "
            f"theta={theta!r}: pos * c0 must be <= 2^22 for every frequency's top piece c0 "
            f"(c0 = {_top_piece(head_dim, theta):.9g} quarter turns per position), so pos <= {pos_max}")
    freq = np.tile(frequencies(head_dim, theta), n // head_dim)      # one per pair
    pieces = rope_pieces(freq).reshape(-1)                            # 4 per pair
    inputs = {"x": scatter(x, w, h, group=2), "freq": scatter(pieces, w, h, group=4),
              "pos": {pe: np.array([pos], np.uint32) for pe in scatter(x, w, h, group=2)}}
    r = run(KERNEL, _defines(n, w, h), inputs, ["y"], arch=arch, backend=backend, max_cycles=max_cycles)
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
