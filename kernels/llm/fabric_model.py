"""Numpy model of the fabric decode (``wse.kernels.llm.fabric_model``).

:class:`FabricModel` computes a decode step exactly the way the fabric mapping of
:mod:`.fabric_plan` (docs/decode.md) does: the same blocks, the same summation order, the same
software exp / reciprocal / rsqrt (:mod:`.fabric_math`), every intermediate rounded to float32.
It is the bit-level prediction for the emulated fabric, and, compared with the float32
reference (:mod:`.reference`, BLAS summation order, libm exp), it measures how much the
fabric's accumulation order and software math move the logits.

Summation orders mirrored here:

* GEMV ``y = W x`` cut into column blocks of ``cols``: inside a block, ``acc = acc + W[:, k] *
  x[k]`` for k in column order starting from 0 (one ``fmachs`` per column, product rounded
  then added); the block partials are then added along the chain, West to East:
  ``y = ((p0 + p1) + p2) + ...``. Rows are independent, so row blocking does not matter.
* RMSNorm: squares by one ``fmuls``, summed by a halving tree over a zero-padded power-of-two
  buffer (``s[:n/2] + s[n/2:]``), times fp32(1/dim), plus eps, Newton rsqrt, ``(x * inv) * g``.
* Attention, per KV head: position p on chain PE ``p % P`` slot ``p // P``; scores
  ``s = s + K[d, :] * q[d]`` for d in order, times the scale; the global max; ``e = exp(s - max)``;
  per PE ``l = l + e[slot]`` and ``o = o + V[slot] * e[slot]`` in slot order; PE partials added
  along the chain m = 0..P-1 (the fabric program, ``Attention.active_up``: only the PEs with
  m <= pos, from the last of them up to m = 0); ``o * recip(l)``.
* SwiGLU: ``silu(gate) * up`` with the software silu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import fabric_math as fm
from .errors import LLMError
from .fabric_plan import FabricPlan, plan_model
from .reference import rope_tables
from .weights import ModelWeights

F32 = np.float32


def chain_gemv(wt: np.ndarray, x: np.ndarray, cols: int, init: Optional[np.ndarray] = None) -> np.ndarray:
    """``W @ x`` in the fabric's order. ``wt`` is ``W.T`` as float32 ``(in, out)``. ``init``:
    the value that starts the row reduction (``((init + p0) + p1) + ...``)."""
    n_in = wt.shape[0]
    if n_in % cols:
        raise LLMError(f"chain_gemv: {n_in} inputs are not a multiple of {cols}")
    y = None if init is None else np.asarray(init, dtype=F32)
    for j in range(0, n_in, cols):
        acc = wt[j] * x[j]  # 0 + w*x: the first fmachs adds the rounded product to 0
        for k in range(j + 1, j + cols):
            acc = acc + wt[k] * x[k]
        y = acc if y is None else y + acc
    return y


def tree_sum(v: np.ndarray) -> F32:
    """Halving-tree sum over a zero-padded power-of-two buffer (float32)."""
    n = 1
    while n < v.size:
        n *= 2
    buf = np.zeros(n, dtype=F32)
    buf[: v.size] = v
    while n > 1:
        n //= 2
        buf = buf[:n] + buf[n : 2 * n]
    return F32(buf[0])


def rms_norm(x: np.ndarray, gain: np.ndarray, eps: float) -> np.ndarray:
    x = np.asarray(x, dtype=F32)
    ss = tree_sum(x * x)
    ms = ss * F32(1.0 / x.size)
    inv = fm.rsqrt_scalar(ms + F32(eps))
    return (x * inv) * gain


@dataclass
class FabricStep:
    logits: np.ndarray
    token: int
    layers: np.ndarray  # (n_layers, dim) residual after each layer
    final_norm: np.ndarray


class _Layer:
    def __init__(self, L, cfg):
        f = lambda a: np.ascontiguousarray(np.asarray(a, dtype=F32).T)
        self.attn_norm = L.attn_norm.astype(F32)
        self.ffn_norm = L.ffn_norm.astype(F32)
        self.wq_t, self.wk_t, self.wv_t = f(L.wq), f(L.wk), f(L.wv)
        self.wo_t, self.wg_t, self.wu_t, self.wd_t = f(L.wo), f(L.w_gate), f(L.w_up), f(L.w_down)


class FabricModel:
    """KV-cached decode following the fabric mapping of ``plan`` (default: :func:`plan_model`)."""

    def __init__(self, weights: ModelWeights, plan: Optional[FabricPlan] = None, *, context: Optional[int] = None):
        cfg = weights.config
        self.config = cfg
        self.plan = plan or plan_model(cfg, context=context or 2048)
        self.context = self.plan.context
        self.layers = [_Layer(L, cfg) for L in weights.layers]
        self.out_norm = weights.out_norm.astype(F32)
        self.tok_embd = weights.tok_embd
        self.lm_t = np.ascontiguousarray(weights.output_weight.astype(F32).T)
        self.cos, self.sin = rope_tables(self.context, cfg.head_dim, cfg.rope_theta)
        self.scale = F32(1.0 / np.sqrt(cfg.head_dim))
        a = self.plan.layer.attn
        # per layer, per KV head: K[pe][d][slot], V[pe][slot][d]
        shape_k = (cfg.n_layers, cfg.n_kv_heads, a.chain, cfg.head_dim, a.slots)
        shape_v = (cfg.n_layers, cfg.n_kv_heads, a.chain, a.slots, cfg.head_dim)
        self.k = np.zeros(shape_k, dtype=F32)
        self.v = np.zeros(shape_v, dtype=F32)
        self.length = 0

    def reset(self) -> None:
        self.length = 0

    # ------------------------------------------------------------------------------------
    def _rope(self, x: np.ndarray, pos: int) -> np.ndarray:
        c, s = self.cos[pos], self.sin[pos]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    def _attention(self, li: int, q: np.ndarray, k: np.ndarray, v: np.ndarray, pos: int) -> np.ndarray:
        cfg = self.config
        a = self.plan.layer.attn
        P, S, hd, G = a.chain, a.slots, cfg.head_dim, cfg.group_size
        m, slot = pos % P, pos // P
        out = np.empty((cfg.n_heads, hd), dtype=F32)
        n_used = pos // P + 1  # slots in use on PE 0 (the most loaded)
        # valid[m, s]: position s*P + m <= pos
        valid = (np.arange(n_used)[None, :] * P + np.arange(P)[:, None]) <= pos
        for g in range(cfg.n_kv_heads):
            K, V = self.k[li, g], self.v[li, g]
            K[m, :, slot] = k[g]
            V[m, slot, :] = v[g]
            for hi in range(G):
                h = g * G + hi
                s = np.zeros((P, n_used), dtype=F32)
                for d in range(hd):
                    s = s + K[:, d, :n_used] * q[h, d]
                s = s * self.scale
                mx = F32(s[valid].max())
                e = fm.exp(s - mx)
                e[~valid] = 0.0
                lsum = np.zeros(P, dtype=F32)
                o = np.zeros((P, hd), dtype=F32)
                for t in range(n_used):
                    lsum = lsum + e[:, t]
                    o = o + V[:, t, :] * e[:, t, None]
                if a.active_up:
                    n_act = min(pos + 1, P)
                    L, O = lsum[n_act - 1], o[n_act - 1]
                    for pe in range(n_act - 2, -1, -1):
                        L = F32(L + lsum[pe])
                        O = O + o[pe]
                else:
                    L, O = lsum[0], o[0]
                    for pe in range(1, P):
                        L = F32(L + lsum[pe])
                        O = O + o[pe]
                out[h] = O * fm.recip_scalar(L)
        return out.reshape(-1)

    # ------------------------------------------------------------------------------------
    def step(self, token_id: int, pos: int, hook: Optional[Callable[[str, int, np.ndarray], None]] = None) -> FabricStep:
        cfg = self.config
        if not 0 <= pos < self.context:
            raise LLMError(f"position {pos} out of range 0..{self.context - 1}")
        if pos > self.length:
            raise LLMError(f"position {pos} skips ahead: only {self.length} positions are cached")
        emit = hook or (lambda *_: None)
        pl = self.plan.layer
        hd = cfg.head_dim
        x = self.tok_embd[int(token_id)].astype(F32)
        per_layer = np.empty((cfg.n_layers, cfg.dim), dtype=F32)
        for li, L in enumerate(self.layers):
            h = rms_norm(x, L.attn_norm, cfg.norm_eps)
            emit("attn_norm", li, h)
            # the qkv block columns are shared by q, k and v (one or two block-rows per KV group)
            q = chain_gemv(L.wq_t, h, pl.qkv.cols).reshape(cfg.n_heads, hd)
            k = chain_gemv(L.wk_t, h, pl.qkv.cols).reshape(cfg.n_kv_heads, hd)
            v = chain_gemv(L.wv_t, h, pl.qkv.cols).reshape(cfg.n_kv_heads, hd)
            q, k = self._rope(q, pos), self._rope(k, pos)
            emit("q", li, q)
            emit("k", li, k)
            emit("v", li, v)
            attn = self._attention(li, q, k, v, pos)
            emit("attn", li, attn)
            if hook is not None:
                emit("attn_out", li, chain_gemv(L.wo_t, attn, pl.o.cols))
            # the residual starts the O row's reduction (O column 0)
            x = chain_gemv(L.wo_t, attn, pl.o.cols, init=x)
            emit("resid_mid", li, x)
            h = rms_norm(x, L.ffn_norm, cfg.norm_eps)
            emit("ffn_norm", li, h)
            gate = chain_gemv(L.wg_t, h, pl.gu.cols)
            up = chain_gemv(L.wu_t, h, pl.gu.cols)
            emit("gate", li, gate)
            emit("up", li, up)
            act = fm.silu(gate) * up
            emit("act", li, act)
            if hook is not None:
                emit("ffn_out", li, chain_gemv(L.wd_t, act, pl.down.cols))
            if pl.down_x_last:   # the residual added to the down partials' sum
                x = x + chain_gemv(L.wd_t, act, pl.down.cols)
            else:                # the residual starts the down row's reduction (down column 0)
                x = chain_gemv(L.wd_t, act, pl.down.cols, init=x)
            emit("resid", li, x)
            per_layer[li] = x
        self.length = pos + 1
        xn = rms_norm(x, self.out_norm, cfg.norm_eps)
        emit("final_norm", -1, xn)
        logits = chain_gemv(self.lm_t, xn, self.plan.lm.cols)
        emit("logits", -1, logits)
        return FabricStep(logits=logits, token=int(np.argmax(logits)), layers=per_layer, final_norm=xn)

    def generate(self, prompt_ids, n: int):
        """Greedy: returns (new ids, logits of every step)."""
        self.reset()
        rows, new = [], []
        for i, t in enumerate(prompt_ids):
            r = self.step(t, i)
            rows.append(r.logits)
        pos = len(prompt_ids)
        for i in range(n):
            nxt = int(np.argmax(rows[-1]))
            new.append(nxt)
            if i == n - 1:
                break
            rows.append(self.step(nxt, pos).logits)
            pos += 1
        return new, np.stack(rows)
