"""Numpy mirror of ``attn_decode.s`` (``wse.kernels.attention.model``).

Same layout (position p on PE ``p % P``, slot ``p // P``), same summation orders and the same
software exp / reciprocal as the kernel, so the emulated outputs equal these bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from wse.kernels.llm import fabric_math as fm

F32 = np.float32


class AttentionModel:
    def __init__(self, P: int, S: int, head_dim: int, group: int, scale: float | None = None):
        self.P, self.S, self.hd, self.G = P, S, head_dim, group
        self.scale = F32(1.0 / math.sqrt(head_dim)) if scale is None else F32(scale)
        self.K = np.zeros((P, head_dim, S), F32)
        self.V = np.zeros((P, S, head_dim), F32)

    def step(self, pos: int, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        """q (G, hd), k (hd,), v (hd,) float32 -> (G, hd) head outputs."""
        P, hd = self.P, self.hd
        if pos >= P * self.S:
            raise ValueError(f"position {pos} beyond the cache ({P} x {self.S})")
        q = np.asarray(q, F32).reshape(self.G, hd)
        self.K[pos % P, :, pos // P] = k
        self.V[pos % P, pos // P, :] = v
        out = np.empty((self.G, hd), F32)
        n_used = pos // P + 1
        valid = (np.arange(n_used)[None, :] * P + np.arange(P)[:, None]) <= pos
        for h in range(self.G):
            s = np.zeros((P, n_used), F32)
            for d in range(hd):
                s = s + self.K[:, d, :n_used] * q[h, d]
            s = s * self.scale
            mx = F32(s[valid].max())
            e = fm.exp(s - mx)
            e[~valid] = 0.0
            l = np.zeros(P, F32)
            o = np.zeros((P, hd), F32)
            for t in range(n_used):
                l = l + e[:, t]
                o = o + self.V[:, t, :] * e[:, t, None]
            L, O = l[0], o[0]
            for m in range(1, P):
                L = F32(L + l[m])
                O = O + o[m]
            out[h] = O * fm.recip_scalar(L)
        return out
