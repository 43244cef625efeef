"""The two readers of the object format agree: the C core's loader (csrc/wse_load.c) and
wse.isa.objfile.read accept and reject exactly the same files."""
from __future__ import annotations

import re
import struct
import warnings
import zlib

from hypothesis import given, strategies as st

from wse.asm import assemble_text
from wse.emu import Fabric
from wse.emu.errors import WseError
from wse.isa.objfile import ObjectFormatError, read, reserved_names

SOURCE = """
.fabric 3, 2
.program a, K = 1
    .route 3, west -> ramp | east, ramp -> east
    .dsd v, mem1d, base=buf, len=4
    .dsd f, fabin, color=3, len=2
    .task main, local, start
    .task got, data, color=3
.macro setv, reg, x
    li reg, x
.endm
.macro both, x
    setv r2, x
    setv r3, x
.endm
main:
    .rep 2
        both 1.5
    .endr
    ldsd d0, v
    fmovs d0, r2
    exit
got:
    st32 r1, [buf]
    exit
    .data
buf: .f32 0.0, 1.0, 2.0, 3.0
    .export buf
.endprogram
.place a, 0, 0, 3, 1
.place a, 0, 1, 2, 1, K = 2
"""
with warnings.catch_warnings():    # (PE (2,1) is left empty on purpose; its West neighbour's
    warnings.simplefilter("ignore")  # route points at it, which wse-as warns of)
    GOOD = assemble_text(SOURCE, "agree.s")


def _fix(buf: bytearray) -> bytes:
    """Keep the size and checksum right so the structural checks are what is exercised."""
    struct.pack_into("<I", buf, 20, len(buf))
    struct.pack_into("<I", buf, 24, zlib.crc32(bytes(buf[32:])))
    return bytes(buf)


def _c_accepts(data: bytes) -> tuple[bool, str]:
    try:
        Fabric.from_object(data)
        return True, ""
    except WseError as e:
        return False, str(e)


def _py_accepts(data: bytes) -> tuple[bool, str]:
    try:
        read(data)
        return True, ""
    except ObjectFormatError as e:
        return False, str(e)


def test_the_good_file_loads_in_both():
    assert _c_accepts(GOOD)[0] and _py_accepts(GOOD)[0]


@given(st.data())
def test_corrupted_files_get_the_same_verdict(data):
    buf = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.sampled_from([0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, buf[i] ^ 1]))
    if data.draw(st.integers(0, 9)) == 0:
        buf = buf[: data.draw(st.integers(0, len(buf)))]
    blob = _fix(buf) if len(buf) >= 32 and data.draw(st.booleans()) else bytes(buf)
    c_ok, c_msg = _c_accepts(blob)
    p_ok, p_msg = _py_accepts(blob)
    assert c_ok == p_ok, f"C loader: {c_ok} {c_msg!r}; Python reader: {p_ok} {p_msg!r}"


def _edit(fn) -> bytes:
    """GOOD read, changed by fn(obj), written back (a well-formed file with one bad field)."""
    import dataclasses
    from wse.isa.objfile import write
    obj = read(GOOD)
    fn(obj, dataclasses)
    return write(obj)


def _bad_unused_len(obj, dc):
    img = obj.images[0]
    d = img.dsds[0]
    img.dsds[0] = dc.replace(d, lens=(d.lens[0], 1, 5, 1))


def _bad_fab_stride(obj, dc):
    img = obj.images[0]
    i = next(k for k, d in enumerate(img.dsds) if d.kind == 3)
    img.dsds[i] = dc.replace(img.dsds[i], strides=(2, 0, 0, 0))


def _bad_local_color(obj, dc):
    img = obj.images[0]
    i = next(k for k, t in enumerate(img.tasks) if t.kind == 0)
    img.tasks[i] = dc.replace(img.tasks[i], color=100)


def _bad_task_count(obj, dc):
    img = obj.images[0]
    i = next(k for k, s in enumerate(img.symbols) if s.type == "task")
    img.symbols[i] = dc.replace(img.symbols[i], count=3)


def _bad_name(obj, dc):
    img = obj.images[0]
    i = next(k for k, s in enumerate(img.symbols) if s.name == "buf")
    img.symbols[i] = dc.replace(img.symbols[i], name="8uf")


