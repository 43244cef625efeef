"""RMSNorm, softmax and argmax over distributed vectors vs numpy (the fp32 reference of
wse.kernels.llm.reference), over vector sizes and grid shapes chosen by hypothesis (sizes that
do not divide evenly, 1xN and Nx1 rectangles included).

Tolerances (u = 2^-24; 1 ulp <= 2u relative):
* RMSNorm: the sum of N squares is summed in another order than numpy's (sequential per PE,
  then along the reduction chain, vs pairwise): both are within (N-1)u relative of the exact
  sum (all terms positive), so they differ by <= 2(N-1)u; the mean adds 1 ulp here (times
  fp32(1/N) instead of a division) and 0.5 on each side; rsqrt (0.5 ulp, measured) vs
  1/sqrt (2 roundings) halves the relative error of its input and adds <= 1.5 ulp; the two
  products round identically on both sides up to the input difference. So
  rtol = (N-1)u + (2 + 1.5 + 1) ulp ~= (N + 9)u.
* softmax: max and x - max are exact and identical; exp is <= 1 ulp here and in numpy
  (2 ulp apart); the sums differ by <= 2(N-1)u relative plus the 2 ulp of their terms; the
  final scaling is rcp (0.5 ulp) then a product (0.5) vs one division (0.5):
  rtol = 2(N-1)u + (2 + 2 + 1.5) ulp = 2(N + 10)u; atol 1e-37 for underflowing terms.
* argmax: exact (value and index; ties go to the lowest index, like numpy.argmax; NaNs are
  ignored, like numpy.nanargmax, and an all-NaN input gives (x[0], 0): the rule of
  wse.kernels.argmax.model, which must hold on every grid).
"""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from wse.kernels.argmax.model import argmax_model
from wse.kernels.argmax.run import argmax
from wse.kernels.lib.host import partition
from wse.kernels.llm.reference import rms_norm, softmax as softmax_ref
from wse.kernels.norm.run import rmsnorm
from wse.kernels.softmax.run import softmax

F32 = np.float32
U = 2.0 ** -24


@st.composite
def layout(draw, max_side=4, max_per_pe=6):
    w = draw(st.integers(1, max_side))
    h = draw(st.integers(1, max_side))
    p = w * h
    n = p * draw(st.integers(1, max_per_pe)) + draw(st.integers(0, p - 1))
    return n, (w, h)


