"""Assembly generator of the all-fabric decode (``wse.kernels.llm.fabric_program``).

:func:`generate` writes one wse-as source for a :class:`~.fabric_layout.Layout`: one
parameterised ``.program`` per PE role (norm_a, qkv, attn, o, gu, down, final, lm and the lane
transits), placed once per layer; routes and data sizes depend only on ``pe_x``/``pe_y``, so the
assembler's per-PE memoisation builds every distinct image once for all layers.

Every GEMV PE runs one data task on its bus color; the first wavelet of every bus stream is the
position (``r1``). The buses are sliced (:func:`send_sliced`, :func:`_bus_sliced`): the PE
receives only its slice of the input (a color per group of <= 4 block columns, switch positions
advanced by a control wavelet behind each slice; when the colors run out, the whole bus is
multicast and the PE sinks the rest). It does one ``fmachs`` per column over all its rows (fp16
weights, fp32 accumulation, column order from 0), then the partial sums run West -> East along
its block-row (``fadds fabout, fabin, acc`` on a checkerboard of two colors; in the O and down
rows column 0 starts the chain with the residual). The row end then does the role's element-wise work. The
summation orders are those of :mod:`.fabric_model`. The attention chain is adapted from
``kernels/attention/attn_decode.s`` (copied, not shared: here the chain end is the top PE, the
reductions run South -> North and the outputs are gathered East along the chain tops).
"""

from __future__ import annotations

import numpy as np

from . import fabric_layout as FL
from .fabric_layout import Layout


def _f(x: float) -> str:
    """An fp32 literal for ``li`` (exact: the hex bits)."""
    return hex(int(np.array(x, np.float32).view(np.uint32)))


def _npow2(n: int) -> int:
    p = 1
    while p < n:
        p *= 2
    return p


# ---------------------------------------------------------------------------------------------
# shared pieces
def rmsnorm(D: int, eps: float, x: str, g16: str, h: str) -> tuple[str, str, str]:
    """(dsds, code, data) computing h = (x * rsqrt(mean(x^2) + eps)) * fp32(g16)."""
    NP = _npow2(D)
    dsds = [f".dsd n_x, mem1d, base={x}, len={D}",
            f".dsd n_sq, mem1d, base=n_sqb, len={D}",
            f".dsd n_h, mem1d, base={h}, len={D}",
            f".dsd n_g16, mem1d, base={g16}, len={D}",
            f".dsd n_gf, mem1d, base=n_gfb, len={D}"]
    code = ["    ldsd d0, n_sq", "    ldsd a0, n_x", "    ldsd b0, n_x", "    fmuls d0, a0, b0"]
    n = NP
    while n > 1:
        n //= 2
        dsds.append(f".dsd n_t{n}a, mem1d, base=n_sqb, len={n}")
        dsds.append(f".dsd n_t{n}b, mem1d, base=n_sqb + {2 * n}, len={n}")
        code += [f"    ldsd d0, n_t{n}a", f"    ldsd a0, n_t{n}a", f"    ldsd b0, n_t{n}b", "    fadds d0, a0, b0"]
    code += [
        "    ld32 r2, [r0 + n_sqb]",
        f"    li r3, {_f(1.0 / D)}",
        "    mulf r2, r2, r3",
        f"    li r3, {_f(eps)}",
        "    addf r2, r2, r3",
        "    li r4, 0x5F3759DF",
        "    srli r5, r2, 1",
        "    sub r4, r4, r5",
        f"    li r6, {_f(0.5)}",
        "    mulf r6, r2, r6",
        f"    li r7, {_f(1.5)}",
    ]
    for _ in range(4):
        code += ["    mulf r8, r4, r4", "    mulf r8, r6, r8", "    subf r8, r7, r8", "    mulf r4, r4, r8"]
    code += ["    ldsd d0, n_h", "    ldsd a0, n_x", "    fmuls d0, a0, r4",
             "    ldsd d0, n_gf", "    ldsd a0, n_g16", "    fh2s d0, a0",
             "    ldsd d0, n_h", "    ldsd a0, n_h", "    ldsd b0, n_gf", "    fmuls d0, a0, b0"]
    data = [f"n_sqb: .zero {NP}, f32", f"n_gfb: .zero {D}, f32"]
    return "\n".join(dsds), "\n".join(code), "\n".join(data)


# The arithmetic of the vector exp (fabric_math.exp, op by op), shared by vexp() and the
# attention kernel: x in d4/a4/b5 (clamped, then reduced in place), k*2^23 rounding in d5/a5,
# n in d6/b4, the polynomial in d7/a7 (b5 = the reduced x). The callers load the DSRs.
_VEXP_ARITH = f"""    li r3, {_f(-87.0)}
    fmaxs d4, a4, r3
    fnegs d4, a4
    li r3, {_f(-88.0)}
    fmaxs d4, a4, r3
    fnegs d4, a4
    li r3, 0x3fb8aa3b
    fmuls d5, a4, r3
    li r3, 0x4b400000
    fadds d5, a5, r3
    fsubs d6, a5, r3
    li r3, 0xbf317200
    fmacs d4, a4, b4, r3
    li r3, 0xb5bfbe8e
    fmacs d4, a4, b4, r3
    li r3, 0x39500d01
    fmovs d7, r3
    li r3, 0x3ab60b61
    fmuls d7, a7, b5
    fadds d7, a7, r3
    li r3, 0x3c088889
    fmuls d7, a7, b5
    fadds d7, a7, r3
    li r3, 0x3d2aaaab
    fmuls d7, a7, b5
    fadds d7, a7, r3
    li r3, 0x3e2aaaab
    fmuls d7, a7, b5
    fadds d7, a7, r3
    li r3, 0x3f000000
    fmuls d7, a7, b5
    fadds d7, a7, r3
    li r3, 0x3f800000
    fmuls d7, a7, b5
    fadds d7, a7, r3
    fmuls d7, a7, b5
    fadds d7, a7, r3
"""


def vexp(n: str, x: str, tag: str) -> tuple[str, str]:
    """(dsds, code): p_<tag> = exp(x) elementwise over n elements (fabric_math.exp, op by op).
    x is overwritten (clamped, then the reduced argument). Buffers <tag>_u, _n, _p, _t16."""
    t = tag
    dsds = "\n".join([
        f".dsd {t}_x, mem1d, base={x}, len={n}",
        f".dsd {t}_u, mem1d, base={t}_ub, len={n}",
        f".dsd {t}_n, mem1d, base={t}_nb, len={n}",
        f".dsd {t}_p, mem1d, base={t}_pb, len={n}",
        f".dsd {t}_ulo, mem1d, base={t}_ub, len={n}, stride=2",
        f".dsd {t}_phi, mem1d, base={t}_pb + 1, len={n}, stride=2",
        f".dsd {t}_t16, mem1d, base={t}_t16b, len={n}",
    ])
    code = f"""
    ldsd d4, {t}_x
    ldsd a4, {t}_x
    ldsd b5, {t}_x
    ldsd d5, {t}_u
    ldsd a5, {t}_u
    ldsd d6, {t}_n
    ldsd b4, {t}_n
    ldsd d7, {t}_p
    ldsd a7, {t}_p
{_VEXP_ARITH}    ldsd d3, {t}_t16
    ldsd a3, {t}_ulo
    addi r3, r0, 7
    sll16 d3, a3, r3
    ldsd d2, {t}_phi
    ldsd a2, {t}_phi
    ldsd b3, {t}_t16
    add16 d2, a2, b3
"""
    return dsds, code


def gemv_program(name: str, *, C: int, R: int, rows: int, cols: int, inp: int, hdr: int, bus: int,
                 bus_routes: list[str], extra_routes: str, post: tuple[str, str, str] = ("", "", ""),
                 params: str = "", slices: list[int] | None = None, red_init: int | None = None) -> str:
    """A C x R grid of GEMV PEs (block column pe_x, block-row pe_y); the row end is pe_x == C-1.
    ``post`` = (dsds, code, data) of the row end, run after the reduction (r1 clobbered; the
    position is in ``posv``). ``slices``: the bus is sliced (:func:`_bus_sliced`, colors per
    group of 4 columns): the PE receives only [pos, (header at the last column), its slice],
    else it reads the whole multicast bus and sinks the other columns' parts. ``red_init``: a
    color on which block column 0 receives ``rows`` fp32 values that start the row reduction
    (init + p0 + p1 + ...; with one column the row end adds them itself)."""
    pdsd, pcode, pdata = post
    lines = [f".program {name}{', ' + params if params else ''}"]
    if slices:
        lines.append(f"    BUSC = {_busc(slices)}")
        bus = "BUSC"
        lines.append(f"    .task nop, control, id={NOP_ID}")
    lines += bus_routes
    lines.append(extra_routes)
    lines.append(f"""
    .if pe_x < {C} - 1
        .route {FL.C_RA} + pe_x % 2, ramp -> east
    .endif
    .if pe_x > 0
        .route {FL.C_RA} + (pe_x + 1) % 2, west -> ramp
    .endif
    .task go, data, color={bus}
    .dsd g_acc, mem1d, base=acc, len={rows}
    .dsd g_w, mem1d, base=W, len={rows}
    .dsd g_xs, mem1d, base=xs, len={cols}
    .dsd g_xin, fabin, color={bus}, len={cols}
    .if pe_x > 0 && {0 if slices else 1}
    .dsd g_prein, fabin, color={bus}, len=pe_x * {cols}
    .dsd g_presink, mem1d, base=sink, len=pe_x * {cols}, stride=0
    .endif
    .if pe_x < {C} - 1 && {0 if slices else 1}
    .dsd g_postin, fabin, color={bus}, len=({C} - 1 - pe_x) * {cols}
    .dsd g_postsink, mem1d, base=sink, len=({C} - 1 - pe_x) * {cols}, stride=0
    .endif
    .if pe_x < {C} - 1
    .dsd g_redout, fabout, color={FL.C_RA} + pe_x % 2, len={rows}
    .endif
    .if pe_x > 0
    .dsd g_redin, fabin, color={FL.C_RA} + (pe_x + 1) % 2, len={rows}
    .endif""")
    if red_init is not None:
        lines.append(f"    .dsd g_rinit, fabin, color={red_init}, len={rows}")
        if R > 1:   # the init of every block-row comes down column 0: skip the other rows' parts
            lines.append(f"""    .if pe_y > 0
    .dsd g_rskip0, fabin, color={red_init}, len=pe_y * {rows}
    .dsd g_rsink0, mem1d, base=sink, len=pe_y * {rows}, stride=0
    .endif
    .if pe_y < {R} - 1
    .dsd g_rskip1, fabin, color={red_init}, len=({R} - 1 - pe_y) * {rows}
    .dsd g_rsink1, mem1d, base=sink, len=({R} - 1 - pe_y) * {rows}, stride=0
    .endif""")
    if hdr > 1:
        lines.append(f"""    .dsd g_hdr, mem1d, base=hdr, len={hdr - 1}
    .dsd g_hdrin, fabin, color={bus}, len={hdr - 1}""")
    lines.append(pdsd)
    lines.append(f"""
go:
    st32 r1, [r0 + posv]""")
    if hdr > 1:
        lines.append(f"""    .if pe_x == {C} - 1 || {0 if slices else 1}
    ldsd d0, g_hdr
    ldsd a0, g_hdrin
    mov32 d0, a0
    .endif""")
    lines.append(f"""    .if pe_x > 0 && {0 if slices else 1}
    ldsd d0, g_presink
    ldsd a0, g_prein
    mov32 d0, a0
    .endif
    ldsd d0, g_xs
    ldsd a0, g_xin
    mov32 d0, a0
    .if pe_x < {C} - 1 && {0 if slices else 1}
    ldsd d0, g_postsink
    ldsd a0, g_postin
    mov32 d0, a0
    .endif
    ldsd d1, g_acc
    ldsd a1, g_acc
    ldsd b1, g_w
    fmovs d1, r0
    addi r12, r0, xs
{_col_loop(rows, cols)}
    .if {C} > 1
    .if pe_x == 0
{_rinit(red_init, R)}
    .elif pe_x < {C} - 1
    ldsd d2, g_redout
    ldsd a2, g_redin
    ldsd b2, g_acc
    fadds d2, a2, b2
    .else
    ldsd d2, g_acc
    ldsd a2, g_redin
    ldsd b2, g_acc
    fadds d2, a2, b2
    .endif
    .endif
    .if pe_x == {C} - 1
{pcode}
    .endif
    exit
nop:
    exit

    .data
posv: .zero 1, u32
sink: .zero 2, f32
acc:  .zero {rows}, f32
xs:   .zero {cols}, f32""")
    if hdr > 1:
        lines.append(f"hdr:  .zero {hdr - 1}, f32")
    lines.append(pdata)
    lines.append(f"W:    .space {rows * cols}, f16")
    lines.append("    .export acc, W, posv")
    lines.append(".endprogram\n")
    return "\n".join(lines)