import pytest  # noqa: E402


@pytest.mark.parametrize("edit, words", [
    (_bad_unused_len, "unused fields must be 0"),
    (_bad_fab_stride, "unused fields must be 0"),
    (_bad_local_color, "bad kind/color/flags"),
    (_bad_task_count, "must be 0"),
    (_bad_name, "not an identifier"),
])
def test_fields_with_fixed_values_are_checked_by_both(edit, words):
    """Fields docs/object-format.md fixes (unused DSD lengths 1 and strides 0, a fabric DSD's
    base and stride 0, a memory DSD's color 0, a non-data task's color 255, a task symbol's
    count 0) and symbol names wse-objdump could not print back as source are refused by both
    readers (an adversarial pass found files both accepted whose listing re-assembled to other
    bytes or not at all)."""
    data = _edit(edit)
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert not c_ok and not p_ok and words in c_msg and words in p_msg, (c_msg, p_msg)


def _section(buf, kind):
    for i in range(struct.unpack_from("<I", buf, 16)[0]):
        k, off, size = struct.unpack_from("<III", buf, 32 + 12 * i)
        if k == kind:
            return off, size
    raise KeyError(kind)


def _dup_symbol(obj, dc):
    img = obj.images[0]
    s = next(s for s in img.symbols if s.name == "buf")
    img.symbols.append(dc.replace(s, value=s.value + 2, count=1))


def _fileless_line(obj, dc):
    img = obj.images[0]
    img.lines[0] = dc.replace(img.lines[0], file="", line=3, col=1)


def _raw_unsorted_symbols() -> bytes:
    buf = bytearray(GOOD)
    off, size = _section(buf, 4)
    n = struct.unpack_from("<I", buf, off)[0]
    assert n >= 2
    a, b = bytes(buf[off + 4:off + 24]), bytes(buf[off + 24:off + 44])
    buf[off + 4:off + 24], buf[off + 24:off + 44] = b, a
    return _fix(buf)


def _raw_overlapping_placement() -> bytes:
    buf = bytearray(GOOD)
    off, size = _section(buf, 3)
    assert struct.unpack_from("<I", buf, off)[0] >= 2
    x, y, w, h, img = struct.unpack_from("<HHHHI", buf, off + 4)
    struct.pack_into("<HHHHI", buf, off + 16, x, y, w, h, img)       # the second = the first
    return _fix(buf)


def _raw_expansion(field: int, value, record: int = 1) -> bytes:
    """GOOD with field `field` (0 macro, 1 file, 2 line, 3 column, 4 parent, 5 iteration) of
    EXPANSIONS record `record` (1-based; record 1 is the outermost `.rep` iteration, 2 the
    `both` macro inside it) set to value (an int, or a field number to copy)."""
    buf = bytearray(GOOD)
    off, size = _section(buf, 6)
    assert struct.unpack_from("<I", buf, off)[0] >= 3
    at = off + 4 + 24 * (record - 1)
    if isinstance(value, str):
        value = struct.unpack_from("<I", buf, at + 4 * int(value))[0]
    struct.pack_into("<I", buf, at + 4 * field, value)
    return _fix(buf)


def _raw_line_via(value: int) -> bytes:
    """GOOD with the expansion of its first LINES record that has one set to value."""
    buf = bytearray(GOOD)
    off, size = _section(buf, 5)
    for k in range(struct.unpack_from("<I", buf, off)[0]):
        at = off + 4 + 24 * k + 20
        if struct.unpack_from("<I", buf, at)[0]:
            struct.pack_into("<I", buf, at, value)
            return _fix(buf)
    raise AssertionError("no LINES record in a macro expansion")


def test_the_good_file_has_nested_expansions():
    obj = read(GOOD)
    vias = {ln.via for img in obj.images for ln in img.lines if ln.via}
    assert (("setv", "agree.s", 13, 5), ("both", "agree.s", 18, 9), (".rep[1]", "agree.s", 17, 5)) in vias, vias


