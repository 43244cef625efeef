"""The two readers of the object format agree: the C core's loader (csrc/wse_load.c) and
wse.isa.objfile.read accept and reject exactly the same files."""
from __future__ import annotations

import struct
import zlib

from hypothesis import given, strategies as st

from wse.asm import assemble_text
from wse.emu import Fabric
from wse.emu.errors import WseError
from wse.isa.objfile import ObjectFormatError, read

SOURCE = """
.fabric 3, 2
.program a, K = 1
    .route 3, west -> ramp | east, ramp -> east
    .dsd v, mem1d, base=buf, len=4
    .dsd f, fabin, color=3, len=2
    .task main, local, start
    .task got, data, color=3
main:
    li r2, 1.5
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
