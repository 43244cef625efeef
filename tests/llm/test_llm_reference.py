"""Self-consistency of the numpy decode reference on the tiny model.

The KV-cached, one-token-at-a-time float32 decode (``ReferenceModel.step``) is compared with a
separately written, non-cached, whole-sequence causal forward in float64 (below): RoPE through
complex multiplication, GQA through ``np.repeat`` of the KV heads (HF's ``repeat_kv``), an explicit
causal mask. Both use the same float16 weights, so the only difference is float32 rounding in the
reference. Measured on the tiny model: max |logit diff| 2.5e-6 and max |residual diff| 3.0e-6 over
24 positions (logits are O(5), the residual O(10)); the tolerances below (5e-5 and 1e-4) leave
>10x margin while still catching any real mistake (a wrong pair layout, KV head mapping, cache
position or scale changes logits by O(0.1-1)).
"""

import numpy as np
import pytest

from wse.kernels.llm.config import TINY
from wse.kernels.llm.errors import LLMError
from wse.kernels.llm.reference import HOOK_POINTS, ReferenceModel, StepOutput, rms_norm, silu
from wse.kernels.llm.weights import ModelWeights, tiny_weights

LOGIT_ATOL = 5e-5
RESID_ATOL = 1e-4


def full_forward(weights: ModelWeights, tokens):
    """Non-cached causal forward of the whole sequence in float64.

    Returns (logits (T, vocab), residual after each layer (n_layers, T, dim)).
    """
    cfg = weights.config
    f = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    T = len(tokens)
    x = f(weights.tok_embd)[tokens]  # (T, dim)
    pos = np.arange(T)[:, None]
    freqs = cfg.rope_theta ** (-np.arange(0, cfg.head_dim, 2) / cfg.head_dim)
    rot = np.exp(1j * pos * freqs[None, :])  # (T, head_dim/2)

    def rope(v):  # v: (T, heads, head_dim), adjacent pairs as complex numbers
        c = (v[..., 0::2] + 1j * v[..., 1::2]) * rot[:, None, :]
        out = np.empty_like(v)
        out[..., 0::2], out[..., 1::2] = c.real, c.imag
        return out

    def norm(v, g):
        return v / np.sqrt(np.mean(v * v, axis=-1, keepdims=True) + cfg.norm_eps) * f(g)

    mask = np.triu(np.full((T, T), -np.inf), k=1)
    per_layer = []
    for L in weights.layers:
        h = norm(x, L.attn_norm)
        q = rope((h @ f(L.wq).T).reshape(T, cfg.n_heads, cfg.head_dim))
        k = rope((h @ f(L.wk).T).reshape(T, cfg.n_kv_heads, cfg.head_dim))
        v = (h @ f(L.wv).T).reshape(T, cfg.n_kv_heads, cfg.head_dim)
        k = np.repeat(k, cfg.group_size, axis=1)  # head h reads kv head h // group_size
        v = np.repeat(v, cfg.group_size, axis=1)
        s = np.einsum("thd,uhd->htu", q, k) / np.sqrt(cfg.head_dim) + mask
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = np.einsum("htu,uhd->thd", p, v).reshape(T, cfg.q_dim)
        x = x + o @ f(L.wo).T
        h = norm(x, L.ffn_norm)
        g = h @ f(L.w_gate).T
        x = x + ((g / (1 + np.exp(-g))) * (h @ f(L.w_up).T)) @ f(L.w_down).T
        per_layer.append(x.copy())
    logits = norm(x, weights.out_norm) @ f(weights.output_weight).T
    return logits, np.stack(per_layer)


@pytest.fixture(scope="module")
def sequence():
    return [int(t) for t in np.random.default_rng(7).integers(0, TINY.vocab, 24)]


def test_kv_cache_decode_equals_full_causal_forward(tiny, sequence):
    ref = ReferenceModel(tiny)
    want_logits, want_layers = full_forward(tiny, sequence)
    for pos, tok in enumerate(sequence):
        out = ref.step(tok, pos, return_layers=True)
        assert isinstance(out, StepOutput)
        assert out.logits.dtype == np.float32 and out.layers.shape == (TINY.n_layers, TINY.dim)
        np.testing.assert_allclose(out.logits, want_logits[pos], rtol=0, atol=LOGIT_ATOL)
        np.testing.assert_allclose(out.layers, want_layers[:, pos], rtol=0, atol=RESID_ATOL)
    # the check is not vacuous: the logits vary a lot between positions
    assert np.ptp(want_logits, axis=0).max() > 1.0


def test_untied_lm_head_and_other_shapes_decode_like_full_forward(sequence):
    cfg = TINY.replace(n_layers=3, n_heads=6, n_kv_heads=3, head_dim=8, dim=40, ffn_dim=72, tie_embeddings=False, name="odd")
    w = tiny_weights(seed=3, config=cfg)
    assert w.lm_head is not None
    ref = ReferenceModel(w)
    want, _ = full_forward(w, sequence[:10])
    got = ref.prefill(sequence[:10])
    np.testing.assert_allclose(got, want, rtol=0, atol=LOGIT_ATOL)


