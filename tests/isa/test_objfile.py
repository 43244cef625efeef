"""The object format: canonical writing, validating reading, corruption never crashes."""
from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, strategies as st

from wse.isa.builder import ImageBuilder
from wse.isa.objfile import (Dsd, Image, Line, ObjectFile, ObjectFormatError, Route, Symbol,
                             Task, read, rects_from_grid, write)


def _image(name="p", n=3, seed=0):
    b = ImageBuilder(name)
    b.alloc("y", "f32", 4 + seed, init=float(seed))
    b.alloc("h", "f16", 3, init=0.5)
    b.label("main")
    for i in range(n):
        b.emit("addi", r1=1, r2=1, imm16=i + seed)
    b.emit("exit")
    b.dsd("mem1d", "y", 4 + seed)
    b.dsd("fabin", length=7, color=3)
    b.task(8, "main", activated=True)
    b.route(3, [(1, 16 | 4)])
    return b.build()


@given(st.lists(st.lists(st.integers(-1, 2), min_size=5, max_size=5), min_size=1, max_size=5))
def test_placement_rectangles_cover_the_grid_exactly(grid):
    rects = rects_from_grid(grid)
    seen = [[-1] * 5 for _ in grid]
    for x, y, w, h, img in rects:
        for yy in range(y, y + h):
            for xx in range(x, x + w):
                assert seen[yy][xx] == -1
                seen[yy][xx] = img
    assert seen == grid
    assert rects == sorted(rects, key=lambda r: (r[1], r[0]))


def test_identical_images_are_stored_once_and_numbered_by_first_appearance():
    a, b = _image("a"), _image("b", seed=1)
    pe = {(x, y): (a if x < 2 else b) for x in range(4) for y in range(3)}
    pe[(3, 0)] = _image("a")  # equal to a, a different object
    obj = ObjectFile.from_pe_images("wse2", 4, 3, pe)
    assert [i.name for i in obj.images] == ["a", "b"]
    assert obj.pe_grid()[0] == [0, 0, 1, 0]
    data = write(obj)
    back = read(data)
    assert write(back) == data
    assert back.pe_grid() == obj.pe_grid()
    assert back.images[0].symbol("y") == Symbol("y", "f32", back.images[0].symbol("y").value, 4)


def test_read_rejects_with_reasons():
    data = write(ObjectFile.from_pe_images("wse3", 2, 2, {(0, 0): _image()}))
    with pytest.raises(ObjectFormatError, match="bad magic"):
        read(b"ELF!" + data[4:])
    with pytest.raises(ObjectFormatError, match="checksum mismatch"):
        read(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ObjectFormatError, match="shorter than the 32-byte header"):
        read(data[:10])
    with pytest.raises(ObjectFormatError, match="version 7 is not supported"):
        read(data[:4] + struct.pack("<H", 7) + data[6:])


def _refresh_crc(buf: bytearray) -> bytes:
    struct.pack_into("<I", buf, 20, len(buf))
    struct.pack_into("<I", buf, 24, zlib.crc32(bytes(buf[32:])))
    return bytes(buf)


def test_semantic_errors_are_caught_after_the_checksum():
    img = _image()
    img.tasks = [Task(8, 0, 999, 255, True, False)]
    data = write(ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): img}))
    with pytest.raises(ObjectFormatError, match="entry 999 is outside the code"):
        read(data)
    img = _image()
    img.code[0] = 0  # opcode 0 is not an instruction
    with pytest.raises(ObjectFormatError, match=r"pc 0: illegal instruction word 0x00000000"):
        read(write(ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): img})))


@given(st.data())
def test_corrupted_files_only_raise_object_format_errors(data):
    pe = {(0, 0): _image(), (1, 0): _image("q", seed=2)}
    good = bytearray(write(ObjectFile.from_pe_images("wse2", 2, 1, pe)))
    n = data.draw(st.integers(1, 8))
    for _ in range(n):
        i = data.draw(st.integers(32, len(good) - 1))
        good[i] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        good = good[: data.draw(st.integers(32, len(good)))]
    blob = _refresh_crc(good)
    try:
        obj = read(blob)
    except ObjectFormatError:
        return
    assert write(obj)  # a file that reads must also write


def test_dsd_names_are_stored_and_read_back():
    """Object format version 3: a DSD record's last u32 names it (a STRTAB offset, 0: none);
    version 2 files, which had no names there, are refused with the advice to re-assemble."""
    b = ImageBuilder("p")
    b.alloc("y", "f32", 4)
    b.label("main")
    b.emit("exit")
    b.dsd("mem1d", "y", 4, name="d_y")
    b.dsd("fabin", length=7, color=3)                  # no name
    b.dsd("fabout", length=7, color=4, name="d_y")     # a name may repeat (a macro's local DSD)
    b.task(8, "main", activated=True)
    data = write(ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): b.build()}))
    assert struct.unpack_from("<H", data, 4)[0] == 3
    back = read(data)
    assert [d.name for d in back.images[0].dsds] == ["d_y", "", "d_y"]
    assert write(back) == data
    # the name is a string of STRTAB ("d_y" once), and the unnamed DSD's field is 0
    strtab_off, strtab_size = struct.unpack_from("<II", data, 32 + 4)
    strtab = data[strtab_off:strtab_off + strtab_size]
    assert strtab.count(b"\0d_y\0") == 1
    v2 = bytearray(data)
    struct.pack_into("<H", v2, 4, 2)
    with pytest.raises(ObjectFormatError, match=r"version 2 is not supported \(this is 3; version 2 had no "
                                                r"DSD names\); re-assemble the source"):
        read(_refresh_crc(v2))


