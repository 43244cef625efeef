"""Element-wise kernels (add, mul, scale, residual add, SiLU, SwiGLU) and RoPE vs numpy, over
vector sizes and grid shapes chosen by hypothesis (sizes that do not divide evenly, 1xN and
Nx1 rectangles included).

Tolerances (u = 2^-24, the fp32 unit roundoff; 1 ulp <= 2u relative):
* add, mul, scale, residual: one fp32 operation with the same rounding as numpy: bit-exact.
* SiLU x*rcp(1 + exp(-x)) vs numpy x/(1 + exp(-x)): our exp <= 1 ulp, 1+e 0.5 ulp, rcp
  0.5 ulp, product 0.5 ulp; numpy's exp <= 1 ulp, 1+e 0.5, division 0.5: <= 4.5 ulp, so
  rtol = 5 ulp = 10u. Results below 1e-37 (x < -85: the quotient underflows) get atol 1e-37.
* SwiGLU: one more product on each side: rtol = 6 ulp = 12u.
* RoPE: our sin/cos of the angle are within 2.2e-7 absolute of the float64 values (the max
  over every position below 2^17 is 2.132e-7: test_math.py's
  test_model_rope_sincos_every_position; this bound was 1.7e-7, below that max); the
  reference rounds float64 cos/sin to fp32 (3e-8); each output is x0*c -+ x1*s with 3
  roundings here and 3 in the reference (u each, relative to |x0| + |x1|):
  |err| <= (|x0| + |x1|) * (2.2e-7 + 3e-8 + 6u).
"""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from wse.kernels.elementwise import run as E
from wse.kernels.llm.reference import apply_rope
from wse.kernels.lib.model import rope_pieces, rope_sincos
from wse.kernels.rope.run import frequencies, max_position, rope

F32 = np.float32
U = 2.0 ** -24


@st.composite
def layout(draw, max_side=4, max_per_pe=6, group=1):
    w = draw(st.integers(1, max_side))
    h = draw(st.integers(1, max_side))
    p = w * h
    n = p * draw(st.integers(1, max_per_pe)) + draw(st.integers(0, p - 1))
    return n * group, (w, h)


def vec(seed, n, scale=4.0):
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(F32)


def bits(a):
    return np.asarray(a, F32).view(np.uint32)


@settings(max_examples=12)
@given(layout(), st.integers(0, 2 ** 32 - 1), st.floats(-10, 10, width=32))
@example(((7, (7, 1))), 1, 0.5)
@example(((9, (1, 4))), 2, -3.0)
def test_binary_ops_bit_exact(lay, seed, alpha):
    n, grid = lay
    x, y = vec(seed, n), vec(seed + 1, n)
    assert np.array_equal(bits(E.add(x, y, grid).out), bits(x + y))
    assert np.array_equal(bits(E.mul(x, y, grid).out), bits(x * y))
    assert np.array_equal(bits(E.scale(x, alpha, grid).out), bits(F32(alpha) * x))
    assert np.array_equal(bits(E.residual_add(x, y, grid).out), bits(x + y))


def silu_ref(x):
    with np.errstate(over="ignore"):
        return x / (F32(1) + np.exp(-x))


@settings(max_examples=10)
@given(layout(), st.integers(0, 2 ** 32 - 1))
@example((5, (5, 1)), 3)
@example((6, (1, 3)), 4)
def test_silu_swiglu(lay, seed):
    n, grid = lay
    x = vec(seed, n, 8.0)
    x[0] = -100.0                       # exp(100) overflows: -0, like the reference
    if n > 1:
        x[1] = 95.0
    u = vec(seed + 1, n)
    got = E.silu(x, grid).out
    ref = silu_ref(x)
    np.testing.assert_allclose(got, ref, rtol=10 * U, atol=1e-37)
    assert got[0] == 0
    got = E.swiglu(x, u, grid).out
    np.testing.assert_allclose(got, ref * u, rtol=12 * U, atol=1e-37)


@settings(max_examples=10)
@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from([2, 4, 8, 16]), st.integers(1, 3),
       st.integers(0, 2 ** 17 - 1), st.integers(0, 2 ** 32 - 1))
