"""Model configurations for the Llama-family decode (``wse.kernels.llm.config``).

A :class:`LlamaConfig` describes the shape of a Llama-architecture decoder: RMSNorm, rotary
position embeddings (RoPE), grouped-query attention (GQA) and a SwiGLU MLP. Two configurations are
built in:

``tiny``
    2 layers, dim 64, 4 query heads / 2 KV heads of width 16, ffn 128, vocab 256 (one token per
    byte). Its weights are seeded random numbers (see :mod:`wse.kernels.llm.weights`); it exists so
    the whole pipeline can be tested in milliseconds and fits a small fabric.

``smollm2-135m``
    HuggingFaceTB's SmolLM2-135M(-Instruct): 30 layers, hidden 576, 9 query heads and 3 KV heads of
    width 64, ffn 1536, vocab 49152, tied input/output embeddings. ``rope_theta`` (100000) and
    ``norm_eps`` (1e-5 stored as float32) are the values the GGUF file carries; the loader reads them
    from the file (:func:`config_from_gguf_metadata`) and checks the shapes against this table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class LlamaConfig:
    """Shape and hyper-parameters of a Llama-architecture decoder.

    Attributes:
        n_layers: number of transformer blocks.
        dim: width of the residual stream (hidden size).
        n_heads: number of query heads.
        n_kv_heads: number of key/value heads (GQA: every ``n_heads // n_kv_heads`` query heads
            share one KV head; query head ``h`` reads KV head ``h // (n_heads // n_kv_heads)``).
        head_dim: width of one head; must be even (RoPE rotates pairs).
        ffn_dim: hidden width of the SwiGLU MLP.
        vocab: vocabulary size (rows of the embedding table).
        rope_theta: RoPE base; pair ``i`` of a head turns by ``pos * rope_theta ** (-2 i / head_dim)``.
        norm_eps: epsilon inside the RMSNorm square root.
        tie_embeddings: the LM head is the transposed token-embedding table.
        max_context: longest sequence (KV-cache length) the model supports.
        name: short label for messages.
    """

    n_layers: int
    dim: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_dim: int
    vocab: int
    rope_theta: float
    norm_eps: float
    tie_embeddings: bool
    max_context: int
    name: str = "llama"

    def __post_init__(self) -> None:
        for field in ("n_layers", "dim", "n_heads", "n_kv_heads", "head_dim", "ffn_dim", "vocab", "max_context"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{self.name}: {field} must be a positive integer, got {value!r}")
        if self.n_heads % self.n_kv_heads:
            raise ConfigError(
                f"{self.name}: n_heads ({self.n_heads}) must be a multiple of n_kv_heads ({self.n_kv_heads})"
            )
        if self.head_dim % 2:
            raise ConfigError(f"{self.name}: head_dim must be even for RoPE, got {self.head_dim}")
        if not self.rope_theta > 0:
            raise ConfigError(f"{self.name}: rope_theta must be positive, got {self.rope_theta!r}")
        if not self.norm_eps > 0:
            raise ConfigError(f"{self.name}: norm_eps must be positive, got {self.norm_eps!r}")

    @property
    def q_dim(self) -> int:
        """Rows of the Q projection (``n_heads * head_dim``)."""
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Rows of the K and V projections (``n_kv_heads * head_dim``)."""
        return self.n_kv_heads * self.head_dim

    @property
    def group_size(self) -> int:
        """Query heads per KV head."""
        return self.n_heads // self.n_kv_heads

    def replace(self, **changes) -> "LlamaConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


TINY = LlamaConfig(
    n_layers=2,
    dim=64,
    n_heads=4,
    n_kv_heads=2,
    head_dim=16,
    ffn_dim=128,
    vocab=256,
    rope_theta=10000.0,
    norm_eps=1e-5,
    tie_embeddings=True,
    # seeded weights: every position is as meaningful as any other, so tiny covers the whole
    # context the fabric mapping supports (and the reference can check all of it)
    max_context=2048,
    name="tiny",
)

SMOLLM2_135M = LlamaConfig(
    n_layers=30,
    dim=576,
    n_heads=9,
    n_kv_heads=3,
    head_dim=64,
    ffn_dim=1536,
    vocab=49152,
    rope_theta=100000.0,
    # The file stores float32(1e-5) = 9.999999747378752e-06; the loader takes the file's value.
    norm_eps=1e-5,
    tie_embeddings=True,
    max_context=8192,
    name="smollm2-135m",
)

BUILTIN_CONFIGS: dict[str, LlamaConfig] = {"tiny": TINY, "smollm2-135m": SMOLLM2_135M}

#: The fields that must agree between a built-in config and the file a named model loads from.
SHAPE_FIELDS = ("n_layers", "dim", "n_heads", "n_kv_heads", "head_dim", "ffn_dim", "vocab", "tie_embeddings")


def get_config(name: str) -> LlamaConfig:
    """The built-in configuration called ``name`` (``tiny`` or ``smollm2-135m``)."""
    try:
        return BUILTIN_CONFIGS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; built-in models: {', '.join(BUILTIN_CONFIGS)}") from None


def config_from_gguf_metadata(meta: dict, *, tie_embeddings: bool, name: str = "gguf") -> LlamaConfig:
    """Build a :class:`LlamaConfig` from GGUF metadata (``llama.*`` keys).

    ``meta`` maps GGUF keys to Python values. ``tie_embeddings`` is not a metadata key: a file ties
    the embeddings when it has no ``output.weight`` tensor, which the caller knows.
    """
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise ConfigError(f"{name}: general.architecture is {arch!r}; only 'llama' GGUF files are supported")

    def need(key: str):
        full = f"llama.{key}"
        if full not in meta:
            raise ConfigError(f"{name}: GGUF metadata lacks {full}")
        return meta[full]

    dim = int(need("embedding_length"))
    n_heads = int(need("attention.head_count"))
    n_kv_heads = int(meta.get("llama.attention.head_count_kv", n_heads))
    head_dim = int(meta.get("llama.attention.key_length", dim // n_heads))
    rope_dims = int(meta.get("llama.rope.dimension_count", head_dim))
    if rope_dims != head_dim:
        raise ConfigError(f"{name}: partial RoPE (rope.dimension_count {rope_dims} != head_dim {head_dim}) is not supported")
    if "llama.rope.scaling.type" in meta and meta["llama.rope.scaling.type"] not in ("none", None):
        raise ConfigError(f"{name}: RoPE scaling {meta['llama.rope.scaling.type']!r} is not supported")
    if "llama.vocab_size" in meta:
        vocab = int(meta["llama.vocab_size"])
    elif "tokenizer.ggml.tokens" in meta:
        vocab = len(meta["tokenizer.ggml.tokens"])
    else:
        raise ConfigError(f"{name}: GGUF metadata gives no vocabulary size")
    return LlamaConfig(
        n_layers=int(need("block_count")),
        dim=dim,
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        ffn_dim=int(need("feed_forward_length")),
        vocab=vocab,
        rope_theta=float(meta.get("llama.rope.freq_base", 10000.0)),
        norm_eps=float(need("attention.layer_norm_rms_epsilon")),
        tie_embeddings=tie_embeddings,
        max_context=int(meta.get("llama.context_length", 2048)),
        name=name,
    )
