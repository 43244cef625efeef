"""The kernel drivers check what they are given and name it: wrong shapes and lengths, floats
where integers belong, complex or non-numeric data, fp16/fp32 overflow, bad grids, roots and
segments. Each case here was found by an adversarial pass over the public APIs, where it
returned a wrong result silently (zero-padded x, inf, a dropped imaginary part, a truncated
root), hung, or failed deep inside numpy."""
import numpy as np
import pytest

from wse.kernels import driver
from wse.kernels.attention.run import AttentionChain
from wse.kernels.collectives.run import broadcast, reduce
from wse.kernels.elementwise.run import add, scale
from wse.kernels.gemv.run import gemv, gemv_t
from wse.kernels.norm.run import rmsnorm
from wse.kernels.rope.run import rope

A = np.ones((12, 10), np.float16)
X16 = np.ones(16, np.float32)
D = np.ones((2, 3, 4), np.float32)

CASES = [
    (lambda: gemv(A, np.ones(5)), ValueError, r"x \(A is 12 x 10\) has shape \(5,\); expected \(10,\)"),
    (lambda: gemv(A, np.ones(10), b=np.ones(5)), ValueError, r"b \(A is 12 x 10\) has shape \(5,\); expected \(12,\)"),
    (lambda: gemv_t(A, np.ones(10)), ValueError, r"expected \(12,\)"),
    (lambda: gemv(np.full((4, 4), 1e6), np.ones(4)), ValueError, "overflows float16 to infinity"),
    (lambda: gemv(np.ones((4, 4)) * 1j, np.ones(4)), TypeError, "real numeric array, got complex128"),
    (lambda: gemv(A, np.ones(10), kx=0), ValueError, "kx must be in 1..4096, got 0"),
    (lambda: gemv(A, np.ones(10), kx=2.0), TypeError, "kx must be an integer, got 2.0"),
    (lambda: reduce(D, scheme="twophase", seg_x=-1), ValueError, "seg_x must be in 1.., got -1"),
    (lambda: reduce(np.ones((3, 4))), ValueError, r"data has shape \(3, 4\)"),
    (lambda: reduce(D, root=1), TypeError, "root must be a PE"),
    (lambda: broadcast(X16, 2, 2, root=(0.7, 0)), TypeError, "root x must be an integer, got 0.7"),
    (lambda: add(np.array([1e300]), np.array([1.0])), ValueError, "overflows float32"),
    (lambda: add(np.ones((2, 3)), np.ones((3, 2))), ValueError, r"x has shape \(2, 3\); expected \(any,\)"),
    (lambda: add(X16, X16[:3]), ValueError, "y has 3 elements; expected 16"),
    (lambda: add(X16, X16, grid=2), TypeError, "grid must be a pair"),
    (lambda: scale(X16, None), TypeError, "alpha must be a number, got None"),
    (lambda: rmsnorm(X16, X16, eps="a"), ValueError, "eps must be a number"),
    (lambda: rope(X16, 2.7, 8), TypeError, "pos must be an integer, got 2.7"),
    (lambda: rope(np.ones(8), 1, 8, grid=(2, 4)), ValueError,
     r"N=8 is 4 pairs, which cannot be spread over 2x4 = 8 PEs"),
    (lambda: rope(X16, 1, 8, theta=0), ValueError, "theta must be a finite number > 0"),
    (lambda: AttentionChain(2, 4, 8, 2).step(0, np.ones(3), np.ones(8), np.ones(8)), ValueError,
     r"q has shape \(3,\); expected \(2, 8\) or \(16,\)"),
    (lambda: AttentionChain(2, 4, 8, 2).step(1, np.ones(16), np.ones(8), np.ones(8)), ValueError,
     "position 1 skips ahead: nothing is cached yet"),
    (lambda: AttentionChain(0, 4, 8, 2), ValueError, "P must be in 1..4096, got 0"),
    # the attention constructor: NaN gave an all-NaN output, 'a' a bare float() error, G=9
    # and oversized caches only the assembler's messages; P=73, S=256 a wrong slot silently
    (lambda: AttentionChain(2, 4, 8, 2, scale=float("nan")), ValueError, "scale must be a finite number"),
    (lambda: AttentionChain(2, 4, 8, 2, scale="a"), ValueError, "scale must be a real number .* got 'a'"),
    (lambda: AttentionChain(2, 4, 8, 2, scale=1e39), ValueError, "within fp32's range, got 1e\\+39"),
    (lambda: AttentionChain(2, 4, 8, 9), ValueError, "group must be in 1..8, got 9"),
    (lambda: AttentionChain(2, 200, 64, 8), ValueError, r"head_dim \* S .* = 12800 is over 12288"),
    (lambda: AttentionChain(2, 1000, 12, 8), ValueError, "S=1000, head_dim=12, group=8: a PE's cache slice does not fit in its SRAM"),
    (lambda: AttentionChain(73, 256, 8, 1), ValueError, r"P=73, S=256: .* not \(pos - m\) // P"),
    (lambda: driver.split_vector(X16, 0), ValueError, "parts must be in 1.., got 0"),
    (lambda: driver.split_blocks(np.ones((4, 4)), 2, 1, order="X"), ValueError, "order 'X'"),
    (lambda: driver.join_blocks({(0, 0): np.ones(4)}, 2, 1, 2, 2, 2, 4), KeyError, r"no block for PE \(1, 0\)"),
    (lambda: driver.join_vector([X16], -1), ValueError, "n must be in 0.., got -1"),
    (lambda: driver.run_kernel(driver.kernel_source("gemv/one_pe.s"), {"MB": 8, "NB": 6}, {}, "y"), TypeError,
     r"outputs must be a list of symbol names .* write \['y'\]"),
    (lambda: driver.run_kernel(driver.kernel_source("gemv/one_pe.s"), {"MB": 8, "NB": 6}, {}, ["nosuch"]), KeyError,
     "no PE exports the symbol 'nosuch'"),
    (lambda: driver.run_kernel(driver.kernel_source("gemv/one_pe.s"), {"MB": 8, "NB": 6}, {}, ["y"], backend="bogus"),
     ValueError, "backend 'bogus'"),
    (lambda: driver.run_kernel(driver.kernel_source("gemv/one_pe.s"), {"MB": 8, "NB": 6}, {"x": {0: X16[:6]}}, ["y"]),
     TypeError, r"inputs\['x'\]: keys are \(x, y\) PE coordinates, got 0"),
]


