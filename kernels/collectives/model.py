"""NumPy models of the collective kernels and the wafer-scale reduce cost model.

Rectangle of W x H PEs, each holding a vector of n fp32. Reductions go to the root PE (rx, ry),
(0, 0) by default: first along every row to column rx, then along column rx to row ry (a 1 x H
or W x 1 rectangle is just one of the two phases). A line of P PEs with its root at index R is
cut there: the far side (indices R .. P-1) and the near side (R .. 0, reversed) each reduce to
the root with the phase's scheme, the far side first (the root combines its partials, then the
near side's). Each side uses one of three 1-D schemes over a line of P PEs whose index 0 is the
root:

- ``chain``: PE i receives the running partial from PE i+1 and forwards v[i] + partial to
  PE i-1, element by element (pipelined): s = v[P-1]; s = v[i] + s for i = P-2 .. 0.
- ``tree``: binary tree (recursive halving): at level l (l = 0, 1, ...) PE i with
  i mod 2^(l+1) == 2^l sends its partial 2^l hops West to PE i - 2^l, which adds it to its own.
- ``twophase``: the line is cut into segments of S PEs; phase 1 chains inside every segment
  to its first PE (all segments at once); phase 2 chains the segment results to PE 0.

The models perform the additions in exactly the kernels' order, so fp32 sums match bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

f32 = np.float32
SCHEMES = ("chain", "tree", "twophase")
OPS = ("sum", "max")


def _combine(op: str, mine: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    # The kernel computes fadds/fmaxs dst, mine, incoming: mine is src0, incoming src1.
    if op == "sum":
        return (mine + incoming).astype(f32)
    return np.maximum(mine, incoming).astype(f32)


def default_segment(p: int, root: int = 0) -> int:
    """Two-phase segment length: about sqrt of the longer side of the root (the whole line for
    the root 0), which balances the two chains; both sides use it."""
    return max(1, round(math.sqrt(max(p - root, root + 1))))


def line_edges(p: int, scheme: str, seg: int | None = None) -> list[tuple[int, int, int]]:
    """The reduction tree over a line of p PEs as (src, dst, step) triples; step orders the
    dependent combines (an edge at step k needs all edges into src at steps < k)."""
    if scheme == "chain":
        return [(i + 1, i, p - 2 - i) for i in range(p - 1)]
    if scheme == "tree":
        edges = []
        lvl = 0
        while (1 << lvl) < p:
            d = 1 << lvl
            for i in range(0, p, 2 * d):
                if i + d < p:
                    edges.append((i + d, i, lvl))
            lvl += 1
        return edges
    if scheme == "twophase":
        s = seg or default_segment(p)
        edges = []
        for k0 in range(0, p, s):
            k1 = min(k0 + s, p)
            for i in range(k0, k1 - 1):
                edges.append((i + 1, i, k1 - 2 - i))
        roots = list(range(0, p, s))
        for j in range(len(roots) - 1):
            edges.append((roots[j + 1], roots[j], s + len(roots) - 2 - j))
        return edges
    raise ValueError(f"unknown scheme {scheme!r}; one of {SCHEMES}")


def _reduce_side(vals: list[np.ndarray], op: str, scheme: str, seg: int | None) -> np.ndarray:
    v = [np.asarray(a, dtype=f32).copy() for a in vals]
    for src, dst, _ in sorted(line_edges(len(v), scheme, seg), key=lambda e: e[2]):
        v[dst] = _combine(op, v[dst], v[src])
    return v[0]


def reduce_line(vals: list[np.ndarray], op: str, scheme: str, seg: int | None = None,
                root: int = 0) -> np.ndarray:
    """Reduce vals[0..P-1] to index ``root`` in the kernel's order: the far side
    vals[root:] first, then the near side vals[root::-1] onto the root's new value."""
    if not 0 <= root < len(vals):
        raise ValueError(f"root {root} is outside the line of {len(vals)} PEs")
    seg = seg or default_segment(len(vals), root)
    far = _reduce_side(vals[root:], op, scheme, seg)
    return _reduce_side([far] + list(vals[:root][::-1]), op, scheme, seg)


def reduce_rect(data: np.ndarray, op: str, scheme: str, seg_x: int | None = None,
                seg_y: int | None = None, root: tuple[int, int] = (0, 0)) -> np.ndarray:
    """data[y, x, :] -> the vector the root (rx, ry) holds after the reduce."""
    h, w, _ = data.shape
    rx, ry = root
    col = [reduce_line([data[y, x] for x in range(w)], op, scheme, seg_x, rx) for y in range(h)]
    return reduce_line(col, op, scheme, seg_y, ry)


