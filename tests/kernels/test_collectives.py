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


def _check_sum(out, data, scheme, root=(0, 0)):
    model = reduce_rect(data, "sum", scheme, root=root)
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


@settings(max_examples=80)
@given(rects, st.sampled_from(SCHEMES), st.sampled_from(["sum", "max"]), st.integers(0, 2**31), st.data())
@example((7, 1, 4), "chain", "sum", 0, None)       # a row, root inside
@example((1, 6, 3), "twophase", "sum", 0, None)    # a column, root inside
@example((9, 9, 2), "tree", "max", 0, None)        # both phases split at the root
def test_reduce_allreduce_and_broadcast_to_any_root(rect, scheme, op, seed, data_st):
    """Any PE can be the root: reduce equals the model bit for bit (the far side of each line
    first, then the near side) and, for sums, the float64 sum within the fp32 bound;
    all-reduce leaves that result on every PE; a broadcast from the root reaches every PE."""
    w, h, n = rect
    if data_st is None:     # the explicit examples: the root in the middle
        root = (w // 2, h // 2)
    else:
        root = (data_st.draw(st.integers(0, w - 1)), data_st.draw(st.integers(0, h - 1)))
    data = _data(w, h, n, seed)
    r = reduce(data, op, scheme, root=root)
    if op == "sum":
        _check_sum(r.out, data, scheme, root)
    else:
        np.testing.assert_array_equal(r.out, data.max(axis=(0, 1)))
    a = allreduce(data, op, scheme, root=root)
    np.testing.assert_array_equal(a.out.view(np.uint32), np.broadcast_to(r.out, (h, w, n)).view(np.uint32))
    b = broadcast(data[root[1], root[0]], w, h, root=root)
    np.testing.assert_array_equal(b.out, np.broadcast_to(data[root[1], root[0]], (h, w, n)))


def test_root_errors_say_what_to_do():
    """A root outside the rectangle, and a tree whose two sides of the root need more than the
    24 colors, are refused with a message that names the remedy."""
    import pytest
    from wse.asm import AssemblyError
    from wse.kernels.driver import assemble, kernel_source
    data = _data(4, 3, 2, 0)
    with pytest.raises(ValueError, match=r"root \(4, 0\) is not a PE of the 4 x 3 rectangle"):
        reduce(data, root=(4, 0))
    with pytest.raises(ValueError, match="not a PE"):
        broadcast(data[0, 0], 4, 3, root=(0, -1))
    d = {"W": 200, "H": 200, "N": 1, "OP": 0, "SCHEME": 1, "RX": 100, "RY": 100}
    with pytest.raises(AssemblyError, match="needs more than the 24 colors.*chain or two-phase"):
        assemble(kernel_source("collectives/reduce.s"), d)
    # the same root with the chain scheme fits (2 + 2 colors)
    assert assemble(kernel_source("collectives/reduce.s"), dict(d, W=20, H=20, RX=10, RY=10, SCHEME=0))


def test_a_middle_root_halves_a_long_chain_but_serialises_a_tree_root():
    """What docs/kernels.md says about choosing the root: on a 64-PE row with 64 fp32, a chain
    to the middle is faster than to the end (two chains of half the length at once), while a
    tree to the middle is slower (the root's CE takes both sides' levels one after the other);
    the cost model predicts both directions."""
    data = _data(64, 1, 64, 3)
    for scheme, faster in (("chain", True), ("tree", False)):
        end, mid = (reduce(data, "sum", scheme, root=r).cycles for r in ((0, 0), (32, 0)))
        pend, pmid = (predicted_reduce_cycles(64, 1, 64, scheme, root=r) for r in ((0, 0), (32, 0)))
        assert (mid < end) == faster and (pmid < pend) == faster, (scheme, end, mid, pend, pmid)