@pytest.mark.filterwarnings("ignore:kx=/ky= are deprecated:DeprecationWarning")   # kx= cases: the alias
@pytest.mark.parametrize("call, exc, words", CASES, ids=[str(i) for i in range(len(CASES))])
def test_bad_arguments_are_named(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


@pytest.mark.filterwarnings("ignore:kx=/ky= are deprecated:DeprecationWarning")
def test_valid_calls_still_work():
    """The checks refuse nothing the drivers handled before: a gemv on 2 x 3 PEs, a reduce to
    a middle root, a scale by a numpy float, a rope at an int64 position."""
    assert np.array_equal(gemv(A, np.ones(10), kx=2, ky=3).y, np.full(12, 10, np.float32))
    assert np.array_equal(reduce(D, root=(np.int64(2), 1)).out, np.full(4, 6, np.float32))
    assert np.array_equal(scale(X16, np.float32(2.0), grid=(2, 2)).out, 2 * X16)
    assert rope(X16, np.int64(3), 8).out.shape == (16,)


def test_kernel_run_repr_is_short():
    """repr(KernelRun) printed the whole object file (kilobytes of bytes) and the fabric."""
    run = driver.run_kernel(driver.kernel_source("gemv/one_pe.s"), {"MB": 8, "NB": 6}, {}, ["y"])
    text = repr(run)
    assert text.startswith("KernelRun(outputs=") and "cycles=" in text
    assert "obj=" not in text and "fabric=" not in text and len(text) < 2000


def test_attention_limits_accept_the_edges():
    """The constructor's limits are the kernel's, not tighter: G=8, a numpy scale, and
    P=72, S=256 (exact slot division) all assemble; one step runs with G=8. With one cached
    position every head's output is v times the chain end's Newton reciprocal of 1 (measured
    1 - 2^-24, so rtol = 2 ulp = 2^-22)."""
    c = AttentionChain(1, 4, 8, 8, scale=np.float32(0.5))
    out = c.step(0, np.ones((8, 8)), np.ones(8), np.arange(8.0))
    np.testing.assert_allclose(out, np.tile(np.arange(8.0), (8, 1)), rtol=2.0 ** -22, atol=0)
    AttentionChain(72, 256, 8, 1)
