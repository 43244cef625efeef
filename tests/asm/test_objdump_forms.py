"""Objects that wse-as never writes but a reader might be given (another writer's, or a damaged
file that still passes the checksum): for every object either reader accepts, the two readers
agree (the C loader accepts it too, and puts the same words in SRAM and the same source
positions on each pc), and wse-objdump's listing re-assembles to an equivalent object: the same
`wse.isa.objfile.loaded_form` (what the emulators read), and a second round gives the same
bytes. docs/object-format.md ("Forms wse-as never writes") says, form by form, which ones the
readers refuse and which ones wse-objdump prints back.

The family: real programs, changed in the object model (an ldsd index, a mem4d's lengths, a
task's flags, overlapping or empty data chunks, LINES records that change no position, images
placed nowhere or stored twice, placement rectangles split or reordered, unreferenced STRTAB
bytes), then, in one case out of two, corrupted bytes as tests/fuzz/fuzz_obj.py corrupts them.
The forms the fuzz campaign found are explicit cases below."""
from __future__ import annotations

import dataclasses
import random
import struct
import sys
import warnings
import zlib
from pathlib import Path

import pytest
from hypothesis import event, given, settings, strategies as st

from asm_golden import Spec
from wse.asm import AssemblyWarning, assemble_file, assemble_text, disassemble
from wse.emu import Fabric
from wse.emu.errors import WseError
from wse.isa import load
from wse.isa import objfile as of
from wse.isa.codec import encode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
import fuzz_obj  # noqa: E402

SOURCE = """
.fabric 4, 2
.program a, K = 1
    .route 3, west -> ramp | east, ramp -> east
    .dsd v, mem1d, base=buf, len=4
    .dsd m, mem4d, base=buf, len=[2, 2], stride=[1, 2]
    .dsd f, fabin, color=3, len=2
    .task main, local, start
    .task got, data, color=3
.macro setv, reg, x
    li reg, x
.endm
main:
    .rep 2
        setv r2, 1.5
    .endr
    ldsd d0, v
    ldsd a0, m
    fmovs d0, r2
    .loc
    nop
    exit
got:
    st32 r1, [buf]
    exit
    .data
buf: .f32 0.0, 1.0, 2.0, 3.0
    .org 0x40
more: .u16 7, 8, 9
    .export buf
.endprogram
.program b
    .task main, local, start
main:
    li r3, 2
    exit
.endprogram
.place a, 0, 0, 3, 1
.place a, 0, 1, 2, 1, K = 2
.place b, 3, 0, 1, 2
"""


def _assemble(text: str, name: str = "forms.s") -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        return assemble_text(text, name)


GOOD = _assemble(SOURCE)
# a few golden sources with other shapes (names, DSD kinds, data layouts, lines, layouts)
GOLDEN = ["ok_dsds.s", "ok_dsd_names.s", "ok_data_edges.s", "ok_align_org.s", "ok_fill_zero_space.s",
          "ok_lines.s", "ok_layout_image_name.s", "ok_routes.s", "ok_strings.s", "ok_macro_mem.s"]