def _rinit(red_init: int | None, R: int) -> str:
    """Block column 0 starts the row reduction: p0, or init + p0 (in a grid the init of every
    block-row arrives down column 0; the other rows' parts are read into the sink)."""
    if red_init is None:
        return "    ldsd d2, g_redout\n    ldsd a2, g_acc\n    fmovs d2, a2"
    skip = lambda k, cond: (f"    .if {cond}\n    ldsd d3, g_rsink{k}\n    ldsd a3, g_rskip{k}\n    mov32 d3, a3\n    .endif"
                            if R > 1 else "")
    return "\n".join(x for x in (skip(0, "pe_y > 0"), "    ldsd d2, g_redout\n    ldsd a2, g_rinit\n    ldsd b2, g_acc\n"
                                  "    fadds d2, a2, b2", skip(1, f"pe_y < {R} - 1")) if x)


def _part_gather_dsds(t: str, R: int, rows: int, xbase: str, cg: list[int]) -> str:
    """DSDs of a residual grid's row ends (O, down): ``{t}_part`` (this row's part of x in the
    row-0 end's packet buffer, or the part to send), the parts of the rows below (row 0 reads
    them into the buffer; row r > 0 forwards them after its own on cg[r % 2])."""
    d = f"\n    .dsd {t}_part, mem1d, base={xbase}, len={rows}"
    if R > 1:
        d += f"""
    .if pe_y == 0
    .dsd {t}_below, mem1d, base={xbase} + {2 * rows}, len={(R - 1) * rows}
    .dsd {t}_belowin, fabin, color={cg[1]}, len={(R - 1) * rows}
    .else
    .dsd {t}_partout, fabout, color=(pe_y % 2 == 0) ? {cg[0]} : {cg[1]}, len={rows}
    .if pe_y < {R} - 1
    .dsd {t}_fwdin, fabin, color=(pe_y % 2 == 0) ? {cg[1]} : {cg[0]}, len=({R} - 1 - pe_y) * {rows}
    .dsd {t}_fwdout, fabout, color=(pe_y % 2 == 0) ? {cg[0]} : {cg[1]}, len=({R} - 1 - pe_y) * {rows}
    .endif
    .endif"""
    return d


def _part_gather_code(t: str, R: int) -> str:
    if R == 1:
        return ""
    return f"""    .if pe_y == 0
    ldsd d0, {t}_below
    ldsd a0, {t}_belowin
    mov32 d0, a0
    .else
    ldsd d0, {t}_partout
    ldsd a0, {t}_part
    mov32 d0, a0
    .if pe_y < {R} - 1
    ldsd d0, {t}_fwdout
    ldsd a0, {t}_fwdin
    mov32 d0, a0
    .endif
    .endif"""


def _part_gather_routes(C: int, R: int, cg: list[int], init: int | None) -> list[str]:
    """Routes of a residual grid: the init (residual) down column 0, the parts up the row ends."""
    out = []
    if init is not None:
        sth = "ramp | south" if R > 1 else "ramp"
        out.append(f"""    .if pe_x == 0
        .if pe_y == 0
            .route {init}, west -> {sth}
        .elif pe_y < {R} - 1
            .route {init}, north -> ramp | south
        .else
            .route {init}, north -> ramp
        .endif
    .endif""")
    if R > 1:
        out.append(f"""    .if pe_x == {C} - 1
        .if pe_y > 0
            .route (pe_y % 2 == 0) ? {cg[0]} : {cg[1]}, ramp -> north
        .endif
        .if pe_y < {R} - 1
            .route (pe_y % 2 == 0) ? {cg[1]} : {cg[0]}, south -> ramp
        .endif
    .endif""")
    return out


def _col_loop(rows: int, cols: int, U: int = 8) -> str:
    """acc += W[:, c] * xs[c] for c = 0 .. cols-1 in order (one fmachs per column), unrolled by
    U (r12 = xs, b1 = W; clobbers r3, r11, r12)."""
    body = []
    for k in range(U):
        body += [f"    ld32 r3, [r12 + {2 * k}]", "    fmachs d1, a1, b1, r3", f"    dsdaddi b1, {rows}"]
    out = []
    n, t = divmod(cols, U)
    if n:
        out += [f"    addi r11, r0, {n}", "g_col:"] + body + [f"    addi r12, r12, {2 * U}", "    addi r11, r11, -1",
                                                          "    bne r11, r0, g_col"]
    out += body[:3 * t]
    return "\n".join(out)


def _bus_row(bus: int, C: int, R: int = 1) -> list[str]:
    """Multicast of a bus entering the grid's top-left PE from the West: along row 0, and down
    every column when R > 1."""
    return [f"""    .if pe_y == 0
        .if pe_x < {C} - 1
            .route {bus}, west -> ramp | east{' | south' if R > 1 else ''}
        .else
            .route {bus}, west -> ramp{' | south' if R > 1 else ''}
        .endif
    .elif pe_y < {R} - 1
        .route {bus}, north -> ramp | south
    .else
        .route {bus}, north -> ramp
    .endif"""]


NOP_ID = 40     # control task every sliced-bus PE has: the slice's trailing control wavelet activates it


