"""Host drivers for the collective kernels: broadcast, reduce (sum / max; chain, tree,
two-phase) and all-reduce over a W x H rectangle of PEs (H = 1: a row, W = 1: a column).

Each PE holds a vector of n fp32 (symbol ``vec``). Inputs are given as an array of shape
(H, W, n): data[y, x] is PE (x, y)'s vector, so the grid is data's shape (``grid=(w, h)``,
optional, must agree with it); ``broadcast(v, grid=(w, h))`` takes the root's vector. Every
driver takes the keywords ``arch``, ``backend``, ``max_cycles`` and returns a
``Result(out, cycles, run)``; a vector too long for a PE's SRAM, a tree that needs more colors
than a router has or a tree line over 256 PEs is refused (SizeError) before assembling.
"""
from __future__ import annotations

import numpy as np

from ..driver import Result, SizeError, check_grid, check_int, fixed_words, host_array, kernel_source, \
    nbytes, run_kernel, sram_words
from .model import OPS, SCHEMES, default_segment, predicted_T, reduce_cost

_SCHEME_ID = {s: i for i, s in enumerate(SCHEMES)}
_OP_ID = {o: i for i, o in enumerate(OPS)}


CollectiveResult = Result   # the old name; out: reduce: the root's vector (n,); bcast/allreduce: (H, W, n)
KERNELS = {"broadcast": "collectives/bcast.s", "reduce": "collectives/reduce.s",
           "allreduce": "collectives/allreduce.s"}
PER_ELEMENT = 2          # words per element on a PE: vec fp32[N] (the kernels' memory maps)
MAX_TREE_LINE = 256      # collectives.inc: the tree reduce supports lines of up to 256 PEs


def _levels(p: int) -> int:
    """ceil(log2 p), up to 8: the tree's levels (colors) over a line side of p PEs."""
    return sum(p > (1 << k) for k in range(8))


def colors_needed(kind: str, w: int, h: int, scheme: str, root=(0, 0)) -> int:
    """The colors reduce.s / allreduce.s use (collectives.inc's color plan): the row phase
    NCX from 0, the column phase NCY from CBY = max(8, NCX), the broadcast one at
    max(16, CBY + NCY)."""
    rx, ry = root
    def nc(p, r):
        if p == 1:
            return 0
        return {"chain": 2, "twophase": 4}.get(scheme) or _levels(p - r) + _levels(r + 1)
    top = max(8, nc(w, rx)) + nc(h, ry)
    return max(16, top) + 1 if kind == "allreduce" else top


def _check_plan(kind: str, w: int, h: int, scheme: str, rx: int, ry: int) -> None:
    """The tree's limits (colors, line length), before the assembler sees them."""
    if scheme != "tree":
        return
    for side, p, r in (("row", w, rx), ("column", h, ry)):
        far, near = p - r, r + 1
        if max(far, near) > MAX_TREE_LINE:
            raise SizeError(f"scheme='tree' on {w}x{h} with root ({rx}, {ry}): the {side} is cut at the "
                            f"root into lines of {far} and {near} PEs, and the tree reduce supports "
                            f"lines of up to {MAX_TREE_LINE}: use scheme='chain' or 'twophase', or a "
                            f"root nearer the middle")
    used, avail = colors_needed(kind, w, h, scheme, (rx, ry)), 24
    if used > avail:
        raise SizeError(f"scheme='tree' on {w}x{h} with root ({rx}, {ry}) needs {used} colors "
                        f"(ceil(log2) of each side of the root, per phase{', and one to broadcast' if kind == 'allreduce' else ''}; "
                        f"the column phase starts at color 8); a router has {avail}: use "
                        f"scheme='chain' or 'twophase', or a root nearer a corner")


