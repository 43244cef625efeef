"""Measure the software math routines of kernels/lib ON THE EMULATOR.

    python -m wse.kernels.lib.measure [--per-pe M] [--grid WxH] [--seed S]

For each routine it builds a set of fp32 inputs over the routine's range (the edges and special
values of the range plus uniformly spread bit patterns, i.e. log-uniform for rcp/rsqrt), runs
``mathfn.s`` on a W x H rectangle (M inputs per PE), and compares the emulator's outputs with a
float64 reference: max error in ulp (of the fp32 reference value) and max relative error, the
fraction correctly rounded, and whether the outputs equal the bit-exact numpy model
(:mod:`wse.kernels.lib.model`) everywhere. Set WSE_EMU=reference to use the pure-Python
interpreter instead of the C core.
"""
from __future__ import annotations

import argparse

import numpy as np

from wse.kernels.lib import model as M
from wse.kernels.lib.host import run

F32 = np.float32
FNS = {"exp": 0, "rcp": 1, "rsqrt": 2, "sincos": 3}


def ulp_error(got, ref64) -> np.ndarray:
    """|got - ref| in units of the fp32 ulp at the reference value (ulp(x) = spacing of the
    binade of |x|; subnormal results use the subnormal spacing)."""
    ref64 = np.asarray(ref64, np.float64)
    r32 = np.abs(ref64).astype(F32)
    with np.errstate(over="ignore"):
        ulp = np.spacing(r32).astype(np.float64)
        # the binade below a power of two: use the smaller spacing if ref64 is below r32
        below = np.abs(ref64) < r32.astype(np.float64)
        ulp = np.where(below, np.spacing(np.nextafter(r32, F32(0))).astype(np.float64), ulp)
    return np.abs(np.asarray(got, np.float64) - ref64) / ulp