# ---------------------------------------------------------------------------------------------
# The wafer-scale reduce cost model (Luczynski et al., HPDC 2024):
#   T = max(C, E/N + L) + (2*T_R + 1) * D
@dataclass
class CostTerms:
    C: int      # contention: wavelets over the busiest link
    E: int      # energy: total wavelet-hops
    N: int      # links that carry any wavelet
    L: int      # longest distance, in cycles: hop_latency x hops on the longest leaf-root path
    T_R: int    # PE <-> router latency, cycles
    D: int      # depth: dependent combine steps on the longest leaf-root path

    @property
    def T(self) -> float:
        return max(self.C, self.E / max(self.N, 1) + self.L) + (2 * self.T_R + 1) * self.D


def line_cost(p: int, n: int, scheme: str, hop_latency: int = 2, t_r: int = 1,
              seg: int | None = None, root: int = 0) -> CostTerms:
    """The model's terms for a line reduce to index ``root``: both sides at once on disjoint
    links (L the longer side's, E and N summed); the root's CE takes the far side's vectors,
    then the near side's, so C is at least n x the edges into the root (its ramp) and D is the
    deeper side's plus one. (With the root at 0 the terms are the original mapping's, which
    leaves the root's ramp out: docs/kernels.md says what that misses for trees.)"""
    if root:
        seg = seg or default_segment(p, root)
        far = _side_cost(p - root, n, scheme, hop_latency, t_r, seg)
        near = _side_cost(root + 1, n, scheme, hop_latency, t_r, seg)
        if p - root == 1:
            return near
        # the root's CE takes the vectors of both sides one after the other: n wavelets per
        # edge into it (chain 2, two-phase up to 4, tree one per level of each side) through
        # its ramp, the busiest "link" whenever the sides' own are less loaded
        into_root = sum(1 for q in (p - root, root + 1) for _, dst, _ in line_edges(q, scheme, seg) if dst == 0)
        return CostTerms(C=max(far.C, near.C, into_root * n), E=far.E + near.E, N=far.N + near.N,
                         L=max(far.L, near.L), T_R=t_r, D=max(far.D, near.D) + 1)
    return _side_cost(p, n, scheme, hop_latency, t_r, seg)


def _side_cost(p: int, n: int, scheme: str, hop_latency: int = 2, t_r: int = 1,
               seg: int | None = None) -> CostTerms:
    """Map one line reduce (P PEs, n-element vectors) onto the model's terms.

    Each tree edge carries the n-wavelet vector along the line over |src - dst| links.
    C = n x (edges sharing the busiest directed link); E = n x sum of path lengths; N = the
    directed links used; L = hop_latency x the longest leaf-to-root path in hops; D = the
    largest number of combines on a leaf-to-root path; T_R = the RAMP latency (1 cycle).
    """
    edges = line_edges(p, scheme, seg)
    load: dict[int, int] = {}
    parent = {}
    for src, dst, _ in edges:
        parent[src] = dst
        for link in range(dst, src):          # link i joins PE i+1 -> PE i
            load[link] = load.get(link, 0) + 1
    longest = depth = 0
    for pe in parent:
        hops = d = 0
        node = pe
        while node in parent:
            hops += node - parent[node]
            d += 1
            node = parent[node]
        longest = max(longest, hops)
        depth = max(depth, d)
    return CostTerms(C=n * max(load.values(), default=0), E=n * sum(load.values()), N=len(load),
                     L=hop_latency * longest, T_R=t_r, D=depth)


def reduce_cost(w: int, h: int, n: int, scheme: str, hop_latency: int = 2, t_r: int = 1,
                seg_x=None, seg_y=None, root: tuple[int, int] = (0, 0)) -> list[CostTerms]:
    """The model's terms for each phase of the rectangle reduce: the row phase (all rows at
    once on disjoint links, so one row's terms), then the column phase. The column phase
    starts from the row phase's results, so the phases are dependent and the predicted time
    is the sum of their T (see predicted_T)."""
    phases = []
    if w > 1:
        phases.append(line_cost(w, n, scheme, hop_latency, t_r, seg_x, root[0]))
    if h > 1:
        phases.append(line_cost(h, n, scheme, hop_latency, t_r, seg_y, root[1]))
    return phases


def predicted_T(phases: list[CostTerms]) -> float:
    return float(sum(ph.T for ph in phases))
