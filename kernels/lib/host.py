"""Host-side helpers shared by the element-wise, norm, softmax, argmax and RoPE drivers.

A vector of n elements is distributed over a W x H rectangle in row-major PE order
(p = y*W + x): PE p holds ``n // P + (p < n % P)`` consecutive elements starting at
``p*(n // P) + min(p, n % P)`` (the first n % P PEs hold one more), in the first elements of
a symbol that every PE reserves with ceil(n / P) elements. The .s files compute the same
numbers from their defines (N, W, H). Runs go through the shared driver
(:func:`wse.kernels.driver.run_kernel`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from wse.kernels import driver


class Result(NamedTuple):
    out: object          # the output array (or a tuple of them)
    cycles: int          # cycles of the run, from launch to idle
    run: object          # the driver's KernelRun (fabric, stats, raw per-PE outputs)


def vector(what: str, v, n: int | None = None) -> np.ndarray:
    """A driver's 1-D fp32 input: refuses 2-D arrays (they used to be flattened), scalars,
    empty vectors, non-numbers, complex numbers and fp32 overflow; ``n``: the length it must
    have."""
    v = driver.host_array(what, v, np.float32, (None,))
    if not len(v):
        raise ValueError(f"{what} is empty")
    if n is not None and len(v) != n:
        raise ValueError(f"{what} has {len(v)} elements; expected {n}")
    return v


def grid_of(grid) -> tuple[int, int]:
    """(w, h) of a driver's ``grid`` argument."""
    return driver.check_grid(grid)


def partition(n: int, w: int, h: int) -> list[tuple[int, int]]:
    """(offset, length) of each PE's piece, in row-major PE order."""
    p = w * h
    if w < 1 or h < 1:
        raise ValueError(f"bad grid {w}x{h}")
    if n < p:
        raise ValueError(f"{n} elements cannot be spread over {w}x{h} = {p} PEs (need n >= PEs)")
    q, r = divmod(n, p)
    return [(i * q + min(i, r), q + (1 if i < r else 0)) for i in range(p)]


def scatter(v: np.ndarray, w: int, h: int, group: int = 1) -> dict:
    """{(x, y): piece} padded to ceil(n/P)*group elements. group > 1 keeps runs of `group`
    consecutive elements (e.g. RoPE pairs) on one PE: the partition is over len(v)/group."""
    v = np.asarray(v)
    ng = len(v) // group
    parts = partition(ng, w, h)
    cmax = -(-ng // (w * h)) * group
    out = {}
    for i, (off, ln) in enumerate(parts):
        piece = np.zeros(cmax, dtype=v.dtype)
        piece[:ln * group] = v[off * group:(off + ln) * group]
        out[(i % w, i // w)] = piece
    return out


def gather(per_pe: dict, n: int, w: int, h: int, group: int = 1) -> np.ndarray:
    parts = partition(n // group, w, h)
    return np.concatenate([np.asarray(per_pe[(i % w, i // w)])[:ln * group]
                           for i, (off, ln) in enumerate(parts)])


def run(rel: str, defines: dict, inputs: dict, outputs, **kw):
    """Run kernels/<rel> with the driver; returns its KernelRun."""
    return driver.run_kernel(driver.kernel_source(rel), defines=defines, inputs=inputs,
                             outputs=outputs, **kw)
