"""The mapping of a Llama decoder onto the fabric (``wse.kernels.llm.fabric_plan``).

:func:`plan_model` turns a :class:`~wse.kernels.llm.config.LlamaConfig` into a :class:`FabricPlan`:
how every weight matrix is cut into blocks (one block per PE, fp16, column-major), how long the
reduction chains are, how the KV cache is spread over positions, how many PEs each layer uses,
where the layer strips go on the fabric, the SRAM use of every PE role, and a cycle estimate.
docs/decode.md explains the design; :mod:`.fabric_model` computes the decode in numpy following
this plan's tiling and summation order exactly.

Everything here is pure arithmetic on the config: no emulator needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from .config import LlamaConfig
from .errors import LLMError

#: SRAM of one PE (bytes), both presets.
SRAM_BYTES = 49152
#: Bytes reserved for code, task table spill, constants and stacks of every PE (docs/decode.md).
CODE_BYTES = 8192
#: Weight bytes per GEMV PE (fp16): what is left after code and the activation buffers.
WEIGHT_BYTES = 32768
#: KV-cache bytes per attention PE (fp32 K and V).
KV_BYTES = 32768
#: Minimum context the fabric supports (issue 5).
MIN_CONTEXT = 2048
#: Largest fabric of each preset (the SDK's usable rectangle).
MAX_FABRIC = {"wse2": (757, 996), "wse3": (762, 1172)}
CLOCK_HZ = {"wse2": 850_000_000, "wse3": 1_100_000_000}
#: SIMD widths used by the cycle estimate (isa.toml presets): mixed fmachs, fp32 arith.
SIMD_MIXED = {"wse2": 2, "wse3": 4}
SIMD_S = {"wse2": 2, "wse3": 4}


class FabricFitError(LLMError):
    """The model (or the requested context) does not fit the fabric."""


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclass(frozen=True)
class Gemv:
    """y = W x with W (out, in) cut into row blocks of ``rows`` and column blocks of ``cols``.

    PE (i, j) holds ``W[i*rows:(i+1)*rows, j*cols:(j+1)*cols]`` column-major (fp16) and computes
    its partial sum by one ``fmachs`` per column, in column order, starting from 0. The partial
    sums of block-row i are added along a chain j = 0, 1, ..., n_cols-1 (``acc = acc + local``).
    """

    name: str
    out: int
    inp: int
    rows: int
    cols: int

    @property
    def n_rows(self) -> int:
        return self.out // self.rows

    @property
    def n_cols(self) -> int:
        return self.inp // self.cols

    @property
    def n_pes(self) -> int:
        return self.n_rows * self.n_cols

    @property
    def block_bytes(self) -> int:
        return 2 * self.rows * self.cols

    def cycles(self, arch: str) -> int:
        """Estimate: input stream, one fmachs per column (+4 cycles loop overhead), reduction."""
        w = SIMD_MIXED[arch]
        compute = self.cols * (math.ceil(self.rows / w) + 4)
        return self.inp + compute + self.rows + 2 * self.n_cols


def _tile(name: str, out: int, inp: int, *, rows: Optional[int] = None, cols: Optional[int] = None,
          row_unit: int = 1, budget: int = WEIGHT_BYTES) -> Gemv:
    """Largest blocks that fit ``budget``: prefer tall blocks (few, long fmachs ops)."""
    max_w = budget // 2
    row_opts = [rows] if rows else [d for d in _divisors(out) if d % row_unit == 0]
    col_opts = [cols] if cols else _divisors(inp)
    best = None
    for r in row_opts:
        for c in col_opts:
            if r * c > max_w or CODE_BYTES + 2 * r * c + 4 * (r + c) > SRAM_BYTES:
                continue
            # fewest PEs first, then blocks about 4x taller than wide (long fmachs ops, short
            # reduction chains)
            key = ((out // r) * (inp // c), abs(math.log2(r / (4 * c))))
            if best is None or key < best[0]:
                best = (key, r, c)
    if best is None:
        raise FabricFitError(f"{name}: no block of {row_opts[:4]}.. rows fits {budget} bytes of weights per PE")
    return Gemv(name, out, inp, best[1], best[2])


@dataclass(frozen=True)
class Attention:
    """KV cache of one layer: per KV head a chain of ``chain`` PEs; position p lives on PE
    ``p % chain`` in slot ``p // chain`` (``slots`` per PE), K as [head_dim][slot] and V as
    [slot][head_dim], both fp32."""

    n_kv: int
    group: int
    head_dim: int
    context: int
    chain: int
    slots: int
    # the fabric program's order: the chain end holds m = 0 and only the PEs that hold a
    # position (m <= pos) take part, their partials added from the last one up,
    # ((p[n-1] + p[n-2]) + ...) + p[0]; False: p[0] + p[1] + ... over the whole chain (the
    # attention kernel of kernels/attention, the hybrid engine)
    active_up: bool = False

    @property
    def n_pes(self) -> int:
        return self.n_kv * self.chain

    @property
    def kv_bytes(self) -> int:
        return 2 * 4 * self.slots * self.head_dim

    def cycles(self, arch: str, n_pos: int) -> int:
        ws = SIMD_S[arch]
        n = math.ceil(n_pos / self.chain)
        scores = self.group * self.head_dim * (math.ceil(n / ws) + 4)
        wsum = n * self.group * (math.ceil(self.head_dim / ws) + 6)
        exp = 30 * self.group * (math.ceil(n / ws) + 1)
        reduce = 2 * (self.group + 2 * self.chain) + self.group * (self.head_dim + 1) + 2 * self.chain
        recv = (self.group + 2) * self.head_dim + 1
        return recv + scores + exp + wsum + reduce


@dataclass(frozen=True)
class LayerPlan:
    qkv: Gemv
    attn: Attention
    o: Gemv
    gu: Gemv  # rows interleave [gate slice; up slice] per block-row
    down: Gemv
    ffn_slice: int  # ffn indices per gate/up block-row (= down block columns)
    width: int  # strip size on the fabric
    height: int
    # the fabric program's order for the down projection: x + (((p0 + p1) + ...)), the residual
    # added after the block partials; False: ((x + p0) + p1) + ...
    down_x_last: bool = False

    @property
    def n_pes(self) -> int:
        # norm_a + qkv + attention + o + norm_f + gate/up + down + resid
        return 1 + self.qkv.n_pes + self.attn.n_pes + self.o.n_pes + 1 + self.gu.n_pes + self.down.n_pes + 1

    def cycles(self, arch: str, n_pos: int) -> int:
        d = self.o.out
        norm = 3 * d // SIMD_S[arch] + d + 200
        return (2 * norm + self.qkv.cycles(arch) + self.attn.cycles(arch, n_pos) + self.o.cycles(arch)
                + self.gu.cycles(arch) + self.down.cycles(arch) + 400)


@dataclass(frozen=True)
class FabricPlan:
    config: LlamaConfig
    context: int
    arch: str
    layer: LayerPlan
    lm: Gemv
    grid: tuple[int, int]  # (W, H)
    layer_origin: tuple[tuple[int, int], ...]  # NW corner of each layer strip
    lm_origin: tuple[int, int]
    per_row: int  # layer strips per row of strips

    @property
    def n_pes(self) -> int:
        return self.config.n_layers * self.layer.n_pes + 1 + self.lm.n_pes + self.lm.n_rows

    def cycles_per_token(self, n_pos: Optional[int] = None) -> int:
        n_pos = self.context if n_pos is None else n_pos
        lm = self.lm.cycles(self.arch) + 8 * self.lm.n_rows + 3 * self.config.dim
        hops = 2 * (self.grid[0] + self.grid[1])  # the residual stream snaking between strips
        return self.config.n_layers * self.layer.cycles(self.arch, n_pos) + lm + hops

    def tokens_per_s(self, n_pos: Optional[int] = None) -> float:
        return CLOCK_HZ[self.arch] / self.cycles_per_token(n_pos)

    def sram_table(self) -> list[tuple[str, int, int, int]]:
        """(role, weight or cache bytes, activation bytes, total incl. CODE_BYTES) per PE role."""
        c, L = self.config, self.layer
        rows = []
        for g in (L.qkv, L.o, L.gu, L.down, self.lm):
            act = 4 * (g.rows + g.cols)  # fp32 partial sums + the kept input slice
            rows.append((f"{g.name} block {g.rows}x{g.cols}", g.block_bytes, act, CODE_BYTES + g.block_bytes + act))
        a = L.attn
        act = 4 * (a.group * a.slots * 2 + (a.group + 2) * a.head_dim + a.group * a.head_dim)
        rows.append((f"attention {a.slots} positions", a.kv_bytes, act, CODE_BYTES + a.kv_bytes + act))
        act = 4 * 4 * c.dim + 2 * c.dim
        rows.append(("norm / residual", 2 * c.dim, act, CODE_BYTES + 2 * c.dim + act))
        return rows


def plan_layer(cfg: LlamaConfig, context: int, *, weight_bytes: int = WEIGHT_BYTES, kv_bytes: int = KV_BYTES) -> LayerPlan:
    G, hd = cfg.group_size, cfg.head_dim
    qkv_rows = (G + 2) * hd  # one block-row per KV group: [q heads of the group; k; v]
    qkv = _tile("qkv", cfg.n_kv_heads * qkv_rows, cfg.dim, rows=qkv_rows, budget=weight_bytes)
    # O: input = attention output of one group per block-column group; tall blocks (all D rows
    # when they fit).
    o_cols = [d for d in _divisors(G * hd)]
    o = None
    for rows in [d for d in reversed(_divisors(cfg.dim))]:
        fit = [cc for cc in o_cols if rows * cc * 2 <= weight_bytes]
        if fit:
            o = Gemv("o", cfg.dim, cfg.q_dim, rows, max(fit))
            break
    if o is None:
        raise FabricFitError("o projection: no block fits")
    # down: one block-column per gate/up block-row (ffn slice); tall blocks.
    down = None
    for rows in reversed(_divisors(cfg.dim)):
        fit = [s for s in _divisors(cfg.ffn_dim) if rows * s * 2 <= weight_bytes]
        if fit:
            down = Gemv("down", cfg.dim, cfg.ffn_dim, rows, max(fit))
            break
    if down is None:
        raise FabricFitError("down projection: no block fits")
    fs = down.cols
    gu = _tile("gate_up", 2 * cfg.ffn_dim, cfg.dim, rows=2 * fs, budget=weight_bytes)
    # KV: fp32 K and V per position and KV head = 8*hd bytes.
    per_pe = max(1, kv_bytes // (8 * hd))
    chain = math.ceil(context / per_pe)
    slots = math.ceil(context / chain)
    attn = Attention(cfg.n_kv_heads, G, hd, context, chain, slots)
    # Strip: columns West -> East: norm_a | qkv (n_kv rows) | attention (n_kv columns of chain
    # PEs) | o | norm_f | gate/up grid | down column | resid.
    width = 1 + qkv.n_cols + attn.n_kv + o.n_cols + 1 + gu.n_cols + down.n_rows + 1
    height = max(qkv.n_rows, attn.chain, o.n_rows, gu.n_rows, down.n_cols, 1)
    return LayerPlan(qkv, attn, o, gu, down, fs, width, height)


def plan_model(cfg: LlamaConfig, *, context: int = MIN_CONTEXT, arch: str = "wse2",
               grid: Optional[tuple[int, int]] = None, weight_bytes: int = WEIGHT_BYTES,
               kv_bytes: int = KV_BYTES) -> FabricPlan:
    """Plan the fabric for ``cfg``; ``grid=None`` picks the smallest fabric (fewest PEs, then the
    squarest) that holds every layer strip and the LM head. Raises :class:`FabricFitError` when the
    model does not fit the preset's wafer or the given grid."""
    if arch not in MAX_FABRIC:
        raise LLMError(f"unknown arch {arch!r}; expected one of {', '.join(MAX_FABRIC)}")
    layer = plan_layer(cfg, context, weight_bytes=weight_bytes, kv_bytes=kv_bytes)
    lm = _tile("lm_head", cfg.vocab, cfg.dim, budget=weight_bytes)
    # LM head block: lm.n_rows block-rows stacked; each row has lm.n_cols GEMV PEs + 1 argmax PE.
    lm_w, lm_h = lm.n_cols + 1, lm.n_rows
    max_w, max_h = MAX_FABRIC[arch]

    def layout(per_row: int):
        rows_of_strips = math.ceil(cfg.n_layers / per_row)
        w = max(per_row * layer.width, 1 + lm_w)
        # the LM head folds into columns of height <= the strips' total height when possible
        strips_h = rows_of_strips * layer.height
        return w, strips_h, rows_of_strips

    best = None
    for per_row in range(1, cfg.n_layers + 1):
        w, strips_h, nrows = layout(per_row)
        # LM head: column bands of lm_w wide stacked below the strips
        bands = max(1, (w - 1) // lm_w)
        lm_rows = math.ceil(lm_h / bands)
        h = strips_h + lm_rows
        if grid is not None:
            if w > grid[0] or h > grid[1]:
                continue
        key = (w * h, abs(w - h))
        if best is None or key < best[0]:
            best = (key, per_row, w, h)
    if best is None:
        need = plan_model(cfg, context=context, arch=arch, weight_bytes=weight_bytes, kv_bytes=kv_bytes).grid
        err = FabricFitError(
            f"{cfg.name} with context {context} does not fit a {grid[0]}x{grid[1]} fabric; "
            f"it needs at least {need[0]}x{need[1]}")
        err.need = need              # (wse-llm says what to give it)
        raise err
    _, per_row, w, h = best
    if grid is not None:
        w, h = grid
    if w > max_w or h > max_h:
        if grid is not None:
            raise FabricFitError(f"a {w}x{h} grid is larger than the {arch} wafer ({max_w}x{max_h}); "
                                 f"give a grid within it or --grid auto")
        raise FabricFitError(
            f"{cfg.name} with context {context} needs a {w}x{h} fabric, larger than the {arch} wafer ({max_w}x{max_h})")
    origins = []
    for l in range(cfg.n_layers):
        r, k = divmod(l, per_row)
        # boustrophedon: odd rows of strips run East -> West so consecutive layers touch
        col = k if r % 2 == 0 else per_row - 1 - k
        origins.append((col * layer.width, r * layer.height))
    lm_origin = (0, math.ceil(cfg.n_layers / per_row) * layer.height)
    return FabricPlan(cfg, context, arch, layer, lm, (w, h), tuple(origins), lm_origin, per_row)


def describe(plan: FabricPlan) -> str:
    """A human-readable summary (used by docs/decode.md and ``wse-llm --plan``)."""
    c, L = plan.config, plan.layer
    lines = [f"{c.name}: {c.n_layers} layers, dim {c.dim}, heads {c.n_heads}/{c.n_kv_heads}x{c.head_dim}, "
             f"ffn {c.ffn_dim}, vocab {c.vocab}, context {plan.context}, {plan.arch}"]
    for g in (L.qkv, L.o, L.gu, L.down, plan.lm):
        lines.append(f"  {g.name:8s} {g.out:6d} x {g.inp:5d}: blocks {g.rows:4d} x {g.cols:4d} "
                     f"({g.block_bytes} B), grid {g.n_rows} x {g.n_cols} = {g.n_pes} PEs")
    a = L.attn
    lines.append(f"  attention: {a.n_kv} chains x {a.chain} PEs, {a.slots} positions per PE "
                 f"({a.kv_bytes} B of fp32 K+V)")
    lines.append(f"  layer: {L.n_pes} PEs in a {L.width} x {L.height} strip")
    lines.append(f"  total: {plan.n_pes} PEs on a {plan.grid[0]} x {plan.grid[1]} fabric "
                 f"({plan.per_row} strips per row)")
    lines.append(f"  estimate: {plan.cycles_per_token(1):,} cycles/token at position 0, "
                 f"{plan.cycles_per_token():,} at position {plan.context}; "
                 f"{plan.tokens_per_s(1):,.0f} .. {plan.tokens_per_s():,.0f} tokens/s")
    return "\n".join(lines)
