"""RoPE properties (hypothesis) and the adjacent-pair vs half-split layout equivalence.

Tolerances: the rotation is computed in float32 with cos/sin rounded once from float64 angles, so
each output element carries a few float32 ulps (~1e-7 relative) of the pair it comes from. Norms
are therefore checked to 1e-5 relative, and dot products of 64-element heads to
1e-5 * |q| * |k| absolute (a generous bound on the accumulated float32 rounding).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wse.kernels.llm.reference import apply_rope, apply_rope_half_split, rope_frequencies, rope_tables
from wse.kernels.llm.weights import permute_qk, unpermute_qk

MAX_POS = 8192
THETAS = st.sampled_from([10000.0, 100000.0, 500000.0])
HEAD_DIMS = st.sampled_from([2, 4, 16, 64])
finite = st.floats(-10.0, 10.0, width=32, allow_nan=False, allow_infinity=False)


def vectors(head_dim, n=1):
    return arrays(np.float32, (n, head_dim), elements=finite)


@st.composite
def head_and_vecs(draw, n=1):
    d = draw(HEAD_DIMS)
    return d, draw(vectors(d, n))


@given(head_and_vecs(), st.integers(0, MAX_POS - 1), THETAS)
def test_rope_preserves_norm_of_every_pair(hv, pos, theta):
    d, x = hv
    y = apply_rope(x, pos, theta)
    assert y.dtype == np.float32 and y.shape == x.shape
    pair_in = np.linalg.norm(x.reshape(-1, 2).astype(np.float64), axis=1)
    pair_out = np.linalg.norm(y.reshape(-1, 2).astype(np.float64), axis=1)
    np.testing.assert_allclose(pair_out, pair_in, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(y.astype(np.float64)), np.linalg.norm(x.astype(np.float64)), rtol=1e-5, atol=1e-6)


@given(head_and_vecs(n=2), st.integers(0, MAX_POS - 1), st.integers(0, MAX_POS - 1), st.integers(-MAX_POS + 1, MAX_POS - 1), THETAS)
def test_rope_score_depends_only_on_relative_position(hv, m, n, shift, theta):
    d, qk = hv
    q, k = qk[0], qk[1]
    if not (0 <= m + shift < MAX_POS and 0 <= n + shift < MAX_POS):
        shift = -min(m, n)  # move the pair so that the smaller position is 0
    bound = 1e-5 * float(np.linalg.norm(q) * np.linalg.norm(k)) + 1e-6
    s1 = float(np.dot(apply_rope(q, m, theta).astype(np.float64), apply_rope(k, n, theta)))
    s2 = float(np.dot(apply_rope(q, m + shift, theta).astype(np.float64), apply_rope(k, n + shift, theta)))
    assert abs(s1 - s2) <= bound
    # and it is the score of the unrotated q against k rotated by n - m (exact in float64)
    a = (n - m) * rope_frequencies(d, theta)
    k2 = k.astype(np.float64).reshape(-1, 2)
    k_rel = np.stack([k2[:, 0] * np.cos(a) - k2[:, 1] * np.sin(a), k2[:, 0] * np.sin(a) + k2[:, 1] * np.cos(a)], axis=1)
    assert abs(s1 - float(np.dot(q.astype(np.float64), k_rel.reshape(-1)))) <= bound


def test_rope_rotates_adjacent_pairs_by_documented_angle():
    d, theta, pos = 16, 10000.0, 7
    for i in range(d // 2):
        e = np.zeros(d, np.float32)
        e[2 * i] = 1.0
        y = apply_rope(e, pos, theta)
        a = pos * theta ** (-2.0 * i / d)
        expected = np.zeros(d)
        expected[2 * i], expected[2 * i + 1] = np.cos(a), np.sin(a)
        np.testing.assert_allclose(y, expected, atol=1e-7)


def test_rope_position_zero_is_identity_and_tables_match():
    x = np.random.default_rng(1).standard_normal((3, 64)).astype(np.float32)
    np.testing.assert_array_equal(apply_rope(x, 0, 1e4), x)
    cos, sin = rope_tables(50, 64, 1e4)
    assert cos.dtype == np.float32 and cos.shape == (50, 32)
    np.testing.assert_array_equal(apply_rope(x, 41, 1e4, cos=cos[41], sin=sin[41]), apply_rope(x, 41, 1e4))


@given(st.integers(1, 4), HEAD_DIMS, st.integers(0, MAX_POS - 1), THETAS, st.data())
def test_adjacent_pair_rope_on_gguf_layout_equals_half_split_rope_on_hf_layout(n_heads, d, pos, theta, data):
    """GGUF stores Q/K rows permuted so that rotating adjacent pairs reproduces HF's rotate_half."""
    x_hf = data.draw(arrays(np.float32, (n_heads, d), elements=finite))
    x_gguf = permute_qk(x_hf.reshape(-1), n_heads).reshape(n_heads, d)
    out_gguf = apply_rope(x_gguf, pos, theta)
    out_hf = apply_rope_half_split(x_hf, pos, theta)
    np.testing.assert_allclose(unpermute_qk(out_gguf.reshape(-1), n_heads).reshape(n_heads, d), out_hf, rtol=0, atol=0)


@given(st.integers(1, 9), st.sampled_from([2, 8, 64]), st.integers(1, 5))
def test_permute_unpermute_inverse_and_llama_cpp_formula(n_heads, d, cols):
    w = np.arange(n_heads * d * cols, dtype=np.float32).reshape(n_heads * d, cols)
    p = permute_qk(w, n_heads)
    np.testing.assert_array_equal(unpermute_qk(p, n_heads), w)
    for h in range(n_heads):
        for i in range(d // 2):
            np.testing.assert_array_equal(p[h * d + 2 * i], w[h * d + i])
            np.testing.assert_array_equal(p[h * d + 2 * i + 1], w[h * d + i + d // 2])


def test_permute_rejects_bad_row_counts():
    with pytest.raises(ValueError):
        permute_qk(np.zeros((6, 2)), 4)
    with pytest.raises(ValueError):
        apply_rope(np.zeros(5, np.float32), 1, 1e4)
