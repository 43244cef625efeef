"""Host driver of ``attn_decode.s`` (``wse.kernels.attention.run``).

>>> chain = AttentionChain(P=4, S=8, head_dim=16, group=2)
>>> out = chain.step(pos, q, k, v)       # (group, head_dim) float32, read from the chain end
>>> chain.cycles                          # emulated cycles of the last step
"""

from __future__ import annotations

import math

import numpy as np

from wse.kernels.driver import assemble, kernel_source, load_object, make_fabric

C_IN = 0


def _f32_bits(x: float) -> int:
    return int(np.array(x, np.float32).view(np.uint32))


class AttentionChain:
    def __init__(self, P: int, S: int, head_dim: int, group: int, *, arch: str = "wse3",
                 backend: str | None = None, scale: float | None = None):
        self.P, self.S, self.hd, self.G = P, S, head_dim, group
        scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
        self.defines = {"P": P, "S": S, "HD": head_dim, "G": group, "SCALE_BITS": _f32_bits(scale)}
        data = assemble(kernel_source("attention/attn_decode.s"), self.defines, arch)
        self.obj = load_object(data)
        self.fabric = make_fabric(data, self.obj, arch, backend)
        self.cycles = 0
        self.total_cycles = 0

    def step(self, pos: int, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        if not 0 <= pos < self.P * self.S:
            raise ValueError(f"position {pos} beyond the cache ({self.P} x {self.S})")
        q = np.asarray(q, np.float32).reshape(-1)
        payload = np.concatenate([q, np.asarray(k, np.float32).reshape(-1),
                                  np.asarray(v, np.float32).reshape(-1)]).view(np.uint32)
        fab = self.fabric
        fab.send(C_IN, 0, 0, "north", np.concatenate([np.array([pos], np.uint32), payload]))
        c0 = fab.cycle
        fab.run()
        self.cycles = fab.cycle - c0
        self.total_cycles += self.cycles
        out = np.asarray(fab.read("out", rect=(0, self.P - 1, 1, 1)))[0, 0]
        return out.reshape(self.G, self.hd).astype(np.float32)