def test_images_that_differ_only_in_dsd_names_are_two_images():
    def img(name):
        b = ImageBuilder("p")
        b.label("main")
        b.emit("exit")
        b.dsd("fabin", length=1, color=3, name=name)
        return b.build()
    obj = ObjectFile.from_pe_images("wse2", 2, 1, {(0, 0): img("a"), (1, 0): img("b")})
    assert [d.name for i in read(write(obj)).images for d in i.dsds] == ["a", "b"]


def test_the_writer_refuses_a_string_with_nul_and_a_reserved_symbol_name():
    """STRTAB's strings end at a NUL, so a name holding one would read back cut: the writer
    refuses it. ImageBuilder refuses a symbol the readers would (a register's name)."""
    from wse.isa.builder import BuildError
    b = ImageBuilder("p")
    b.label("main")
    b.emit("exit")
    b.task(1, "main", activated=True)
    img = b.build()
    img.name = "a\0b"
    with pytest.raises(ValueError, match="cannot contain NUL"):
        ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): img}).to_bytes()
    b = ImageBuilder("p")
    b.alloc("r1", "f32", 2)
    b.label("main")
    b.emit("exit")
    b.task(1, "main", activated=True)
    with pytest.raises(BuildError, match="reserved name"):
        b.build()


def _one(img=None) -> bytes:
    return write(ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): img or _image()}))


def _section_entry(data: bytes, kind: int) -> int:
    """The byte offset of section `kind`'s (kind, offset, size) entry in the section table."""
    for i in range(struct.unpack_from("<I", data, 16)[0]):
        if struct.unpack_from("<I", data, 32 + 12 * i)[0] == kind:
            return 32 + 12 * i
    raise AssertionError(f"no section {kind}")


def test_the_reader_refuses_each_header_and_section_rule_at_its_edge():
    """One well-formed file, changed in one place, with its size and checksum kept right where
    the change is not about them: each rule of docs/object-format.md (*What a reader checks*)
    at the first value past what it allows."""
    good = _one()
    read(good)
    # bytes after the size the header gives (the checksum covers them, the size does not)
    buf = bytearray(good + b"\0" * 4)
    struct.pack_into("<I", buf, 24, zlib.crc32(bytes(buf[32:])))
    with pytest.raises(ObjectFormatError, match=f"header says {len(good)} bytes but the file has {len(good) + 4}"):
        read(bytes(buf))
    # a section that does not start at a multiple of 4
    buf = bytearray(good)
    at = _section_entry(good, 3)                       # PLACEMENT
    off = struct.unpack_from("<I", buf, at + 4)[0]
    struct.pack_into("<I", buf, at + 4, off + 2)
    with pytest.raises(ObjectFormatError, match="section PLACEMENT at .* is misaligned"):
        read(_refresh_crc(buf))
    # IMAGES may end with 3 bytes of padding, not 4
    at = _section_entry(good, 2)
    size = struct.unpack_from("<I", good, at + 8)[0]
    for extra, ok in ((3, True), (4, False)):
        buf = bytearray(good)
        struct.pack_into("<I", buf, at + 8, size + extra)
        if ok:
            read(_refresh_crc(buf))
        else:
            with pytest.raises(ObjectFormatError, match="IMAGES: 4 unexpected bytes at the end"):
                read(_refresh_crc(buf))


def test_the_reader_refuses_each_record_rule_at_its_edge():
    # task ids are 0..63
    img = _image()
    img.tasks = [Task(63, 0, 0, 255, True, False)]
    img.symbols = [s if s.type != "task" else Symbol(s.name, "task", 63, 0) for s in img.symbols]
    read(_one(img))
    img.tasks = [Task(64, 0, 0, 255, True, False)]
    img.symbols = [s if s.type != "task" else Symbol(s.name, "task", 64, 0) for s in img.symbols]
    with pytest.raises(ObjectFormatError, match="task id 64 is out of range"):
        read(_one(img))
    # a 32-bit data symbol lies at an even address
    img = _image()
    y = img.symbol("y")
    img.symbols = [s if s.name != "y" else Symbol("y", "f32", y.value + 1, 1) for s in img.symbols]
    with pytest.raises(ObjectFormatError, match="symbol at .* is outside SRAM or misaligned"):
        read(_one(img))
    # a route's unused switch positions are (0, 0): the first unused one too
    good = _one()
    rec = bytes([3, 1, 3, 3, 1, 20]) + bytes(6)        # color 3, 1 position, iq = oq = 3
    assert good.count(rec) == 1
    at = good.index(rec)
    for k in (6, 7, 11):
        buf = bytearray(good)
        buf[at + k] = 1
        with pytest.raises(ObjectFormatError, match="route for color 3: unused positions must be 0"):
            read(_refresh_crc(buf))
