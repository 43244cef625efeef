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

``fabric`` (the default)
    the whole decode step on the emulator (:mod:`.fabric_program`, layout :mod:`.fabric_layout`):
    the host streams ``[pos, embedding row]`` into layer 0 (the RoPE row comes from an on-fabric
    table) and reads the next token id that the LM head's argmax chain stored in its last row
    end (the logits, on request, from the LM row ends' memory). No host arithmetic between or
    inside layers; cycles are the emulated cycles of the step. Its numbers equal
    :class:`FabricModel` with the layout's tiling bit for bit (tests/llm/test_fabric_decode.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .errors import LLMError, check_eos, check_index, check_prompt
from .fabric_model import FabricModel
from .fabric_plan import FabricPlan, plan_model
from .weights import ModelWeights

ENGINES = ("fabric", "model", "hybrid")


def resolve_context(cfg, context: Optional[int]) -> int:
    """The KV-cache positions to plan for: ``context``, or by default the mapping's minimum
    (2048) or the model's own ``max_context`` when that is shorter. A context longer than the
    model's ``max_context`` (GGUF ``llama.context_length``) is refused, as the reference does."""
    from .fabric_plan import MIN_CONTEXT

    if context is None:
        return min(MIN_CONTEXT, cfg.max_context)
    if not 1 <= context <= cfg.max_context:
        raise LLMError(f"context {context} is outside 1..{cfg.max_context}: {cfg.name} supports "
                       f"{cfg.max_context} positions (its max_context, a GGUF's llama.context_length); "
                       f"give a context of at most {cfg.max_context}")
    return context


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
                 context: Optional[int] = None, engine: str = "fabric", backend: Optional[str] = None,
                 weight_bytes: Optional[int] = None):
        if engine not in ENGINES:
            raise LLMError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
        if not isinstance(weights, ModelWeights):
            raise LLMError(f"weights must be a ModelWeights (from load_model, load_weights or "
                           f"tiny_weights), got {type(weights).__name__}")
        if grid is not None:
            if not isinstance(grid, (tuple, list)) or len(grid) != 2:
                raise LLMError(f"grid must be None (the smallest that fits) or (width, height), got {grid!r}")
            grid = (check_index("grid width", grid[0], 1 << 20), check_index("grid height", grid[1], 1 << 20))
            if min(grid) < 1:
                raise LLMError(f"grid must be positive, got {grid}")
        if context is not None:
            context = check_index("context", context, 1 << 31)
        context = resolve_context(weights.config, context)
        self.config = weights.config
        self.arch = arch
        self.engine = engine
        self.layout = None
        if engine == "fabric":
            from .fabric_layout import layout_plan, make_layout
            from .fabric_program import FabricProgram

            kw = {} if weight_bytes is None else {"weight_bytes": weight_bytes}
            self.layout = make_layout(weights.config, arch=arch, context=context, grid=grid, **kw)
            self.plan = layout_plan(self.layout)
            self.program = FabricProgram(weights, self.layout, backend=backend)
            self.model = None
        else:
            self.plan = plan_model(weights.config, context=context, arch=arch, grid=grid)
        if engine == "fabric":
            pass
        elif engine == "hybrid":
            self.model = _HybridModel(weights, self.plan, arch, backend)
        else:
            self.model = FabricModel(weights, self.plan)
        self.stats = DecodeStats()
        self._length = 0     # positions cached on the fabric (the fabric engine)

    @property
    def pes_used(self) -> int:
        return self.layout.n_pes if self.layout is not None else self.plan.n_pes

    @property
    def grid(self) -> tuple[int, int]:
        return self.plan.grid

    @property
    def clock_hz(self) -> int:
        from .fabric_plan import CLOCK_HZ

        return CLOCK_HZ[self.arch]

    def step(self, token_id: int, pos: int, *, want_logits: bool = False):
        """Feed one token at ``pos``; return the next token id (and the logits on request)."""
        token_id = check_index("token id", token_id, self.config.vocab)
        pos = check_index("position", pos, self.plan.context)
        if pos > self._length:
            raise LLMError(f"position {pos} skips ahead: only {self._length} positions are cached")
        if self.engine == "fabric":
            t0 = time.perf_counter()
            tok = self.program.step(token_id, pos)
            self._length = pos + 1
            logits = self.program.logits() if want_logits else None
            self.stats.steps += 1
            self.stats.cycles.append(int(self.program.cycles))
            self.stats.wall.append(time.perf_counter() - t0)
            return (tok, logits) if want_logits else tok
        t0 = time.perf_counter()
        if self.engine == "hybrid":
            self.model.step_attn_cycles = 0
        out = self.model.step(token_id, pos)
        self._length = pos + 1
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

    def generate(self, prompt_ids, n: int, *, on_token=None, return_logits: bool = False, eos_id=None):
        """Greedy decode: the prompt one token at a time through the same step, then n tokens.
        With ``return_logits`` returns ``(new, logits)`` with ``len(prompt) + n - 1`` rows, the
        protocol of ``ReferenceModel.generate`` (so :func:`hf_compare.compare_with_hf` takes a
        FabricDecoder as its first model)."""
        prompt_ids = check_prompt(prompt_ids, n, self.plan.context)
        eos_id = check_eos(eos_id, self.config.vocab)
        if self.model is not None:
            self.model.reset()
            self._length = 0
        rows = []

        def run(t, p):
            if return_logits:
                tok, lg = self.step(t, p, want_logits=True)
                rows.append(np.asarray(lg, np.float32).copy())
                return tok
            return self.step(t, p)

        nxt = None
        for i, t in enumerate(prompt_ids):
            nxt = run(t, i)
        new = []
        pos = len(prompt_ids)
        for i in range(n):
            new.append(nxt)
            if on_token:
                on_token(nxt, i)
            if i == n - 1 or (eos_id is not None and nxt == eos_id):
                break
            nxt = run(nxt, pos)
            pos += 1
        return (new, np.stack(rows)) if return_logits else new
