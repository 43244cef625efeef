"""GEMV kernels (kernels/gemv/gemv.s, gemv_t.s) against NumPy, over problem sizes and grid
shapes chosen by hypothesis (including sizes that do not divide the grid, and 1 x N / N x 1
rectangles).

Two checks per run:
1. Bit-exact equality with the operation-for-operation NumPy model (kernels/gemv/model.py):
   the emulator rounds every fmachs product and sum to fp32 exactly as NumPy float32 does,
   and the model adds in the kernel's order, so any difference is a kernel or emulator bug.
2. The error against the exact (float64) product is within the a-priori bound for fp32
   accumulation (model.error_bound): the inputs are exact (fp16 A widens to fp32 exactly),
   each output is a sum of n+1 terms (n products and b) with one fp32 rounding per product
   and per addition, so |y - y_exact| <= gamma_{n+1} * (sum_j |a_ij x_j| + |b_i|),
   gamma_k = k u / (1 - k u), u = 2^-24, plus k * 2^-149 for subnormal underflow.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from wse.kernels.gemv.model import error_bound, gemv_model, gemv_t_model
from wse.kernels.gemv.run import gemv, gemv_t, utilization

shapes = st.tuples(st.integers(1, 48), st.integers(1, 48), st.integers(1, 6), st.integers(1, 6))


def _data(m, n, seed, bias, xlen, blen):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, (m, n)).astype(np.float16)
    x = rng.uniform(-2, 2, xlen).astype(np.float32)
    b = rng.uniform(-2, 2, blen).astype(np.float32) if bias else None
    return a, x, b


def _check(y, model, exact, bound):
    assert y.shape == model.shape
    np.testing.assert_array_equal(y.view(np.uint32), model.view(np.uint32))
    err = np.abs(y.astype(np.float64) - exact)
    assert np.all(err <= bound), f"max err/bound {np.max(err / bound)}"


@settings(max_examples=100)
@given(shapes, st.booleans(), st.integers(0, 2**31))
@example((7, 5, 1, 5), True, 1)      # N x 1 rectangle (a column of 5 PEs), M not divisible
@example((5, 9, 4, 1), False, 2)     # 1 x N rectangle (a row of 4 PEs), N not divisible
@example((1, 1, 1, 1), True, 3)
@example((3, 2, 4, 4), True, 4)      # more PEs than rows/columns: whole blocks of padding
def test_gemv(shape, bias, seed):
    m, n, kx, ky = shape
    a, x, b = _data(m, n, seed, bias, n, m)
    r = gemv(a, x, b, grid=(kx, ky))
    exact = a.astype(np.float64) @ x.astype(np.float64)
    if b is not None:
        exact = exact + b
    _check(r.y, gemv_model(a, x, b, kx, ky), exact, error_bound(a, x, b))
    assert r.cycles > 0


@settings(max_examples=60)
@given(shapes, st.booleans(), st.integers(0, 2**31))
@example((7, 5, 1, 5), True, 1)
@example((5, 9, 4, 1), False, 2)
@example((2, 3, 3, 3), True, 4)
def test_gemv_t(shape, bias, seed):
    m, n, kx, ky = shape
    a, x, b = _data(m, n, seed, bias, m, n)
    r = gemv_t(a, x, b, grid=(kx, ky))
    exact = a.astype(np.float64).T @ x.astype(np.float64)
    if b is not None:
        exact = exact + b
    _check(r.y, gemv_t_model(a, x, b, kx, ky), exact, error_bound(a, x, b, transpose=True))


def test_gemv_special_values():
    """Signed zeros, subnormal products and large magnitudes go through unchanged rules."""
    a = np.array([[0.0, -0.0, 65504.0], [6e-8, 1.0, -65504.0]], dtype=np.float16)
    x = np.array([-0.0, 3e-38, 1e30], dtype=np.float32)
    r = gemv(a, x, None, grid=(2, 1))
    model = gemv_model(a, x, None, 2, 1)
    np.testing.assert_array_equal(r.y.view(np.uint32), model.view(np.uint32))


def test_gemv_cycles_scale_with_block():
    """Work per PE is one fmachs of MB elements per x element: doubling the columns per PE
    must cost more cycles, and utilization stays in (0, 1]."""
    a, x, _ = _data(16, 32, 0, False, 32, 16)
    r1 = gemv(a[:, :16], x[:16], grid=(2, 2))
    r2 = gemv(a, x, grid=(2, 2))
    assert r2.cycles > r1.cycles
    for r, n in ((r1, 16), (r2, 32)):
        u = utilization(16, n, 2, 2, r.cycles)
        assert 0 < u <= 1


def test_gemv_too_big_for_a_pe():
    a = np.zeros((400, 400), dtype=np.float16)
    with pytest.raises(ValueError, match=r"A is 400 x 400 on grid=\(1, 1\): a PE's 400 x 400 block needs .* use grid=\(7, 1\) or larger"):
        gemv(a, np.zeros(400, np.float32), grid=(1, 1))


def test_tutorial():
    """docs/tutorial.md works when followed as written: every code excerpt is verbatim in the
    file it names, and every command prints exactly the output shown."""
    from pathlib import Path
    from wse.kernels.gemv.tutorial import doc_blocks, run_command
    root = Path(__file__).resolve().parents[2]
    blocks = doc_blocks((root / "docs" / "tutorial.md").read_text())
    assert sum(k == "run" for k, _, _ in blocks) >= 6
    for kind, arg, body in blocks:
        if kind == "file":
            assert body in (root / arg).read_text(), f"excerpt not found verbatim in {arg}"
        elif kind == "run":
            assert run_command(arg) == body, f"output of {arg!r} differs from the tutorial"


def test_tutorial_shell_sessions(tmp_path):
    """The tutorial's shell sessions (wse-as, wse-emu and python one-liners typed from the
    repository root) print what the tutorial shows; they run in a scratch folder that sees the
    repository's kernels/, with this interpreter's scripts first on PATH."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    from wse.kernels.gemv.tutorial import doc_blocks, shell_steps
    root = Path(__file__).resolve().parents[2]
    blocks = [b for k, _, b in doc_blocks((root / "docs" / "tutorial.md").read_text()) if k == "shell"]
    assert blocks
    (tmp_path / "kernels").symlink_to(root / "kernels")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    for body in blocks:
        for cmd, want in shell_steps(body):
            r = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, f"{cmd!r} failed: {r.stderr}"
            assert r.stdout.rstrip("\n") == want, f"output of {cmd!r} differs from the tutorial"