@pytest.mark.parametrize("make, words", [
    (lambda: _raw_expansion(4, 1, record=1), "not an earlier record"),
    (lambda: _raw_expansion(4, 3, record=2), "not an earlier record"),
    (lambda: _raw_expansion(1, 0), "has no file"),
    (lambda: _raw_expansion(0, "1", record=2), "not an identifier"),
    (lambda: _raw_expansion(5, 1, record=2), "has iteration 1, not 0"),
    (lambda: _raw_expansion(0, 1 << 20), "outside STRTAB"),
    (lambda: _raw_line_via(99), "expansion 99 does not exist"),
])
def test_expansion_records_are_checked_by_both(make, words):
    """EXPANSIONS (object format version 2): a record's parent is an earlier record (so a chain
    ends), it names a macro (an identifier; "" for a .rep iteration, the only kind with an
    iteration number) and a file, and a LINES record names an existing one; both readers refuse
    the same files with the same reason."""
    data = make()
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert not c_ok and not p_ok, (c_msg, p_msg)
    if "STRTAB" not in words:
        assert words in c_msg and words in p_msg, (c_msg, p_msg)


@pytest.mark.parametrize("make, words", [
    (lambda: _edit(_dup_symbol), "a name repeats in an image"),
    (_raw_unsorted_symbols, "not sorted by (image, name)"),
    (lambda: _edit(_fileless_line), "a record with no file has line and column 0"),
    (_raw_overlapping_placement, "PLACEMENT"),
])
def test_rules_an_audit_found_unchecked(make, words):
    """From an audit of docs/object-format.md with an independent reader: symbols must be in
    (image, name) order with no name twice in an image (both readers took any order and
    duplicates), a LINES record with no file has line and column 0, and a bad PLACEMENT is
    reported as such by the C loader (it reported leftover SYMBOLS bytes instead)."""
    data = make()
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert not c_ok and not p_ok and words in c_msg and words in p_msg, (c_msg, p_msg)


# =============================================================================================
# DSD names (object format version 3): the last u32 of a DSD record is 0 or the STRTAB offset
# of the start of a string that is an identifier
def _strtab(buf) -> bytes:
    off, size = _section(buf, 1)
    return bytes(buf[off:off + size])


def _dsd_name_fields(buf) -> list[int]:
    """The file offsets of the name fields of image 0's DSD records."""
    off, _ = _section(buf, 2)
    p = off + 4 + 4                               # image count, the record's size
    p += 8                                        # name, mem_words
    n_code = struct.unpack_from("<I", buf, p)[0]
    p += 4 + 4 * n_code
    n_chunks = struct.unpack_from("<I", buf, p)[0]
    p += 4
    for _ in range(n_chunks):
        n = struct.unpack_from("<I", buf, p + 4)[0]
        p += 8 + 2 * n + 2 * (n % 2)
    n_dsd = struct.unpack_from("<I", buf, p)[0]
    return [p + 4 + 32 * k + 28 for k in range(n_dsd)]


def _raw_dsd_name(value: int, k: int = 0) -> bytes:
    buf = bytearray(GOOD)
    struct.pack_into("<I", buf, _dsd_name_fields(buf)[k], value)
    return _fix(buf)


def test_the_good_file_names_its_dsds():
    buf = bytearray(GOOD)
    st = _strtab(buf)
    offs = [struct.unpack_from("<I", buf, at)[0] for at in _dsd_name_fields(buf)]
    assert [st[o:st.index(b"\0", o)] for o in offs] == [b"v", b"f"]
    assert [d.name for d in read(GOOD).images[0].dsds] == ["v", "f"]


def _offset_of(s: bytes) -> int:
    return _strtab(GOOD).index(b"\0" + s + b"\0") + 1


@pytest.mark.parametrize("make, words", [
    (lambda: _raw_dsd_name(_offset_of(b"agree.s") + 1), "is not the start of a string"),  # "gree.s"
    (lambda: _raw_dsd_name(_offset_of(b"agree.s")), "is not an identifier"),
    (lambda: _raw_dsd_name(len(_strtab(GOOD))), "is not the start of a string"),
    (lambda: _raw_dsd_name(1 << 31), "is not the start of a string"),
])
def test_bad_dsd_names_are_refused_by_both(make, words):
    """A DSD's name must start a string of STRTAB (not point into one, nor past it) and be an
    identifier (wse-objdump prints it back as `.dsd NAME` or `name="NAME"`)."""
    data = make()
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert not c_ok and not p_ok and words in c_msg and words in p_msg, (c_msg, p_msg)
    assert "DSD 0" in c_msg and "DSD 0" in p_msg


