"""Host-side helpers shared by the element-wise, norm, softmax, argmax and RoPE drivers.

A vector of n elements is distributed over a W x H rectangle in row-major PE order
(p = y*W + x): PE p holds ``n // P + (p < n % P)`` consecutive elements starting at
``p*(n // P) + min(p, n % P)`` (the first n % P PEs hold one more), in the first elements of
a symbol that every PE reserves with ceil(n / P) elements. The .s files compute the same
numbers from their defines (N, W, H). Runs go through the shared driver
(:func:`wse.kernels.driver.run_kernel`).

Every driver follows one convention: the problem arrays first, then ``grid=(w, h)``, then the
keywords ``arch=``, ``backend=`` and ``max_cycles=`` (passed to the run); it returns a
:class:`Result` ``(out, cycles, run)`` and refuses a size the kernel cannot hold with a
:class:`SizeError` before assembling (:func:`check_size`, from the .s file's memory map).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from wse.kernels import driver


Result = driver.Result      # (out, cycles, run): the one result type of the library's drivers
SizeError = driver.SizeError


class Limit(NamedTuple):
    """A vector kernel's SRAM budget on one grid: at most ``per_pe`` units (elements, or RoPE
    pairs) on a PE, so at most ``max_n`` elements in all; ``fixed`` words go to the code,
    constants and buffers and ``per_unit`` words to each unit (the .s file's memory map)."""
    per_pe: int
    max_n: int
    min_n: int
    fixed: int
    per_unit: int


def limit(rel: str, defines, per_unit: int, grid, arch: str = "wse3", group: int = 1) -> Limit:
    """The limits of kernels/<rel> on ``grid``. ``defines(n, w, h)``: the kernel's defines for
    n elements; ``group``: elements per unit (2 for RoPE's pairs)."""
    w, h = driver.check_grid(grid)
    p = w * h
    fixed = driver.fixed_words(rel, defines(p * group, w, h), per_unit, arch)
    per_pe = max(0, (driver.sram_words(arch) - fixed) // per_unit)
    return Limit(per_pe, per_pe * p * group, p * group, fixed, per_unit)


def check_size(rel: str, defines, per_unit: int, n: int, grid, arch: str = "wse3",
               group: int = 1, unit: str = "element") -> None:
    """Refuse, with a :class:`SizeError` naming N, the limit and a grid that works, an N the
    kernel cannot hold on ``grid``: fewer units than PEs (every PE needs one) or more per PE
    than its SRAM holds. Called by the drivers before assembling."""
    w, h = driver.check_grid(grid)
    p, units = w * h, n // group
    if units < p:
        fewer = f"N={n} is {units} {unit}s, which" if group > 1 else f"N={n}"
        fit = _shape(units)
        raise SizeError(f"{fewer} cannot be spread over {w}x{h} = {p} PEs: every PE needs at "
                        f"least one {unit}; use a grid of at most {units} PEs (e.g. grid={fit})")
    most = driver.sram_words(arch) // per_unit      # per PE even with no code: a bound, not assembled
    if units > 4096 * 4096 * most:
        # (the search for a grid that holds it assembles the kernel for ever larger fabrics: for
        # N = 10**20 it ran for minutes and took gigabytes)
        raise SizeError(f"N={n:,} does not fit any grid: a PE's {driver.nbytes(driver.sram_words(arch))} "
                        f"of SRAM hold at most {most:,} {unit}s ({2 * per_unit} bytes each) before any "
                        f"code, so even 4096x4096 PEs hold at most {4096 * 4096 * most * group:,} elements")
    lim = limit(rel, defines, per_unit, grid, arch, group)
    cmax = -(-units // p)
    if cmax > lim.per_pe:
        sram = driver.sram_words(arch)
        raise SizeError(
            f"N={n} on {w}x{h} puts {cmax:,} {unit}s on a PE, which needs "
            f"{driver.nbytes(lim.fixed + per_unit * cmax)}; a PE's {driver.nbytes(sram)} of SRAM holds "
            f"at most {lim.per_pe:,} ({2 * lim.fixed:,} bytes of code and buffers, {2 * per_unit} "
            f"bytes per {unit}), so N <= {lim.max_n:,} on {w}x{h}: use "
            f"grid={_bigger(rel, defines, per_unit, units, w, h, arch, group)} or larger")


def _shape(p: int) -> tuple[int, int]:
    """A near-square (w, h) with w*h <= p (w >= h)."""
    h = max(1, int(p ** 0.5))
    return p // h, h


def _bigger(rel, defines, per_unit, units, w, h, arch, group) -> tuple[int, int]:
    """The first grid, growing w x h about evenly, that holds ``units``."""
    lim = limit(rel, defines, per_unit, (w, h), arch, group)
    need = -(-units // max(lim.per_pe, 1))
    scale = (need / (w * h)) ** 0.5
    w2 = min(4096, max(w, math.ceil(w * scale)))
    h2 = min(4096, max(h, -(-need // w2)))
    if w2 * h2 > 256 * 256:
        # the estimate from this grid's budget: checking it would assemble the kernel for the
        # whole of a fabric that large, again and again (N = 10**10 took minutes)
        return w2, h2
    for _ in range(64):
        if -(-units // (w2 * h2)) <= limit(rel, defines, per_unit, (w2, h2), arch, group).per_pe:
            break
        if (w2 <= h2 or h2 == 4096) and w2 < 4096:
            w2 += 1
        else:
            h2 += 1
    return w2, h2


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


def run(rel: str, defines: dict, inputs: dict, outputs, *, arch: str = "wse3",
        backend: str | None = None, max_cycles: int | None = None, launch: str | None = None):
    """Run kernels/<rel> with the driver; returns its KernelRun."""
    return driver.run_kernel(driver.kernel_source(rel), defines=defines, inputs=inputs,
                             outputs=outputs, arch=arch, backend=backend, max_cycles=max_cycles,
                             launch=launch)