def limits(kind: str = "reduce", grid=(1, 1), arch: str = "wse3", op: str = "sum", scheme: str = "chain",
           root=(0, 0)) -> int:
    """The largest n (fp32 per PE) that ``kind`` ('broadcast', 'reduce', 'allreduce') takes on
    ``grid`` (every PE holds the whole vector, so a bigger grid does not raise it)."""
    if kind not in KERNELS:
        raise ValueError(f"kind {kind!r}: one of {', '.join(KERNELS)}")
    w, h = check_grid(grid)
    rx, ry = _check_root(root, w, h)
    d = {"W": w, "H": h, "N": 1, "RX": rx, "RY": ry} if kind == "broadcast" else \
        _defines(w, h, 1, op, scheme, None, None, (rx, ry), _allreduce=(kind == "allreduce"))
    fixed = fixed_words(KERNELS[kind], d, PER_ELEMENT, arch)
    return (sram_words(arch) - fixed) // PER_ELEMENT


def _check_n(kind: str, n: int, w: int, h: int, arch: str, d: dict) -> None:
    d1 = dict(d, N=1)
    fixed = fixed_words(KERNELS[kind], d1, PER_ELEMENT, arch)
    most = (sram_words(arch) - fixed) // PER_ELEMENT
    if n > most:
        raise SizeError(f"n={n:,} fp32 per PE needs {nbytes(fixed + PER_ELEMENT * n)} on a PE of the {kind} "
                        f"on {w}x{h}; a PE's {nbytes(sram_words(arch))} of SRAM holds at most n={most:,} "
                        f"({2 * fixed:,} bytes of code and buffers): every PE holds the whole vector, "
                        f"so a bigger grid does not help; split the vector into runs of <= {most:,}")


def _run(kind, d, inputs, outputs, arch, backend, max_cycles):
    _check_n(kind, d["N"], d["W"], d["H"], arch, d)
    return run_kernel(kernel_source(KERNELS[kind]), d, inputs, outputs, arch=arch, backend=backend,
                      max_cycles=max_cycles)


def _grid_of_data(data: np.ndarray, grid) -> tuple[int, int]:
    h, w, _ = data.shape
    if grid is not None and check_grid(grid) != (w, h):
        g = check_grid(grid)
        raise ValueError(f"grid=({g[0]}, {g[1]}) disagrees with data of shape {data.shape}: data is "
                         f"(H, W, n), one vector per PE of a W x H grid, so grid=({w}, {h})")
    return w, h


def _check_root(root, w, h) -> tuple[int, int]:
    try:
        rx, ry = root
    except (TypeError, ValueError):
        raise TypeError(f"root must be a PE (x, y), got {root!r}") from None
    rx, ry = check_int("root x", rx), check_int("root y", ry)
    if not (0 <= rx < w and 0 <= ry < h):
        raise ValueError(f"root {(rx, ry)} is not a PE of the {w} x {h} rectangle")
    return rx, ry


def _defines(w, h, n, op="sum", scheme="chain", seg_x=None, seg_y=None, root=(0, 0), _allreduce=False) -> dict:
    if op not in _OP_ID:
        raise ValueError(f"op {op!r}: one of {OPS}")
    if scheme not in _SCHEME_ID:
        raise ValueError(f"scheme {scheme!r}: one of {SCHEMES}")
    rx, ry = _check_root(root, w, h)
    _check_plan("allreduce" if _allreduce else "reduce", w, h, scheme, rx, ry)
    seg_x = None if seg_x is None else check_int("seg_x", seg_x, 1)
    seg_y = None if seg_y is None else check_int("seg_y", seg_y, 1)
    return {"W": w, "H": h, "N": n, "OP": _OP_ID[op], "SCHEME": _SCHEME_ID[scheme],
            "SEGX": seg_x or default_segment(w, rx), "SEGY": seg_y or default_segment(h, ry),
            "RX": rx, "RY": ry}


def _data(data) -> np.ndarray:
    """(H, W, n) fp32, every PE's vector."""
    data = host_array("data", data, np.float32, (None, None, None))
    if 0 in data.shape:
        raise ValueError(f"data has shape {data.shape}; every dimension must be at least 1 ((H, W, n))")
    return data


def _inputs(data: np.ndarray) -> dict:
    h, w, _ = data.shape
    return {"vec": {(x, y): data[y, x] for y in range(h) for x in range(w)}}