def test_step_logits_match_a_single_full_forward_of_the_prefix(tiny, sequence):
    """The last row of a non-cached forward of tokens[:p+1] is step p's output (causality)."""
    ref = ReferenceModel(tiny)
    rows = ref.prefill(sequence[:12])
    for p in (0, 5, 11):
        want, _ = full_forward(tiny, sequence[: p + 1])
        np.testing.assert_allclose(rows[p], want[-1], rtol=0, atol=LOGIT_ATOL)


def test_hook_sees_every_point_in_order_with_shapes(tiny):
    ref = ReferenceModel(tiny)
    seen = []
    out = ref.step(65, 0, return_layers=True, hook=lambda name, layer, value: seen.append((name, layer, value.copy())))
    names = [n for n, _, _ in seen]
    per_layer = list(HOOK_POINTS[1:-2])
    assert names == ["embed"] + per_layer * TINY.n_layers + ["final_norm", "logits"]
    shapes = {n: v.shape for n, _, v in seen}
    assert shapes["q"] == (4, 16) and shapes["k"] == (2, 16) and shapes["v"] == (2, 16)
    assert shapes["attn"] == (64,) and shapes["gate"] == (128,) and shapes["logits"] == (256,)
    resid = [v for n, _, v in seen if n == "resid"]
    np.testing.assert_array_equal(np.stack(resid), out.layers)
    np.testing.assert_array_equal(seen[-1][2], out.logits)
    # at position 0 the attention output is exactly V of the matching KV head
    v = next(val for n, l, val in seen if n == "v" and l == 0)
    attn = next(val for n, l, val in seen if n == "attn" and l == 0).reshape(4, 16)
    np.testing.assert_allclose(attn, np.repeat(v, 2, axis=0), rtol=1e-6)


def test_rewinding_the_cache_reproduces_logits(tiny, sequence):
    ref = ReferenceModel(tiny)
    first = ref.prefill(sequence[:8])
    again = ref.step(sequence[5], 5)  # rewinds to position 5
    np.testing.assert_array_equal(again, first[5])
    assert ref.length == 6


def test_step_argument_errors(tiny):
    ref = ReferenceModel(tiny)
    with pytest.raises(LLMError, match="skips ahead"):
        ref.step(1, 3)
    with pytest.raises(LLMError, match="token id 256 out of range"):
        ref.step(256, 0)
    with pytest.raises(LLMError, match="position 128 out of range"):
        ReferenceModel(tiny, max_context=128).step(1, 128)
    with pytest.raises(LLMError, match="position 2048 out of range"):
        ref.step(1, 2048)
    with pytest.raises(LLMError, match="max_context"):
        ReferenceModel(tiny, max_context=10_000)
    with pytest.raises(LLMError, match="exceed the context 8"):
        ReferenceModel(tiny, max_context=8).generate([1, 2, 3], 7)   # positions 0..8; [1, 2, 3], 6 fits
    # refused rather than truncated or defaulted (an adversarial pass found these accepted)
    with pytest.raises(LLMError, match="token id must be an integer, got 72.9"):
        ref.step(72.9, 0)
    with pytest.raises(LLMError, match="position must be an integer"):
        ref.step(72, 0.5)
    with pytest.raises(LLMError, match="max_context must be in 1..2048, got 0"):
        ReferenceModel(tiny, max_context=0)
    with pytest.raises(LLMError, match="n \\(new tokens\\) must be at least 1, got 0"):
        ref.generate([1, 2], 0)
    assert ref.generate(np.array([72, 105]), 3) == ref.generate([72, 105], 3)   # a numpy prompt
    from wse.kernels.llm.weights import load_weights, write_gguf
    with pytest.raises(LLMError, match="model must be 'tiny', 'smollm2-135m' or the path"):
        load_weights(None)
    with pytest.raises(ValueError, match="tokenizer_meta needs at least 'tokens'"):
        write_gguf(tiny, "/nonexistent/x.gguf", tokenizer_meta={})


def test_generate_is_greedy_and_deterministic(tiny):
    ref = ReferenceModel(tiny)
    prompt = list(b"Hello")
    new, logits = ref.generate(prompt, 12, return_logits=True)
    assert len(new) == 12 and logits.shape == (len(prompt) + 11, TINY.vocab)
    for i, tok in enumerate(new):
        assert tok == int(np.argmax(logits[len(prompt) - 1 + i]))
    assert ReferenceModel(tiny).generate(prompt, 12) == new
    assert len(set(new)) > 3  # tiny's scaling keeps greedy decoding from repeating one token
    # early stop at EOS
    stop = new[3]
    assert ReferenceModel(tiny).generate(prompt, 12, eos_id=stop) == new[: new.index(stop) + 1]


def test_fp16_kv_cache_is_close_but_not_identical(tiny, sequence):
    a = ReferenceModel(tiny).prefill(sequence)
    b = ReferenceModel(tiny, kv_dtype=np.float16).prefill(sequence)
    diff = np.abs(a - b).max()
    assert 0 < diff < 5e-2


def test_rms_norm_and_silu_values():
    x = np.array([3.0, -4.0], np.float32)
    np.testing.assert_allclose(rms_norm(x, np.array([1.0, 2.0], np.float16), 0.0), [3 / np.sqrt(12.5), -8 / np.sqrt(12.5)], rtol=1e-6)
    np.testing.assert_allclose(silu(np.array([0.0, 1.0, -200.0], np.float32)), [0.0, 1 / (1 + np.exp(-1)), 0.0], atol=1e-7)
