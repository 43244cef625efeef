"""Host driver of ``attn_decode.s`` (``wse.kernels.attention.run``).

>>> chain = AttentionChain(P=4, S=8, head_dim=16, group=2)
>>> out = chain.step(pos, q, k, v)       # (group, head_dim) float32, read from the chain end
>>> chain.cycles                          # emulated cycles of the last step
"""

from __future__ import annotations

import math

import numpy as np

from wse.kernels.driver import assemble, check_int, host_array, kernel_source, load_object, make_fabric

C_IN = 0


def _f32_bits(x: float) -> int:
    return int(np.array(x, np.float32).view(np.uint32))


class AttentionChain:
    def __init__(self, P: int, S: int, head_dim: int, group: int, *, arch: str = "wse3",
                 backend: str | None = None, scale: float | None = None):
        P, S = check_int("P", P, 1, 4096), check_int("S", S, 1)
        head_dim, group = check_int("head_dim", head_dim, 1), check_int("group", group, 1)
        self.P, self.S, self.hd, self.G = P, S, head_dim, group
        scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
        self.length = 0      # positions 0 .. length-1 are in the cache
        self.defines = {"P": P, "S": S, "HD": head_dim, "G": group, "SCALE_BITS": _f32_bits(scale)}
        data = assemble(kernel_source("attention/attn_decode.s"), self.defines, arch)
        self.obj = load_object(data)
        self.fabric = make_fabric(data, self.obj, arch, backend)
        self.cycles = 0
        self.total_cycles = 0

    def step(self, pos: int, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Append k, v at ``pos`` (0 .. the number of cached positions: a step may go back and
        overwrite, not skip ahead) and return the G heads' attention outputs over 0 .. pos.
        q: (group, head_dim) (or flat); k, v: (head_dim,)."""
        pos = check_int("pos", pos, 0)
        if pos >= self.P * self.S:
            raise ValueError(f"position {pos} beyond the cache ({self.P} x {self.S})")
        if pos > self.length:
            cached = f"positions 0 .. {self.length - 1} are cached" if self.length else "nothing is cached yet"
            raise ValueError(f"position {pos} skips ahead: {cached}, so the next is at most {self.length}")
        q = host_array("q", q, np.float32)
        if q.size != self.G * self.hd or q.ndim not in (1, 2) or (q.ndim == 2 and q.shape != (self.G, self.hd)):
            raise ValueError(f"q has shape {q.shape}; expected ({self.G}, {self.hd}) or ({self.G * self.hd},)")
        k = host_array("k", k, np.float32, (self.hd,))
        v = host_array("v", v, np.float32, (self.hd,))
        payload = np.concatenate([q.reshape(-1), k, v]).view(np.uint32)
        fab = self.fabric
        fab.send(C_IN, 0, 0, "north", np.concatenate([np.array([pos], np.uint32), payload]))
        c0 = fab.cycle
        fab.run()
        self.cycles = fab.cycle - c0
        self.total_cycles += self.cycles
        self.length = pos + 1
        out = np.asarray(fab.read("out", rect=(0, self.P - 1, 1, 1)))[0, 0]
        return out.reshape(self.G, self.hd).astype(np.float32)