def _golden(name: str) -> bytes:
    p = ROOT / "tests" / "asm" / name
    spec = Spec(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        return assemble_file(p, defines=spec.defines, arch=spec.arch, include_dirs=[p.parent])


BASES = [GOOD] + [_golden(n) for n in GOLDEN]


def _ldsd(dsr: int, idx: int) -> int:
    return encode(load().by_mnemonic["ldsd"][0], {"dsr": dsr, "dsdidx": idx})


def _with_strtab_tail(data: bytes, extra: bytes) -> bytes:
    """data with `extra` (a multiple of 4 bytes) appended to STRTAB, which no field names: the
    sections after it move, the header's size and CRC are fixed."""
    assert len(extra) % 4 == 0
    n = struct.unpack_from("<I", data, 16)[0]
    secs = [struct.unpack_from("<III", data, 32 + 12 * i) for i in range(n)]
    _, st_off, st_len = secs[0]
    end = st_off + st_len
    buf = bytearray(data[:end] + extra + data[end:])
    for i, (kind, off, size) in enumerate(secs):
        if i == 0:
            size += len(extra)
        elif off >= end:
            off += len(extra)
        struct.pack_into("<III", buf, 32 + 12 * i, kind, off, size)
    struct.pack_into("<I", buf, 20, len(buf))
    struct.pack_into("<I", buf, 24, zlib.crc32(bytes(buf[32:])))
    return bytes(buf)


def check(blob: bytes) -> str:
    """The property, for one object: "refused" (by both readers), "same bytes" or "equivalent"
    (wse-objdump -> wse-as gave these)."""
    try:
        obj, py_msg = of.read(blob), ""
    except of.ObjectFormatError as e:
        obj, py_msg = None, str(e)
    try:
        fab, c_msg = Fabric.from_object(blob), ""
    except WseError as e:
        fab, c_msg = None, str(e)
    assert (obj is None) == (fab is None), f"Python reader: {py_msg or 'ok'}; C loader: {c_msg or 'ok'}"
    if obj is None:
        assert py_msg and c_msg
        return "refused"
    form = of.loaded_form(obj)
    # the C loader's meaning is the Python reader's: SRAM and source positions, PE by PE
    for (x, y), (_, code, mem_words, mem, *_, pos) in form[3][:6]:
        want = [0] * mem_words
        for pc, w in enumerate(code):
            want[2 * pc], want[2 * pc + 1] = w & 0xFFFF, w >> 16
        for a, w in mem:
            want[a] = w
        assert fab.read_mem(x, y, 0, mem_words).tolist() == want, (x, y)
        for pc in range(min(len(code), 40)):
            p = pos[pc]
            got = fab.source(x, y, pc)
            assert got == (None if p is None else (f"{p[0]}:{p[1]}:{p[2]}",
                                                   [(m, f"{f}:{li}:{co}") for m, f, li, co in p[3]])), (x, y, pc)
    fab.close()
    text = disassemble(blob)
    again = _assemble(text, "objdump.s")
    assert of.loaded_form(of.read(again)) == form, "objdump -> wse-as changed what the emulators read"
    assert _assemble(disassemble(again), "again.s") == again, "the second round is not a fixed point"
    return "same bytes" if again == blob else "equivalent"


def test_the_bases_round_trip_byte_for_byte():
    assert [check(b) for b in BASES] == ["same bytes"] * len(BASES)


# ---- edits of the object model, each drawing what it needs -----------------------------------
def _image_with(draw, obj, pred):
    cands = [i for i, img in enumerate(obj.images) if pred(img)]
    return draw(st.sampled_from(cands)) if cands else None


def e_ldsd(obj, draw):
    i = _image_with(draw, obj, lambda im: im.code)
    if i is None:
        return
    img = obj.images[i]
    n = len(img.dsds)
    idx = draw(st.sampled_from(sorted({max(n - 1, 0), n, n + 1, 0xFFFF})))
    img.code[draw(st.integers(0, len(img.code) - 1))] = _ldsd(draw(st.integers(0, 23)), idx)


def e_mem4d(obj, draw):
    img = obj.images[draw(st.integers(0, len(obj.images) - 1))]
    nd = draw(st.integers(1, 4))
    lens = tuple(draw(st.sampled_from([0, 1, 2, 5])) for _ in range(nd)) + (1,) * (4 - nd)
    d = of.Dsd(of.DSD_MEM4D, 0, 2 * len(img.code), lens, tuple(range(1, nd + 1)) + (0,) * (4 - nd), nd, "q")
    if img.dsds and draw(st.booleans()):
        img.dsds[draw(st.integers(0, len(img.dsds) - 1))] = d
    else:
        img.dsds.append(d)


def e_task_flags(obj, draw):
    i = _image_with(draw, obj, lambda im: im.tasks)
    if i is None:
        return
    img = obj.images[i]
    k = draw(st.integers(0, len(img.tasks) - 1))
    img.tasks[k] = dataclasses.replace(img.tasks[k], activated=draw(st.booleans()), blocked=draw(st.booleans()))


def e_chunk(obj, draw):
    img = obj.images[draw(st.integers(0, len(obj.images) - 1))]
    lo = 2 * len(img.code)
    img.mem_words = max(img.mem_words, min(lo + 24, 24576))
    starts = [a for a, _ in img.chunks] + [lo, img.mem_words]
    addr = min(max(draw(st.sampled_from(starts)) + draw(st.integers(-3, 3)), lo), img.mem_words)
    n = draw(st.integers(0, min(6, img.mem_words - addr)))
    words = [draw(st.sampled_from([0, 1, 0xFFFF, 0x1234])) for _ in range(n)]
    img.chunks.insert(draw(st.integers(0, len(img.chunks))), (addr, words))


def e_lines(obj, draw):
    i = _image_with(draw, obj, lambda im: im.code)
    if i is None:
        return
    img = obj.images[i]
    have = {ln.pc for ln in img.lines}
    free = [pc for pc in range(len(img.code)) if pc not in have]
    how = draw(st.sampled_from(["none", "copy", "clear"]))
    if how == "clear":
        img.lines = []
    elif free:
        pc = draw(st.sampled_from(free))
        prev = [ln for ln in img.lines if ln.pc < pc]
        if how == "copy" and prev:                       # the same position again
            img.lines.append(dataclasses.replace(prev[-1], pc=pc))
        else:                                            # no position (at pc 0, after another)
            img.lines.append(of.Line(pc, "", 0, 0))
        img.lines.sort(key=lambda ln: ln.pc)


def e_unplaced(obj, draw):
    img = obj.images[draw(st.integers(0, len(obj.images) - 1))]
    new = dataclasses.replace(img, code=list(img.code), chunks=list(img.chunks), dsds=list(img.dsds),
                              tasks=list(img.tasks), routes=list(img.routes), symbols=list(img.symbols),
                              lines=list(img.lines))
    if draw(st.booleans()):
        new.name = img.name + "_unplaced"
    obj.images.append(new)


def e_twice(obj, draw):
    if not obj.placement:
        return
    k = draw(st.integers(0, len(obj.placement) - 1))
    x, y, w, h, i = obj.placement[k]
    obj.images.append(dataclasses.replace(obj.images[i]))
    obj.placement[k] = (x, y, w, h, len(obj.images) - 1)


def e_placement(obj, draw):
    pl = list(obj.placement)
    if pl and draw(st.booleans()):
        k = draw(st.integers(0, len(pl) - 1))
        x, y, w, h, i = pl[k]
        if w > 1:                                        # split a rectangle in two
            pl[k:k + 1] = [(x, y, 1, h, i), (x + 1, y, w - 1, h, i)]
    obj.placement = draw(st.permutations(pl))


EDITS = [e_ldsd, e_mem4d, e_task_flags, e_chunk, e_lines, e_unplaced, e_twice, e_placement]


@st.composite
def objects(draw):
    base = draw(st.sampled_from(BASES))
    obj = of.read(base)
    edits = draw(st.lists(st.sampled_from(EDITS), max_size=3))
    for e in edits:
        e(obj, draw)
    blob = of.write(obj)
    if draw(st.integers(0, 3)) == 0:
        blob = _with_strtab_tail(blob, draw(st.sampled_from([b"\0\0\0\0", b"junk", b"\xff\xfe\0\0"])))
    if draw(st.booleans()):                          # tests/fuzz/fuzz_obj.py's corruptions
        blob = fuzz_obj.mutate(random.Random(draw(st.integers(0, 2 ** 32 - 1))), blob, BASES)
    return blob


@settings(max_examples=1000)
@given(objects())
def test_what_either_reader_accepts_both_accept_and_objdump_prints_back(blob):
    event(check(blob))


def test_fuzz_obj_corruptions_of_the_bases():
    """3000 of fuzz_obj.py's corruptions (fixed seeds) of the bases: the same property (2854
    are refused, 93 print back byte for byte, 53 to an equivalent object)."""
    seen = {}
    for n in range(3000):
        rng = random.Random(f"forms:{n}")
        out = check(fuzz_obj.mutate(rng, rng.choice(BASES), BASES))
        seen[out] = seen.get(out, 0) + 1
    assert seen.get("refused", 0) > 2000 and seen.get("same bytes", 0) + seen.get("equivalent", 0) > 50, seen


# ---- the forms the fuzz campaign found, one by one -------------------------------------------
def _edit(fn) -> bytes:
    obj = of.read(GOOD)
    fn(obj.images[0], obj)
    return of.write(obj)


def _set_ldsd(img, obj):
    pc = next(pc for pc, w in enumerate(img.code) if w == _ldsd(0, 0))
    img.code[pc] = _ldsd(0, 3)                       # the table has v, m and f


def _mem4d_zero(img, obj):
    img.dsds[1] = dataclasses.replace(img.dsds[1], lens=(2, 0, 1, 1))


def _data_task_start(img, obj):
    k = next(k for k, t in enumerate(img.tasks) if t.kind == 1)
    img.tasks[k] = dataclasses.replace(img.tasks[k], activated=True)


def _overlap(img, obj):
    a, words = img.chunks[0]
    img.chunks.append((a + 1, [0xAAAA, 0xBBBB]))     # over the second and third words


def _back(img, obj):
    img.chunks.reverse()


def _empty_behind(img, obj):
    img.chunks.append((img.chunks[0][0], []))


def _fileless_first(img, obj):
    img.lines = [of.Line(0, "", 0, 0)] + [ln for ln in img.lines if ln.pc > 0]


def _fileless_twice(img, obj):
    k = next(k for k, ln in enumerate(img.lines) if not ln.file)
    assert img.lines[-1] is img.lines[k] and img.lines[k].pc + 1 < len(img.code)
    img.lines.append(of.Line(img.lines[k].pc + 1, "", 0, 0))


def _same_position_twice(img, obj):
    have = {ln.pc for ln in img.lines}
    ln = img.lines[0]
    img.lines.insert(1, dataclasses.replace(ln, pc=next(pc for pc in range(1, 99) if pc not in have)))
    img.lines.sort(key=lambda ln: ln.pc)


def _unplaced(img, obj):
    obj.images.append(dataclasses.replace(img, name="nowhere"))


def _stored_twice(img, obj):
    obj.images.append(dataclasses.replace(img))
    x, y, w, h, i = obj.placement[0]
    obj.placement[0] = (x, y, w, h, len(obj.images) - 1)


def _placement_reordered(img, obj):
    obj.placement.reverse()


REFUSED = "re-assemble the source with wse-as"


@pytest.mark.parametrize("make, outcome, words", [
    (lambda: _edit(_set_ldsd), "refused",
     "image 0: pc 4: ldsd loads DSD 3, past the image's DSD table (3 entries): wse-as never writes that; " + REFUSED),
    (lambda: _edit(_mem4d_zero), "refused",
     "image 0: DSD 1: dimension 1 of the mem4d has length 0 (only dimension 0 may: wse-as never writes that); "
     + REFUSED),
    (lambda: _edit(_data_task_start), "refused",
     "image 0: task 1: a data task cannot be activated at load (flags bit 0): it runs once per wavelet of its "
     "color, and wse-as refuses `start` on one; " + REFUSED),
    (lambda: _edit(_overlap), "equivalent", "[0, 0xaaaa, 0xbbbb, 0x3f80]"),
    (lambda: _edit(_back), "equivalent", ""),
    (lambda: _edit(_empty_behind), "equivalent", ""),
    (lambda: _edit(_fileless_first), "equivalent", ""),
    (lambda: _edit(_fileless_twice), "equivalent", ""),
    (lambda: _edit(_same_position_twice), "same bytes", ""),
    (lambda: _edit(_unplaced), "equivalent", ""),
    (lambda: _edit(_stored_twice), "equivalent", ""),
    (lambda: _edit(_placement_reordered), "equivalent", ""),
    (lambda: _with_strtab_tail(GOOD, b"junk\0\0\0\0"), "equivalent", ""),
], ids=["ldsd past the table", "mem4d length 0", "data task activated at load", "overlapping chunks",
        "chunks going back", "an empty chunk behind another", "no position at pc 0",
        "no position twice", "the same position twice", "an image placed nowhere",
        "an image stored twice", "placement reordered", "unreferenced STRTAB bytes"])
def test_the_forms_found_by_fuzzing(make, outcome, words):
    blob = make()
    assert check(blob) == outcome
    if outcome == "refused":
        with pytest.raises(of.ObjectFormatError) as py:
            of.read(blob)
        with pytest.raises(WseError) as c:
            Fabric.from_object(blob)
        assert str(py.value) == str(c.value) == words
    elif words:                                       # the SRAM words the chunks leave
        fab = Fabric.from_object(blob)
        buf = of.read(blob).images[0].chunks[0][0]
        got = [int(v) for v in fab.read_mem(0, 0, buf, 4)]
        assert str([hex(v) if v else 0 for v in got]).replace("'", "") == words


def test_objdump_says_when_it_prints_the_words_chunks_leave():
    text = disassemble(_edit(_overlap))
    assert "; 3 data chunks that overlap, go back or are empty: the words they leave in SRAM" in text
    assert "data chunks that overlap" not in disassemble(GOOD)


def test_the_object_format_page_gives_each_refusal_as_the_readers_say_it():
    """docs/object-format.md's table of forms wse-as never writes quotes each load error (I, P,
    N, K, D and T standing for numbers): every message of a refused form above matches one of
    them, and each of them is matched."""
    import re
    doc = (ROOT / "docs" / "object-format.md").read_text()
    table = doc[doc.index("## Forms wse-as never writes"):]
    table = table[:table.index("\n## ")] if "\n## " in table else table
    quoted = [m.group(2) for m in re.finditer(r"refused: (`+) ?(.*?) ?\1 \|", table)]
    pats = [re.compile(re.sub(r"\b[IPNKDT]\b", r"\\d+", re.escape(q))) for q in quoted]
    assert len(pats) == 3, quoted
    msgs = []
    for make in (lambda: _edit(_set_ldsd), lambda: _edit(_mem4d_zero), lambda: _edit(_data_task_start)):
        with pytest.raises(of.ObjectFormatError) as e:
            of.read(make())
        msgs.append(str(e.value))
    assert [[bool(p.fullmatch(m)) for p in pats] for m in msgs] == [[True, False, False], [False, True, False],
                                                                      [False, False, True]], (quoted, msgs)
