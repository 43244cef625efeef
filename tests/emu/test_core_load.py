"""The core's own object-file reader: rejects malformed files with the reason, never crashes."""
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

from helpers import E, R, W, li, obj_bytes
from wse.emu import Fabric, LoadError, WseError
from wse.isa.builder import ImageBuilder


def sample_object():
    b = ImageBuilder("s")
    b.alloc("x", "f32", 8, init=1.5)
    b.dsd("mem1d", base="x", length=8)
    b.dsd("fabin", length=2, color=3)
    b.label("main")
    li(b, 2, 7)
    b.emit("ldsd", dsr=0, dsdidx=0)
    b.emit("send", color=3, rq=2)
    b.emit("beq", r1=0, r2=0, target="out")
    b.emit("nop")
    b.label("out")
    b.emit("exit")
    b.label("on")
    b.emit("exit")
    b.task(0, "main", activated=True)
    b.task(3, "on", kind="data", color=3)
    b.route(3, [(R, E), (W, R)])
    rx = ImageBuilder("r")
    rx.label("on")
    rx.emit("exit")
    rx.task(3, "on", kind="data", color=3)
    rx.route(3, (W, R))
    return obj_bytes({(0, 0): b.build(), (1, 0): rx.build()}, 2, 1)


DATA = sample_object()


def refix(data: bytearray) -> bytes:
    """Recompute size and checksum so that a mutation reaches the deeper checks."""
    struct.pack_into("<I", data, 20, len(data))
    struct.pack_into("<I", data, 24, zlib.crc32(bytes(data[32:])))
    return bytes(data)


def try_load(data: bytes):
    f = Fabric(2, 1)
    try:
        f.load(data)
    except LoadError as e:
        assert str(e)                    # always a reason
        return None
    try:
        f.run(max_cycles=2000)
    except WseError:
        pass
    return f


def test_valid_object_loads_and_runs():
    f = Fabric.from_object(DATA)
    f.run()
    assert list(f.read("x", rect=(0, 0, 1, 1))[0, 0]) == [1.5] * 8


@pytest.mark.parametrize("mutate,words", [
    (lambda d: d[:20], "shorter than the 32-byte header"),
    (lambda d: b"XXXX" + d[4:], "bad magic"),
    (lambda d: d[:4] + b"\x01\x00" + d[6:], "version 1"),
    (lambda d: d[:4] + b"\x02\x00" + d[6:], "version 2 is not supported (this is 3; version 2 had no "
                                            "DSD names); re-assemble the source"),
    (lambda d: d[:4] + b"\x04\x00" + d[6:], "version 4"),
    (lambda d: d[:-4], "header says"),
    (lambda d: d[:40] + bytes([d[40] ^ 1]) + d[41:], "checksum"),
])
def test_rejects_with_reason(mutate, words):
    with pytest.raises(LoadError) as e:
        Fabric(2, 1).load(mutate(DATA))
    assert words in str(e.value)


def test_rejects_illegal_instruction_and_bad_branch():
    d = bytearray(DATA)
    # find the first instruction word of image 0: after image header (size, name, mem_words, n_code)
    img_off = struct.unpack_from("<I", d, 32 + 12 + 4)[0]
    code_off = img_off + 4 + 4 + 12
    struct.pack_into("<I", d, code_off, 0xFF000000)
    with pytest.raises(LoadError) as e:
        Fabric(2, 1).load(refix(d))
    assert "illegal instruction word 0xff000000" in str(e.value)
    d = bytearray(DATA)
    struct.pack_into("<I", d, code_off + 4 * 5, 0x30000000 | 0x7FFF)    # beq far away
    with pytest.raises(LoadError) as e:
        Fabric(2, 1).load(refix(d))
    assert "branch target" in str(e.value)


def test_rejects_wrong_arch_and_too_small_fabric():
    with pytest.raises(LoadError, match="wse2"):
        Fabric(2, 1, "wse3").load(DATA)
    with pytest.raises(LoadError, match="2x1"):
        Fabric(1, 1).load(DATA)


@given(st.lists(st.tuples(st.integers(0, len(DATA) - 1), st.integers(1, 255)), min_size=1, max_size=6),
       st.booleans())
def test_fuzz_byte_flips(flips, fix):
    d = bytearray(DATA)
    for pos, x in flips:
        d[pos] ^= x
    try_load(refix(d) if fix else bytes(d))


@given(st.integers(0, len(DATA)), st.booleans())
def test_fuzz_truncation(n, fix):
    d = bytearray(DATA[:n])
    if fix and n >= 32:
        try_load(refix(d))
    else:
        try_load(bytes(d))


@given(st.binary(min_size=0, max_size=400))
def test_fuzz_random_bytes_after_header(tail):
    d = bytearray(DATA[:32]) + bytearray(tail)
    if len(d) >= 32:
        try_load(refix(d))