def vec(seed, n, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(F32)


@settings(max_examples=12)
@given(layout(), st.integers(0, 2 ** 32 - 1), st.sampled_from([1e-5, 1e-6, 1e-2]),
       st.floats(1e-3, 1e3))
@example((7, (7, 1)), 1, 1e-5, 1.0)
@example((9, (1, 4)), 2, 1e-6, 100.0)
def test_rmsnorm(lay, seed, eps, scale):
    n, grid = lay
    x, g = vec(seed, n, scale), vec(seed + 1, n)
    r = rmsnorm(x, g, eps, grid)
    ref = rms_norm(x, g, eps)
    np.testing.assert_allclose(r.out, ref, rtol=(n + 9) * U, atol=0)
    # every PE applied the same reciprocal (the all-reduce broadcast the same bits)
    rinv = {v[0] for v in r.run.outputs["rinv"].values()}
    assert len(rinv) == 1


@settings(max_examples=12)
@given(layout(), st.integers(0, 2 ** 32 - 1), st.floats(0.1, 30.0))
@example((7, (7, 1)), 1, 10.0)
@example((9, (1, 4)), 2, 30.0)
def test_softmax(lay, seed, scale):
    n, grid = lay
    x = vec(seed, n, scale)
    r = softmax(x, grid)
    ref = softmax_ref(x)
    np.testing.assert_allclose(r.out, ref, rtol=2 * (n + 10) * U, atol=1e-37)
    stats = r.run.outputs["stats"]
    assert all(v[0] == x.max() for v in stats.values())          # the all-reduced max
    assert len({v[1] for v in stats.values()}) == 1               # one sum everywhere


@pytest.mark.parametrize("grid", [(3, 1), (1, 3), (2, 2)])
def test_argmax_at_the_edges_of_the_pieces(grid):
    """Two cases test_argmax finds only by search, made deterministic: N mod P != 0 and the
    maximum once, at the last element of the last PE (every PE's first index must count the
    earlier PEs' extra elements); and the maximum at the last element of every PE (a tie across
    PEs: the lowest index, so a PE must not take an equal pair from the East or the South)."""
    w, h = grid
    n = 3 * w * h + 1
    parts = partition(n, w, h)
    x = np.random.default_rng(5).standard_normal(n).astype(F32)
    x[-1] = 10.0
    (v, i), _, _ = argmax(x, grid)
    assert (v, i) == (10.0, n - 1)
    for off, ln in parts:
        x[off + ln - 1] = 10.0
    (v, i), _, _ = argmax(x, grid)
    assert (v, i) == (10.0, parts[0][1] - 1)


@settings(max_examples=15)
@given(layout(), st.integers(0, 2 ** 32 - 1), st.booleans())
@example((7, (7, 1)), 1, True)
@example((9, (1, 4)), 2, True)
@example((16, (2, 2)), 3, False)
def test_argmax(lay, seed, ties):
    n, grid = lay
    rng = np.random.default_rng(seed)
    if ties:   # few distinct values: the maximum repeats across PEs
        x = rng.integers(-3, 3, n).astype(F32)
    else:
        x = rng.standard_normal(n).astype(F32)
    (v, i), _, run = argmax(x, grid)
    assert i == int(np.argmax(x)) and v == x.max()
    assert all(int(a[0]) == i for a in run.outputs["index"].values())   # broadcast to all


@st.composite
def nan_case(draw):
    """A layout and a vector with NaNs anywhere: per element a number, a repeated value (ties),
    NaN or -inf; then some PEs' pieces made all NaN and some pieces' first elements made NaN
    (the chunk starts, where the old scan started), or the whole vector NaN."""
    n, (w, h) = draw(layout())
    kinds = draw(st.lists(st.sampled_from(["num", "tie", "nan", "-inf"]), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    x = np.random.default_rng(seed).standard_normal(n).astype(F32)
    x[[k == "tie" for k in kinds]] = F32(2.5)
    x[[k == "nan" for k in kinds]] = np.nan
    x[[k == "-inf" for k in kinds]] = -np.inf
    parts = partition(n, w, h)
    for p in draw(st.sets(st.integers(0, w * h - 1))):          # all-NaN pieces
        off, ln = parts[p]
        x[off:off + ln] = np.nan
    for p in draw(st.sets(st.integers(0, w * h - 1))):          # NaN at a piece's start
        x[parts[p][0]] = np.nan
    if draw(st.integers(0, 9)) == 0:
        x[:] = np.nan
    return x, (w, h)


def _check_argmax(x, grid):
    (v, i), _, run = argmax(x, grid)
    ev, ei = argmax_model(x)
    assert i == ei, (x, grid, i, ei)
    assert v.tobytes() == ev.tobytes()           # the element itself (NaN bits included)
    if not np.isnan(x).all():
        assert v == np.nanmax(x) and not np.isnan(x[i]) and i == int(np.argmax(x == v))
    else:
        assert i == 0 and np.isnan(v)
    assert all(int(a[0]) == i for a in run.outputs["index"].values())   # broadcast to all


@pytest.mark.parametrize("grid", [(1, 1), (2, 1), (4, 1), (1, 2), (2, 2)])
def test_argmax_nan_audit_case(grid):
    """The audit's case: a NaN at a piece's start hid the rest of the piece ((2.0, 1) on
    every grid but 1x1)."""
    x = np.array([1, 2, np.nan, 9], F32)
    (v, i), _, _ = argmax(x, grid)
    assert (v, i) == (9.0, 3)


@settings(max_examples=40)
@given(nan_case())
@example((np.array([np.nan] * 7, F32), (3, 2)))
@example((np.array([np.nan, -np.inf, np.nan, np.nan, -np.inf], F32), (2, 2)))
@example((np.array([np.nan, 1, np.nan, 2.5, np.nan, 2.5], F32), (3, 1)))
@example((np.array([-0.0, 0.0, np.nan, 0.0], F32), (1, 2)))
def test_argmax_nans(case):
    _check_argmax(*case)


def test_argmax_model_rule():
    """The model itself: nanargmax's answer, lowest index on ties, (x[0], 0) for all NaN."""
    assert argmax_model(np.array([np.nan, 3, 3], F32)) == (3.0, 1)
    v, i = argmax_model(np.array([np.nan, np.nan], F32))
    assert np.isnan(v) and i == 0
    assert argmax_model(np.array([-np.inf, np.nan, -np.inf], F32)) == (-np.inf, 0)
