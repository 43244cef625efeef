"""Every .s under kernels/ and tests/ (except err_ files) round-trips byte-identically through
wse-objdump. A file that needs layout defines declares them with `;@ define NAME=VALUE` lines
(the same annotation the golden files use); a file that does not assemble fails, with a hint
when it is missing such defines (nothing is skipped: the corpus must not shrink silently)."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from asm_golden import Spec
from wse.asm import AssemblyError, AssemblyWarning, assemble_file, assemble_text, disassemble

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("kernels", "tests") for p in (ROOT / d).rglob("*.s")
               if not p.name.startswith("err_"))


def test_corpus_is_found():
    assert len(FILES) >= 60


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_objdump_round_trip(path):
    spec = Spec(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AssemblyWarning)
            data = assemble_file(path, defines=spec.defines, arch=spec.arch,
                                 include_dirs=[path.parent, ROOT / "kernels" / "lib"])
    except AssemblyError as e:
        missing = [d for d in e.diagnostics if d.message.startswith("unknown symbol")
                   or d.file == str(path) and "define" in d.message.lower()]
        if missing and not spec.defines:
            pytest.fail(f"{path.name} needs layout defines: add `;@ define NAME=VALUE` lines to its "
                        f"header ({missing[0].message})")
        raise
    # the library's kernels assemble without warnings (the golden files' are checked by
    # test_golden against their annotations)
    if path.is_relative_to(ROOT / "kernels"):
        assert not caught, "\n".join(str(w.message) for w in caught)
    text = disassemble(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        again = assemble_text(text, "objdump.s")
    assert again == data, "re-assembling the objdump output gave different bytes"


def test_bare_loc_leaves_the_following_instructions_without_a_position():
    """A bare `.loc` ends the previous position's range with an empty-file LINES record: the
    trap after it is reported without a source line (it was reported at foo.c:10:2, the nop's),
    and wse-objdump prints the bare `.loc` back, byte for byte."""
    import pytest
    from wse.asm import assemble_text, disassemble
    from wse.emu import Fabric, FaultError
    from wse.isa import objfile as of
    src = '    .task main, local, start\nmain:\n    .loc "foo.c", 10, 2\n    nop\n    .loc\n    trap 7\n'
    data = assemble_text(src, "loc.s")
    img = of.read(data).images[0]
    assert [(ln.pc, ln.file, ln.line) for ln in img.lines] == [(0, "foo.c", 10), (1, "", 0)]
    assert of.line_for(img, 0).file == "foo.c" and of.line_for(img, 1) is None
    with pytest.raises(FaultError) as e:
        Fabric.from_object(data).run()
    assert e.value.line is None and "pc 1: trap 7\n" in str(e.value)     # no "at foo.c" on the trap
    assert "pc 0: nop    at foo.c:10:2" in str(e.value)                    # the nop keeps its own
    assert assemble_text(disassemble(data), "rt.s") == data


def test_objdump_prints_the_dsd_names():
    """wse-objdump declares each DSD under the name the object stores and prints `ldsd`
    operands by it; a name the listing cannot declare as is (one that repeats, as a macro's
    local DSD does in each expansion, or none) gets a fresh one with name="..." keeping the
    stored one, and the listing re-assembles to the same bytes."""
    from wse.asm import assemble_text, disassemble
    src = (ROOT / "tests" / "asm" / "ok_dsd_names.s").read_text()
    data = assemble_text(src, "names.s")
    text = disassemble(data)
    for line in ("    .dsd d_in, fabin, color=3, len=4", "    .dsd d_lo, mem1d, base=0x4, len=2, stride=1",
                 "    .dsd tmp, fabin, color=3, len=2", '    .dsd tmp_1, fabin, color=3, len=2, name="tmp"',
                 '    .dsd dsd_5, fabout, color=4, len=1, name=""', "    .dsd d_out, fabout, color=5, len=1"):
        assert line + "\n" in text, (line, text)
    assert "    ldsd d0, d_lo " in text
    assert assemble_text(text, "dis.s") == data


NAMES = ["", "a", "a_1", "p", "buf", "main", "r1", "d0", "dsd_0", "dsd_1", "tmp", "tmp_1", "pe_x", "end"]


@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6))
def test_any_dsd_names_survive_objdump(names):
    """Whatever (valid) names an object gives its DSDs (repeated, empty, reserved words, the
    names of its symbols and tasks, or the fresh names wse-objdump makes up), the listing
    re-assembles to the same bytes, and its second round is a fixed point."""
    from wse.isa import objfile as of
    from wse.isa.builder import ImageBuilder
    b = ImageBuilder("p")
    b.alloc("buf", "f32", 4)
    b.label("main")
    for k in range(len(names)):
        b.emit("ldsd", dsr=k % 24, dsdidx=k)
    b.emit("exit")
    for nm in names:
        b.dsd("mem1d", "buf", 4, name=nm)
    b.task(3, "main", activated=True)
    data = of.ObjectFile.from_pe_images("wse2", 1, 1, {(0, 0): b.build()}).to_bytes()
    text = disassemble(data)
    again = assemble_text(text, "dis.s")
    assert [d.name for d in of.read(again).images[0].dsds] == names
    assert again == data
    assert disassemble(again) == text
