"""Decode engine for the fabric mapping (``wse.kernels.llm.fabric``).

:class:`FabricDecoder` plans the fabric for a model (:mod:`.fabric_plan`: grid chosen
automatically or given, a model that does not fit is refused with :class:`FabricFitError`) and
runs greedy decode steps. Two engines, both following the mapping's tiling and summation order:

``model``
    :class:`~wse.kernels.llm.fabric_model.FabricModel`: the whole step in numpy, in the fabric's
    order with the fabric's software math. Cycles are the plan's estimate.
``hybrid``
    the attention of every layer and KV head runs on the emulator
    (``kernels/attention/attn_decode.s``, one chain of PEs per layer and KV head, the KV cache in
    their SRAM); the GEMVs, norms and SwiGLU are the numpy model. Because the kernel equals the
    model bit for bit, the logits equal the ``model`` engine's exactly; cycles are the emulated
    attention cycles plus the plan's estimate for the rest.

The all-fabric engine (every stage assembled, the host only streaming the token packet in and
reading the argmax out) is the next step of docs/decode.md and is not implemented yet: this
module says so instead of pretending (``FabricDecoder.engine`` is reported by ``wse-llm``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .errors import LLMError
from .fabric_model import FabricModel
from .fabric_plan import FabricPlan, plan_model
from .weights import ModelWeights

ENGINES = ("model", "hybrid")


@dataclass
class DecodeStats:
    steps: int = 0
    cycles: list = field(default_factory=list)
    wall: list = field(default_factory=list)


class _HybridModel(FabricModel):
    def __init__(self, weights: ModelWeights, plan: FabricPlan, arch: str, backend: Optional[str]):
        super().__init__(weights, plan)
        from wse.kernels.attention import AttentionChain

        a = plan.layer.attn
        cfg = weights.config
        self.chains = [[AttentionChain(a.chain, a.slots, cfg.head_dim, cfg.group_size, arch=arch, backend=backend)
                        for _ in range(cfg.n_kv_heads)] for _ in range(cfg.n_layers)]
        self.step_attn_cycles = 0

    def _attention(self, li, q, k, v, pos):
        G = self.config.group_size
        outs = []
        for g, chain in enumerate(self.chains[li]):
            outs.append(chain.step(pos, q[g * G:(g + 1) * G], k[g], v[g]))
            # chains of one layer run side by side on the fabric: the layer waits for the slowest
            cyc = chain.cycles
        self.step_attn_cycles += max(c.cycles for c in self.chains[li])
        return np.concatenate(outs).reshape(-1)


class FabricDecoder:
    def __init__(self, weights: ModelWeights, *, grid: Optional[tuple[int, int]] = None, arch: str = "wse2",
                 context: int = 2048, engine: str = "model", backend: Optional[str] = None):
        if engine not in ENGINES:
            raise LLMError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
        self.config = weights.config
        self.arch = arch
        self.engine = engine
        self.plan = plan_model(weights.config, context=context, arch=arch, grid=grid)
        if engine == "hybrid":
            self.model = _HybridModel(weights, self.plan, arch, backend)
        else:
            self.model = FabricModel(weights, self.plan)
        self.stats = DecodeStats()

    @property
    def clock_hz(self) -> int:
        from .fabric_plan import CLOCK_HZ

        return CLOCK_HZ[self.arch]

    def step(self, token_id: int, pos: int, *, want_logits: bool = False):
        """Feed one token at ``pos``; return the next token id (and the logits on request)."""
        t0 = time.perf_counter()
        if self.engine == "hybrid":
            self.model.step_attn_cycles = 0
        out = self.model.step(token_id, pos)
        wall = time.perf_counter() - t0
        est = self.plan.cycles_per_token(pos + 1)
        if self.engine == "hybrid":
            L = self.plan.layer
            attn_est = L.attn.cycles(self.arch, pos + 1) * self.config.n_layers
            cycles = est - attn_est + self.model.step_attn_cycles
        else:
            cycles = est
        self.stats.steps += 1
        self.stats.cycles.append(int(cycles))
        self.stats.wall.append(wall)
        return (out.token, out.logits) if want_logits else out.token

    def generate(self, prompt_ids, n: int, *, on_token=None):
        """Greedy decode: the prompt one token at a time through the same step, then n tokens."""
        if not prompt_ids:
            raise LLMError("the prompt encodes to no tokens")
        if len(prompt_ids) + n > self.plan.context:
            raise LLMError(f"prompt ({len(prompt_ids)}) + {n} tokens exceed the context {self.plan.context}")
        self.model.reset()
        nxt = None
        for i, t in enumerate(prompt_ids):
            nxt = self.step(t, i)
        new = []
        pos = len(prompt_ids)
        for i in range(n):
            new.append(nxt)
            if on_token:
                on_token(nxt, i)
            if i == n - 1:
                break
            nxt = self.step(nxt, pos)
            pos += 1
        return new
