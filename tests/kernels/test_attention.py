"""Attention decode kernel (kernels/attention/attn_decode.s) on the emulator.

The kernel's outputs must equal the numpy mirror (wse.kernels.attention.model) bit for bit, and
the mirror must be a correct softmax attention (checked against float64)."""

import math

import numpy as np
import pytest

pytest.importorskip("wse.emu", reason="the emulator package is not importable")

from wse.kernels.attention import AttentionChain, AttentionModel


def exact_attention(keys, values, q, scale):
    s = (q.astype(np.float64) @ keys.astype(np.float64).T) * scale
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ values.astype(np.float64)


def random_step(rng, G, hd, big=1.0):
    return (rng.standard_normal((G, hd)).astype(np.float32) * np.float32(big),
            rng.standard_normal(hd).astype(np.float32) * np.float32(big),
            rng.standard_normal(hd).astype(np.float32))


@pytest.mark.parametrize("P,S,hd,G,steps", [(4, 8, 16, 2, 32), (3, 5, 8, 3, 15), (1, 6, 8, 1, 6)])
def test_kernel_matches_mirror_bit_for_bit_until_the_cache_is_full(P, S, hd, G, steps):
    rng = np.random.default_rng(P * 100 + S)
    chain = AttentionChain(P, S, hd, G)
    model = AttentionModel(P, S, hd, G)
    keys, values = [], []
    for pos in range(steps):
        q, k, v = random_step(rng, G, hd, big=2.0)
        keys.append(k)
        values.append(v)
        got = chain.step(pos, q, k, v)
        want = model.step(pos, q, k, v)
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), f"pos {pos}"
        exact = exact_attention(np.array(keys), np.array(values), q, 1 / math.sqrt(hd))
        assert np.max(np.abs(got - exact)) < 2e-6 * max(1.0, np.abs(exact).max())
        assert chain.cycles > 0


def test_large_scores_against_float64():
    """Scores far outside exp's range (|s| up to ~400, scale 4): only the subtraction of the
    maximum keeps the weights right (the kernel's exp clamps its argument to [-87, 88], so
    without it every score above 88 would weigh the same). Compared with float64 softmax
    attention, NOT with the mirror, which would share such a bug.

    Tolerance: the scores are fp32 dot products of hd terms (fmacs: each product rounded,
    then the sum), so |s - s_exact| <= gamma_hd * scale * sum_d |q_d k_d| (Higham, eq. 3.5),
    plus the rounding of the scale product and of s - M, <= 3u max|s| (u = 2^-24); a change
    of at most d in every score changes each softmax weight by a factor within e^(+-2d), so
    the output moves by <= ~2d max|v|; on top, the 2e-6 relative error of the tests above
    (exp, the sums and the reciprocal)."""
    P, S, hd, G, scale = 2, 4, 8, 2, 4.0
    u = 2.0 ** -24
    rng = np.random.default_rng(11)
    chain = AttentionChain(P, S, hd, G, scale=scale)
    keys, values = [], []
    for pos in range(P * S):
        q, k, v = random_step(rng, G, hd, big=3.0)
        keys.append(k)
        values.append(v)
        got = chain.step(pos, q, k, v)
        K, V = np.array(keys, np.float64), np.array(values, np.float64)
        q64 = q.astype(np.float64)
        s = (q64 @ K.T) * scale
        gamma = hd * u / (1 - hd * u)
        d = gamma * scale * (np.abs(q64) @ np.abs(K.T)) + 3 * u * np.abs(s).max()
        exact = exact_attention(K, V, q, scale)
        tol = 2e-6 * max(1.0, np.abs(exact).max()) + 2 * d.max() * np.abs(V).max()
        assert np.max(np.abs(got - exact)) <= tol, f"pos {pos}"
    assert np.abs(s).max() > 200                        # the case is what it says


def test_rewriting_a_position_replaces_its_kv():
    """Re-running an earlier position overwrites its K/V and attends over 0..pos only."""
    rng = np.random.default_rng(7)
    chain = AttentionChain(2, 4, 8, 2)
    steps = [random_step(rng, 2, 8) for _ in range(5)]
    for pos, (q, k, v) in enumerate(steps):
        chain.step(pos, q, k, v)
    q, k, v = random_step(rng, 2, 8)
    got = chain.step(2, q, k, v)
    keys = np.array([steps[0][1], steps[1][1], k])
    vals = np.array([steps[0][2], steps[1][2], v])
    assert np.max(np.abs(got - exact_attention(keys, vals, q, 1 / math.sqrt(8)))) < 2e-6


def test_position_beyond_the_cache_is_refused():
    chain = AttentionChain(2, 2, 8, 1)
    with pytest.raises(ValueError, match="beyond the cache"):
        chain.step(4, np.zeros(8), np.zeros(8), np.zeros(8))


def test_measure_reports_the_step_and_its_error():
    """The numbers docs/kernels.md quotes come from run.measure (python -m
    wse.kernels.attention): the cycles of the step at pos and the error over steps 0..pos,
    bounded like the tests above (2e-6 relative to the largest |output|)."""
    from wse.kernels.attention.run import measure
    m = measure(4, 8, 16, 2, pos=20)
    assert m["pos"] == 20 and m["cycles"] > 0
    assert 0 < m["max_rel_err"] < 2e-6
    assert measure(4, 8, 16, 2, pos=20)["cycles"] == m["cycles"]      # deterministic
