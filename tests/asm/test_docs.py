"""The examples in docs/assembly.md assemble (so kernel writers can copy them)."""
from __future__ import annotations

import re
from pathlib import Path

from wse.asm import assemble_text, disassemble
from wse.isa import objfile as of

DOC = Path(__file__).resolve().parents[2] / "docs" / "assembly.md"


def blocks():
    return re.findall(r"```\n(.*?)```", DOC.read_text(), re.S)


def test_worked_example_assembles():
    src = next(b for b in blocks() if ".program sender" in b)
    data = assemble_text(src, "send.s")
    obj = of.read(data)
    assert (obj.width, obj.height) == (2, 1) and len(obj.images) == 2
    recv = obj.image_at(1, 0)
    assert recv.symbol("result").type == "f32"
    assert recv.tasks[0].kind == 1 and recv.tasks[0].color == 3
    assert obj.image_at(0, 0).code[:2] == [0x1F203FC0, 0x1A220000]   # li r2, 1.5
    assert assemble_text(disassemble(data), "d.s") == data


def test_layout_example_assembles():
    src = next(b for b in blocks() if ".program gemv, N, M = 32" in b)
    src = src.replace("        ...                     ; only the West column\n", "        nop\n")
    obj = of.read(assemble_text(src, "g.s"))
    assert obj.width == 64 and len(obj.images) == 64 * 2
