"""Host drivers for the collective kernels: broadcast, reduce (sum / max; chain, tree,
two-phase) and all-reduce over a W x H rectangle of PEs (H = 1: a row, W = 1: a column).

Each PE holds a vector of n fp32 (symbol ``vec``). Inputs are given as an array of shape
(H, W, n): data[y, x] is PE (x, y)'s vector.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..driver import KernelRun, kernel_source, run_kernel
from .model import OPS, SCHEMES, default_segment, predicted_T, reduce_cost

_SCHEME_ID = {s: i for i, s in enumerate(SCHEMES)}
_OP_ID = {o: i for i, o in enumerate(OPS)}


@dataclass
class CollectiveResult:
    out: np.ndarray          # reduce: the root's vector (n,); bcast/allreduce: (H, W, n)
    cycles: int
    run: KernelRun


def _defines(w, h, n, op="sum", scheme="chain", seg_x=None, seg_y=None) -> dict:
    if op not in _OP_ID:
        raise ValueError(f"op {op!r}: one of {OPS}")
    if scheme not in _SCHEME_ID:
        raise ValueError(f"scheme {scheme!r}: one of {SCHEMES}")
    return {"W": w, "H": h, "N": n, "OP": _OP_ID[op], "SCHEME": _SCHEME_ID[scheme],
            "SEGX": seg_x or default_segment(w), "SEGY": seg_y or default_segment(h)}


def _inputs(data: np.ndarray) -> dict:
    h, w, _ = data.shape
    return {"vec": {(x, y): data[y, x] for y in range(h) for x in range(w)}}


def broadcast(root_vec: np.ndarray, w: int, h: int, arch: str = "wse3") -> CollectiveResult:
    """Every PE of the w x h rectangle receives (0, 0)'s vector."""
    v = np.asarray(root_vec, dtype=np.float32).reshape(-1)
    n = v.size
    r = run_kernel(kernel_source("collectives/bcast.s"), {"W": w, "H": h, "N": n},
                   {"vec": {(0, 0): v}}, ["vec"], arch=arch)
    out = np.stack([np.stack([r.outputs["vec"][(x, y)] for x in range(w)]) for y in range(h)])
    return CollectiveResult(out, r.cycles, r)


def reduce(data: np.ndarray, op: str = "sum", scheme: str = "chain", seg_x: int | None = None,
           seg_y: int | None = None, arch: str = "wse3") -> CollectiveResult:
    """Reduce data[y, x, :] over the rectangle to PE (0, 0); returns its vector."""
    data = np.asarray(data, dtype=np.float32)
    h, w, n = data.shape
    d = _defines(w, h, n, op, scheme, seg_x, seg_y)
    r = run_kernel(kernel_source("collectives/reduce.s"), d, _inputs(data), {"vec": [(0, 0)]},
                   arch=arch)
    return CollectiveResult(r.outputs["vec"][(0, 0)].astype(np.float32), r.cycles, r)


def allreduce(data: np.ndarray, op: str = "sum", scheme: str = "chain", seg_x: int | None = None,
              seg_y: int | None = None, arch: str = "wse3") -> CollectiveResult:
    """Every PE ends with the reduction of all vectors; returns the (H, W, n) result."""
    data = np.asarray(data, dtype=np.float32)
    h, w, n = data.shape
    d = _defines(w, h, n, op, scheme, seg_x, seg_y)
    r = run_kernel(kernel_source("collectives/allreduce.s"), d, _inputs(data), ["vec"], arch=arch)
    out = np.stack([np.stack([r.outputs["vec"][(x, y)] for x in range(w)]) for y in range(h)])
    return CollectiveResult(out.astype(np.float32), r.cycles, r)


def predicted_reduce_cycles(w: int, h: int, n: int, scheme: str, arch: str = "wse3",
                            seg_x=None, seg_y=None) -> float:
    """T of the wafer-scale reduce cost model for this kernel's tree (see model.reduce_cost)."""
    from wse.isa import load
    p = load().presets[arch]
    return predicted_T(reduce_cost(w, h, n, scheme, hop_latency=p.hop_latency, t_r=1,
                                   seg_x=seg_x or default_segment(w),
                                   seg_y=seg_y or default_segment(h)))


def compare(sizes=((64, 1, 64), (1, 64, 64), (16, 16, 64), (64, 1, 1), (32, 32, 256)),
            arch: str = "wse3", seed: int = 0) -> list[dict]:
    """Measured reduce-sum cycles of every scheme beside the cost model's prediction."""
    rng = np.random.default_rng(seed)
    rows = []
    for w, h, n in sizes:
        data = rng.standard_normal((h, w, n)).astype(np.float32)
        for scheme in SCHEMES:
            r = reduce(data, "sum", scheme, arch=arch)
            t = predicted_reduce_cycles(w, h, n, scheme, arch)
            rows.append({"w": w, "h": h, "n": n, "scheme": scheme, "cycles": r.cycles,
                         "model": t, "ratio": r.cycles / t})
    return rows


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(prog="python -m wse.kernels.collectives.run",
                            description="Measured cycles of the collective kernels beside the cost "
                            "model's T, for rows, columns and rectangles (docs/kernels.md).").parse_args()
    print(f"{'W x H':>9} {'n':>5} {'scheme':>9} {'cycles':>8} {'model T':>8} {'ratio':>6}")
    for row in compare():
        print(f"{row['w']:>4} x {row['h']:<3} {row['n']:>5} {row['scheme']:>9} {row['cycles']:>8} "
              f"{row['model']:>8.0f} {row['ratio']:>6.2f}")


def table_rows(arch: str = "wse3") -> list[dict]:
    """Rows for docs/kernels.md (python -m wse.kernels.table)."""
    rng = np.random.default_rng(0)
    rows = []
    for w, h, n in ((64, 1, 64), (16, 16, 64)):
        v = rng.standard_normal(n).astype(np.float32)
        r = broadcast(v, w, h, arch=arch)
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
    data = rng.standard_normal((16, 16, 64)).astype(np.float32)
    for scheme in SCHEMES:
        r = allreduce(data, "sum", scheme, arch=arch)
        rows.append({"kernel": f"allreduce sum, {scheme}", "problem": "64 fp32 per PE",
                     "pes": "16x16", "cycles": r.cycles, "notes": "reduce + broadcast"})
    return rows
