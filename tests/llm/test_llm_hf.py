"""The numpy reference against HF transformers' LlamaForCausalLM loaded from the same GGUF.

Setup (see ``wse.kernels.llm.hf_compare``): HF dequantizes the same GGUF, un-permutes Q/K itself,
and its parameters are rounded to float16 and used in float32 (``p.half().float()``), on CPU with
eager attention; both sides decode one token per call with a KV cache. The weights are therefore
bit-identical (checked below) and only float32 summation order (BLAS sgemv vs torch's kernels)
and the float32 RoPE angle computation in HF separate the two.

Tolerances (measured with transformers 5.24 / torch 2.13.0 CPU / numpy 2.4):
* logits, SmolLM2, prompt "The capital of France is" + 32 greedy tokens: max |ref - hf| per step
  1.7e-5 .. 8.7e-5 (36 steps; logits up to ~38 in magnitude, i.e. ~2e-6 relative). The test
  allows ``LOGIT_ATOL = 3e-4`` (3.5x the worst step) and also asserts the 1e-3 fabric target.
* residual stream after each layer: max |ref - hf| <= ``RESID_RTOL = 2e-5`` times the largest
  |value| of that layer (measured 3.7e-6; SmolLM2's residual reaches ~2.3e4 in some channels, so
  absolute differences there are ~4e-3 while the logits still agree to 1e-4).
* tiny model through a GGUF file: 1e-5 (measured 3.2e-6 tied, 1.6e-6 untied; logits O(5)).

For scale, the choices the reference fixes matter far more than summation order: HF with the
GGUF weights *not* rounded to float16 differs from the reference by up to 3.3e-2 in the logits,
and a float16 KV cache (``kv_dtype=np.float16``) by up to 1.7e-2 (both keep the greedy tokens).
"""

import numpy as np
import pytest

from wse.kernels.llm.hf_compare import compare_with_hf, hf_decode_logits, load_hf_model
from wse.kernels.llm.reference import ReferenceModel
from wse.kernels.llm.weights import tiny_weights, unpermute_qk, write_gguf

HF_REASON = "HF comparison needs: pip install torch==2.13.0 transformers accelerate"
torch = pytest.importorskip("torch", reason=HF_REASON)
pytest.importorskip("transformers", reason=HF_REASON)

N_NEW = 32  # must match tests/llm/conftest.py (checked in test_greedy_tokens_match_hf)
LOGIT_ATOL = 3e-4
FABRIC_TARGET = 1e-3
RESID_RTOL = 2e-5
TINY_ATOL = 1e-5


def test_hf_weights_equal_reference_weights_and_hf_unpermuted_qk(hf_smollm2, smollm2_weights):
    """transformers' GGUF loader reverses llama.cpp's Q/K row permutation itself: its q_proj/k_proj
    are our GGUF-layout wq/wk un-permuted, and every other tensor is identical."""
    hf = {k: v.detach().numpy() for k, v in hf_smollm2.state_dict().items()}
    ours = smollm2_weights.hf_state_dict()
    assert set(ours) == set(hf)
    for name, w in ours.items():
        assert hf[name].dtype == np.float32
        np.testing.assert_array_equal(hf[name], w.astype(np.float32), err_msg=name)
    wq = smollm2_weights.layers[0].wq.astype(np.float32)
    hq = hf["model.layers.0.self_attn.q_proj.weight"]
    assert not np.array_equal(hq, wq)  # the layouts really differ ...
    np.testing.assert_array_equal(hq, unpermute_qk(wq, 9))  # ... by exactly the permutation
    assert hf_smollm2.config.tie_word_embeddings
    assert hf_smollm2.lm_head.weight.data_ptr() == hf_smollm2.model.embed_tokens.weight.data_ptr()


def test_greedy_tokens_match_hf(ref_greedy_run, hf_greedy_run, smollm2_tokenizer):
    ref_new, _ = ref_greedy_run
    hf_new, _ = hf_greedy_run
    assert len(ref_new) == N_NEW
    assert ref_new == hf_new
    assert smollm2_tokenizer.decode(ref_new).startswith(" Paris")


def test_logits_match_hf_at_every_step(smollm2_ref, hf_smollm2, smollm2_prompt_ids, hf_greedy_run, smollm2_tokenizer):
    c = compare_with_hf(smollm2_ref, hf_smollm2, smollm2_prompt_ids, N_NEW, hf_result=hf_greedy_run)
    report = c.table(smollm2_tokenizer.decode)
    print(report)  # shown with -s / on failure: the per-step numbers quoted in the module docstring
    assert len(c.max_abs_diff) == len(smollm2_prompt_ids) + N_NEW - 1
    assert c.max_abs_diff.max() < LOGIT_ATOL, report
    assert c.max_abs_diff.max() < FABRIC_TARGET
    # not vacuous: the logits are large and the greedy choice is often close
    assert c.logit_scale.min() > 10 and c.top2_margin.min() < 0.1


def _hf_layer_outputs(model, ids):
    """Residual stream after every decoder layer from one non-cached forward: (n_layers, T, dim)."""
    outs = []

    def hook(_module, _inputs, output):
        outs.append((output[0] if isinstance(output, tuple) else output)[0].detach().numpy().copy())

    handles = [layer.register_forward_hook(hook) for layer in model.model.layers]
    try:
        with torch.no_grad():
            model(input_ids=torch.tensor([ids]), use_cache=False)
    finally:
        for h in handles:
            h.remove()
    return np.stack(outs)


def test_per_layer_residuals_match_hf(smollm2_weights, hf_smollm2, smollm2_prompt_ids, hf_greedy_run):
    ids = list(smollm2_prompt_ids) + hf_greedy_run[0][:8]
    want = _hf_layer_outputs(hf_smollm2, ids)  # (30, T, 576)
    ref = ReferenceModel(smollm2_weights)
    got = np.stack([ref.step(t, p, return_layers=True).layers for p, t in enumerate(ids)], axis=1)
    assert got.shape == want.shape == (30, len(ids), 576)
    scale = np.abs(want).max(axis=(1, 2))
    err = np.abs(got - want).max(axis=(1, 2))
    assert (err <= RESID_RTOL * scale).all(), list(zip(err.tolist(), scale.tolist()))


@pytest.mark.parametrize("tied", [True, False])
def test_tiny_model_through_gguf_matches_hf(tmp_path, tied):
    """An independent check of layout and GQA mapping on weights we made: HF loads the tiny GGUF
    (un-permuting Q/K as for any llama GGUF) and must produce the reference's logits."""
    from wse.kernels.llm.config import TINY

    cfg = TINY if tied else TINY.replace(tie_embeddings=False, name="tiny-untied")
    w = tiny_weights(seed=5, config=cfg)
    path = write_gguf(w, tmp_path / "tiny.gguf", qtype="F16")
    hf = load_hf_model(path)
    assert hf.config.tie_word_embeddings is tied
    ids = [int(t) for t in np.random.default_rng(3).integers(0, 256, 20)]
    want = hf_decode_logits(hf, ids)
    got = ReferenceModel(w).prefill(ids)
    np.testing.assert_allclose(got, want, rtol=0, atol=TINY_ATOL)
    assert np.ptp(want, axis=0).max() > 1.0
