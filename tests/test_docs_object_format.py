"""docs/object-format.md describes the bytes `wse-as` writes: a reader written from the page
alone (this file's `parse`, which uses no code of the package) decodes real objects to the same
images, placement, symbols, lines and expansions as `wse.isa.objfile.read`. A field moved,
resized or renumbered in the writer without the page fails here."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from wse.asm import assemble_text
from wse.isa import objfile

ROOT = Path(__file__).resolve().parents[1]
DSD_KINDS = {1: "mem1d", 2: "mem4d", 3: "fabin", 4: "fabout"}
SYM_TYPES = {1: "f16", 2: "f32", 3: "u16", 4: "u32", 5: "task"}


def parse(data: bytes) -> dict:
    """The object file as docs/object-format.md lays it out."""
    magic, version, flags, arch, w, h, nsec, size, crc, res = struct.unpack_from("<4sHHB3xHHIIII", data, 0)
    assert (magic, version, flags, res) == (b"WSEO", 3, 0, 0) and data[9:12] == b"\0\0\0"
    assert size == len(data) and crc == zlib.crc32(data[32:])
    secs = [struct.unpack_from("<III", data, 32 + 12 * i) for i in range(nsec)]
    assert [k for k, _, _ in secs] == [1, 2, 3, 4, 5, 6]
    sec = {k: data[off:off + n] for k, off, n in secs}
    assert all(off % 4 == 0 for _, off, _ in secs)
    strtab = sec[1]
    assert len(strtab) % 4 == 0 and strtab[:1] == b"\0"

    def s(off):
        return strtab[off:strtab.index(b"\0", off)].decode()

    images = []
    b = sec[2]
    (count,) = struct.unpack_from("<I", b, 0)
    p = 4
    for _ in range(count):
        (rsize,) = struct.unpack_from("<I", b, p)
        assert rsize % 4 == 0
        r, q = b[p + 4:p + 4 + rsize], 0
        p += 4 + rsize

        def u32():
            nonlocal q
            q += 4
            return struct.unpack_from("<I", r, q - 4)[0]
        img = {"name": s(u32()), "mem_words": u32()}
        n_code = u32()
        img["code"] = list(struct.unpack_from(f"<{n_code}I", r, q))
        q += 4 * n_code
        chunks = []
        for _ in range(u32()):
            addr, n = u32(), u32()
            chunks.append((addr, list(struct.unpack_from(f"<{n}H", r, q))))
            q += 2 * n + 2 * (n % 2)
        img["chunks"] = chunks
        dsds = []
        for _ in range(u32()):
            kind, color, ndim, rsv, base, len0, l1, l2, l3, rsv2, s0, s1, s2, s3, nm = \
                struct.unpack_from("<BBBBIIHHHHhhhhI", r, q)
            assert rsv == rsv2 == 0 and (nm == 0 or strtab[nm - 1] == 0)
            dsds.append((DSD_KINDS[kind], color, ndim, base, (len0, l1, l2, l3), (s0, s1, s2, s3), s(nm)))
            q += 32
        img["dsds"] = dsds
        tasks = []
        for _ in range(u32()):
            tid, kind, color, fl, entry = struct.unpack_from("<BBBBI", r, q)
            tasks.append((tid, kind, color, bool(fl & 1), bool(fl & 2), entry))
            q += 8
        img["tasks"] = tasks
        routes = []
        for _ in range(u32()):
            color, npos, iq, oq = struct.unpack_from("<BBBB", r, q)
            pairs = [tuple(r[q + 4 + 2 * i:q + 6 + 2 * i]) for i in range(4)]
            assert all(pr == (0, 0) for pr in pairs[npos:])
            routes.append((color, tuple(pairs[:npos]), iq, oq))
            q += 12
        img["routes"] = routes
        assert q == len(r), "an image record has bytes left over"
        images.append(img)

    def records(b, fmt):
        (n,) = struct.unpack_from("<I", b, 0)
        step = struct.calcsize(fmt)
        assert len(b) == 4 + n * step
        return [struct.unpack_from(fmt, b, 4 + i * step) for i in range(n)]
    placement = records(sec[3], "<HHHHI")
    symbols = [(s(nm), img, val, cnt, SYM_TYPES[t]) for nm, img, val, cnt, t in records(sec[4], "<IIIIB3x")]
    lines = [(img, pc, s(f), ln, col, e) for img, pc, f, ln, col, e in records(sec[5], "<IIIIII")]
    exps = [(s(m), s(f), ln, col, par, it) for m, f, ln, col, par, it in records(sec[6], "<IIIIII")]
    return {"arch": arch, "size": (w, h), "images": images, "placement": placement,
            "symbols": symbols, "lines": lines, "expansions": exps}


def _chain(exps, k):
    """A LINES record's expansion chain, innermost first, as objfile.Line.via names it."""
    out = []
    while k:
        m, f, ln, col, parent, it = exps[k - 1]          # numbered from 1
        out.append((m if m else f".rep[{it}]", f, ln, col))
        assert parent < k, "a parent is an earlier record"
        k = parent
    return tuple(out)


