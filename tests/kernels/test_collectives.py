"""Collective kernels (kernels/collectives/*.s) against NumPy over rectangle shapes (rows,
columns, rectangles) and vector lengths chosen by hypothesis.

Reductions are compared bit for bit with the NumPy model that adds in the kernel's order
(kernels/collectives/model.py), and, for sums, against the float64 sum with the bound for
recursive fp32 summation of P terms: |s - s_exact| <= gamma_{P-1} * sum_i |v_i|,
gamma_k = k u / (1 - k u), u = 2^-24 (Higham, eq. 4.4). Max and broadcast are exact.
"""
import numpy as np
from hypothesis import example, given, settings, strategies as st

from wse.kernels.collectives.model import SCHEMES, reduce_rect
from wse.kernels.collectives.run import allreduce, broadcast, predicted_reduce_cycles, reduce

rects = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 40))
U = 2.0 ** -24


def _data(w, h, n, seed):
    rng = np.random.default_rng(seed)
    scale = rng.choice([1e-3, 1.0, 1e3])
    return (rng.standard_normal((h, w, n)) * scale).astype(np.float32)


def _check_sum(out, data, scheme):
    model = reduce_rect(data, "sum", scheme)
    np.testing.assert_array_equal(out.view(np.uint32), model.view(np.uint32))
    p = data.shape[0] * data.shape[1]
    gamma = (p - 1) * U / (1 - (p - 1) * U)
    exact = data.astype(np.float64).sum(axis=(0, 1))
    bound = gamma * np.abs(data.astype(np.float64)).sum(axis=(0, 1))
    assert np.all(np.abs(out - exact) <= bound)


@settings(max_examples=100)
@given(rects, st.sampled_from(SCHEMES), st.integers(0, 2**31))
@example((8, 1, 5), "chain", 0)      # a row
@example((1, 8, 5), "tree", 0)       # a column
@example((7, 5, 3), "twophase", 0)   # a rectangle; 7 and 5 do not split into equal segments
@example((5, 6, 2), "tree", 1)       # tree over lines that are not powers of two
def test_reduce_sum(rect, scheme, seed):
    w, h, n = rect
    data = _data(w, h, n, seed)
    r = reduce(data, "sum", scheme)
    _check_sum(r.out, data, scheme)


@settings(max_examples=40)
@given(rects, st.sampled_from(SCHEMES), st.integers(0, 2**31))
@example((6, 1, 4), "chain", 0)
@example((1, 6, 4), "twophase", 0)
def test_reduce_max(rect, scheme, seed):
    w, h, n = rect
    data = _data(w, h, n, seed)
    r = reduce(data, "max", scheme)
    np.testing.assert_array_equal(r.out, data.max(axis=(0, 1)))


@settings(max_examples=30)
@given(rects, st.integers(0, 2**31))
@example((6, 1, 3), 0)
@example((1, 6, 3), 0)
@example((1, 1, 3), 0)
def test_broadcast(rect, seed):
    w, h, n = rect
    v = _data(1, 1, n, seed)[0, 0]
    r = broadcast(v, w, h)
    assert r.out.shape == (h, w, n)
    np.testing.assert_array_equal(r.out, np.broadcast_to(v, (h, w, n)))


@settings(max_examples=50)
@given(rects, st.sampled_from(SCHEMES), st.sampled_from(["sum", "max"]), st.integers(0, 2**31))
@example((4, 3, 5), "chain", "sum", 0)
@example((1, 5, 2), "tree", "max", 0)
def test_allreduce(rect, scheme, op, seed):
    w, h, n = rect
    data = _data(w, h, n, seed)
    r = allreduce(data, op, scheme)
    want = reduce_rect(data, op, scheme)
    np.testing.assert_array_equal(r.out.view(np.uint32),
                                  np.broadcast_to(want, (h, w, n)).view(np.uint32))


def test_schemes_agree_with_cost_model_ordering():
    """A long vector on a row: the pipelined chain beats the tree (whose root link carries
    log2(P) vectors), as the cost model predicts; a short vector on a long row: the tree
    (depth log2 P) beats the chain (depth P-1). Measured and predicted orders must agree."""
    for w, n in ((16, 256), (32, 1)):
        data = _data(w, 1, n, 7)
        cyc = {s: reduce(data, "sum", s).cycles for s in ("chain", "tree")}
        pred = {s: predicted_reduce_cycles(w, 1, n, s) for s in ("chain", "tree")}
        assert (cyc["chain"] < cyc["tree"]) == (pred["chain"] < pred["tree"]), (w, n, cyc, pred)
