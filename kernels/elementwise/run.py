"""Drivers of the element-wise kernels (``elementwise.s``, ``silu.s``).

Each function lays the vector(s) out over a W x H rectangle (see :mod:`wse.kernels.lib.host`),
runs the kernel and returns ``Result(out, cycles, run)``. Inputs are converted to fp32.
"""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Result, gather, grid_of, run, scatter, vector

F32 = np.float32
_OPS = {"add": 0, "mul": 1, "scale": 2, "residual": 3}


def _binary(op: str, x, y, grid, alpha=None, **kw) -> Result:
    w, h = grid_of(grid)
    names = {"residual": ("h", "f")}.get(op, ("x", "y"))
    x = vector(names[0], x)
    n = len(x)
    y = np.zeros(n, F32) if y is None else vector(names[1], y, n)
    inputs = {"x": scatter(x, w, h), "y": scatter(y, w, h)}
    if op == "scale":
        if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)):
            raise TypeError(f"alpha must be a number, got {alpha!r}")
        inputs["alpha"] = {pe: vector("alpha", [alpha]) for pe in inputs["x"]}
    outsym = "x" if op == "residual" else "z"
    r = run("elementwise/elementwise.s", {"N": n, "W": w, "H": h, "OP": _OPS[op]},
            inputs, [outsym], **kw)
    return Result(gather(r.outputs[outsym], n, w, h), r.cycles, r)


def add(x, y, grid=(1, 1), **kw) -> Result:
    """z = x + y."""
    return _binary("add", x, y, grid, **kw)


def mul(x, y, grid=(1, 1), **kw) -> Result:
    """z = x * y."""
    return _binary("mul", x, y, grid, **kw)


def scale(x, alpha: float, grid=(1, 1), **kw) -> Result:
    """z = alpha * x."""
    return _binary("scale", x, None, grid, alpha=alpha, **kw)


def residual_add(h, f, grid=(1, 1), **kw) -> Result:
    """h + f computed in place in h's memory (the transformer's residual stream update)."""
    return _binary("residual", h, f, grid, **kw)


def silu(x, grid=(1, 1), **kw) -> Result:
    """x / (1 + exp(-x)), with exp and the reciprocal in software."""
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    r = run("elementwise/silu.s", {"N": n, "W": w, "H": h, "GLU": 0},
            {"x": scatter(x, w, h)}, ["z"], **kw)
    return Result(gather(r.outputs["z"], n, w, h), r.cycles, r)


def swiglu(gate, up, grid=(1, 1), **kw) -> Result:
    """silu(gate) * up."""
    w, h = grid_of(grid)
    g = vector("gate", gate)
    n = len(g)
    u = vector("up", up, n)
    r = run("elementwise/silu.s", {"N": n, "W": w, "H": h, "GLU": 1},
            {"x": scatter(g, w, h), "y": scatter(u, w, h)}, ["z"], **kw)
    return Result(gather(r.outputs["z"], n, w, h), r.cycles, r)


def table_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n, grid in [(2048, (1, 1)), (4096, (8, 8)), (8192, (16, 16))]:
        x = rng.standard_normal(n).astype(F32)
        y = rng.standard_normal(n).astype(F32)
        pes = f"{grid[0]}x{grid[1]}"
        rows.append({"kernel": "add", "problem": f"N={n}", "pes": pes,
                     "cycles": add(x, y, grid).cycles, "notes": "one fadds per PE"})
        rows.append({"kernel": "silu", "problem": f"N={n}", "pes": pes,
                     "cycles": silu(x, grid).cycles, "notes": "scalar software exp + rcp"})
        rows.append({"kernel": "swiglu", "problem": f"N={n}", "pes": pes,
                     "cycles": swiglu(x, y, grid).cycles, "notes": "scalar software exp + rcp"})
    return rows
