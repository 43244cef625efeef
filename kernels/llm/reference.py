"""Numpy reference of the Llama decode step (``wse.kernels.llm.reference``).

This is the in-project golden model that the fabric implementation will be compared with, layer by
layer. It decodes one token at a time with a KV cache, exactly as the fabric will.

Numerics (the contract a fabric implementation is checked against)
------------------------------------------------------------------
* **Weights** are the float16 arrays of :class:`~wse.kernels.llm.weights.ModelWeights`, used as
  their exact float32 values (``w.astype(float32)``, computed once at construction).
* **Activations and accumulation are float32** throughout: every matrix-vector product is a numpy
  float32 ``matmul`` (BLAS sgemv, float32 accumulators), softmax/RMSNorm/SiLU in float32.
* **KV cache**: K (after RoPE) and V are stored in **float32** by default, i.e. exactly the values
  the attention of the step that produced them used; ``kv_dtype=np.float16`` rounds them to float16
  on store (what a fabric with fp16 cache memory would do) so the effect can be measured.
* **RoPE** rotates *adjacent* pairs ``(2i, 2i+1)`` of each head (the GGUF/llama.cpp layout, see
  :mod:`wse.kernels.llm.weights`) by ``pos * rope_theta ** (-2i / head_dim)``. The cos/sin tables
  are computed in float64 and rounded once to float32.
* **RMSNorm**: ``y = (x * (1 / sqrt(mean(x*x) + eps))) * g`` (float32; same order as HF).
* **Attention**: GQA, query head ``h`` uses KV head ``h // (n_heads // n_kv_heads)``; scores
  ``q.k * head_dim**-0.5``; softmax with the max subtracted; causal by construction (the cache
  holds positions ``0..pos``).
* **MLP**: SwiGLU, ``w_down @ (silu(w_gate @ x) * (w_up @ x))`` with ``silu(z) = z / (1 + exp(-z))``.
* **LM head**: tied (``tok_embd``) or separate, applied to the final RMSNorm output; float32 logits.

Because only summation order differs between this code and another float32 implementation with
the same fp16 weights (HF transformers on CPU, or the fabric), logits agree to ~1e-5 of their
scale: on SmolLM2 the max |logit difference| to HF is 8.7e-5 over 36 decode steps (logits up to
~38). The storage choices matter much more: float32-dequantized (not fp16-rounded) weights move
the SmolLM2 logits by up to 3.3e-2 and a float16 KV cache by up to 1.7e-2, so a fabric
implementation must keep both choices to meet a 1e-3 tolerance.

Per-layer comparison: ``step(..., return_layers=True)`` returns the residual stream after every
layer, and ``hook(name, layer, value)`` sees each intermediate listed in :data:`HOOK_POINTS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .config import LlamaConfig
from .errors import LLMError, check_eos, check_index, check_prompt
from .weights import LayerWeights, ModelWeights

F32 = np.float32

#: Intermediates passed to a ``hook(name, layer, value)``, in call order. ``layer`` is -1 for the
#: values outside the blocks. Shapes: ``q`` (n_heads, head_dim) and ``k``/``v``
#: (n_kv_heads, head_dim) after RoPE; ``attn`` (n_heads*head_dim,) is the concatenated head output
#: before ``wo``; ``gate``/``up``/``act`` are (ffn_dim,); everything else (dim,) or (vocab,).
HOOK_POINTS = (
    "embed",
    "attn_norm",
    "q",
    "k",
    "v",
    "attn",
    "attn_out",
    "resid_mid",
    "ffn_norm",
    "gate",
    "up",
    "act",
    "ffn_out",
    "resid",
    "final_norm",
    "logits",
)

Hook = Callable[[str, int, np.ndarray], None]


# --------------------------------------------------------------------------------------------
# Building blocks (public: the tests and the fabric comparisons use them directly)
# --------------------------------------------------------------------------------------------


def rope_frequencies(head_dim: int, theta: float) -> np.ndarray:
    """``theta ** (-2i / head_dim)`` for ``i < head_dim/2``, float64."""
    i = np.arange(head_dim // 2, dtype=np.float64)
    return theta ** (-2.0 * i / head_dim)


def rope_tables(n_positions: int, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """``(cos, sin)``, each ``(n_positions, head_dim/2)`` float32, angles in float64."""
    angles = np.arange(n_positions, dtype=np.float64)[:, None] * rope_frequencies(head_dim, theta)[None, :]
    return np.cos(angles).astype(F32), np.sin(angles).astype(F32)


def apply_rope(x: np.ndarray, pos: int, theta: float, *, cos: Optional[np.ndarray] = None, sin: Optional[np.ndarray] = None) -> np.ndarray:
    """Rotate adjacent pairs ``(x[2i], x[2i+1])`` of the last axis by ``pos * theta^(-2i/d)``.

    ``x``: ``(..., head_dim)``; returns float32. ``cos``/``sin`` (rows of :func:`rope_tables` for
    ``pos``) may be passed to avoid recomputing them.
    """
    x = np.asarray(x, dtype=F32)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"RoPE needs an even head_dim, got {d}")
    if cos is None or sin is None:
        ang = float(pos) * rope_frequencies(d, theta)
        cos, sin = np.cos(ang).astype(F32), np.sin(ang).astype(F32)
    pairs = x.reshape(*x.shape[:-1], d // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    out = np.empty_like(pairs)
    out[..., 0] = x0 * cos - x1 * sin
    out[..., 1] = x0 * sin + x1 * cos
    return out.reshape(x.shape)


def apply_rope_half_split(x: np.ndarray, pos: int, theta: float) -> np.ndarray:
    """HF ``rotate_half`` RoPE: pairs ``(x[i], x[i + d/2])``, same angles. For layout checks."""
    x = np.asarray(x, dtype=F32)
    d = x.shape[-1]
    ang = float(pos) * rope_frequencies(d, theta)
    cos, sin = np.cos(ang).astype(F32), np.sin(ang).astype(F32)
    a, b = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)


def rms_norm(x: np.ndarray, gain: np.ndarray, eps: float) -> np.ndarray:
    """``(x * (1/sqrt(mean(x^2) + eps))) * gain`` over the last axis, float32."""
    x = np.asarray(x, dtype=F32)
    ms = np.mean(x * x, axis=-1, keepdims=True, dtype=F32)
    inv = F32(1.0) / np.sqrt(ms + F32(eps))
    return (x * inv) * np.asarray(gain, dtype=F32)


def silu(z: np.ndarray) -> np.ndarray:
    """``z * sigmoid(z)`` in float32 (``z / (1 + exp(-z))``; -0 for very negative z)."""
    z = np.asarray(z, dtype=F32)
    with np.errstate(over="ignore"):
        return z / (F32(1.0) + np.exp(-z))


def softmax(s: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable float32 softmax."""
    s = np.asarray(s, dtype=F32)
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True, dtype=F32)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class StepOutput:
    """Everything one decode step exposes for per-layer comparison (all float32).

    ``embedding``: (dim,) the input row; ``layers``: (n_layers, dim), row ``l`` is the residual
    stream after layer ``l``; ``final_norm``: (dim,); ``logits``: (vocab,).
    """

    logits: np.ndarray
    embedding: np.ndarray
    layers: np.ndarray
    final_norm: np.ndarray


