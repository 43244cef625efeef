"""Tiling and placement of the all-fabric decode (``wse.kernels.llm.fabric_layout``).

:func:`make_layout` decides, for a model, how every weight matrix is cut (one block per PE,
fp16, column-major), where every PE role sits on the fabric, and which colors carry what. The
assembly generator (:mod:`.fabric_program`) and the host driver (:mod:`.fabric`) both read it;
:func:`layout_plan` turns it into a :class:`~.fabric_plan.FabricPlan` whose block columns equal
the layout's, so :class:`~.fabric_model.FabricModel` predicts the program's summation order.

One layer is a band of ``height`` rows and ``width`` columns (docs/decode.md, "The layer
strip as built"); row 0 carries the token stream West to East::

    norm_a | QKV row (cq PEs) | attention chains (n_kv columns x P) | O row (co) | gate/up grid
           |                  |                                     | (O end =   | (cgu x rgu)
           |                  |                                     |  norm_f)   |  | down row (cd) (down end = resid)

Bands are placed ``per_row`` to a row of bands (the ``per_row`` that fits with the shortest
path of the token packet between bands, :meth:`Layout.packet_path`, then the fewest PEs, then
the squarest), as a snake: even rows of bands run West -> East, odd rows are mirrored (every
role's program mirrored: East <-> West, block column j at the West end of its rectangle minus
j) and run East -> West, so each row starts under the end of the previous one. Consecutive layers in a row touch (resid -> norm_a of the next layer). At
the end of a row of bands the packet goes South along the resid's column, through the *lane*
row under the band, into the next row's first norm_a; after the last layer it goes South and
then West along the lane to the final-norm PE of the LM band (no West leg when the last row
ends at x = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Optional

from .config import LlamaConfig
from .errors import LLMError
from .fabric_plan import (MAX_FABRIC, MIN_CONTEXT, WEIGHT_BYTES, KV_BYTES, Attention, FabricFitError, FabricPlan,
                          Gemv, LayerPlan, _divisors, _tile)

# ---- colors (24 available; a PE has at most one route per color) -------------------------------
C_PKT = 0      # token packet [pos, cos, sin, x]: resid -> norm_a (and the lanes); host -> layer 0 [pos, x]
C_QB = 1       # QKV bus [pos, cos, sin, h]
C_RA = 2       # GEMV row reduction, checkerboard
C_RB = 3
C_RES1 = 4     # residual norm_a -> O end
C_RES2 = 5     # residual O end -> down end
C_ATT = 6      # + g: packet [pos, q_g, k_g, v_g] to attention chain g (g < 4)
C_D0 = 10      # attention chain reductions (checkerboard, South -> North)
C_D1 = 11
C_MB = 12      # attention chain: maxima back down
C_GA = 13      # + 0/1: gather of the head outputs along the chain tops = the O bus
C_GB = 15      # gate/up bus [pos, h2]
C_GG = 16      # + 0/1: gather of act slices up the gate/up row ends; C_GG = the down bus
C_LB = 18      # LM-head bus [pos, xn]
C_AM = 19      # + 0/1: argmax chain down the LM row ends
MAX_KV = 4


@dataclass(frozen=True)
class Layout:
    config: LlamaConfig
    arch: str
    context: int
    weight_bytes: int
    # KV group g = rows (G+2)*hd = [v_g; k_g; q heads of g]: block-row g, or (qkv_split == 2)
    # block-rows 2g and 2g + 1 of (G+2)*hd/2 rows each
    qkv: Gemv
    o: Gemv
    gu: Gemv       # block-row f: [gate slice f; up slice f], rows = 2*fs
    # block (i, f): output rows i*rows.., inputs f*fs..; placed transposed: output slice i is
    # column x_down + i, input slice f is the row of gate/up block-row f (cols == fs)
    down: Gemv
    lm: Gemv
    P: int             # attention chain length (PEs per KV head)
    S: int             # KV slots per attention PE
    per_row: int
    grid: tuple[int, int]

    @property
    def bcast_from(self) -> int:
        """The first position whose ``[pos, q]`` is multicast to every attention chain PE; below
        it the chain top relays the packet down to the owner of pos only (docs/decode.md). A relay
        takes two moves and two element steps per word and PE (receive, send on) for the pos + 1
        PEs that hold a position, the multicast one of each for all P, so the multicast is the
        cheaper from pos + 1 > P / 2 on (and the owner gets q after ~pos cycles instead of after
        pos + 1 relayed 16-word chunks). At pos >= P - 1 every PE holds a position."""
        return min(self.P // 2, self.P - 1)

    # -- the band of one layer, relative x of each role -----------------------------------------
    @property
    def qkv_split(self) -> int:
        """Block-rows per KV group in the QKV grid (1 or 2)."""
        return self.qkv.n_rows // self.config.n_kv_heads

    @property
    def fs(self) -> int:
        return self.gu.rows // 2

    @property
    def x_qkv(self) -> int:
        return 1

    @property
    def x_attn(self) -> int:
        return 1 + self.qkv.n_cols

    @property
    def x_o(self) -> int:
        return self.x_attn + self.config.n_kv_heads

    @property
    def x_gu(self) -> int:
        return self.x_o + self.o.n_cols

    @property
    def x_down(self) -> int:
        return self.x_gu + self.gu.n_cols

    @property
    def width(self) -> int:
        return self.x_down + self.down.n_rows

    @property
    def height(self) -> int:
        return max(self.P, self.gu.n_rows, self.qkv.n_rows, self.o.n_rows, 1)

    def gu_y(self, f: int) -> int:
        """Band-relative row of gate/up block-row f (= down input slice f): bottom up, so that
        the down columns add their block partials f = 0, 1, .. South -> North."""
        return self.gu.n_rows - 1 - f

    @property
    def n_bands_rows(self) -> int:
        return math.ceil(self.config.n_layers / self.per_row)

    def mirrored(self, layer: int) -> bool:
        """Odd rows of bands run East -> West (the snake)."""
        return (layer // self.per_row) % 2 == 1

    def origin(self, layer: int) -> tuple[int, int]:
        """NW corner of the band of ``layer``."""
        r, k = divmod(layer, self.per_row)
        if r % 2:
            k = self.per_row - 1 - k
        return k * self.width, r * (self.height + 1)

    def role_x(self, layer: int, a: int, n: int = 1) -> int:
        """Absolute x of the West end of the role at band-relative columns a .. a+n-1."""
        x0, _ = self.origin(layer)
        return x0 + self.width - a - n if self.mirrored(layer) else x0 + a

    @property
    def lm_y(self) -> int:
        return self.n_bands_rows * (self.height + 1)

    @property
    def n_pes(self) -> int:
        """PEs that compute or hold data (the RoPE table's; transit PEs of the lanes not counted)."""
        c = self.config
        per_layer = 1 + self.qkv.n_pes + c.n_kv_heads * self.P + self.o.n_pes + self.gu.n_pes + self.down.n_pes
        return c.n_layers * per_layer + 1 + self.lm.n_pes + rope_table_shape(self)[1]

    def lane_turns(self) -> list[bool]:
        """Per layer: does its output go South into the lane (True) or East (False)?"""
        L = self.config.n_layers
        return [(l % self.per_row == self.per_row - 1) or l == L - 1 for l in range(L)]

    def packet_path(self) -> int:
        """Hops of the token packet between bands: from the end of each row of bands but the
        last South into the next row's first norm_a (height + 1); after the last layer South
        into the lane, West along it to x = 0 and South into the final norm."""
        L = self.config.n_layers
        turns = sum(self.lane_turns()[:-1])
        return (turns + 1) * (self.height + 1) + self.role_x(L - 1, self.width - 1)


def _row_tile(name: str, out: int, inp: int, wb: int) -> Gemv:
    fit = [c for c in _divisors(inp) if out * c * 2 <= wb and 4 * out + 2 * out * c + 4 * c <= 40000]
    if not fit:
        raise FabricFitError(f"{name}: a column of {out} fp16 weights does not fit {wb} bytes per PE")
    return Gemv(name, out, inp, out, max(fit))


def _group_tile(name: str, groups: int, rows: int, inp: int, wb: int, first: int) -> Gemv:
    """``groups`` groups of ``rows`` output rows, each one block-row, or two block-rows of
    ``rows / 2`` (even, and at least ``first``: the first block-row holds the group's first
    ``first`` rows whole) when that takes fewer block columns (half the row reduction's
    wavelets per column boundary, and fewer boundaries): a grid of groups (x 2) x C PEs."""
    best = None
    for split in (1, 2):
        r = rows // split
        if rows % split or r % 2 or r < first:
            continue
        fit = [c for c in _divisors(inp) if r * c * 2 <= wb and 4 * r + 2 * r * c + 4 * c <= 40000]
        if fit and (best is None or max(fit) > best.cols):
            best = Gemv(name, groups * rows, inp, r, max(fit))
    if best is None:
        raise FabricFitError(f"{name}: a column of {rows} fp16 weights does not fit {wb} bytes per PE")
    return best


def _grid_tile(name: str, out: int, inp: int, wb: int, max_rows: int) -> Gemv:
    """An out x inp GEMV whose output is the residual (O, down) as a grid of R block-rows x C
    block columns, R chosen to minimise the wavelet hops: row reductions out x (C - 1), the
    input slices down the columns inp x (R - 1), the residual down column 0 out x (R - 1), the
    row ends' parts gathered North, and the slices' pass-through along row 0."""
    best = None
    for R in _divisors(out):
        if R > max(max_rows, 1) or R > 8:
            continue
        rows = out // R
        fit = [c for c in _divisors(inp) if rows * c * 2 <= wb and 4 * rows + 2 * rows * c + 4 * c <= 40000]
        if not fit:
            continue
        c = max(fit)
        C = inp // c
        cost = 2 * out * (C - 1) + 2 * (inp + out) * (R - 1) + rows * R * (R - 1) + c * C * (C - 1) // 2
        if best is None or cost < best[0]:
            best = (cost, rows, c)
    if best is None:
        raise FabricFitError(f"{name}: a column of {out} fp16 weights does not fit {wb} bytes per PE")
    return Gemv(name, out, inp, best[1], best[2])


def _gu_tile(cfg: LlamaConfig, wb: int, max_rows: int) -> tuple[Gemv, Gemv]:
    """gate/up as R block-rows [gate slice f; up slice f] x C block columns, and the down
    projection transposed next to it: output slice i in column i, input slice f (= act_f, fs
    values) in the row of gate/up block-row f, so the row end f hands act_f East to its own row
    of down PEs and the down partials add up the columns. Shapes by a wavelet-hop estimate.
    gate/up blocks may take 1/8 more weight SRAM than the budget when that saves block columns
    (row-reduction hops; the row ends' buffers still fit 48 KiB, the assembler checks every PE),
    else the budget's shape is kept (fewer columns per PE, fewer cycles)."""
    gu, down = _gu_tile_wb(cfg, wb, wb, max_rows)
    try:
        gu2, down2 = _gu_tile_wb(cfg, wb, wb + wb // 8, max_rows)
    except FabricFitError:
        return gu, down
    return (gu2, down2) if gu2.n_cols < gu.n_cols else (gu, down)


def _gu_tile_wb(cfg: LlamaConfig, wb: int, wb_gu: int, max_rows: int) -> tuple[Gemv, Gemv]:
    best = None
    for fs in _divisors(cfg.ffn_dim):
        R = cfg.ffn_dim // fs
        if R > max_rows:
            continue
        rd = [r for r in _divisors(cfg.dim) if 2 * r * fs <= wb and 4 * r + 2 * r * fs + 4 * fs <= 38000]
        if not rd:
            continue
        rd = max(rd)
        K = cfg.dim // rd
        for c in _divisors(cfg.dim):
            if 4 * fs * c > wb_gu or 4 * fs * c + 40 * fs + 4 * c > (38000 if wb_gu == wb else 42000):
                continue
            C = cfg.dim // c
            # hops: gate/up row reductions, the slices down the columns and along row 0, act_f
            # along the down row, the down partials up the columns, the parts into the residual
            cost = (4 * cfg.ffn_dim * (C - 1) + 2 * cfg.dim * R + c * C * (C - 1) // 2
                    + 2 * K * (fs + 1) * R + 2 * cfg.dim * (R - 1) + cfg.dim * (K - 1))
            if best is None or cost < best[0]:
                best = (cost, fs, c, rd)
    if best is None:
        raise FabricFitError("gate/up: no block fits")
    _, fs, c, rd = best
    return (Gemv("gate_up", 2 * cfg.ffn_dim, cfg.dim, 2 * fs, c),
            Gemv("down", cfg.dim, cfg.ffn_dim, rd, fs))


def rope_table_shape(lay: Layout) -> tuple[int, int]:
    """(rows per table PE, table PEs): the [cos, sin] rows of the context (hd fp32 each) in
    blocks of at most WEIGHT_BYTES, one block per PE in the column under layer 0's norm_a."""
    hd = lay.config.head_dim
    rows = min(lay.context, max(1, WEIGHT_BYTES // (4 * hd)))
    T = -(-lay.context // rows)
    if T > lay.height - 1:
        raise FabricFitError(f"the RoPE table ({lay.context} rows of {hd} fp32) needs {T} PEs under "
                             f"norm_a of layer 0, and the layer band has {lay.height - 1} rows there; "
                             f"give a shorter context")
    return rows, T


def make_layout(cfg: LlamaConfig, *, arch: str = "wse2", context: int = MIN_CONTEXT,
                weight_bytes: int = WEIGHT_BYTES, kv_bytes: int = KV_BYTES,
                grid: Optional[tuple[int, int]] = None) -> Layout:
    if arch not in MAX_FABRIC:
        raise LLMError(f"unknown arch {arch!r}; expected one of {', '.join(MAX_FABRIC)}")
    if cfg.n_kv_heads > MAX_KV:
        raise FabricFitError(f"{cfg.name}: {cfg.n_kv_heads} KV heads; the layout has colors for {MAX_KV}")
    if cfg.group_size > 8:
        raise FabricFitError(f"{cfg.name}: group size {cfg.group_size} > 8")
    G, hd = cfg.group_size, cfg.head_dim
    qkv = _group_tile("qkv", cfg.n_kv_heads, (G + 2) * hd, cfg.dim, weight_bytes, 2 * hd)
    per_pe = max(1, kv_bytes // (8 * hd))
    P = math.ceil(context / per_pe)
    S = math.ceil(context / P)
    # gate/up may take as many block-rows as the chain of the full context has PEs, whatever
    # this context's chain: a short context's chain (1 PE at 64 positions) would otherwise force
    # gate/up into so few, so long block-rows that no block fits (or many more PEs)
    gu, down = _gu_tile(cfg, weight_bytes, max(P, math.ceil(MIN_CONTEXT / per_pe), 1))
    o = _grid_tile("o", cfg.dim, cfg.q_dim, weight_bytes, max(P, gu.n_rows, qkv.n_rows))
    # the LM head may take 1/8 more weight SRAM too (fewer block columns, shorter row reductions)
    g = _tile("lm_head", cfg.vocab, cfg.dim, budget=weight_bytes + weight_bytes // 8)
    lm = Gemv("lm_head", cfg.vocab, cfg.dim, g.rows, g.cols)
    max_w, max_h = MAX_FABRIC[arch]
    if grid is not None:
        if grid[0] > max_w or grid[1] > max_h:
            # the emulator could run it, but the cycles and tokens/s it reports would be those
            # of a wafer that does not exist (plan_model refuses it too)
            other = [f"--arch {a} ({w}x{h})" for a, (w, h) in MAX_FABRIC.items()
                     if a != arch and grid[0] <= w and grid[1] <= h]
            raise FabricFitError(
                f"a {grid[0]}x{grid[1]} grid is larger than the {arch} wafer ({max_w}x{max_h}); give a grid "
                f"within it or --grid auto" + (f", or use {other[0]}" if other else ""))
        max_w, max_h = min(max_w, grid[0]), min(max_h, grid[1])
    proto = Layout(cfg, arch, context, weight_bytes, qkv, o, gu, down, lm, P, S, 1, (0, 0))
    rope_table_shape(proto)        # refuses a band too short for the RoPE table
    best = None
    for per_row in range(1, cfg.n_layers + 1):
        lay = replace(proto, per_row=per_row)
        w = max(per_row * lay.width, 1 + lm.n_cols)
        h = lay.lm_y + lm.n_rows
        key = (lay.packet_path(), w * h, abs(w - h))
        if w <= max_w and h <= max_h and (best is None or key < best[0]):
            best = (key, per_row, w, h)
    if best is None:
        g = None
        if grid is not None:
            try:
                g = make_layout(cfg, arch=arch, context=context, weight_bytes=weight_bytes, kv_bytes=kv_bytes).grid
                need = f"at least {g[0]}x{g[1]}"
            except FabricFitError:
                need = "a larger wafer"
        else:
            lay = replace(proto, per_row=cfg.n_layers)
            need = f"{max(lay.width, 1 + lm.n_cols)}x{lay.height + 1 + lm.n_rows}"
        where = f"a {grid[0]}x{grid[1]} fabric" if grid else f"the {arch} wafer ({max_w}x{max_h})"
        err = FabricFitError(f"{cfg.name} with context {context} does not fit {where}; it needs {need}")
        err.need = g                 # (the grid that holds it, for wse-llm to say what to give)
        raise err
    _, per_row, w, h = best
    if grid is not None:
        w, h = grid
    return replace(proto, per_row=per_row, grid=(w, h))


def layout_plan(lay: Layout) -> FabricPlan:
    """A :class:`FabricPlan` with the layout's block columns (what :class:`FabricModel` needs)."""
    cfg = lay.config
    attn = Attention(cfg.n_kv_heads, cfg.group_size, cfg.head_dim, lay.context, lay.P, lay.S, active_up=True)
    layer = LayerPlan(lay.qkv, attn, lay.o, lay.gu, lay.down, lay.fs, lay.width, lay.height,
                      down_x_last=True)
    origins = tuple(lay.origin(l) for l in range(cfg.n_layers))
    return FabricPlan(cfg, lay.context, lay.arch, layer, lay.lm, lay.grid, origins, (0, lay.lm_y), lay.per_row)