def test_bench_gemv_small():
    """The wse-bench entry point on a small case: its keys, a utilization in (0, 1], and
    the cycle count of the kernel it reports (it checks y against the fp32 bound itself)."""
    from wse.kernels.gemv.bench import bench_gemv
    d = bench_gemv(m=96, n=80, kx=4, ky=3)
    assert set(d) >= {"gemv_cycles", "gemv_utilization", "gemv_wall_s", "gemv_pe_cycles_per_s",
                      "gemv_numpy_wall_s"}
    assert 0 < d["gemv_utilization"] <= 1
    a, x, _ = _data(96, 80, 0, False, 80, 96)
    assert d["gemv_cycles"] == gemv(a, x, grid=(4, 3)).cycles   # cycles do not depend on values


def test_bench_layout_fits():
    """The benchmark's layout (4096 x 4096 on 64 x 64 PEs) assembles: every PE is placed,
    holds a 64 x 64 block, and only the top row has x."""
    from wse.kernels.driver import assemble, kernel_source, load_object
    from wse.kernels.gemv.run import defines_for
    obj = load_object(assemble(kernel_source("gemv/gemv.s"), defines_for(4096, 4096, 64, 64)))
    assert (obj.width, obj.height) == (64, 64)
    assert len(obj.pes_with("A")) == 64 * 64
    assert obj.image_at(63, 63).symbol("A").count == 64 * 64
    assert obj.pes_with("x") == [(px, 0) for px in range(64)]


def test_run_kernel_takes_text_or_path_and_one_array_for_every_pe(tmp_path):
    """run_kernel as docs/tutorial.md describes it: the source as a path or as the assembly
    text, and an input as one array for every PE that exports the symbol or as {(x, y): array};
    the three forms give the same y. A path that does not exist and a symbol nobody exports are
    one-line errors that say what to pass."""
    from wse.kernels.driver import kernel_source, run_kernel
    path = kernel_source("gemv/one_pe.s")
    a = (np.arange(48).reshape(8, 6) / 8).astype(np.float16)
    x = np.ones(6, np.float32)
    want = a.astype(np.float32).sum(axis=1)
    d = {"MB": 8, "NB": 6}
    r1 = run_kernel(path, d, {"A": {(0, 0): a.ravel(order="F")}, "x": {(0, 0): x}}, ["y"])
    r2 = run_kernel(path.read_text(), d, {"A": a.ravel(order="F"), "x": x}, ["y"])
    r3 = run_kernel(str(path), d, {"A": a.ravel(order="F"), "x": x}, ["y"])
    for r in (r1, r2, r3):
        assert np.array_equal(r.outputs["y"][(0, 0)], want) and r.cycles == 49
    with pytest.raises(FileNotFoundError, match="pass the path of a .s file, or the assembly text"):
        run_kernel(str(tmp_path / "nope.s"), d)
    with pytest.raises(KeyError, match="no PE exports the symbol 'nosuch'"):
        run_kernel(path, d, {"nosuch": x})