REP = """
.fabric 2, 1
.program p
    .task main, local, start
    .macro twice, R
        .rep 2
        addi R, R, 1
        .endr
    .endm
main:
    twice r2
    st32 r2, [out]
    exit
    .data
out: .f32 0.0
    .export out
.endprogram
.place p, 0, 0, 2, 1
"""


@pytest.mark.parametrize("src,arch", [("kernels/examples/hello.s", "wse3"), ("kernels/gemv/gemv.s", "wse2"),
                                      (None, "wse2")])
def test_a_reader_written_from_the_page_agrees_with_objfile_read(src, arch):
    if src is None:
        text, name, defines = REP, "rep.s", {}
    else:
        text, name = (ROOT / src).read_text(), src
        defines = {"KX": 3, "KY": 2, "MB": 5, "NB": 4} if "gemv" in src else {}
    data = assemble_text(text, name, defines=defines, arch=arch)
    doc, obj = parse(data), objfile.read(data)
    assert doc["arch"] == {"wse2": 0, "wse3": 1}[obj.arch] and doc["size"] == (obj.width, obj.height)
    assert [tuple(p) for p in doc["placement"]] == [tuple(p) for p in obj.placement]
    assert len(doc["images"]) == len(obj.images)
    for i, (d, img) in enumerate(zip(doc["images"], obj.images)):
        assert (d["name"], d["mem_words"], d["code"]) == (img.name, img.mem_words, img.code)
        assert d["chunks"] == [(a, list(ws)) for a, ws in img.chunks]
        assert all(2 * len(img.code) <= a for a, _ in d["chunks"])
        assert d["dsds"] == [(DSD_KINDS[x.kind] if isinstance(x.kind, int) else x.kind, x.color, x.ndim,
                              x.base, tuple(x.lens), tuple(x.strides), x.name) for x in img.dsds]
        assert d["tasks"] == [(t.id, t.kind, t.color, t.activated, t.blocked, t.entry) for t in img.tasks]
        assert d["routes"] == [(r.color, tuple(tuple(p) for p in r.positions), r.iq, r.oq) for r in img.routes]
        assert sorted((n, v, c, t) for n, im, v, c, t in doc["symbols"] if im == i) == \
            sorted((x.name, x.value, x.count, x.type) for x in img.symbols)
        mine = [(pc, f, ln, col, _chain(doc["expansions"], e)) for im, pc, f, ln, col, e in doc["lines"] if im == i]
        assert mine == [(x.pc, x.file, x.line, x.col, tuple(x.via)) for x in img.lines]
    if src and "gemv" in src:      # the DSDs are named as declared
        assert [x[-1] for x in doc["images"][0]["dsds"]][:3] == ["dy", "da", "dx"], doc["images"][0]["dsds"]
    names = [n for n, im, *_ in doc["symbols"]]
    assert [(im, n.encode()) for n, im, *_ in doc["symbols"]] == sorted((im, n.encode()) for n, im, *_ in doc["symbols"])
    assert names
    if src is None:      # the macro and the .rep's two iterations, each iteration inside the macro
        vias = {x for *_, x in ((pc, f, l, c, _chain(doc["expansions"], e)) for _, pc, f, l, c, e in doc["lines"])}
        assert any(len(v) == 2 and v[0][0] == ".rep[1]" and v[1][0] == "twice" for v in vias)