class _Layer32:
    """float32 copies of one layer's float16 weights (exact conversion)."""

    __slots__ = LayerWeights.NAMES

    def __init__(self, layer: LayerWeights) -> None:
        for name in LayerWeights.NAMES:
            setattr(self, name, np.ascontiguousarray(getattr(layer, name), dtype=F32))


class ReferenceModel:
    """KV-cached float32 decode of a Llama model with float16 weights.

    >>> ref = ReferenceModel(tiny_weights())
    >>> logits = ref.step(token_id=72, pos=0)          # float32 (vocab,)
    >>> out = ref.step(105, 1, return_layers=True)     # StepOutput with per-layer residuals
    >>> new_ids = ref.generate([72, 105], 8)           # greedy

    ``step(token, pos)`` writes K/V for ``pos`` into the cache and attends over positions
    ``0..pos``; ``pos`` may be at most the number of positions already cached (re-running an
    earlier position rewinds the cache to it).
    """

    def __init__(self, weights: ModelWeights, *, max_context: Optional[int] = None, kv_dtype=np.float32) -> None:
        if not isinstance(weights, ModelWeights):
            raise LLMError(f"weights must be a ModelWeights (from load_model, load_weights or "
                           f"tiny_weights), got {type(weights).__name__}")
        cfg = weights.config
        self.weights = weights
        self.config: LlamaConfig = cfg
        if max_context is None:
            self.max_context = cfg.max_context
        else:
            try:
                self.max_context = check_index("max_context", max_context, cfg.max_context + 1)
            except LLMError:
                raise LLMError(f"max_context must be in 1..{cfg.max_context}, got {max_context!r}") from None
            if self.max_context == 0:
                raise LLMError(f"max_context must be in 1..{cfg.max_context}, got 0")
        self.kv_dtype = np.dtype(kv_dtype)
        if self.kv_dtype not in (np.dtype(np.float32), np.dtype(np.float16)):
            raise LLMError(f"kv_dtype must be float32 or float16, got {self.kv_dtype}")
        self.tok_embd = np.ascontiguousarray(weights.tok_embd, dtype=F32)
        self.lm_head = self.tok_embd if weights.lm_head is None else np.ascontiguousarray(weights.lm_head, dtype=F32)
        self.out_norm = weights.out_norm.astype(F32)
        self.layers = [_Layer32(l) for l in weights.layers]
        self.rope_cos, self.rope_sin = rope_tables(self.max_context, cfg.head_dim, cfg.rope_theta)
        self.scale = F32(1.0 / np.sqrt(cfg.head_dim))
        # np.zeros is lazily committed by the OS: untouched cache rows cost no memory.
        shape = (cfg.n_layers, self.max_context, cfg.n_kv_heads, cfg.head_dim)
        self.k_cache = np.zeros(shape, dtype=self.kv_dtype)
        self.v_cache = np.zeros(shape, dtype=self.kv_dtype)
        self.length = 0  # number of cached positions

    def reset(self) -> None:
        """Forget the cached positions (the next step must be ``pos=0``)."""
        self.length = 0

    # ---------------------------------------------------------------------------------------
    def step(self, token_id: int, pos: int, *, return_layers: bool = False, hook: Optional[Hook] = None):
        """Run one decode step; return the float32 logits, or a :class:`StepOutput`."""
        cfg = self.config
        token_id = check_index("token id", token_id, cfg.vocab)
        pos = check_index("position", pos, self.max_context)
        if pos > self.length:
            raise LLMError(f"position {pos} skips ahead: only {self.length} positions are cached")
        emit = hook if hook is not None else (lambda name, layer, value: None)

        x = self.tok_embd[token_id].copy()
        emit("embed", -1, x)
        embedding = x.copy() if return_layers else None
        per_layer = np.empty((cfg.n_layers, cfg.dim), dtype=F32) if return_layers else None
        cos, sin = self.rope_cos[pos], self.rope_sin[pos]
        n_kv, group, hd = cfg.n_kv_heads, cfg.group_size, cfg.head_dim

        for li, L in enumerate(self.layers):
            h = rms_norm(x, L.attn_norm, cfg.norm_eps)
            emit("attn_norm", li, h)
            q = apply_rope((L.wq @ h).reshape(cfg.n_heads, hd), pos, cfg.rope_theta, cos=cos, sin=sin)
            k = apply_rope((L.wk @ h).reshape(n_kv, hd), pos, cfg.rope_theta, cos=cos, sin=sin)
            v = (L.wv @ h).reshape(n_kv, hd)
            emit("q", li, q)
            emit("k", li, k)
            emit("v", li, v)
            self.k_cache[li, pos] = k
            self.v_cache[li, pos] = v
            keys = self.k_cache[li, : pos + 1].astype(F32, copy=False)  # (T, n_kv, hd)
            vals = self.v_cache[li, : pos + 1].astype(F32, copy=False)
            qg = q.reshape(n_kv, group, hd)
            scores = np.matmul(qg, keys.transpose(1, 2, 0)) * self.scale  # (n_kv, group, T)
            probs = softmax(scores, axis=-1)
            attn = np.matmul(probs, vals.transpose(1, 0, 2)).reshape(cfg.q_dim)  # (n_kv, group, hd)
            emit("attn", li, attn)
            o = L.wo @ attn
            emit("attn_out", li, o)
            x = x + o
            emit("resid_mid", li, x)

            h = rms_norm(x, L.ffn_norm, cfg.norm_eps)
            emit("ffn_norm", li, h)
            gate = L.w_gate @ h
            up = L.w_up @ h
            emit("gate", li, gate)
            emit("up", li, up)
            act = silu(gate) * up
            emit("act", li, act)
            f = L.w_down @ act
            emit("ffn_out", li, f)
            x = x + f
            emit("resid", li, x)
            if per_layer is not None:
                per_layer[li] = x

        self.length = pos + 1
        xn = rms_norm(x, self.out_norm, cfg.norm_eps)
        emit("final_norm", -1, xn)
        logits = self.lm_head @ xn
        emit("logits", -1, logits)
        if return_layers:
            return StepOutput(logits=logits, embedding=embedding, layers=per_layer, final_norm=xn)
        return logits

    # ---------------------------------------------------------------------------------------
    def prefill(self, token_ids: Sequence[int], start_pos: int = 0) -> np.ndarray:
        """Feed ``token_ids`` one step at a time from ``start_pos``; return the logits of each step
        as an array ``(len(token_ids), vocab)``."""
        if start_pos == 0:
            self.reset()
        out = np.empty((len(token_ids), self.config.vocab), dtype=F32)
        for i, t in enumerate(token_ids):
            out[i] = self.step(t, start_pos + i)
        return out

    def generate(
        self,
        prompt_ids: Sequence[int],
        n: int,
        *,
        eos_id: Optional[int] = None,
        return_logits: bool = False,
    ):
        """Greedy decoding: feed the prompt from position 0, then pick ``argmax`` ``n`` times.

        Returns the list of new token ids (stopping early after ``eos_id`` if given). With
        ``return_logits``, returns ``(new_ids, logits)`` where ``logits[i]`` (float32, vocab) is
        the output of the step that fed the i-th token of ``prompt_ids + new_ids`` (the last new
        token is not fed, so there are ``len(prompt) + len(new) - 1`` rows).
        """
        prompt_ids = check_prompt(prompt_ids, n, self.max_context)
        eos_id = check_eos(eos_id, self.config.vocab)
        rows = list(self.prefill(prompt_ids))
        new: list[int] = []
        pos = len(prompt_ids)
        for i in range(n):
            nxt = int(np.argmax(rows[-1]))
            new.append(nxt)
            if (eos_id is not None and nxt == eos_id) or i == n - 1:
                break
            rows.append(self.step(nxt, pos))
            pos += 1
        if return_logits:
            return new, np.stack(rows)
        return new