def test_a_dsd_may_share_another_strings_name_or_have_none():
    data = _raw_dsd_name(_offset_of(b"buf"), k=1)
    assert _c_accepts(data) == (True, "") and [d.name for d in read(data).images[0].dsds] == ["v", "buf"]
    data = _raw_dsd_name(0)
    assert _c_accepts(data) == (True, "") and [d.name for d in read(data).images[0].dsds] == ["", "f"]


@given(st.one_of(st.integers(0, len(_strtab(GOOD)) + 4), st.integers(0, (1 << 32) - 1)))
def test_every_name_offset_gets_the_same_verdict(off):
    """Both readers agree on every name offset, and accept exactly 0 and the starts of the
    strings that are identifiers."""
    data = _raw_dsd_name(off)
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert c_ok == p_ok, (off, c_msg, p_msg)
    st_ = _strtab(GOOD)
    starts = {0} | {i + 1 for i, b in enumerate(st_[:-1]) if b == 0}
    ident = off in starts and off and re.fullmatch(rb"[A-Za-z_][A-Za-z0-9_]*", st_[off:st_.index(b"\0", off)])
    assert p_ok == (off == 0 or bool(ident)), (off, p_msg)


def _raw_file_name(raw: bytes) -> bytes:
    """GOOD with the first bytes of its source file's name ("agree.s", in LINES and EXPANSIONS)
    replaced by raw (no NUL; at most 7 bytes, the name's length)."""
    buf = bytearray(GOOD)
    off, _ = _section(buf, 1)
    at = off + _offset_of(b"agree.s")
    buf[at:at + len(raw)] = raw
    return _fix(buf)


UTF8_EDGES = [b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xed\x9f\xbf", b"\xf4\x8f\xbf\xbf", b"\xe0\xa0\x80",
              b"\xef\xbf\xbf", b"\xc1\x81", b"\xc0\x80", b"\xe0\x80\x81", b"\xf0\x80\x80\x81", b"\xed\xa0\x80",
              b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\x80", b"\xc3", b"\xe2\x82"]


@given(st.one_of(st.sampled_from(UTF8_EDGES),
                 st.binary(min_size=1, max_size=7).filter(lambda b: b"\0" not in b)))
def test_strings_are_utf8_to_both_readers_alike(raw):
    """A string of STRTAB is strict UTF-8 to both readers: the C loader took overlong forms
    (C0 80), surrogates (ED A0 80) and code points past U+10FFFF (F4 90 80 80), which Python's
    decoder refuses (found by fuzzing objects)."""
    data = _raw_file_name(raw)
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    assert c_ok == p_ok == utf8, (raw, c_msg, p_msg)
    if not utf8:
        assert "is not UTF-8" in c_msg and "is not UTF-8" in p_msg, (c_msg, p_msg)


# =============================================================================================
# Symbol names: an identifier the assembler can define (not a register, DSR, microthread or
# built-in: wse-objdump prints `NAME = value` / `.task NAME`), and every task has a task symbol
def _renamed(old: str, new: str) -> bytes:
    def fn(obj, dc):
        img = obj.images[0]
        i = next(k for k, s in enumerate(img.symbols) if s.name == old)
        img.symbols[i] = dc.replace(img.symbols[i], name=new)
    return _edit(fn)


def test_the_good_file_has_a_data_and_two_task_symbols():
    syms = read(GOOD).images[0].symbols
    assert [(s.name, s.type) for s in syms] == [("buf", "f32"), ("got", "task"), ("main", "task")]


@pytest.mark.parametrize("name", sorted(reserved_names()))
@pytest.mark.parametrize("old", ["buf", "main"])
def test_reserved_symbol_names_are_refused_by_both(name, old):
    """Every reserved name (the C loader's table is generated from the same set), for a data
    symbol and a task's: both readers refuse it with the same message."""
    data = _renamed(old, name)
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert not c_ok and not p_ok, (c_msg, p_msg)
    assert p_msg == (f"SYMBOLS: the name '{name}' is reserved (a register, microthread or built-in): "
                     f"the assembler cannot define it")
    assert p_msg in c_msg, (c_msg, p_msg)


NEAR_RESERVED = ["r16", "d8", "a8", "b8", "ut8", "R1", "r1_", "_r1", "zero_", "lr0", "pe_z", "Inf",
                 "nan_", "add", "ldsd", "exit", "task", "start", "mem1d", "ramp", "f32", "export"]


@given(st.one_of(st.sampled_from(sorted(reserved_names()) + NEAR_RESERVED),
                 st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)))