def broadcast(root_vec: np.ndarray, grid=None, h: int | None = None, arch: str = "wse3",
              root: tuple[int, int] = (0, 0), *, backend: str | None = None,
              max_cycles: int | None = None) -> Result:
    """Every PE of the grid = (w, h) rectangle receives the root's vector (root = (x, y));
    Result.out: (H, W, n). The old form broadcast(v, w, h) still works."""
    v = host_array("root_vec", root_vec, np.float32, (None,))
    n = v.size
    if not n:
        raise ValueError("root_vec is empty")
    if grid is None or not isinstance(grid, (tuple, list, np.ndarray)):   # broadcast(v, w, h)
        if grid is None or h is None:
            raise TypeError("broadcast needs grid=(w, h) (or the old positional w, h)")
        w, h = check_int("w", grid, 1, 4096), check_int("h", h, 1, 4096)
    else:
        if h is not None:
            raise TypeError("pass grid=(w, h) or w, h, not both")
        w, h = check_grid(grid)
    rx, ry = _check_root(root, w, h)
    r = _run("broadcast", {"W": w, "H": h, "N": n, "RX": rx, "RY": ry}, {"vec": {(rx, ry): v}}, ["vec"],
             arch, backend, max_cycles)
    out = np.stack([np.stack([r.outputs["vec"][(x, y)] for x in range(w)]) for y in range(h)])
    return Result(out, r.cycles, r)


def reduce(data: np.ndarray, op: str = "sum", scheme: str = "chain", seg_x: int | None = None,
           seg_y: int | None = None, arch: str = "wse3", root: tuple[int, int] = (0, 0), *,
           grid=None, backend: str | None = None, max_cycles: int | None = None) -> Result:
    """Reduce data[y, x, :] over the rectangle to the root PE (x, y); returns its vector."""
    data = _data(data)
    w, h = _grid_of_data(data, grid)
    n = data.shape[2]
    d = _defines(w, h, n, op, scheme, seg_x, seg_y, root)
    rx, ry = d["RX"], d["RY"]
    r = _run("reduce", d, _inputs(data), {"vec": [(rx, ry)]}, arch, backend, max_cycles)
    return Result(r.outputs["vec"][(rx, ry)].astype(np.float32), r.cycles, r)


def allreduce(data: np.ndarray, op: str = "sum", scheme: str = "chain", seg_x: int | None = None,
              seg_y: int | None = None, arch: str = "wse3", root: tuple[int, int] = (0, 0), *,
              grid=None, backend: str | None = None, max_cycles: int | None = None) -> Result:
    """Every PE ends with the reduction of all vectors (reduced to ``root``, then broadcast from
    it); returns the (H, W, n) result."""
    data = _data(data)
    w, h = _grid_of_data(data, grid)
    n = data.shape[2]
    d = _defines(w, h, n, op, scheme, seg_x, seg_y, root, _allreduce=True)
    r = _run("allreduce", d, _inputs(data), ["vec"], arch, backend, max_cycles)
    out = np.stack([np.stack([r.outputs["vec"][(x, y)] for x in range(w)]) for y in range(h)])
    return Result(out.astype(np.float32), r.cycles, r)


def predicted_reduce_cycles(w: int, h: int, n: int, scheme: str, arch: str = "wse3",
                            seg_x=None, seg_y=None, root: tuple[int, int] = (0, 0)) -> float:
    """T of the wafer-scale reduce cost model for this kernel's tree (see model.reduce_cost)."""
    from wse.isa import load
    p = load().presets[arch]
    rx, ry = _check_root(root, w, h)
    return predicted_T(reduce_cost(w, h, n, scheme, hop_latency=p.hop_latency, t_r=1,
                                   seg_x=seg_x or default_segment(w, rx),
                                   seg_y=seg_y or default_segment(h, ry), root=(rx, ry)))


