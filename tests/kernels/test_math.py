"""The software math routines of kernels/lib (exp, reciprocal, rsqrt, sin/cos).

Three kinds of checks:
* on the emulator (mathfn.s over inputs spread across each routine's range): the outputs equal
  the bit-exact numpy model (wse.kernels.lib.model) bit for bit, and their error against a
  float64 reference is within the bound measured in docs/math.md;
* special values on the emulator (NaN, infinities, zeros, overflow, underflow, subnormals);
* hypothesis over the bit-exact model (cheap, so many more inputs): the same error bounds.

Error bounds (ulp of the fp32 reference value; docs/math.md has the measured maxima):
exp <= 1 ulp on [-87, 88] (measured 0.96), rcp and rsqrt <= 0.51 ulp (measured 0.5004),
sin/cos <= 1.6 ulp on [-8, 8] (measured 1.49) and <= 1.5e-7 absolute on [-1e4, 1e4].
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from wse.kernels.lib import model as M
from wse.kernels.lib.measure import inputs, rope_sincos_sweep, run_fn, ulp_error

F32 = np.float32
GRID = (2, 2)


def normal(ref):
    return (np.abs(ref) >= 2.0 ** -126) & (np.abs(ref) <= float(np.finfo(F32).max))


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(1)
    out = {}
    for fn in ("exp", "rcp", "rsqrt", "sincos"):
        x = inputs(fn, 128 * GRID[0] * GRID[1], rng)
        y, y2, cycles = run_fn(fn, x, GRID)
        out[fn] = (x, y, y2)
    return out


def bits_equal(a, b):
    return np.array_equal(np.asarray(a, F32).view(np.uint32), np.asarray(b, F32).view(np.uint32))


def test_emulator_matches_model_bit_for_bit(runs):
    x, y, _ = runs["exp"]
    assert bits_equal(y, M.exp_f32(x))
    x, y, _ = runs["rcp"]
    assert bits_equal(y, M.rcp_f32(x))
    x, y, _ = runs["rsqrt"]
    assert bits_equal(y, M.rsqrt_f32(x))
    x, s, c = runs["sincos"]
    ms, mc = M.sincos_f32(x)
    assert bits_equal(s, ms) and bits_equal(c, mc)


def test_emulator_error_bounds(runs):
    x, y, _ = runs["exp"]
    ref = np.exp(x.astype(np.float64))
    m = normal(ref)
    assert ulp_error(y[m], ref[m]).max() <= 1.0
    x, y, _ = runs["rcp"]
    ref = 1.0 / x.astype(np.float64)
    assert ulp_error(y, ref).max() <= 0.51
    x, y, _ = runs["rsqrt"]
    ref = 1.0 / np.sqrt(x.astype(np.float64))
    assert ulp_error(y, ref).max() <= 0.51
    x, s, c = runs["sincos"]
    x64 = x.astype(np.float64)
    assert np.max(np.abs(s - np.sin(x64))) <= 1.5e-7
    assert np.max(np.abs(c - np.cos(x64))) <= 1.5e-7


def test_special_values_on_emulator():
    nan, inf = F32(np.nan), F32(np.inf)
    x = F32([nan, inf, -inf, 88.72283935546875, 88.72283172607422, -103.98, -103.97207,
             -100.0, -90.0, 0.0, -0.0, 1.0])
    y, _, _ = run_fn("exp", x, (1, 1))
    assert np.isnan(y[0]) and y[1] == inf and y[2] == 0
    assert y[3] == inf and np.isfinite(y[4]) and y[5] == 0
    # subnormal results: one rounding of the exact value, like numpy's float32 exp
    assert y[6] == F32(2.0 ** -149)
    assert bits_equal(y[7:9], np.exp(F32([-100.0, -90.0])))
    assert y[9] == 1 and y[10] == 1

    x = F32([0.0, -0.0, inf, -inf, nan, 3e38, -3e38, 1e-40, -1e-45, 2.0 ** -126])
    y, _, _ = run_fn("rcp", x, (1, 1))
    with np.errstate(all="ignore"):
        ref = (F32(1) / x).astype(F32)
    assert bits_equal(y[[0, 1, 2, 3]], ref[[0, 1, 2, 3]]) and np.isnan(y[4])
    assert bits_equal(y[5:], ref[5:])             # subnormal results and overflow to inf

    x = F32([0.0, -0.0, -1.0, inf, nan, 1e-40, 2.0 ** -149, 4.0])
    y, _, _ = run_fn("rsqrt", x, (1, 1))
    assert y[0] == inf and y[1] == -inf and np.isnan(y[2]) and y[3] == 0 and np.isnan(y[4])
    with np.errstate(all="ignore"):
        ref = 1 / np.sqrt(x[5:].astype(np.float64))
    assert ulp_error(y[5:], ref).max() <= 0.51


floats_exp = st.floats(-87.0, 88.0, width=32)
floats_pos = st.floats(2.0 ** -125, 2.0 ** 125, width=32)


@settings(max_examples=300)
@given(st.lists(floats_exp, min_size=1, max_size=64))
def test_model_exp_bound(xs):
    x = F32(xs)
    assert ulp_error(M.exp_f32(x), np.exp(x.astype(np.float64))).max() <= 1.0


@settings(max_examples=300)
@given(st.lists(floats_pos, min_size=1, max_size=64), st.booleans())
def test_model_rcp_rsqrt_bound(xs, neg):
    x = F32(xs)
    ref = 1.0 / x.astype(np.float64)
    sx = -x if neg else x
    assert ulp_error(M.rcp_f32(sx), -ref if neg else ref).max() <= 0.51
    assert ulp_error(M.rsqrt_f32(x), 1.0 / np.sqrt(x.astype(np.float64))).max() <= 0.51


@settings(max_examples=300)
@given(st.lists(st.floats(-8.0, 8.0, width=32), min_size=1, max_size=64))
def test_model_sincos_bound(xs):
    x = F32(xs)
    s, c = M.sincos_f32(x)
    x64 = x.astype(np.float64)
    for got, ref in ((s, np.sin(x64)), (c, np.cos(x64))):
        m = np.abs(ref) >= 2.0 ** -126
        assert ulp_error(got[m], ref[m]).max(initial=0) <= 1.6
        assert np.max(np.abs(got - ref)) <= 1.5e-7


def test_model_rope_sincos_every_position():
    """RoPE's sin/cos from the position (rope.s; bit-exact model M.rope_sincos, which
    tests/kernels/test_elementwise.py holds the kernel to) against float64, for EVERY position
    below 2^17 and the 64 frequencies of head_dim 128, theta 1e4 (those of head_dim 2..64 are
    among them). Measured max: 2.132e-7, at pos 104025 (frequency 14): the quarter-turn
    accumulator of rope.s reaches |acc| in [1, 2) before its last rounding, where half an ulp
    is 6e-8 quarter turns (9.4e-8 rad), on top of the sincos polynomials' ~1.45 ulp. (A sample
    of 64 positions gave 1.2e-7, the figure docs/math.md used to quote.) The bound, 2.2e-7, is
    what test_rope allows for sin/cos. (`python -m wse.kernels.lib.measure` prints the same sweep.)"""
    from wse.kernels.rope.run import frequencies
    freq = frequencies(128, 10000.0)
    pieces = M.rope_pieces(freq)
    s1, c1 = M.rope_sincos(104025, pieces)
    s, c = M.rope_sincos(np.array([3, 104025]), pieces)       # arrays of positions: same bits
    assert bits_equal(s[1], s1) and bits_equal(c[1], c1)
    worst, at = rope_sincos_sweep(freq)
    assert 2.1e-7 < worst <= 2.2e-7 and at == 104025
