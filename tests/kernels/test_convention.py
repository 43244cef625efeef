"""One calling convention for every driver of the kernel library: the problem arrays, then
grid=(w, h), then arch=, backend=, max_cycles= passed through to the run; one result type,
driver.Result(out, cycles, run). The audit found grid=/kx,ky/w,h, three result types and
drivers that dropped backend= or max_cycles=."""
import numpy as np
import pytest

from wse.emu import WseError
from wse.kernels import driver
from wse.kernels.argmax.run import argmax
from wse.kernels.collectives.run import allreduce, broadcast, reduce
from wse.kernels.elementwise import run as E
from wse.kernels.gemv.run import gemv, gemv_t
from wse.kernels.norm.run import rmsnorm
from wse.kernels.rope.run import rope
from wse.kernels.softmax.run import softmax

F32 = np.float32
X = np.random.default_rng(0).standard_normal(24).astype(F32)
Y = np.random.default_rng(1).standard_normal(24).astype(F32)
A = np.random.default_rng(2).uniform(-1, 1, (12, 10)).astype(np.float16)
D = np.random.default_rng(3).standard_normal((2, 3, 5)).astype(F32)

CALLS = {
    "add": lambda **kw: E.add(X, Y, grid=(3, 2), **kw),
    "mul": lambda **kw: E.mul(X, Y, grid=(3, 2), **kw),
    "scale": lambda **kw: E.scale(X, 0.5, grid=(3, 2), **kw),
    "residual_add": lambda **kw: E.residual_add(X, Y, grid=(3, 2), **kw),
    "silu": lambda **kw: E.silu(X, grid=(3, 2), **kw),
    "swiglu": lambda **kw: E.swiglu(X, Y, grid=(3, 2), **kw),
    "softmax": lambda **kw: softmax(X, grid=(3, 2), **kw),
    "rmsnorm": lambda **kw: rmsnorm(X, Y, grid=(3, 2), **kw),
    "argmax": lambda **kw: argmax(X, grid=(3, 2), **kw),
    "rope": lambda **kw: rope(X, 5, 8, grid=(3, 2), **kw),
    "gemv": lambda **kw: gemv(A, X[:10], grid=(3, 2), **kw),
    "gemv_t": lambda **kw: gemv_t(A, X[:12], grid=(3, 2), **kw),
    "broadcast": lambda **kw: broadcast(X[:5], grid=(3, 2), **kw),
    "reduce": lambda **kw: reduce(D, grid=(3, 2), **kw),
    "allreduce": lambda **kw: allreduce(D, grid=(3, 2), **kw),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_one_convention(name):
    call = CALLS[name]
    r = call()
    assert isinstance(r, driver.Result) and isinstance(r.run, driver.KernelRun)
    out, cycles, run = r                                   # still a tuple
    assert cycles == r.cycles > 0 and r.pes == 6 and run is r.run
    if name != "argmax":
        assert isinstance(out, np.ndarray) and out.dtype == F32
    # backend= reaches the run: the reference interpreter gives the same answer and cycles
    ref = call(backend="reference")
    assert ref.run.stats["backend"] != r.run.stats["backend"]
    assert ref.cycles == r.cycles
    np.testing.assert_array_equal(np.asarray(ref.out, dtype=F32), np.asarray(r.out, dtype=F32))
    # max_cycles= reaches the run: the watchdog stops it
    with pytest.raises(WseError, match="max_cycles = 3"):
        call(max_cycles=3)
    # arch= reaches the assembler and the fabric
    assert call(arch="wse2").run.fabric is not None
    with pytest.raises(ValueError, match="arch 'wse9'"):
        call(arch="wse9")


def test_reduce_grid_must_match_data():
    with pytest.raises(ValueError, match=r"grid=\(2, 3\) disagrees with data of shape \(2, 3, 5\).* grid=\(3, 2\)"):
        reduce(D, grid=(2, 3))


def test_broadcast_old_positional_form():
    old, new = broadcast(X[:5], 3, 2), broadcast(X[:5], (3, 2))
    assert old.cycles == new.cycles
    np.testing.assert_array_equal(old.out, new.out)
    with pytest.raises(TypeError, match="broadcast needs grid"):
        broadcast(X[:5])
