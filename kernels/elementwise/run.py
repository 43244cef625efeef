"""Drivers of the element-wise kernels (``elementwise.s``, ``silu.s``).

Each function lays the vector(s) out over a W x H rectangle (see :mod:`wse.kernels.lib.host`),
runs the kernel and returns ``Result(out, cycles, run)``. Inputs are converted to fp32. Every
function takes ``grid=(w, h)`` and the keywords ``arch``, ``backend``, ``max_cycles``, and
refuses an N that its kernel cannot hold (:func:`limits`) before assembling.
"""
from __future__ import annotations

import numpy as np

from wse.kernels.lib.host import Limit, Result, check_size, gather, grid_of, limit, run, scatter, vector

F32 = np.float32
_OPS = {"add": 0, "mul": 1, "scale": 2, "residual": 3}
OPS = ("add", "mul", "scale", "residual", "silu", "swiglu")
PER_ELEMENT = 6          # words per element on a PE: x, y, z f32[CMAX] (both kernels' memory maps)


def _spec(op: str):
    """(kernel, defines(n, w, h)) of an op."""
    if op in _OPS:
        return "elementwise/elementwise.s", lambda n, w, h: {"N": n, "W": w, "H": h, "OP": _OPS[op]}
    if op in ("silu", "swiglu"):
        return "elementwise/silu.s", lambda n, w, h: {"N": n, "W": w, "H": h, "GLU": int(op == "swiglu")}
    raise ValueError(f"op {op!r}: one of {', '.join(OPS)}")


def limits(op: str = "add", grid=(1, 1), arch: str = "wse3") -> Limit:
    """How many elements ``op`` takes on ``grid`` (per PE and in all)."""
    rel, defines = _spec(op)
    return limit(rel, defines, PER_ELEMENT, grid, arch)


def check(op: str, n: int, grid=(1, 1), arch: str = "wse3") -> None:
    """Refuse, with a SizeError, an N that ``op`` cannot hold on ``grid``: its first check, for a
    caller that has not made the data yet (the command line: N = 10**12 is refused, not allocated)."""
    rel, defines = _spec(op)
    check_size(rel, defines, PER_ELEMENT, n, grid_of(grid), arch)


def _run(op: str, n: int, w: int, h: int, inputs: dict, outsym: str, kw: dict) -> Result:
    rel, defines = _spec(op)
    r = run(rel, defines(n, w, h), inputs, [outsym], **kw)
    return Result(gather(r.outputs[outsym], n, w, h), r.cycles, r)


def _kw(arch, backend, max_cycles) -> dict:
    return {"arch": arch, "backend": backend, "max_cycles": max_cycles}


def _binary(op: str, x, y, grid, kw: dict, alpha=None) -> Result:
    w, h = grid_of(grid)
    names = {"residual": ("h", "f")}.get(op, ("x", "y"))
    x = vector(names[0], x)
    n = len(x)
    y = np.zeros(n, F32) if y is None else vector(names[1], y, n)
    check(op, n, (w, h), kw.get("arch", "wse3"))
    inputs = {"x": scatter(x, w, h), "y": scatter(y, w, h)}
    if op == "scale":
        if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)):
            raise TypeError(f"alpha must be a number, got {alpha!r}")
        inputs["alpha"] = {pe: vector("alpha", [alpha]) for pe in inputs["x"]}
    return _run(op, n, w, h, inputs, "x" if op == "residual" else "z", kw)


def add(x, y, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
        max_cycles: int | None = None) -> Result:
    """z = x + y."""
    return _binary("add", x, y, grid, _kw(arch, backend, max_cycles))


def mul(x, y, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
        max_cycles: int | None = None) -> Result:
    """z = x * y."""
    return _binary("mul", x, y, grid, _kw(arch, backend, max_cycles))


def scale(x, alpha: float, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
        max_cycles: int | None = None) -> Result:
    """z = alpha * x."""
    return _binary("scale", x, None, grid, _kw(arch, backend, max_cycles), alpha=alpha)


def residual_add(h, f, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
        max_cycles: int | None = None) -> Result:
    """h + f computed in place in h's memory (the transformer's residual stream update)."""
    return _binary("residual", h, f, grid, _kw(arch, backend, max_cycles))


def silu(x, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
        max_cycles: int | None = None) -> Result:
    """x / (1 + exp(-x)), with exp and the reciprocal in software."""
    w, h = grid_of(grid)
    x = vector("x", x)
    n = len(x)
    check("silu", n, (w, h), arch)
    return _run("silu", n, w, h, {"x": scatter(x, w, h)}, "z", _kw(arch, backend, max_cycles))


def swiglu(gate, up, grid=(1, 1), *, arch: str = "wse3", backend: str | None = None,
        max_cycles: int | None = None) -> Result:
    """silu(gate) * up."""
    w, h = grid_of(grid)
    g = vector("gate", gate)
    n = len(g)
    u = vector("up", up, n)
    check("swiglu", n, (w, h), arch)
    return _run("swiglu", n, w, h, {"x": scatter(g, w, h), "y": scatter(u, w, h)}, "z",
                _kw(arch, backend, max_cycles))


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