def test_symbol_names_get_the_same_verdict(name):
    """Both readers accept exactly the identifiers that are not reserved as symbol names."""
    data = _renamed("buf", name) if name not in ("got", "main") else _renamed("buf", name + "_")
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert c_ok == p_ok, (name, c_msg, p_msg)
    assert p_ok == (name not in reserved_names()), (name, p_msg)


def _drop_task_symbol(obj, dc):
    img = obj.images[0]
    img.symbols = [s for s in img.symbols if s.name != "got"]


def _task_symbol_elsewhere(obj, dc):
    img = obj.images[0]
    i = next(k for k, s in enumerate(img.symbols) if s.name == "got")
    img.symbols[i] = dc.replace(img.symbols[i], value=40)      # names no task of the image


def test_a_task_without_a_task_symbol_is_refused_by_both():
    """wse-as names every task (a typed `.export` of a task's name is an error), and
    wse-objdump declares a task under its task symbol: both readers refuse a task none names."""
    got = next(t.id for t in read(GOOD).images[0].tasks if t.kind == 1)
    for fn in (_drop_task_symbol, _task_symbol_elsewhere):
        data = _edit(fn)
        c_ok, c_msg = _c_accepts(data)
        p_ok, p_msg = _py_accepts(data)
        assert not c_ok and not p_ok, (c_msg, p_msg)
        assert p_msg == f"SYMBOLS: image 0: task {got} has no task symbol (wse-as names every task)"
        assert p_msg in c_msg, (c_msg, p_msg)


def test_a_second_task_symbol_or_one_naming_no_task_is_accepted():
    """A task may have more names than one, and a task symbol may name an id with no task
    (`.export NAME, task, 0` of a constant): both load."""
    def fn(obj, dc):
        img = obj.images[0]
        img.symbols += [dc.replace(img.symbols[1], name="alias"), dc.replace(img.symbols[1], name="zz", value=40)]
    data = _edit(fn)
    assert _c_accepts(data) == (True, "") and _py_accepts(data) == (True, "")


# =============================================================================================
# Limits at their exact value: the last word (or pc) inside is accepted, the first outside is
# refused, by both readers (an off-by-one in either check of the C loader lets a file through
# whose data or symbol overruns the image or SRAM, or whose jump leaves the code: core_mutants.py
# loader_chunk_past_mem_words, loader_jump_to_code_end, loader_symbol_one_word_past_sram)
SRAM_WORDS = 24576                      # wse2


def _chunk_words(extra: int):
    def fn(obj, dc):
        img = obj.images[0]
        addr, words = img.chunks[-1]
        assert addr + len(words) == img.mem_words       # GOOD's data ends at mem_words
        img.chunks[-1] = (addr, list(words) + [0] * extra)
    return fn


def _jump_to(delta: int):
    """main's `exit` (its last instruction before got) becomes `jmp n_code + delta`."""
    from wse.isa import codec, load
    jmp = next(i for i in load().insns if i.mnemonic == "jmp")

    def fn(obj, dc):
        img = obj.images[0]
        got = next(t.entry for t in img.tasks if t.kind == 1)
        img.code[got - 1] = codec.encode(jmp, {"tgt24": len(img.code) + delta})
    return fn


def _u16_symbol_ending_at(end: int):
    def fn(obj, dc):
        img = obj.images[0]
        i = next(k for k, s in enumerate(img.symbols) if s.name == "buf")
        img.symbols[i] = dc.replace(img.symbols[i], type="u16", value=end - 4, count=4)
    return fn