def inputs(fn: str, n: int, rng) -> np.ndarray:
    def bitrange(lo, hi, k):
        a, b = sorted([int(M.bits(F32(lo))), int(M.bits(F32(hi)))])
        return M.from_bits(rng.integers(a, b + 1, k))
    if fn == "exp":
        edge = F32([0, -0.0, 1, -1, 88.72283172607422, 88.72283935546875, -87.33654, -87.0,
                    88.0, -103.97207, -103.972084, 1e-8, -1e-8])
        body = rng.uniform(-87, 88, n - len(edge)).astype(F32)
    elif fn == "rcp":
        edge = F32([1, 2, 3, 0.5, 2.0 ** 125, 2.0 ** -125, 1.5, 7, 1e30, 1e-30, 65504, 1 / 3])
        body = bitrange(2.0 ** -125, 2.0 ** 125, n - len(edge))
    elif fn == "rsqrt":
        edge = F32([1, 2, 4, 0.25, 3e38, 2.0 ** -126, 1e-5, 1e-6, 0.5, 3, 100])
        body = bitrange(2.0 ** -126, 3.4e38, n - len(edge))
    else:
        edge = F32([0, np.pi / 4, np.pi / 2, np.pi, -np.pi, 1, -1, 100, 1000, 1e4, -1e4])
        body = rng.uniform(-1e4, 1e4, n - len(edge)).astype(F32)
        body[: len(body) // 2] = rng.uniform(-8, 8, len(body) // 2)
    return np.concatenate([edge, body]).astype(F32)


def run_fn(fn: str, x: np.ndarray, grid=(4, 4)):
    """Run mathfn.s over x (len divisible by W*H); returns (y, y2, cycles)."""
    w, h = grid
    m = len(x) // (w * h)
    assert m * w * h == len(x)
    per = {(i % w, i // w): x[i * m:(i + 1) * m] for i in range(w * h)}
    r = run("lib/mathfn.s", {"W": w, "H": h, "M": m, "FN": FNS[fn]}, {"x": per}, ["y", "y2"])
    y = np.concatenate([r.outputs["y"][(i % w, i // w)] for i in range(w * h)])
    y2 = np.concatenate([r.outputs["y2"][(i % w, i // w)] for i in range(w * h)])
    return y, y2, r.cycles


def measure(fn: str, per_pe: int = 256, grid=(4, 4), seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n = per_pe * grid[0] * grid[1]
    x = inputs(fn, n, rng)
    y, y2, cycles = run_fn(fn, x, grid)
    x64 = x.astype(np.float64)
    # cycles per iteration of mathfn.s's loop: the call, its ret and the loop's 8 cycles (9 for sincos)
    res = {"fn": fn, "n": n, "cycles": cycles, "cycles_per_iteration": cycles / per_pe}
    with np.errstate(all="ignore"):
        if fn == "exp":
            refs = {"exp": (y, np.exp(x64), M.exp_f32(x))}
        elif fn == "rcp":
            refs = {"rcp": (y, 1.0 / x64, M.rcp_f32(x))}
        elif fn == "rsqrt":
            refs = {"rsqrt": (y, 1.0 / np.sqrt(x64), M.rsqrt_f32(x))}
        else:
            s, c = M.sincos_f32(x)
            small = np.abs(x) <= 8
            refs = {"sin": (y, np.sin(x64), s), "cos": (y2, np.cos(x64), c),
                    "sin|x|<=8": (y, np.sin(x64), s, small), "cos|x|<=8": (y2, np.cos(x64), c, small)}
    for name, (got, ref, model, *sel) in refs.items():
        # normal fp32 results only (overflow to inf and underflow are checked in test_math.py)
        fin = (np.abs(ref) >= 2.0 ** -126) & (np.abs(ref) <= float(np.finfo(F32).max))
        if sel:
            fin &= sel[0]
        e = ulp_error(got[fin], ref[fin])
        rel = np.abs(got[fin].astype(np.float64) - ref[fin]) / np.abs(ref[fin])
        res[name] = {
            "max_ulp": float(e.max()), "max_rel": float(rel.max()),
            "max_abs": float(np.max(np.abs(got[fin].astype(np.float64) - ref[fin]))),
            "correctly_rounded": float(np.mean(got[fin] == ref[fin].astype(F32))),
            "bit_exact_model": bool(np.array_equal(got.view(np.uint32), np.asarray(model, F32).view(np.uint32))),
        }
    return res


def measure_rope(n_pos: int = 64, head_dim: int = 128, theta: float = 10000.0, seed: int = 0):
    """RoPE's on-PE sin/cos (rope.s): rotating x = (1, 0) pairs gives y = (cos a, sin a), so
    the kernel's outputs are its cos/sin; compared with float64 cos/sin of pos*freq at n_pos
    positions on the emulator. The same over EVERY position below 2^17 goes through the
    bit-exact model (``rope_sincos``, which tests/kernels/test_elementwise.py holds rope.s to
    bit for bit): a sample of positions misses the worst one."""
    from wse.kernels.rope.run import frequencies, rope
    rng = np.random.default_rng(seed)
    pos = np.concatenate([[0, 1, 2 ** 17 - 1], rng.integers(0, 2 ** 17, n_pos - 3)])
    x = np.tile(F32([1, 0]), head_dim // 2)
    freq = frequencies(head_dim, theta)
    err, cycles = 0.0, 0
    for p in pos:
        r = rope(x, int(p), head_dim, theta, grid=(4, 4))
        ang = float(p) * freq
        err = max(err, np.max(np.abs(r.out[0::2] - np.cos(ang))), np.max(np.abs(r.out[1::2] - np.sin(ang))))
        cycles = r.cycles
    worst, worst_pos = rope_sincos_sweep(freq)
    return {"positions": len(pos), "pairs": head_dim // 2, "max_abs": float(err), "cycles": cycles,
            "model_max_abs": worst, "model_worst_pos": worst_pos}


def rope_sincos_sweep(freq: np.ndarray, limit: int = 2 ** 17) -> tuple[float, int]:
    """(max abs error, the position where it is) of rope.s's sin/cos against float64 over EVERY
    position below limit, through its bit-exact model rope_sincos."""
    from wse.kernels.lib.model import rope_pieces, rope_sincos
    pieces = rope_pieces(freq)
    worst, worst_pos = 0.0, 0
    for lo in range(0, limit, 8192):
        every = np.arange(lo, min(lo + 8192, limit))
        s, c = rope_sincos(every, pieces)
        ang = every[:, None].astype(np.float64) * freq
        e = np.maximum(np.abs(s - np.sin(ang)), np.abs(c - np.cos(ang))).max(axis=1)
        if e.max() > worst:
            worst, worst_pos = float(e.max()), int(every[np.argmax(e)])
    return worst, worst_pos


def main(argv=None) -> None:
    from wse.cli.files import int_arg
    ap = argparse.ArgumentParser(prog="python -m wse.kernels.lib.measure", description=__doc__.split("\n")[1])
    ap.add_argument("--per-pe", type=int_arg, default=256)
    ap.add_argument("--grid", nargs="+", default=["4x4"], metavar="WxH",
                    help="the rectangle of PEs: WxH (as wse-emu and wse-llm take it) or W H (default 4x4)")
    ap.add_argument("--seed", type=int_arg, default=0)
    a = ap.parse_args(argv)
    if not 1 <= a.per_pe <= 4096:
        ap.error(f"--per-pe must be in 1..4096 (values per PE; a PE's SRAM holds the inputs and outputs), got {a.per_pe}")
    g = a.grid[0].lower().split("x") if len(a.grid) == 1 else a.grid
    if len(g) != 2 or not all(v.strip().isdigit() for v in g):
        ap.error(f"--grid takes WxH (e.g. 4x4) or W H, got {' '.join(a.grid)}")
    a.grid = (int(g[0]), int(g[1]))
    if not all(1 <= v <= 64 for v in a.grid):
        ap.error(f"--grid W H must be in 1..64 each, got {a.grid[0]}x{a.grid[1]}")
    if a.seed < 0:
        ap.error(f"--seed must be >= 0, got {a.seed}")
    for fn in FNS:
        r = measure(fn, a.per_pe, tuple(a.grid), a.seed)
        for name in ("exp", "rcp", "rsqrt", "sin", "cos", "sin|x|<=8", "cos|x|<=8"):
            if name in r:
                m = r[name]
                print(f"{name:9s} n={r['n']:7d}  max {m['max_ulp']:.3f} ulp  rel {m['max_rel']:.3e}  "
                      f"abs {m['max_abs']:.3e}  correctly rounded {100 * m['correctly_rounded']:.2f}%  "
                      f"model bit-exact: {m['bit_exact_model']}  ~{r['cycles_per_iteration']:.1f} cycles/iteration (call + loop)")
    r = measure_rope()
    print(f"rope sin/cos from the position (rope.s): {r['positions']} positions in [0, 2^17) x "
          f"{r['pairs']} frequencies on the emulator: max abs error {r['max_abs']:.3e}; every position in "
          f"[0, 2^17) through its bit-exact model: max abs error {r['model_max_abs']:.3e} (pos {r['model_worst_pos']})")


if __name__ == "__main__":
    import sys

    from wse.kernels._cli import guarded
    sys.exit(guarded("python -m wse.kernels.lib.measure", main))