def slice_colors(C: int, avail: list[int]) -> list[int] | None:
    """Colors of a sliced bus of C block columns: a color per group of up to 4 consecutive
    columns (a router has at most 4 switch positions), or None when ``avail`` is too short (the
    bus is then multicast whole)."""
    n = -(-C // 4)
    return list(avail[:n]) if n <= len(avail) else None


def _busc(colors: list[int]) -> str:
    """Assembler expression: the bus color of block column pe_x."""
    e = str(colors[-1])
    for k in range(len(colors) - 2, -1, -1):
        e = f"(pe_x < {4 * (k + 1)}) ? {colors[k]} : ({e})"
    return e


def _bus_sliced(colors: list[int], C: int, R: int = 1) -> list[str]:
    """Routes of a sliced bus entering the grid's top-left PE from the West. The sender emits,
    for block column j = 0 .. C-1 in order, [pos, slice j] and one control wavelet on the color
    of j's group (columns 4k .. 4k+3). Member m of a group of n has switch positions
    [west -> ramp, west -> east x (n - 1 - m)]: it takes its own slice, its control wavelet
    (to the RAMP) turns it to pass-through, and the n - 1 - m control wavelets of the members
    behind it bring it back to position 0 for the next step. Columns of later groups pass the
    color through; in a grid the slice continues down the column (row 0 multicasts South)."""
    out = []
    ramp = "ramp | south" if R > 1 else "ramp"
    for k, c in enumerate(colors):
        lo, hi = 4 * k, min(C, 4 * k + 4)
        n = hi - lo
        out.append("    .if pe_y == 0")
        out.append(f"        .if pe_x < {lo}")
        out.append(f"            .route {c}, west -> east")
        for m in range(n):
            pos = ", ".join([f"west -> {ramp}"] + ["west -> east"] * (n - 1 - m))
            out.append(f"        .elif pe_x == {lo + m}")
            out.append(f"            .route {c}, {pos}")
        out.append("        .endif")
        if R > 1:
            out.append(f"    .elif pe_x >= {lo} && pe_x < {hi}")
            out.append(f"        .if pe_y < {R} - 1")
            out.append(f"            .route {c}, north -> ramp | south")
            out.append("        .else")
            out.append(f"            .route {c}, north -> ramp")
            out.append("        .endif")
        out.append("    .endif")
    return out


def send_sliced(colors: list[int], C: int, cols: int, src, pos: str, hdr: tuple[str, int] | None = None,
                tag: str = "ss") -> tuple[str, str]:
    """(dsds, code) of the sender of a sliced bus: for each block column j, ``send`` the
    position (register ``pos``), for the last column the header (``hdr`` = (mem base, words)),
    fp32 words j*cols .. (j+1)*cols of the source and a control wavelet (payload NOP_ID).
    ``src``: a memory base, or a list of segments ("mem", base, n) / ("fab", color, n) whose
    lengths add up to C*cols (fabric segments are forwarded from the input queue of ``color``).
    Clobbers r5, r9, d1, a1, d2, a2, a3. The sender needs ``ramp -> east`` routes on ``colors``."""
    segs = [("mem", src, C * cols)] if isinstance(src, str) else list(src)
    assert sum(n for _, _, n in segs) == C * cols
    dsds = [f".dsd {tag}_out{k}, fabout, color={c}, len={cols}" for k, c in enumerate(colors)]
    for i, (kind, v, n) in enumerate(segs):
        if kind == "mem":
            dsds.append(f".dsd {tag}_src{i}, mem1d, base={v}, len={cols}")
        else:
            dsds.append(f".dsd {tag}_src{i}, fabin, color={v}, len={cols}")
    if hdr:
        dsds.append(f".dsd {tag}_hdr, mem1d, base={hdr[0]}, len={hdr[1]}")
        dsds.append(f".dsd {tag}_hdrout, fabout, color={colors[-1]}, len={hdr[1]}")
    code = [f"    addi r9, r0, {NOP_ID}"]
    starts, acc = [], 0
    for _, _, n in segs:
        starts.append(acc)
        acc += n
    loaded = set()
    for j in range(C):
        k = j // 4
        c = colors[k]
        if j % 4 == 0:
            code.append(f"    ldsd d2, {tag}_out{k}")
        code.append(f"    send {c}, {pos}")
        if hdr and j == C - 1:
            code += [f"    ldsd d1, {tag}_hdrout", f"    ldsd a1, {tag}_hdr", "    mov32 d1, a1"]
        lo, hi = j * cols, (j + 1) * cols
        for i, (kind, v, n) in enumerate(segs):
            a, b = max(lo, starts[i]), min(hi, starts[i] + n)
            if a >= b:
                continue
            reg = "a2" if kind == "mem" else "a3"
            if i not in loaded:
                loaded.add(i)
                code.append(f"    ldsd {reg}, {tag}_src{i}")
            part = b - a != cols
            if part:
                code += [f"    addi r5, r0, {b - a}", "    dsdlen d2, r5", f"    dsdlen {reg}, r5"]
            code.append(f"    mov32 d2, {reg}")
            if kind == "mem":
                code.append(f"    dsdaddi a2, {2 * (b - a)}")
            if part:
                code += [f"    addi r5, r0, {cols}", "    dsdlen d2, r5", f"    dsdlen {reg}, r5"]
        code.append(f"    sendc {c}, r9")
    return "\n".join(dsds), "\n".join(code)


def _sender_routes(colors: list[int]) -> str:
    return "\n".join(f"    .route {c}, ramp -> east" for c in colors)


# ---------------------------------------------------------------------------------------------
def generate(lay: Layout) -> str:
    cfg = lay.config
    D, hd, G, NKV = cfg.dim, cfg.head_dim, cfg.group_size, cfg.n_kv_heads
    eps = cfg.norm_eps
    PK = 1 + hd + D          # packet words [pos, cos, sin, x]
    out = [f"; generated by wse.kernels.llm.fabric_program for {cfg.name}", f".arch {lay.arch}",
           f".fabric {lay.grid[0]}, {lay.grid[1]}", ""]

    # ---- sliced buses (colors free along the receiving row and at the sender) ------------------
    q, o, gu, lm = lay.qkv, lay.o, lay.gu, lay.lm
    att = set(range(FL.C_ATT, FL.C_ATT + NKV))
    sl_q = slice_colors(q.n_cols, [c for c in [FL.C_QB, FL.C_RES2] + list(range(10, 24)) if c not in att])
    sl_gu = slice_colors(gu.n_cols, [FL.C_GB, 18, 19, 20, 21, 22, 23, 1, 12, 11, 10])
    o_bus = FL.C_GA + (NKV - 1) % 2
    sl_o = slice_colors(o.n_cols, [c for c in [o_bus, 1] + list(range(16, 24)) if c not in (sl_gu or [FL.C_GB])])
    dn = lay.down
    # the residual x + attn goes from the O end along row 0 straight to the down end (the
    # residual PE), which adds it to the down partials' sum; [pos, cos, sin] goes there on C_RES2
    used = {0, 2, 3, 4, 5, FL.C_GG, FL.C_GG + 1, sl_o[-1] if sl_o else o_bus} | set(sl_gu or [FL.C_GB])
    xd = next((c for c in range(23, -1, -1) if c not in used), None)
    if xd is None:
        raise FL.FabricFitError("no color left for the residual into the down end")
    # likewise the residual x goes from norm_a straight to O column 0 (C_RES1 carries [pos, cos, sin])
    used = ({0, 2, 3, 4, xd, FL.C_D0, FL.C_D1, FL.C_MB, FL.C_GA, FL.C_GA + 1} | set(sl_q or [FL.C_QB])
            | set(range(FL.C_ATT, FL.C_ATT + NKV)) | set(sl_o or [o_bus]))
    xo = next((c for c in range(23, -1, -1) if c not in used), None)
    if xo is None:
        raise FL.FabricFitError("no color left for the residual into the O row")
    sl_lm = slice_colors(lm.n_cols, [FL.C_LB, 21, 22, 23, 1] + list(range(4, 18)))

    # ---- the RoPE table (layer 0's norm_a looks the row of pos up on the fabric) -------------
    RR, T = FL.rope_table_shape(lay)
    free = [c for c in range(23, -1, -1)
            if c not in {FL.C_PKT, FL.C_RES1, xo} | set(sl_q or [FL.C_QB])]
    c_tq, c_tr = free[0], free[1]

    # ---- norm_a ------------------------------------------------------------------------------
    nd, nc, ndata = rmsnorm(D, eps, "pkt + 2 + " + str(2 * hd), "g16", "hb")
    if sl_q:
        sd, sc = send_sliced(sl_q, q.n_cols, q.cols, "hb", "r2", hdr=("pkt + 2", hd))
        qsend = f"    ld32 r2, [r0 + pkt]\n{sc}"
        qroutes = _sender_routes(sl_q)
    else:
        sd, qsend = "", """    ldsd d0, a_hdrout
    ldsd a0, a_hdr
    mov32 d0, a0
    ldsd d0, a_hout
    ldsd a0, a_h
    mov32 d0, a0"""
        qroutes = f"    .route {FL.C_QB}, ramp -> east"
    out.append(f""".program norm_a, IN_NORTH = 0, TABLE = 0
    ; TABLE (layer 0): the host sends [pos, x]; the row [cos, sin] of pos comes from the table
    ; PEs below (pos goes South on {c_tq}, the row comes back North on {c_tr})
    .if IN_NORTH
        .route {FL.C_PKT}, north -> ramp
    .else
        .route {FL.C_PKT}, west -> ramp
    .endif
    .if TABLE
        .route {c_tq}, ramp -> south
        .route {c_tr}, south -> ramp
    .endif
{qroutes}
    .route {FL.C_RES1}, ramp -> east
    .route {xo}, ramp -> east
    .task go, data, color={FL.C_PKT}
    .dsd a_rest, mem1d, base=pkt + 2, len={PK - 1}
    .dsd a_in, fabin, color={FL.C_PKT}, len={PK - 1}
    .dsd a_hdr, mem1d, base=pkt, len={1 + hd}
    .dsd a_hdrout, fabout, color={FL.C_QB}, len={1 + hd}
    .dsd a_h, mem1d, base=hb, len={D}
    .dsd a_hout, fabout, color={FL.C_QB}, len={D}
    .dsd a_pkt, mem1d, base=pkt, len={PK}
    .dsd a_res, fabout, color={FL.C_RES1}, len={1 + hd}
    .dsd a_xout, fabout, color={xo}, len={D}
    .dsd a_x, mem1d, base=pkt + {2 + 2 * hd}, len={D}
    .if TABLE
    .dsd a_pos, mem1d, base=pkt, len=1
    .dsd a_tq, fabout, color={c_tq}, len=1
    .dsd a_cs, mem1d, base=pkt + 2, len={hd}
    .dsd a_tr, fabin, color={c_tr}, len={hd}
    .dsd a_xin, fabin, color={FL.C_PKT}, len={D}
    .endif
{nd}
{sd}
go:
    st32 r1, [r0 + pkt]
    .if TABLE
    ldsd d0, a_tq
    ldsd a0, a_pos
    mov32 d0, a0
    ldsd d0, a_cs
    ldsd a0, a_tr
    mov32 d0, a0
    ldsd d0, a_x
    ldsd a0, a_xin
    mov32 d0, a0
    .else
    ldsd d0, a_rest
    ldsd a0, a_in
    mov32 d0, a0
    .endif
{nc}
{qsend}
    ldsd d0, a_res
    ldsd a0, a_hdr
    mov32 d0, a0
    ldsd d0, a_xout
    ldsd a0, a_x
    mov32 d0, a0
    exit
    .data
pkt: .zero {PK}, f32
hb:  .zero {D}, f32
{ndata}
g16: .zero {D}, f16
    .export pkt, hb, g16
.endprogram
""")

    # table PE k (pe_y = k, under layer 0's norm_a) holds the rows k*RR .. k*RR + RR - 1 of
    # [cos, sin]; every table PE sees pos, the one that holds its row sends it North
    out.append(f""".program rope_tab
    .if pe_y < rect_h - 1
        .route {c_tq}, north -> ramp | south
        .route {c_tr}, ramp | south -> north
    .else
        .route {c_tq}, north -> ramp
        .route {c_tr}, ramp -> north
    .endif
    .task look, data, color={c_tq}
    .dsd t_out, fabout, color={c_tr}, len={hd}
    .dsd t_row, mem1d, base=tab, len={hd}
look:                               ; r1 = pos
    li r2, pe_y * {RR}
    blt r1, r2, look_done
    li r3, (pe_y + 1) * {RR}
    bge r1, r3, look_done
    sub r3, r1, r2
    addi r4, r0, {2 * hd}
    mul r3, r3, r4
    addi r3, r3, tab
    ldsd d0, t_out
    ldsd a0, t_row
    dsdbase a0, r3
    mov32 d0, a0
look_done:
    exit
    .data
tab: .zero {RR * hd}, f32
    .export tab
.endprogram
""")

    # ---- QKV row: RoPE and the packets to the attention chains at the row end -----------------
    # block-row g (pe_y) of the QKV grid is KV group g, its rows [v_g; k_g; q heads of g]
    # (qkv_split S = 1), or (S = 2) block-rows 2g and 2g + 1 hold the first and the second
    # half of those rows (part 0 and part 1: v_g, k_g and the first q rows, and the other q
    # rows). The row end of part 0 (block-row S * g) sends pos, control, v_g, k_g, control,
    # q_g to chain g (East along row 0; rows S * g > 0 go North up the row-end column first);
    # with S = 2 the q rows of part 1 are roped by its own row end, sent North on the color lnk
    # and forwarded by part 0 from its input queue behind its own q rows. pos and q_g are
    # multicast down the chain; the first control wavelet turns the chain top's switch so that
    # v_g, k_g reach only the top (which relays them down to the owner of pos), the second
    # turns it back. v needs no RoPE: it goes out (async) while the row end ropes k and q; the
    # task kvk (blocked until that send is done, activated after the RoPE) then sends k, the
    # control, q.
    S, qr = lay.qkv_split, q.rows

    def rope_segs(part: int) -> list[tuple[int, int, int]]:
        """(first row in the PE, first cos/sin index, pairs) of the k and q heads in a part."""
        segs = []
        for h0 in range(hd, (G + 2) * hd, hd):       # k_g, then q heads
            s, e = max(h0, part * qr), min(h0 + hd, (part + 1) * qr)
            if s < e:
                segs.append((s - part * qr, (s - h0) // 2, (e - s) // 2))
        return segs

    pd = []   # the RoPE's DSDs per segment length n (pairs) and first cos/sin index co
    for _, co, n in rope_segs(0) + (rope_segs(1) if S == 2 else []):
        pd += [f".dsd r_ev{n}, mem1d, base=acc, len={n}, stride=2", f".dsd r_od{n}, mem1d, base=acc, len={n}, stride=2"]
        pd += [f".dsd r_t{i}_{n}, mem1d, base=rt{i}, len={n}" for i in range(4)]
        pd += [f".dsd r_cos{n}_{co}, mem1d, base=hdr + {2 * co}, len={n}",
               f".dsd r_sin{n}_{co}, mem1d, base=hdr + {hd + 2 * co}, len={n}"]
    pd = list(dict.fromkeys(pd))

    def rope(part: int) -> str:
        code = []
        for row, co, n in rope_segs(part):
            code.append(f"""    addi r5, r0, acc + {2 * row}
    addi r6, r5, 2
    ldsd a0, r_ev{n}
    dsdbase a0, r5
    ldsd a1, r_od{n}
    dsdbase a1, r6
    ldsd b0, r_cos{n}_{co}
    ldsd b1, r_sin{n}_{co}
    ldsd d0, r_t0_{n}
    fmuls d0, a0, b0
    ldsd d0, r_t1_{n}
    fmuls d0, a1, b1
    ldsd d0, r_t2_{n}
    fmuls d0, a0, b1
    ldsd d0, r_t3_{n}
    fmuls d0, a1, b0
    ldsd d1, r_ev{n}
    dsdbase d1, r5
    ldsd a2, r_t0_{n}
    ldsd b2, r_t1_{n}
    fsubs d1, a2, b2
    ldsd d1, r_od{n}
    dsdbase d1, r6
    ldsd a2, r_t2_{n}
    ldsd b2, r_t3_{n}
    fadds d1, a2, b2""")
        return "\n".join(code)

    qown = (qr if S == 2 else (G + 2) * hd) - 2 * hd      # q rows in part 0
    pd.append(f".dsd r_v, mem1d, base=acc, len={hd}")
    pd.append(f".dsd r_k, mem1d, base=acc + {2 * hd}, len={hd}")
    if qown:
        pd.append(f".dsd r_q, mem1d, base=acc + {4 * hd}, len={qown}")
    for g in range(NKV):
        pd.append(f".dsd r_kvout{g}, fabout, color={FL.C_ATT + g}, len={hd}")
        if qown:
            pd.append(f".dsd r_qout{g}, fabout, color={FL.C_ATT + g}, len={qown}")
        if S == 2:
            pd.append(f".dsd r_fwout{g}, fabout, color={FL.C_ATT + g}, len={qr}")
    if S == 2:
        used = {FL.C_RA, FL.C_RB, FL.C_RES1, xo} | att | set(sl_q or [FL.C_QB])
        lnk = next(c for c in range(23, -1, -1) if c not in used)
        pd += [f".dsd r_lnkout, fabout, color={lnk}, len={qr}", f".dsd r_lnkin, fabin, color={lnk}, len={qr}"]
    pd.append(f"""    .if pe_x == {q.n_cols} - 1 && pe_y % {S} == 0
    .task kvk, local, blocked
    .endif""")

    def qsend(g: int) -> str:
        code = []
        if qown:
            code.append(f"    ldsd a0, r_q\n    ldsd d0, r_qout{g}\n    mov32 d0, a0")
        if S == 2:
            code.append(f"    ldsd a0, r_lnkin\n    ldsd d0, r_fwout{g}\n    mov32 d0, a0")
        return "\n".join(code)

    pc = []
    if S == 2:   # part 1: rope its q rows, send them to part 0
        pc.append(f"""    .if pe_y % 2 == 1
{rope(1)}
    ldsd d0, r_lnkout
    ldsd a0, g_acc
    mov32 d0, a0
    .else""")
    pc += ["    ld32 r2, [r0 + posv]", f"    addi r9, r0, {NOP_ID}"]
    # pos >= bcast_from: pos, control, v, k, control, q; pos and q are multicast down the chain.
    # pos < bcast_from: control (turns the chain top's switch to RAMP only), pos, v, k, q,
    # control: the chain top relays them down to the owner of pos
    pc.append(f"    addi r3, r0, {lay.bcast_from}\n    blt r2, r3, hdr_relay")
    for g in range(NKV):
        pc.append(f"""    {"." if g == 0 else ".el"}if pe_y == {S * g}
    send {FL.C_ATT + g}, r2
    sendc {FL.C_ATT + g}, r9""")
    pc.append("    .endif\n    beq r0, r0, hdr_done\nhdr_relay:")
    for g in range(NKV):
        pc.append(f"""    {"." if g == 0 else ".el"}if pe_y == {S * g}
    sendc {FL.C_ATT + g}, r9
    send {FL.C_ATT + g}, r2""")
    pc.append("    .endif\nhdr_done:")
    for g in range(NKV):
        pc.append(f"""    {"." if g == 0 else ".el"}if pe_y == {S * g}
    ldsd a3, r_v
    ldsd d3, r_kvout{g}
    mov32 d3, a3 async ut1 unblock kvk""")
    pc.append("    .endif")
    pc.append(rope(0))
    pc.append("""    activate kvk
    exit
kvk:
    block kvk""")
    pc.append(f"    addi r9, r0, {NOP_ID}\n    ld32 r2, [r0 + posv]\n    addi r3, r0, {lay.bcast_from}")
    for g in range(NKV):
        pc.append(f"""    {"." if g == 0 else ".el"}if pe_y == {S * g}
    ldsd a0, r_k
    ldsd d0, r_kvout{g}
    mov32 d0, a0
    blt r2, r3, q_relay
    sendc {FL.C_ATT + g}, r9
{qsend(g)}
    exit
q_relay:
{qsend(g)}
    sendc {FL.C_ATT + g}, r9""")
    pc.append("    .endif")
    if S == 2:
        pc.append("    .endif")
    pdata = "\n".join(f"rt{i}: .zero {hd // 2}, f32" for i in range(4))
    routes = _bus_sliced(sl_q, q.n_cols, q.n_rows) if sl_q else _bus_row(FL.C_QB, q.n_cols, q.n_rows)
    routes.append(f"    .if pe_y == 0\n        .route {FL.C_RES1}, west -> east\n        .route {xo}, west -> east\n    .endif")
    end_routes = []
    for g in range(NKV):   # row 0 of the row-end column turns the packets of rows S * g > 0 East
        end_routes.append(f"""    .if pe_x == {q.n_cols} - 1
        .if pe_y == {S * g}
            .route {FL.C_ATT + g}, ramp -> {"east" if g == 0 else "north"}
        .elif pe_y == 0
            .route {FL.C_ATT + g}, south -> east
        .elif pe_y < {S * g}
            .route {FL.C_ATT + g}, south -> north
        .endif
    .endif""")
    if S == 2:
        end_routes.append(f"""    .if pe_x == {q.n_cols} - 1
        .if pe_y % 2 == 1
            .route {lnk}, ramp -> north
        .else
            .route {lnk}, south -> ramp
        .endif
    .endif""")
    out.append(gemv_program("qkv", C=q.n_cols, R=q.n_rows, rows=q.rows, cols=q.cols, inp=D, hdr=1 + hd, bus=FL.C_QB,
                            bus_routes=routes, extra_routes="\n".join(end_routes),
                            post=("\n".join(pd), "\n".join(pc), pdata), slices=sl_q))

    # ---- attention chains --------------------------------------------------------------------
    out.append(attention_program(lay, sl_o, xo))

    # ---- O row; its end is norm_f ------------------------------------------------------------
    # a grid of RO block-rows: the row ends r > 0 gather their parts North into the row-0 end
    RO = o.n_rows
    used_o = ({0, 2, 3, FL.C_RES1, FL.C_RES2, xo, o_bus, FL.C_GA, FL.C_GA + 1} | set(sl_o or []) | set(sl_gu or [FL.C_GB])
              | ({xd} if xd is not None else set()))
    free_o = [c for c in range(23, -1, -1) if c not in used_o]
    if RO > 1 and len(free_o) < 2:
        raise FL.FabricFitError("no colors left for the O grid's gather")
    COG = free_o[:2] if RO > 1 else []
    nd, nc, ndata = rmsnorm(D, eps, "res + 2 + " + str(2 * hd), "g16", "hb")
    pd = nd + _part_gather_dsds("f", RO, o.rows, f"res + {2 + 2 * hd}", COG) + f"""
    .dsd f_res, mem1d, base=res, len={PK}
    .dsd f_resin, fabin, color={FL.C_RES1}, len={PK}
    .dsd f_x, mem1d, base=res + {2 + 2 * hd}, len={D}
    .dsd f_h, mem1d, base=hb, len={D}
    .dsd f_hout, fabout, color={FL.C_GB}, len={D}
    .dsd f_resout, fabout, color={FL.C_RES2}, len={PK}
    .dsd f_reshdr, mem1d, base=res, len={1 + hd}
    .dsd f_hdrout, fabout, color={FL.C_RES2}, len={1 + hd}"""
    if xd is not None:
        pd += f"\n    .dsd f_xout, fabout, color={xd}, len={D}"
        rsend = """    ldsd d0, f_hdrout
    ldsd a0, f_reshdr
    mov32 d0, a0
    ldsd d0, f_xout
    ldsd a0, f_x
    mov32 d0, a0"""
    else:
        rsend = """    ldsd d0, f_resout
    ldsd a0, f_res
    mov32 d0, a0"""
    if sl_gu:
        gd, gc = send_sliced(sl_gu, gu.n_cols, gu.cols, "hb", "r2")
        pd += "\n" + gd
        gsend = f"    ld32 r2, [r0 + posv]\n{gc}"
    else:
        gsend = f"""    ld32 r2, [r0 + posv]
    send {FL.C_GB}, r2
    ldsd d0, f_hout
    ldsd a0, f_h
    mov32 d0, a0"""
    pd += f"""
    .dsd f_hdrin, fabin, color={FL.C_RES1}, len={1 + hd}
    .dsd f_xin, fabin, color={xo}, len={D}"""
    pc = f"""    .if pe_y == 0
    ldsd d0, f_reshdr
    ldsd a0, f_hdrin
    mov32 d0, a0
    .endif
    .if {o.n_cols} == 1
    ldsd d0, f_x
    ldsd a0, f_xin
    mov32 d0, a0
    ldsd d0, f_x
    ldsd a0, f_x
    ldsd b0, g_acc
    fadds d0, a0, b0
    .else
    ldsd d0, f_part
    ldsd a0, g_acc
    fmovs d0, a0
    .endif
{_part_gather_code("f", RO)}
    .if pe_y == 0
{nc}
{gsend}
{rsend}
    .endif"""
    pdata = f"res: .zero {PK}, f32\nhb: .zero {D}, f32\n{ndata}\ng16: .zero {D}, f16\n    .export res, hb, g16"
    routes = _bus_sliced(sl_o, o.n_cols, RO) if sl_o else _bus_row(o_bus, o.n_cols, RO)
    routes += _part_gather_routes(o.n_cols, RO, COG, xo)
    routes += [f"""    .if pe_y > 0
    .elif pe_x < {o.n_cols} - 1
        .route {FL.C_RES1}, west -> east
    .else
        .route {FL.C_RES1}, west -> ramp
{_sender_routes(sl_gu or [FL.C_GB])}
        .route {FL.C_RES2}, ramp -> east
{f"        .route {xd}, ramp -> east" if xd is not None else ""}
    .endif"""]
    out.append(gemv_program("o", C=o.n_cols, R=RO, rows=o.rows, cols=o.cols, inp=cfg.q_dim, hdr=1, bus=o_bus,
                            bus_routes=routes, extra_routes="", post=(pd, pc, pdata), slices=sl_o,
                            red_init=xo if o.n_cols > 1 else None))

    # ---- gate/up grid: silu(gate) * up at the row ends, sent East to their row of down PEs -----
    fs, R = lay.fs, gu.n_rows
    ed, ec = vexp(str(fs), "sm", "e")
    pd = ed + f"""
    .dsd s_gate, mem1d, base=acc, len={fs}
    .dsd s_up, mem1d, base=acc + {2 * fs}, len={fs}
    .dsd s_m, mem1d, base=sm, len={fs}
    .dsd s_y, mem1d, base=sy, len={fs}
    .dsd s_yhi, mem1d, base=sy + 1, len={fs}, stride=2
    .dsd s_ylo, mem1d, base=sy, len={fs}, stride=2
    .dsd s_dhi, mem1d, base=e_pb + 1, len={fs}, stride=2
    .dsd s_t, mem1d, base=st, len={fs}
    .dsd s_two, mem1d, base=stwo, len={fs}
    .dsd s_act, mem1d, base=act, len={fs}
    .dsd s_out, fabout, color={FL.C_GG}, len={fs}"""
    newton = """    ldsd d0, s_t
    ldsd a0, e_p
    ldsd b0, s_y
    fmuls d0, a0, b0
    ldsd d0, s_t
    ldsd a0, s_two
    ldsd b0, s_t
    li r3, 0xbf800000
    fmacs d0, a0, b0, r3
    ldsd d0, s_y
    ldsd a0, s_y
    ldsd b0, s_t
    fmuls d0, a0, b0
""" * 3
    pc = f"""    ldsd d0, s_m
    ldsd a0, s_gate
    fnegs d0, a0
    ldsd a0, s_m
    fnegs d0, a0
    li r3, {_f(-80.0)}
    fmaxs d0, a0, r3
    fnegs d0, a0
{ec}
    ldsd d0, e_p
    ldsd a0, e_p
    li r3, 0x3f800000
    fadds d0, a0, r3
    ldsd d0, s_ylo
    mov16 d0, r0
    ldsd d0, s_yhi
    ldsd a0, s_dhi
    li r3, 0xffff
    xor16 d0, a0, r3
    ldsd a0, s_yhi
    li r3, 0x7ef4
    add16 d0, a0, r3
    ldsd d0, s_two
    li r3, 0x40000000
    fmovs d0, r3
{newton}
    ldsd d0, s_act
    ldsd a0, s_gate
    ldsd b0, s_y
    fmuls d0, a0, b0
    ldsd a0, s_act
    ldsd b0, s_up
    fmuls d0, a0, b0
    ld32 r2, [r0 + posv]
    send {FL.C_GG}, r2
    ldsd d0, s_out
    ldsd a0, s_act
    mov32 d0, a0"""
    pdata = "\n".join(f"{n}: .zero {fs}, f32" for n in ("sm", "sy", "st", "stwo", "act", "e_ub", "e_nb", "e_pb"))
    pdata += f"\ne_t16b: .zero {fs}, u16\n    .export act"
    routes = _bus_sliced(sl_gu, gu.n_cols, R) if sl_gu else _bus_row(FL.C_GB, gu.n_cols, R)
    extra = f"""    .if pe_y == 0
        .route {FL.C_RES2}, west -> east
{f"        .route {xd}, west -> east" if xd is not None else ""}
    .endif
    .if pe_x == {gu.n_cols} - 1
        .route {FL.C_GG}, ramp -> east
    .endif"""
    out.append(gemv_program("gu", C=gu.n_cols, R=R, rows=gu.rows, cols=gu.cols, inp=D, hdr=1, bus=FL.C_GB,
                            bus_routes=routes, extra_routes=extra, post=(pd, pc, pdata), slices=sl_gu))

    out.append(down_program(lay, xd))

    # ---- final norm --------------------------------------------------------------------------
    nd, nc, ndata = rmsnorm(D, eps, "pkt + 2 + " + str(2 * hd), "g16", "hb")
    if sl_lm:
        ld_, lc_ = send_sliced(sl_lm, lm.n_cols, lm.cols, "hb", "r2")
        lsend = f"    ld32 r2, [r0 + pkt]\n{lc_}"
    else:
        ld_, lsend = "", f"""    ld32 r2, [r0 + pkt]
    send {FL.C_LB}, r2
    ldsd d0, a_hout
    ldsd a0, a_h
    mov32 d0, a0"""
    out.append(f""".program final
    .route {FL.C_PKT}, north -> ramp
{_sender_routes(sl_lm or [FL.C_LB])}
    .task go, data, color={FL.C_PKT}
    .dsd a_rest, mem1d, base=pkt + 2, len={PK - 1}
    .dsd a_in, fabin, color={FL.C_PKT}, len={PK - 1}
    .dsd a_h, mem1d, base=hb, len={D}
    .dsd a_hout, fabout, color={FL.C_LB}, len={D}
{nd}
{ld_}
go:
    st32 r1, [r0 + pkt]
    ldsd d0, a_rest
    ldsd a0, a_in
    mov32 d0, a0
{nc}
{lsend}
    exit
    .data
pkt: .zero {PK}, f32
hb:  .zero {D}, f32
{ndata}
g16: .zero {D}, f16
    .export pkt, hb, g16
.endprogram
""")

    # ---- LM head: local argmax at the row ends, argmax chain North -> South --------------------
    RL = lm.n_rows
    pd = f"""
    .dsd m_mx, mem1d, base=mx, len={lm.rows}, stride=0
    .dsd m_t, mem1d, base=mt, len={lm.rows}
    .dsd m_thi, mem1d, base=mt + 1, len={lm.rows}, stride=2
    .dsd m_u, mem1d, base=mu, len={lm.rows}
    .dsd m_ci, mem1d, base=mci, len={lm.rows}
    .dsd m_w, mem1d, base=mw, len={lm.rows}, stride=0
    .dsd m_amb, mem1d, base=amb, len=2
    .if pe_y > 0
    .dsd m_amin, fabin, color={FL.C_AM} + (pe_y + 1) % 2, len=2
    .endif"""
    pc = f"""    li r3, 0xFF800000
    st32 r3, [r0 + mx]
    ldsd d0, m_mx
    ldsd a0, m_mx
    ldsd b0, g_acc
    fmaxs d0, a0, b0
    ld32 r4, [r0 + mx]
    ldsd d0, m_t
    ldsd a0, g_acc
    fsubs d0, a0, r4
    ldsd a0, m_t
    fabss d0, a0
    ldsd d0, m_u
    ldsd a0, m_thi
    li r3, 0xffff
    add16 d0, a0, r3
    ldsd a0, m_u
    addi r3, r0, 15
    sar16 d0, a0, r3
    ldsd b0, m_ci
    and16 d0, a0, b0
    st16 r0, [r0 + mw]
    ldsd d0, m_w
    ldsd a0, m_w
    ldsd b0, m_u
    fmaxh d0, a0, b0
    ld16 r5, [r0 + mw]
    li r3, 0x7bff
    sub r5, r3, r5
    addi r11, r0, {lm.rows}
    blt r5, r11, m_found
    mov r5, r0
m_found:
    li r7, pe_y * {lm.rows}
    add r5, r5, r7
    .if pe_y > 0
    ldsd d0, m_amb
    ldsd a0, m_amin
    mov32 d0, a0
    ld32 r6, [r0 + amb]
    ld32 r7, [r0 + amb + 2]
    flt r8, r6, r4
    bne r8, r0, m_keep
    mov r4, r6
    mov r5, r7
m_keep:
    .endif
    st32 r4, [r0 + best]
    st32 r5, [r0 + best + 2]
    .if pe_y < {RL} - 1
    send {FL.C_AM} + pe_y % 2, r4
    send {FL.C_AM} + pe_y % 2, r5
    .else
    st32 r5, [r0 + tok]
    .endif"""
    # first index of the local max by tensor ops: |acc - max| is +0 exactly where acc == max;
    # (hi16 - 1) >> 15 (arithmetic) is all ones there and 0 elsewhere; and with 0x7bff - i (a
    # positive finite fp16), the fp16 max over the row gives 0x7bff - (first such i)
    assert lm.rows < 0x4000
    ci = ", ".join(str(0x7BFF - i) for i in range(lm.rows))
    pdata = f"""mx: .zero 1, f32
mt: .zero {lm.rows}, f32
mu: .zero {lm.rows}, u16
mw: .zero 1, u16
mci: .u16 {ci}
amb: .zero 2, u32
best: .zero 2, u32
tok: .zero 1, u32
    .export best, tok"""
    routes = _bus_sliced(sl_lm, lm.n_cols, RL) if sl_lm else _bus_row(FL.C_LB, lm.n_cols, RL)
    extra = f"""    .if pe_x == {lm.n_cols} - 1
        .if pe_y < {RL} - 1
            .route {FL.C_AM} + pe_y % 2, ramp -> south
        .endif
        .if pe_y > 0
            .route {FL.C_AM} + (pe_y + 1) % 2, north -> ramp
        .endif
    .endif"""
    out.append(gemv_program("lm", C=lm.n_cols, R=RL, rows=lm.rows, cols=lm.cols, inp=D, hdr=1, bus=FL.C_LB,
                            bus_routes=routes, extra_routes=extra, post=(pd, pc, pdata), slices=sl_lm))

    # ---- lane transits -----------------------------------------------------------------------
    for nm, rx, tx in (("t_ns", "north", "south"), ("t_nw", "north", "west"), ("t_ew", "east", "west"),
                       ("t_es", "east", "south")):
        out.append(f".program {nm}\n    .route {FL.C_PKT}, {rx} -> {tx}\n.endprogram\n")

    # ---- mirrored band programs (odd rows of bands run East -> West) ------------------------
    if any(lay.mirrored(l) for l in range(cfg.n_layers)):
        band = ("norm_a", "qkv", "attn", "o", "gu", "down")
        for text in list(out):
            head = text.lstrip().split("\n", 1)[0]
            if head.startswith(".program ") and head[9:].split(",")[0].strip() in band:
                out.append(_mirror(text))

    # ---- placement ---------------------------------------------------------------------------
    turns = lay.lane_turns()
    for l in range(cfg.n_layers):
        x0, y0 = lay.origin(l)
        m = "_m" if lay.mirrored(l) else ""
        X = lambda a, n=1: lay.role_x(l, a, n)
        in_north = 1 if (l > 0 and turns[l - 1]) else 0
        out.append(f"; layer {l}")
        out.append(f".place norm_a{m}, {X(0)}, {y0}, 1, 1, IN_NORTH={in_north}, TABLE={int(l == 0)}")
        if l == 0:
            out.append(f".place rope_tab, {X(0)}, {y0 + 1}, 1, {T}")
        out.append(f".place qkv{m}, {X(lay.x_qkv, q.n_cols)}, {y0}, {q.n_cols}, {q.n_rows}")
        out.append(f".place attn{m}, {X(lay.x_attn, NKV)}, {y0}, {NKV}, {lay.P}")
        out.append(f".place o{m}, {X(lay.x_o, o.n_cols)}, {y0}, {o.n_cols}, {o.n_rows}")
        out.append(f".place gu{m}, {X(lay.x_gu, gu.n_cols)}, {y0}, {gu.n_cols}, {R}")
        out.append(f".place down{m}, {X(lay.x_down, dn.n_rows)}, {y0}, {dn.n_rows}, {R}, SOUTH={int(turns[l])}")
        if turns[l]:
            xr = X(lay.width - 1)
            lane = y0 + lay.height
            last = l == cfg.n_layers - 1
            if lay.height > R:
                out.append(f".place t_ns, {xr}, {y0 + R}, 1, {lay.height - R}")
            if not last or xr == 0:
                out.append(f".place t_ns, {xr}, {lane}, 1, 1")
            else:
                out.append(f".place t_nw, {xr}, {lane}, 1, 1")
                if xr > 1:
                    out.append(f".place t_ew, 1, {lane}, {xr - 1}, 1")
                out.append(f".place t_es, 0, {lane}, 1, 1")
    out.append(f".place final, 0, {lay.lm_y}, 1, 1")
    out.append(f".place lm, 1, {lay.lm_y}, {lm.n_cols}, {RL}")
    return "\n".join(out) + "\n"


def down_program(lay: Layout, xd: int) -> str:
    """The down projection, transposed next to the gate/up grid: K columns (output slice i =
    pe_x) x R rows (pe_y = the row of gate/up block-row f = R - 1 - pe_y). Each PE gets
    [pos, act_f] from its row's gate/up row end (West, multicast along the row), multiplies its
    rows x fs block, and the partials run up the column (checkerboard C_RA/C_RB), so the top PE
    of column i holds ((p0 + p1) + ...) for its output rows. The top PEs pass their parts East
    (PE i forwards those of the PEs West of it, then sends its own, on a checkerboard of two
    colors) into the residual PE (the top of the last column), which receives [pos, cos, sin] on
    C_RES2 and x + attn on ``xd`` from the O end, adds the parts and sends the next packet."""
    cfg = lay.config
    D, hd = cfg.dim, cfg.head_dim
    PK = 1 + hd + D
    dn = lay.down
    K, R, rows, cols = dn.n_rows, dn.n_cols, dn.rows, dn.cols
    used = {0, 2, 3, FL.C_RES2, FL.C_GG, xd}
    free = [c for c in range(23, -1, -1) if c not in used]
    if K > 1 and len(free) < 2:
        raise FL.FabricFitError("no colors left for the down parts")
    PG = free[:2] if K > 1 else [0, 0]
    spin = PG[1] if (K - 1) % 2 == 0 else PG[0]   # the residual PE's input of the parts
    A, RA = FL.C_GG, FL.C_RA
    lines = [f""".program down, SOUTH = 0
    LASTX = pe_x == {K} - 1
    .if LASTX
        .route {A}, west -> ramp
    .else
        .route {A}, west -> ramp | east
    .endif
    .if pe_y > 0
        .route {RA} + pe_y % 2, ramp -> north
    .endif
    .if pe_y < {R} - 1
        .route {RA} + (pe_y + 1) % 2, south -> ramp
    .endif
    .if pe_y == 0
        .if LASTX
            .route {FL.C_RES2}, west -> ramp
            .route {xd}, west -> ramp
            .if SOUTH
                .route {FL.C_PKT}, ramp -> south
            .else
                .route {FL.C_PKT}, ramp -> east
            .endif
        .else
            .route {FL.C_RES2}, west -> east
            .route {xd}, west -> east
        .endif
    .elif LASTX && SOUTH
        .route {FL.C_PKT}, north -> south
    .endif"""]
    if K > 1:
        lines.append(f"""    .if pe_y == 0
        .if !LASTX
            .route (pe_x % 2 == 0) ? {PG[0]} : {PG[1]}, ramp -> east
        .endif
        .if pe_x > 0
            .route (pe_x % 2 == 0) ? {PG[1]} : {PG[0]}, west -> ramp
        .endif
    .endif""")
    lines.append(f"""    .task go, data, color={A}
    .dsd g_acc, mem1d, base=acc, len={rows}
    .dsd g_w, mem1d, base=W, len={rows}
    .dsd g_xs, mem1d, base=xs, len={cols}
    .dsd g_xin, fabin, color={A}, len={cols}
    .if pe_y > 0
    .dsd g_redout, fabout, color={RA} + pe_y % 2, len={rows}
    .endif
    .if pe_y < {R} - 1
    .dsd g_redin, fabin, color={RA} + (pe_y + 1) % 2, len={rows}
    .endif
    .if pe_y == 0 && LASTX
    .dsd r_res, mem1d, base=res, len={PK}
    .dsd r_reshdr, mem1d, base=res, len={1 + hd}
    .dsd r_hdrin, fabin, color={FL.C_RES2}, len={1 + hd}
    .dsd r_x, mem1d, base=res + {2 + 2 * hd}, len={D}
    .dsd r_xin, fabin, color={xd}, len={D}
    .dsd r_xown, mem1d, base=res + {2 + 2 * hd + 2 * (K - 1) * rows}, len={rows}
    .dsd r_pktout, fabout, color={FL.C_PKT}, len={PK}
    .if {K} > 1
    .dsd r_xlo, mem1d, base=res + {2 + 2 * hd}, len={(K - 1) * rows}
    .dsd r_sp, mem1d, base=sp, len={(K - 1) * rows}
    .dsd r_spin, fabin, color={spin}, len={(K - 1) * rows}
    .endif
    .elif pe_y == 0
    .dsd r_partout, fabout, color=(pe_x % 2 == 0) ? {PG[0]} : {PG[1]}, len={rows}
    .if pe_x > 0
    .dsd r_fwdin, fabin, color=(pe_x % 2 == 0) ? {PG[1]} : {PG[0]}, len=pe_x * {rows}
    .dsd r_fwdout, fabout, color=(pe_x % 2 == 0) ? {PG[0]} : {PG[1]}, len=pe_x * {rows}
    .endif
    .endif

go:
    st32 r1, [r0 + posv]
    ldsd d0, g_xs
    ldsd a0, g_xin
    mov32 d0, a0
    ldsd d1, g_acc
    ldsd a1, g_acc
    ldsd b1, g_w
    fmovs d1, r0
    addi r12, r0, xs
{_col_loop(rows, cols)}
    .if pe_y == {R} - 1 && pe_y > 0
    ldsd d2, g_redout
    ldsd a2, g_acc
    fmovs d2, a2
    .elif pe_y > 0
    ldsd d2, g_redout
    ldsd a2, g_redin
    ldsd b2, g_acc
    fadds d2, a2, b2
    .elif {R} > 1
    ldsd d2, g_acc
    ldsd a2, g_redin
    ldsd b2, g_acc
    fadds d2, a2, b2
    .endif
    .if pe_y == 0 && LASTX
    ldsd d0, r_reshdr
    ldsd a0, r_hdrin
    mov32 d0, a0
    ldsd d0, r_x
    ldsd a0, r_xin
    mov32 d0, a0
    .if {K} > 1
    ldsd d0, r_sp
    ldsd a0, r_spin
    mov32 d0, a0
    ldsd d0, r_xlo
    ldsd a0, r_xlo
    ldsd b0, r_sp
    fadds d0, a0, b0
    .endif
    ldsd d0, r_xown
    ldsd a0, r_xown
    ldsd b0, g_acc
    fadds d0, a0, b0
    ldsd d0, r_pktout
    ldsd a0, r_res
    mov32 d0, a0
    .elif pe_y == 0
    .if pe_x > 0
    ldsd d0, r_fwdout
    ldsd a0, r_fwdin
    mov32 d0, a0
    .endif
    ldsd d0, r_partout
    ldsd a0, g_acc
    mov32 d0, a0
    .endif
    exit

    .data
posv: .zero 1, u32
acc:  .zero {rows}, f32
xs:   .zero {cols}, f32
    .if pe_y == 0 && LASTX
res:  .zero {PK}, f32
sp:   .zero {max(1, (K - 1) * rows)}, f32
    .export res
    .endif
W:    .space {rows * cols}, f16
    .export acc, W, posv
.endprogram
""")
    return "\n".join(lines)


def _mirror(text: str) -> str:
    """The East <-> West mirror image of a band program: ``NAME_m``, block column pe_x at the
    East end of the rectangle, East and West swapped in every route."""
    import re

    out = []
    for line in text.split("\n"):
        st = line.lstrip()
        if st.startswith(".program "):
            line = re.sub(r"^(\s*\.program\s+)(\w+)", r"\1\2_m", line)
        elif st.startswith(".route"):
            line = re.sub(r"\b(east|west)\b", lambda mm: "west" if mm.group(1) == "east" else "east", line)
        out.append(re.sub(r"\bpe_x\b", "(rect_w - 1 - pe_x)", line))
    return "\n".join(out)


def _d_loop(HD: int, S: int, U: int = 8) -> str:
    """sc += K[d, :] * q[d] for d = 0 .. HD-1 in order (one fmacs per d), unrolled by U
    (r12 = q, b1 = K row 0; clobbers r3, r11, r12)."""
    body = []
    for k in range(U):
        body += [f"    ld32 r3, [r12 + {2 * k}]", "    fmacs d2, a2, b1, r3", f"    dsdaddi b1, {2 * S}"]
    n, t = divmod(HD, U)
    out = []
    if n:
        out += [f"    addi r11, r0, {n}", "d_loop:"] + body + [f"    addi r12, r12, {2 * U}", "    addi r11, r11, -1",
                                                          "    bne r11, r0, d_loop"]
    out += body[:3 * t]
    return "\n".join(out)


# A PE with at most SC_SMALL positions computes its scores with two tensor ops per q head
# instead of the d loop: tmp[d, s] = K[d, s] * q[d] (fmuls over a 2D view, q broadcast over the
# slots), then sc[s] = sc[s] + tmp[d, s] for d = 0 .. HD-1 in order (fadds whose destination and
# first source are sc[s], stride 0 over d). The products and the order of the sums are those of
# the d loop's fmacs, so the scores are the same bits; the instructions per q head drop from
# ~3 x HD to 16. The two ops take 2 x HD x n cycles (one element per cycle: the views are not
# unit-stride) against ~3.4 x HD for the d loop, so they are the faster form for n = 1 only
# (SmolLM2: 128 against ~216 cycles per q head); with SC_SMALL = 2 a decode step at positions
# 32-39 took 530 more emulated cycles.
SC_SMALL = 1


def _scores(HD: int, S: int) -> str:
    """sc[0:n] += K[:, 0:n] . q (r10 = n >= 1, r12 = q, r5 = sc of this head; DSRs d5/a5/b5,
    d6/a6/b6 and the d loop's are clobbered)."""
    return f"""    addi r4, r0, {SC_SMALL + 1}
    blt r10, r4, sc_small
{_d_loop(HD, S)}
    beq r0, r0, sc_done
sc_small:
    ldsd d5, d_t4
    dsdlen d5, r10
    ldsd a5, d_k4
    dsdlen a5, r10
    ldsd b5, d_q4
    dsdbase b5, r12
    dsdlen b5, r10
    fmuls d5, a5, b5
    ldsd d6, d_s4
    dsdbase d6, r5
    dsdlen d6, r10
    ldsd a6, d_s4
    dsdbase a6, r5
    dsdlen a6, r10
    ldsd b6, d_t4
    dsdlen b6, r10
    fadds d6, a6, b6
sc_done:"""


def attention_program(lay: Layout, sl_o: list[int] | None = None, xo: int | None = None) -> str:
    """attn_decode.s adapted: chain g = pe_x, the top PE (pe_y == 0) is the chain end; position
    p lives on the PE with m = pe_y == p % P. Only the PEs with m <= pos (those that hold a
    position) take part in the max and the reductions, which start at the last of them
    (``Attention.active_up``); k, v travel only down to the owner of pos."""
    cfg = lay.config
    P, S, HD, G, NKV = lay.P, lay.S, cfg.head_dim, cfg.group_size, cfg.n_kv_heads
    NQKV = (G + 2) * HD
    NRED = G + G * HD
    DIVMAGIC = -(-(1 << 20) // P)
    # the chain PE divides pos by P with this multiply-shift: exact for every pos < S x P
    assert all((p * DIVMAGIC) >> 20 == p // P for p in range(S * P))
    # r5 = pos // P, r6 = pos % P (a shift and a mask when P is a power of two)
    if P & (P - 1) == 0:
        pdiv = f"""    srli r5, r1, {P.bit_length() - 1}
    andi r6, r1, {P - 1}"""
        # the chain top relays k, v unless it owns pos: decide with the fewest instructions
        # (the row end's stream waits for it); its count of positions is then pos // P
        ptop = f"""    .if LAST && {P} > 1
    andi r6, r1, {P - 1}
    bne r6, r0, kv_relay
    .endif"""
        ptopn = f"""    .if LAST && {P} > 1
    srli r10, r1, {P.bit_length() - 1}
    addi r10, r10, 1
    .endif"""
    else:
        ptop = ptopn = ""
        pdiv = f"""    li r4, {DIVMAGIC}
    mul r5, r1, r4
    srli r5, r5, 20
    addi r4, r0, {P}
    mul r6, r5, r4
    sub r6, r1, r6"""
    scale = _f(1.0 / np.sqrt(HD))
    transit = "\n".join(f"""        .if pe_x < {g}
            .route {FL.C_ATT + g}, west -> east
        .endif""" for g in range(1, NKV))
    D0, D1, MB, GA = FL.C_D0, FL.C_D1, FL.C_MB, FL.C_GA
    # the last chain top sends the O bus: whole, or sliced for the O row's block columns
    o = lay.o
    if sl_o:
        segs = ([("fab", f"{GA} + (pe_x + 1) % 2", (NKV - 1) * G * HD)] if NKV > 1 else []) + [("mem", "out", G * HD)]
        odsd, ocode = send_sliced(sl_o, o.n_cols, o.cols, segs, "r2", tag="so")
        oroutes = _sender_routes(sl_o)
        osend = f"""    .if pe_x == {NKV} - 1
    .if pe_x > 0
    ldsd d0, d_posin
    ldsd a0, d_posfab
    mov32 d0, a0
    .endif
    ld32 r2, [r0 + posv]
{ocode}
    .elif pe_x == 0"""
        odsd = f"""    .if pe_x == {NKV} - 1 && LAST
{odsd}
    .dsd d_posin, mem1d, base=mx, len=1
    .dsd d_posfab, fabin, color={GA} + (pe_x + 1) % 2, len=1
    .endif"""
    else:
        odsd, oroutes, osend = "", f"        .route {GA} + pe_x % 2, ramp -> east", "    .if pe_x == 0"
    # k, v of the new position: the chain top takes them alone (its CIN switch), and the PEs
    # above the owner of pos (m = pos % P) relay them South on a checkerboard of two colors
    # free in the chain, so they travel only down to the owner
    used = ({FL.C_RES1, D0, D1, MB, GA, GA + 1} | {FL.C_ATT + g for g in range(NKV)} | set(sl_o or [])
            | ({xo} if xo is not None else set()))
    KV = [c for c in range(1, 24) if c not in used][:2]
    iqs = [q for q in range(8) if q not in {(FL.C_ATT + g) % 8 for g in range(NKV)} | {D0 % 8, D1 % 8, MB % 8, GA % 8, (GA + 1) % 8}]
    oqs = [q for q in range(8) if q not in {D0 % 8, D1 % 8, MB % 8, GA % 8, (GA + 1) % 8} | {c % 8 for c in (sl_o or [])}]
    if len(KV) < 2 or not iqs or not oqs:
        raise FL.FabricFitError("no colors / queues left for the k, v relay of the attention chains")
    KV0, IQ, OQ = KV[0], iqs[0], oqs[0]
    KV1 = KV[1]
    QCH = next(c for c in (16, 8, 4, 2, 1) if (G * HD) % c == 0)   # q relay chunk
    return f""".program attn
    M = pe_y
    FIRST = pe_y == {P} - 1
    LAST = pe_y == 0
    BCAST = {lay.bcast_from}
    CIN = {FL.C_ATT} + pe_x
    KVIN = {KV0} + ({KV1} - {KV0}) * ((pe_y + 1) % 2)
    KVOUT = {KV0} + ({KV1} - {KV0}) * (pe_y % 2)
    .if LAST
        .route {FL.C_RES1}, west -> east
{f"        .route {xo}, west -> east" if xo is not None else ""}
{transit}
        .if {P} == 1
            .route CIN, west -> ramp
        .else
            .route CIN, west -> ramp | south, west -> ramp
        .endif
        .if pe_x == {NKV} - 1
{oroutes}
        .else
            .route {GA} + pe_x % 2, ramp -> east
        .endif
        .if pe_x > 0
            .route {GA} + (pe_x + 1) % 2, west -> ramp
        .endif
    .elif FIRST
        .route CIN, north -> ramp
    .else
        .route CIN, north -> ramp | south
    .endif
    .if {P} > 1
        .if pe_y > 0
            .route {KV0} + ({KV1} - {KV0}) * ((pe_y + 1) % 2), north -> ramp, iq={IQ}
        .endif
        .if pe_y < {P} - 1
            .route {KV0} + ({KV1} - {KV0}) * (pe_y % 2), ramp -> south, oq={OQ}
        .endif
        .if pe_y > 0
            .route {D0} + pe_y % 2, ramp -> north
        .endif
        .if pe_y < {P} - 1
            .route {D0} + (pe_y + 1) % 2, south -> ramp
        .endif
        .if LAST
            .route {MB}, ramp -> south
        .elif FIRST
            .route {MB}, north -> ramp
        .else
            .route {MB}, north -> ramp | south
        .endif
    .endif

    .task step, data, color=CIN
    .task nop, control, id={NOP_ID}
    .if {P} > 1 && !LAST
    .task rstep, data, color=KVIN
    .endif

    .dsd d_pkt_in, fabin, color=CIN, len={G * HD}
    .dsd d_qkv, mem1d, base=qkv, len={G * HD}
    .dsd d_kv, mem1d, base=qkv + {2 * G * HD}, len={2 * HD}
    .if LAST
    .dsd d_kvin, fabin, color=CIN, len={2 * HD}
    .else
    .dsd d_kvin, fabin, color={KV0} + ({KV1} - {KV0}) * ((pe_y + 1) % 2), len={2 * HD}
    .endif
    .if pe_y < {P} - 1
    .dsd d_kvout, fabout, color={KV0} + ({KV1} - {KV0}) * (pe_y % 2), len={2 * HD}
    .dsd d_qchout, fabout, color=KVOUT, len={QCH}
    .dsd d_qch, mem1d, base=qkv, len={QCH}
    .if LAST
    .dsd d_qchin, fabin, color=CIN, len={QCH}
    .else
    .dsd d_qchin, fabin, color=KVIN, len={QCH}
    .endif
    .endif
    .if !LAST
    .dsd d_qin, fabin, color=KVIN, len={G * HD}
    .endif
    .dsd d_vnew, mem1d, base=qkv + {2 * G * HD}, len={HD}
    .dsd d_knew, mem1d, base=qkv + {2 * (G + 1) * HD}, len={HD}
    .dsd d_kcol, mem1d, base=K, len={HD}, stride={S}
    .dsd d_vrow, mem1d, base=V, len={HD}
    .dsd d_krow, mem1d, base=K, len={S}
    .dsd d_sc, mem1d, base=sc, len={S}
    .dsd d_t4, mem4d, base=tmp4, len=[{SC_SMALL}, {HD}], stride=[1, {SC_SMALL}]
    .dsd d_k4, mem4d, base=K, len=[{SC_SMALL}, {HD}], stride=[1, {S}]
    .dsd d_q4, mem4d, base=qkv, len=[{SC_SMALL}, {HD}], stride=[0, 1]
    .dsd d_s4, mem4d, base=sc, len=[{SC_SMALL}, {HD}], stride=[1, 0]
    .dsd d_acc, mem1d, base=mx, len={S}, stride=0
    .dsd d_mx, mem1d, base=mx, len={G}
    .dsd d_M, mem1d, base=Mx, len={G}
    .dsd d_red, mem1d, base=red, len={NRED}
    .dsd d_o, mem1d, base=red, len={HD}
    .if LAST
    .dsd d_out, mem1d, base=out, len={HD}
    .dsd d_outall, mem1d, base=out, len={G * HD}
    .dsd d_gaout, fabout, color={GA} + pe_x % 2, len={G * HD}
    .if pe_x > 0
    .dsd d_fwdout, fabout, color={GA} + pe_x % 2, len=1 + pe_x * {G * HD}
    .dsd d_fwdin, fabin, color={GA} + (pe_x + 1) % 2, len=1 + pe_x * {G * HD}
    .endif
    .endif
    .dsd d_u, mem1d, base=ub, len={S}
    .dsd d_n, mem1d, base=nb, len={S}
    .dsd d_p, mem1d, base=pb, len={S}
    .dsd d_ulo, mem1d, base=ub, len={S}, stride=2
    .dsd d_phi, mem1d, base=pb + 1, len={S}, stride=2
    .dsd d_t16, mem1d, base=t16, len={S}
{odsd}
    .if {P} > 1
        .if pe_y > 0
            .dsd d_mx_out, fabout, color={D0} + pe_y % 2, len={G}
            .dsd d_red_out, fabout, color={D0} + pe_y % 2, len={NRED}
        .endif
        .if pe_y < {P} - 1
            .dsd d_mx_in, fabin, color={D0} + (pe_y + 1) % 2, len={G}
            .dsd d_red_in, fabin, color={D0} + (pe_y + 1) % 2, len={NRED}
        .endif
        .if pe_y < {P} - 1
            .dsd d_mb_out, fabout, color=KVOUT, len={G}
        .endif
        .if !LAST
            .dsd d_mb_in, fabin, color=KVIN, len={G}
            .dsd d_mbc_in, fabin, color={MB}, len={G}
        .else
            .dsd d_mbc_out, fabout, color={MB}, len={G}
        .endif
    .endif

    .if {P} > 1 && !LAST
rstep:
    ; relay mode (pos < BCAST): [pos, v, k, q] come from the PE above on the relay color, only
    ; to the PEs m <= pos, each of which holds one position (slot 0); the owner m == pos is last
    st32 r1, [r0 + posv]
    ldsd a6, d_qin
    addi r10, r0, 1
    mov r5, r0
    mov r14, r0
    addi r2, r0, M
    beq r1, r2, kv_own
    .if pe_y < {P} - 1
    addi r14, r0, 1
    send KVOUT, r1
    .endif
    beq r0, r0, kv_relay
    .endif
step:
    st32 r1, [r0 + posv]
    ldsd a6, d_pkt_in
    mov r14, r0
    .if LAST && {P} > 1
    ; pos < BCAST: the row end turned this switch to RAMP only for the whole packet; relay
    ; [pos, v, k, q] down to the owner m == pos
    addi r2, r0, BCAST
    bge r1, r2, t_bcast
    addi r10, r0, 1
    mov r5, r0
    beq r1, r0, kv_own
    addi r14, r0, 1
    send KVOUT, r1
    beq r0, r0, kv_relay
t_bcast:
    .endif
{ptop}
{pdiv}
    addi r2, r0, M
    addi r10, r5, 1
    blt r2, r6, kv_relay
    beq r6, r2, kv_own
    mov r10, r5
    beq r0, r0, no_pos
kv_own:
    ldsd d0, d_kv
    ldsd a0, d_kvin
    mov32 d0, a0
    ldsd d1, d_kcol
    add r7, r5, r5
    dsdadd d1, r7
    ldsd a1, d_knew
    fmovs d1, a1
    ldsd d1, d_vrow
    addi r4, r0, {2 * HD}
    mul r7, r5, r4
    dsdadd d1, r7
    ldsd a1, d_vnew
    fmovs d1, a1
    beq r0, r0, no_pos
kv_relay:
    .if pe_y < {P} - 1
    ldsd d0, d_kvout
    ldsd a0, d_kvin
    mov32 d0, a0
    .endif
{ptopn}
no_pos:
    .if pe_y < {P} - 1
    bne r14, r0, q_relay
    .endif
    ldsd d0, d_qkv
    mov32 d0, a6
    .if pe_y < {P} - 1
    beq r0, r0, q_done
q_relay:
    ; relay q in chunks of {QCH} (receive a chunk, send it on): the PE below starts after one
    ; chunk instead of after all of q
    ldsd d0, d_qch
    ldsd a0, d_qchin
    ldsd d1, d_qchout
    ldsd a1, d_qch
    addi r11, r0, {G * HD // QCH}
qc_loop:
    mov32 d0, a0
    mov32 d1, a1
    dsdaddi d0, {2 * QCH}
    dsdaddi a1, {2 * QCH}
    addi r11, r11, -1
    bne r11, r0, qc_loop
q_done:
    .endif
    .if !LAST
    ; BCAST <= pos < P - 1: [pos, q] reached every PE, but those below the owner (m > pos) hold
    ; no position (r10 == 0, only there) and take no part in the chains
    beq r10, r0, no_part
    .endif
    mov r13, r0
h_scores:
    addi r4, r0, {2 * S}
    mul r5, r13, r4
    addi r5, r5, sc
    add r6, r13, r13
    addi r6, r6, mx
    li r3, 0xFF800000
    st32 r3, [r6 + 0]
    beq r10, r0, h_scores_next
    ldsd d2, d_sc
    dsdbase d2, r5
    dsdlen d2, r10
    ldsd a2, d_sc
    dsdbase a2, r5
    dsdlen a2, r10
    fmovs d2, r0
    ldsd b1, d_krow
    dsdlen b1, r10
    addi r4, r0, {2 * HD}
    mul r12, r13, r4
    addi r12, r12, qkv
{_scores(HD, S)}
    li r3, {scale}
    fmuls d2, a2, r3
    ldsd d3, d_acc
    dsdbase d3, r6
    dsdlen d3, r10
    ldsd a3, d_acc
    dsdbase a3, r6
    dsdlen a3, r10
    ldsd b2, d_sc
    dsdbase b2, r5
    dsdlen b2, r10
    fmaxs d3, a3, b2
h_scores_next:
    addi r13, r13, 1
    addi r4, r0, {G}
    bne r13, r4, h_scores

    .if {P} == 1
    ldsd d0, d_M
    ldsd a0, d_mx
    fmovs d0, a0
    .else
    ; the PEs m <= pos hold positions; the last of them (m == pos or m == P - 1) starts the
    ; chains, the PEs below it only take the maxima going by
    ld32 r1, [r0 + posv]
    addi r2, r0, M
    .if !FIRST
    bne r1, r2, mx_mid
    .endif
    .if LAST
    ldsd d0, d_M
    ldsd a0, d_mx
    fmovs d0, a0
    .else
    ldsd d0, d_mx_out
    ldsd a0, d_mx
    fmovs d0, a0
    .endif
    .if !FIRST
    beq r0, r0, mx_done
mx_mid:
    .if LAST
    ldsd d0, d_M
    ldsd a0, d_mx_in
    ldsd b0, d_mx
    fmaxs d0, a0, b0
    .else
    ldsd d0, d_mx_out
    ldsd a0, d_mx_in
    ldsd b0, d_mx
    fmaxs d0, a0, b0
    .endif
    .endif
mx_done:
    ; the maxima back down: multicast (MB) when every PE holds positions (pos >= P - 1), else
    ; relayed down to the PEs m < pos
    addi r3, r0, {P - 1}
    .if LAST
    blt r1, r3, mb_relay
    ldsd d0, d_mbc_out
    ldsd a0, d_M
    fmovs d0, a0
    beq r0, r0, mb_done
    .else
    blt r1, r3, mb_relay
    ldsd d0, d_M
    ldsd a0, d_mbc_in
    fmovs d0, a0
    beq r0, r0, mb_done
    .endif
mb_relay:
    .if !LAST
    ldsd d0, d_M
    ldsd a0, d_mb_in
    fmovs d0, a0
    .endif
    .if pe_y < {P} - 1
    bge r2, r1, mb_done
    ldsd d0, d_mb_out
    ldsd a0, d_M
    fmovs d0, a0
    .endif
mb_done:
    .endif

    mov r13, r0
h_soft:
    add r6, r13, r13
    addi r6, r6, red
    st32 r0, [r6 + 0]
    addi r4, r0, {2 * HD}
    mul r7, r13, r4
    addi r7, r7, red + {2 * G}
    ldsd d1, d_o
    dsdbase d1, r7
    fmovs d1, r0
    beq r10, r0, h_soft_next
    addi r4, r0, {2 * S}
    mul r5, r13, r4
    addi r5, r5, sc
    ldsd d4, d_sc
    dsdbase d4, r5
    dsdlen d4, r10
    ldsd a4, d_sc
    dsdbase a4, r5
    dsdlen a4, r10
    ldsd b5, d_sc
    dsdbase b5, r5
    dsdlen b5, r10
    add r8, r13, r13
    ld32 r3, [r8 + Mx]
    fsubs d4, a4, r3
    ldsd d5, d_u
    dsdlen d5, r10
    ldsd a5, d_u
    dsdlen a5, r10
    ldsd d6, d_n
    dsdlen d6, r10
    ldsd b4, d_n
    dsdlen b4, r10
    ldsd d7, d_p
    dsdlen d7, r10
    ldsd a7, d_p
    dsdlen a7, r10
{_VEXP_ARITH}    ldsd d3, d_t16
    dsdlen d3, r10
    ldsd a3, d_ulo
    dsdlen a3, r10
    addi r3, r0, 7
    sll16 d3, a3, r3
    ldsd d2, d_phi
    dsdlen d2, r10
    ldsd a2, d_phi
    dsdlen a2, r10
    ldsd b3, d_t16
    dsdlen b3, r10
    add16 d2, a2, b3
    ldsd d3, d_acc
    dsdbase d3, r6
    dsdlen d3, r10
    ldsd a3, d_acc
    dsdbase a3, r6
    dsdlen a3, r10
    ldsd b2, d_p
    dsdlen b2, r10
    fadds d3, a3, b2
    ldsd d1, d_o
    dsdbase d1, r7
    ldsd a1, d_o
    dsdbase a1, r7
    ldsd b1, d_vrow
    addi r12, r0, pb
    mov r11, r10
slot_loop:
    ld32 r3, [r12 + 0]
    fmacs d1, a1, b1, r3
    dsdaddi b1, {2 * HD}
    addi r12, r12, 2
    addi r11, r11, -1
    bne r11, r0, slot_loop
h_soft_next:
    addi r13, r13, 1
    addi r4, r0, {G}
    bne r13, r4, h_soft

    .if {P} > 1
    ld32 r1, [r0 + posv]
    addi r2, r0, M
    .if !FIRST
    bne r1, r2, red_mid
    .endif
    .if !LAST
    ldsd d0, d_red_out
    ldsd a0, d_red
    fmovs d0, a0
    .endif
    .if !FIRST
    beq r0, r0, red_done
red_mid:
    .if LAST
    ldsd d0, d_red
    ldsd a0, d_red_in
    ldsd b0, d_red
    fadds d0, a0, b0
    .else
    ldsd d0, d_red_out
    ldsd a0, d_red_in
    ldsd b0, d_red
    fadds d0, a0, b0
    .endif
    .endif
red_done:
    .endif

    .if LAST
    mov r13, r0
h_out:
    add r6, r13, r13
    ld32 r2, [r6 + red]
    li r3, 0x7EF311C7
    sub r3, r3, r2
    li r9, 2.0
    addi r11, r0, 4
newton:
    mulf r4, r2, r3
    subf r4, r9, r4
    mulf r3, r3, r4
    addi r11, r11, -1
    bne r11, r0, newton
    addi r4, r0, {2 * HD}
    mul r7, r13, r4
    addi r8, r7, red + {2 * G}
    ldsd a1, d_o
    dsdbase a1, r8
    addi r8, r7, out
    ldsd d1, d_out
    dsdbase d1, r8
    fmuls d1, a1, r3
    addi r13, r13, 1
    addi r4, r0, {G}
    bne r13, r4, h_out
{osend}
    ld32 r2, [r0 + posv]
    send {GA}, r2
    ldsd d0, d_gaout
    ldsd a0, d_outall
    mov32 d0, a0
    .else
    ldsd d0, d_fwdout
    ldsd a0, d_fwdin
    mov32 d0, a0
    ldsd d0, d_gaout
    ldsd a0, d_outall
    mov32 d0, a0
    .endif
    .endif
    exit
no_part:
nop:
    exit

    .data
posv: .zero 1, u32
qkv:  .zero {NQKV}, f32
mx:   .zero {G}, f32
Mx:   .zero {G}, f32
red:  .zero {NRED}, f32
ub:   .zero {S}, f32
nb:   .zero {S}, f32
pb:   .zero {S}, f32
t16:  .zero {S}, u16
sc:   .space {G * S}, f32
tmp4: .space {SC_SMALL * HD}, f32
K:    .space {HD * S}, f32
V:    .space {S * HD}, f32
    .if LAST
out:  .zero {G * HD}, f32
    .export out
    .endif
    .export K, V, Mx, red, posv
.endprogram
"""


# ---------------------------------------------------------------------------------------------
# host side
class FabricProgram:
    """The assembled decode on one emulated fabric: weights written once, then
    :meth:`step` streams ``[pos, embedding row]`` into layer 0 (whose norm_a looks the RoPE row
    of pos up in the table PEs under it) and reads the
    next token id from the last LM row end (the argmax was done on the fabric)."""

    def __init__(self, weights, lay: Layout, *, backend=None):
        from wse.asm import assemble_text
        from wse.emu import Fabric

        self.weights, self.lay, self.config = weights, lay, weights.config
        self.source = generate(lay)
        self.obj = bytes(assemble_text(self.source, filename=f"<decode {self.config.name}>", arch=lay.arch))
        self.fabric = Fabric.from_object(self.obj)
        self._write_weights()
        self._write_rope_table()
        self.cycles = 0

    # -- weights ---------------------------------------------------------------------------------
    def _blocks(self, w: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """(R, C, rows*cols) fp16: block (i, j) of w, column-major."""
        out, inp = w.shape
        R, C = out // rows, inp // cols
        b = w.reshape(R, rows, C, cols).transpose(0, 2, 3, 1)  # (R, C, cols, rows): column-major
        return np.ascontiguousarray(b.reshape(R, C, rows * cols)).astype(np.float16)

    def _write_weights(self) -> None:
        cfg, lay, f = self.config, self.lay, self.fabric
        G, hd = cfg.group_size, cfg.head_dim
        for l, L in enumerate(self.weights.layers):
            x0, y0 = lay.origin(l)
            X = lambda a, n=1: lay.role_x(l, a, n)
            fl = (lambda b: b[:, ::-1]) if lay.mirrored(l) else (lambda b: b)
            f.write("g16", L.attn_norm.astype(np.float16), rect=(X(0), y0, 1, 1))
            parts = []
            for g in range(cfg.n_kv_heads):
                parts += [L.wv[g * hd:(g + 1) * hd], L.wk[g * hd:(g + 1) * hd], L.wq[g * G * hd:(g + 1) * G * hd]]
            wqkv = np.concatenate(parts, axis=0)
            q = lay.qkv
            f.write("W", fl(self._blocks(wqkv, q.rows, q.cols)), rect=(X(lay.x_qkv, q.n_cols), y0, q.n_cols, q.n_rows))
            o = lay.o
            f.write("W", fl(self._blocks(L.wo, o.rows, o.cols)), rect=(X(lay.x_o, o.n_cols), y0, o.n_cols, o.n_rows))
            f.write("g16", L.ffn_norm.astype(np.float16), rect=(X(lay.x_o + o.n_cols - 1), y0, 1, 1))
            gu, fs = lay.gu, lay.fs
            R = gu.n_rows
            wgu = np.concatenate([np.concatenate([L.w_gate[i * fs:(i + 1) * fs], L.w_up[i * fs:(i + 1) * fs]])
                                  for i in range(R)], axis=0)
            # block-row f at band row R - 1 - f (lay.gu_y)
            f.write("W", fl(self._blocks(wgu, gu.rows, gu.cols)[::-1]), rect=(X(lay.x_gu, gu.n_cols), y0, gu.n_cols, R))
            d = lay.down   # block (i, f) at column x_down + i, row R - 1 - f
            bd = self._blocks(L.w_down, d.rows, d.cols).transpose(1, 0, 2)[::-1]
            f.write("W", fl(bd), rect=(X(lay.x_down, d.n_rows), y0, d.n_rows, R))
        f.write("g16", self.weights.out_norm.astype(np.float16), rect=(0, lay.lm_y, 1, 1))
        lm = lay.lm
        f.write("W", self._blocks(self.weights.output_weight, lm.rows, lm.cols),
                rect=(1, lay.lm_y, lm.n_cols, lm.n_rows))

    def _write_rope_table(self) -> None:
        """The rows [cos[p], sin[p]] (the reference's table) into the table PEs, once."""
        from .reference import rope_tables

        rows, T = FL.rope_table_shape(self.lay)
        cos, sin = rope_tables(self.lay.context, self.config.head_dim, self.config.rope_theta)
        tab = np.zeros((T * rows, self.config.head_dim), np.float32)
        tab[:self.lay.context] = np.concatenate([cos, sin], axis=1)
        x0, y0 = self.lay.origin(0)
        self.fabric.write("tab", tab.reshape(T, 1, -1), rect=(x0, y0 + 1, 1, T))

    # -- one step --------------------------------------------------------------------------------
    def step(self, token_id: int, pos: int) -> int:
        emb = self.weights.tok_embd[int(token_id)].astype(np.float32)
        pkt = np.concatenate([np.array([pos], np.uint32), emb.view(np.uint32)])
        f = self.fabric
        c0 = f.cycle
        f.send(FL.C_PKT, 0, 0, "west", pkt)
        f.run()
        self.cycles = f.cycle - c0
        lm = self.lay.lm
        return int(f.read("tok", rect=(lm.n_cols, self.lay.lm_y + lm.n_rows - 1, 1, 1)).reshape(-1)[0])

    def logits(self) -> np.ndarray:
        lm = self.lay.lm
        a = self.fabric.read("acc", rect=(lm.n_cols, self.lay.lm_y, 1, lm.n_rows))
        return np.asarray(a, np.float32).reshape(-1)

    def layer_output(self, l: int) -> np.ndarray:
        """The residual stream after layer l, read from its down end's memory."""
        _, y0 = self.lay.origin(l)
        r = self.fabric.read("res", rect=(self.lay.role_x(l, self.lay.width - 1), y0, 1, 1))
        return np.asarray(r, np.float32).reshape(-1)[1 + self.config.head_dim:]

    def read_role(self, symbol: str, l: int, dx: int, dy: int = 0) -> np.ndarray:
        _, y0 = self.lay.origin(l)
        return np.asarray(self.fabric.read(symbol, rect=(self.lay.role_x(l, dx), y0 + dy, 1, 1))).reshape(-1)