@pytest.mark.parametrize("edit, ok, words", [
    (_chunk_words(0), True, ""),
    (_chunk_words(1), False, "data chunk"),
    (_jump_to(-1), True, ""),
    (_jump_to(0), False, "jump target"),
    (_u16_symbol_ending_at(SRAM_WORDS), True, ""),
    (_u16_symbol_ending_at(SRAM_WORDS + 1), False, "outside SRAM"),
], ids=["chunk-at-mem_words", "chunk-past", "jmp-last-pc", "jmp-n_code", "symbol-at-end", "symbol-past"])
def test_limits_are_exact_in_both(edit, ok, words):
    data = _edit(edit)
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert c_ok == p_ok == ok, (c_msg, p_msg)
    assert words in c_msg, c_msg


# =============================================================================================
# Forms wse-as never writes that wse-objdump could not print back (found by fuzzing objects):
# both readers refuse them at load, with the same message saying what to do
def _ldsd_index(idx: int):
    def fn(obj, dc):
        from wse.isa import load
        from wse.isa.codec import decode
        img = obj.images[0]
        pc = next(i for i, w in enumerate(img.code) if "dsdidx" in decode(w, load()).values)
        img.code[pc] = (img.code[pc] & ~0xFFFF) | idx
    return fn


def _mem4d_lens(lens):
    def fn(obj, dc):
        img = obj.images[0]
        nd = len(lens)
        img.dsds[0] = dc.replace(img.dsds[0], kind=2, ndim=nd, lens=tuple(lens) + (1,) * (4 - nd),
                                 strides=(1,) * nd + (0,) * (4 - nd))
    return fn


def _data_task_flags(activated: bool, blocked: bool):
    def fn(obj, dc):
        img = obj.images[0]
        i = next(k for k, t in enumerate(img.tasks) if t.kind == 1)
        img.tasks[i] = dc.replace(img.tasks[i], activated=activated, blocked=blocked)
    return fn


REASSEMBLE = "re-assemble the source with wse-as"


@pytest.mark.parametrize("edit, ok, words", [
    (_ldsd_index(1), True, ""),                      # the table has two DSDs, v and f
    (_ldsd_index(2), False, "image 0: pc 8: ldsd loads DSD 2, past the image's DSD table (2 entries)"),
    (_ldsd_index(0xFFFF), False, "ldsd loads DSD 65535, past the image's DSD table (2 entries)"),
    (_mem4d_lens([4, 3, 2, 1]), True, ""),
    (_mem4d_lens([0, 3]), True, ""),                  # dimension 0 may be 0 (wse-as writes len=[0, 3])
    (_mem4d_lens([4, 0]), False, "image 0: DSD 0: dimension 1 of the mem4d has length 0"),
    (_mem4d_lens([4, 1, 0]), False, "DSD 0: dimension 2 of the mem4d has length 0"),
    (_mem4d_lens([4, 2, 3, 0]), False, "DSD 0: dimension 3 of the mem4d has length 0"),
    (_mem4d_lens([4, 0, 0, 0]), False, "DSD 0: dimension 1 of the mem4d has length 0"),
    (_data_task_flags(False, True), True, ""),        # a blocked data task: `.task got, data, ..., blocked`
    (_data_task_flags(True, False), False, "a data task cannot be activated at load (flags bit 0)"),
    (_data_task_flags(True, True), False, "a data task cannot be activated at load (flags bit 0)"),
])
def test_forms_wse_as_never_writes_are_refused_by_both(edit, ok, words):
    """An ldsd past the image's DSD table (it faulted when it ran, and nothing could make it
    valid: the table is fixed at load), a mem4d with length 0 in dimension 1..3 (its operand was
    empty whatever dsdlen set) and a data task activated at load (the run could only end in a
    hang unless a wavelet came): wse-as refuses all three, so wse-objdump's listing of such an
    object did not re-assemble. Both readers refuse them, with the same message."""
    data = _edit(edit)
    c_ok, c_msg = _c_accepts(data)
    p_ok, p_msg = _py_accepts(data)
    assert c_ok == p_ok == ok, (c_msg, p_msg)
    if not ok:
        assert c_msg == p_msg and words in p_msg and p_msg.endswith(REASSEMBLE), (c_msg, p_msg)
