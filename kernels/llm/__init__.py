"""Host-side model layer for running a Llama-family language model on the fabric.

* :mod:`.config` -- :class:`LlamaConfig` and the built-in ``tiny`` / ``smollm2-135m`` configs.
* :mod:`.weights` -- seeded ``tiny`` weights and GGUF loading (float16, adjacent-pair RoPE layout).
* :mod:`.tokenizer` -- byte tokenizer for ``tiny``; byte-level BPE from GGUF metadata.
* :mod:`.reference` -- the numpy float32 decode (KV cache, per-layer outputs) the fabric is
  checked against.
* :mod:`.hf_compare` -- optional cross-check with HF transformers (needs torch/transformers).
* :mod:`.fabric` -- :class:`FabricDecoder`, the decode on the emulated fabric (``wse-llm``);
  importable from here too (loaded on first use: it brings in the assembler and the emulator).
"""

from .config import SMOLLM2_135M, TINY, LlamaConfig, get_config
from .errors import ConfigError, GGUFError, LLMError, MissingPackageError
from .reference import ReferenceModel, StepOutput, apply_rope, rms_norm
from .tokenizer import ByteTokenizer, GGUFTokenizer, load_model, load_tokenizer, tokenizer_from_gguf
from .weights import LayerWeights, ModelWeights, load_gguf, load_weights, smollm2_gguf_path, tiny_weights

__all__ = [
    "LlamaConfig",
    "TINY",
    "SMOLLM2_135M",
    "get_config",
    "LLMError",
    "ConfigError",
    "GGUFError",
    "MissingPackageError",
    "ReferenceModel",
    "StepOutput",
    "apply_rope",
    "rms_norm",
    "ByteTokenizer",
    "GGUFTokenizer",
    "load_model",
    "load_tokenizer",
    "tokenizer_from_gguf",
    "LayerWeights",
    "ModelWeights",
    "load_gguf",
    "load_weights",
    "smollm2_gguf_path",
    "tiny_weights",
    "FabricDecoder",
]


def __getattr__(name):
    if name == "FabricDecoder":
        from .fabric import FabricDecoder
        return FabricDecoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
