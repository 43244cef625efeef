"""LlamaConfig validation and construction from GGUF metadata."""

import pytest

from wse.kernels.llm.config import SMOLLM2_135M, TINY, LlamaConfig, config_from_gguf_metadata, get_config
from wse.kernels.llm.errors import ConfigError, LLMError


def test_builtin_shapes():
    assert (TINY.n_layers, TINY.dim, TINY.n_heads, TINY.n_kv_heads, TINY.ffn_dim, TINY.vocab) == (2, 64, 4, 2, 128, 256)
    assert TINY.q_dim == 64 and TINY.kv_dim == 32 and TINY.group_size == 2
    s = SMOLLM2_135M
    assert (s.n_layers, s.dim, s.n_heads, s.n_kv_heads, s.head_dim, s.ffn_dim, s.vocab) == (30, 576, 9, 3, 64, 1536, 49152)
    assert s.tie_embeddings and s.q_dim == 576 and s.kv_dim == 192 and s.group_size == 3
    assert get_config("tiny") is TINY and get_config("smollm2-135m") is SMOLLM2_135M


def test_unknown_config_name():
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        get_config("nope")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(n_kv_heads=3), "multiple of n_kv_heads"),
        (dict(head_dim=15), "even"),
        (dict(dim=0), "dim must be a positive integer"),
        (dict(vocab=-1), "vocab must be a positive integer"),
        (dict(rope_theta=0.0), "rope_theta"),
        (dict(norm_eps=0.0), "norm_eps"),
    ],
)
def test_invalid_configs_raise(change, message):
    with pytest.raises(ConfigError, match=message):
        TINY.replace(**change)


def _meta(**over):
    meta = {
        "general.architecture": "llama",
        "llama.block_count": 30,
        "llama.context_length": 8192,
        "llama.embedding_length": 576,
        "llama.feed_forward_length": 1536,
        "llama.attention.head_count": 9,
        "llama.attention.head_count_kv": 3,
        "llama.rope.freq_base": 100000.0,
        "llama.attention.layer_norm_rms_epsilon": 9.999999747378752e-06,
        "llama.vocab_size": 49152,
        "llama.rope.dimension_count": 64,
    }
    meta.update(over)
    return {k: v for k, v in meta.items() if v is not None}


def test_config_from_gguf_metadata_matches_smollm2_table():
    cfg = config_from_gguf_metadata(_meta(), tie_embeddings=True, name="x")
    for f in ("n_layers", "dim", "n_heads", "n_kv_heads", "head_dim", "ffn_dim", "vocab", "tie_embeddings", "max_context"):
        assert getattr(cfg, f) == getattr(SMOLLM2_135M, f), f
    assert cfg.rope_theta == 100000.0
    assert cfg.norm_eps == pytest.approx(1e-5, rel=1e-7)


def test_config_from_gguf_metadata_errors():
    with pytest.raises(ConfigError, match="only 'llama'"):
        config_from_gguf_metadata(_meta(**{"general.architecture": "gpt2"}), tie_embeddings=True)
    with pytest.raises(ConfigError, match="lacks llama.block_count"):
        config_from_gguf_metadata(_meta(**{"llama.block_count": None}), tie_embeddings=True)
    with pytest.raises(ConfigError, match="partial RoPE"):
        config_from_gguf_metadata(_meta(**{"llama.rope.dimension_count": 32}), tie_embeddings=True)
    # every error of the package is an LLMError (what the CLI catches)
    assert issubclass(ConfigError, LLMError)


def test_config_is_frozen():
    with pytest.raises(Exception):
        TINY.dim = 3  # type: ignore[misc]
    assert isinstance(TINY, LlamaConfig)