@example(4, 1, 8, 1, 0, 1)
@example(1, 3, 16, 2, 131071, 2)
def test_rope(w, h, head_dim, heads_per_pe, pos, seed):
    p = w * h
    pairs = p * heads_per_pe + (seed % p)           # pairs need not divide evenly
    n = 2 * pairs
    n -= n % head_dim
    if n // 2 < p:
        n = head_dim * -(-2 * p // head_dim)
    x = vec(seed, n)
    got = rope(x, pos, head_dim, 10000.0, grid=(w, h)).out
    ref = apply_rope(x.reshape(-1, head_dim), pos, 10000.0).reshape(-1)
    pair_mag = np.repeat(np.abs(x[0::2]) + np.abs(x[1::2]), 2).astype(np.float64)
    tol = pair_mag * (2.2e-7 + 3e-8 + 6 * U)
    assert np.all(np.abs(got.astype(np.float64) - ref) <= tol)


@settings(max_examples=10)
@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from([2, 8, 64]),
       st.integers(0, 2 ** 17 - 1), st.sampled_from([10000.0, 500000.0]), st.integers(0, 2 ** 32 - 1))
@example(2, 2, 64, 131071, 10000.0, 1)
@example(1, 1, 8, 40000, 500000.0, 2)
def test_rope_matches_model_bit_for_bit(w, h, head_dim, pos, theta, seed):
    """rope.s against its bit-exact model (wse.kernels.lib.model.rope_sincos: the same fp32
    operations in the same order), then the rotation as rope.s does it: x0*c - x1*s and
    x0*s + x1*c, each product rounded, then the sum. Bit for bit: test_rope's tolerance
    (which must allow for the reference's own roundings) leaves room for a wrong constant
    in rope.s, e.g. pi/2 one ulp off."""
    n = head_dim * -(-2 * w * h // head_dim)        # at least one pair per PE
    x = vec(seed, n)
    got = rope(x, pos, head_dim, theta, grid=(w, h)).out
    freq = np.tile(frequencies(head_dim, theta), n // head_dim)
    s, c = rope_sincos(pos, rope_pieces(freq))
    x0, x1 = x[0::2], x[1::2]
    want = np.empty(n, F32)
    want[0::2] = x0 * c - x1 * s
    want[1::2] = x0 * s + x1 * c
    assert np.array_equal(bits(got), bits(want))


@pytest.mark.parametrize("theta", [0.01, 0.001])
def test_rope_position_bound(theta):
    """theta < 1 has frequencies above 1, and rope.s's exact quarter-turn reduction (round by
    adding 1.5*2^23) holds only while pos * c0 <= 2^22 (c0: a frequency's top 7-bit piece of
    freq*2/pi). At the bound the result is accurate; one past it the driver refuses (the
    kernel's error there was O(1): 1.6 at theta=0.01, pos=131071). Tolerance as test_rope's
    with 3e-7 for sin/cos instead of 2.2e-7: near pos * c0 = 2^22 the rounding of the last
    piece's product (up to 4 quarter turns, half an ulp 2^-23) adds ~1.9e-7; measured max
    2.7e-7 with the bit-exact model over random theta in 1e-5..1e5 and pos up to the bound."""
    hd = 64
    pm = max_position(hd, theta)
    c0 = float(np.max(rope_pieces(frequencies(hd, theta))[:, 0]))
    assert pm * c0 <= 2 ** 22 < (pm + 1) * c0
    x = vec(7, 2 * hd)
    got = rope(x, pm, hd, theta).out
    ref = apply_rope(x.reshape(-1, hd), pm, theta).reshape(-1)
    pair_mag = np.repeat(np.abs(x[0::2]) + np.abs(x[1::2]), 2).astype(np.float64)
    assert np.all(np.abs(got.astype(np.float64) - ref) <= pair_mag * (3e-7 + 3e-8 + 6 * U))
    with pytest.raises(ValueError, match=rf"pos={pm + 1} is beyond .* so pos <= {pm}"):
        rope(x, pm + 1, hd, theta)


def test_rope_bound_does_not_bind_for_theta_at_least_1():
    assert max_position(64, 10000.0) == max_position(128, 1.0) == 2 ** 17 - 1
    with pytest.raises(ValueError, match="gives a frequency beyond fp32"):
        rope(vec(1, 64), 0, 64, 1e-300)