def compare(sizes=((64, 1, 64), (1, 64, 64), (16, 16, 64), (64, 1, 1), (32, 32, 256)),
            arch: str = "wse3", seed: int = 0) -> list[dict]:
    """Measured reduce-sum cycles of every scheme beside the cost model's prediction, to the
    root (0, 0) and to the middle PE (w // 2, h // 2)."""
    rng = np.random.default_rng(seed)
    rows = []
    for w, h, n in sizes:
        data = rng.standard_normal((h, w, n)).astype(np.float32)
        for root in ((0, 0), (w // 2, h // 2)):
            for scheme in SCHEMES:
                r = reduce(data, "sum", scheme, arch=arch, root=root)
                t = predicted_reduce_cycles(w, h, n, scheme, arch, root=root)
                rows.append({"w": w, "h": h, "n": n, "root": root, "scheme": scheme,
                             "cycles": r.cycles, "model": t, "ratio": r.cycles / t})
    return rows


SWEEP = tuple((g, g, n) for g in (8, 16, 32, 64) for n in (1, 16, 64, 256))


def _main(sweep: bool = False) -> None:
    print(f"{'W x H':>9} {'n':>5} {'root':>9} {'scheme':>9} {'cycles':>8} {'model T':>8} {'ratio':>6}")
    rows = compare(SWEEP) if sweep else compare()
    for row in rows:
        root = f"({row['root'][0]}, {row['root'][1]})"
        print(f"{row['w']:>4} x {row['h']:<3} {row['n']:>5} {root:>9} {row['scheme']:>9} {row['cycles']:>8} "
              f"{row['model']:>8.0f} {row['ratio']:>6.2f}")
    print("measured / model T, min-max:")
    for scheme in SCHEMES:
        for middle in (False, True):
            r = [row["ratio"] for row in rows if row["scheme"] == scheme and (row["root"] != (0, 0)) == middle]
            if r:
                print(f"  {scheme:>9}, root {'in the middle' if middle else 'at (0, 0)    '}: "
                      f"{min(r):.2f}-{max(r):.2f}")


if __name__ == "__main__":
    import argparse
    import sys

    from wse.kernels._cli import guarded

    ap = argparse.ArgumentParser(prog="python -m wse.kernels.collectives.run",
                                 description="Measured cycles of the collective kernels beside the cost "
                                 "model's T, for rows, columns and rectangles (docs/kernels.md).")
    ap.add_argument("--sweep", action="store_true",
                    help="square grids of 8, 16, 32 and 64 PEs a side with 1, 16, 64 and 256 fp32 "
                    "(some minutes) instead of the documented cases")
    a = ap.parse_args()
    sys.exit(guarded("python -m wse.kernels.collectives.run", lambda: _main(a.sweep)))


def table_rows(arch: str = "wse3") -> list[dict]:
    """Rows for docs/kernels.md (python -m wse.kernels.table)."""
    rng = np.random.default_rng(0)
    rows = []
    for w, h, n in ((64, 1, 64), (16, 16, 64)):
        v = rng.standard_normal(n).astype(np.float32)
        r = broadcast(v, (w, h), arch=arch)
        rows.append({"kernel": "bcast", "problem": f"{n} fp32", "pes": f"{w}x{h}",
                     "cycles": r.cycles, "notes": "multicast from (0, 0)"})
    for w, h, n in ((64, 1, 64), (64, 1, 1), (16, 16, 64), (16, 16, 1)):
        data = rng.standard_normal((h, w, n)).astype(np.float32)
        for scheme in SCHEMES:
            r = reduce(data, "sum", scheme, arch=arch)
            rows.append({"kernel": f"reduce sum, {scheme}", "problem": f"{n} fp32 per PE",
                         "pes": f"{w}x{h}", "cycles": r.cycles,
                         "model": predicted_reduce_cycles(w, h, n, scheme, arch),
                         "notes": "to (0, 0); model = cost model T"})
    data = rng.standard_normal((1, 64, 64)).astype(np.float32)
    for scheme in SCHEMES:
        r = reduce(data, "sum", scheme, arch=arch, root=(32, 0))
        rows.append({"kernel": f"reduce sum, {scheme}", "problem": "64 fp32 per PE",
                     "pes": "64x1", "cycles": r.cycles,
                     "model": predicted_reduce_cycles(64, 1, 64, scheme, arch, root=(32, 0)),
                     "notes": "to (32, 0): both halves at once, the root takes one after the other"})
    data = rng.standard_normal((16, 16, 64)).astype(np.float32)
    for scheme in SCHEMES:
        r = allreduce(data, "sum", scheme, arch=arch)
        rows.append({"kernel": f"allreduce sum, {scheme}", "problem": "64 fp32 per PE",
                     "pes": "16x16", "cycles": r.cycles, "notes": "reduce + broadcast"})
    return rows
