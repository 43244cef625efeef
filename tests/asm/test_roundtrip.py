"""Every .s under kernels/ and tests/ (except err_ files) round-trips byte-identically through
wse-objdump. A file that needs layout defines declares them with `;@ define NAME=VALUE` lines
(the same annotation the golden files use); a file that does not assemble fails, with a hint
when it is missing such defines (nothing is skipped: the corpus must not shrink silently)."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import event, given, strategies as st

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


# Every kind of name the object format stores, awkward ones included: image names, symbols,
# tasks' names (task symbols), DSD names, source files in LINES and EXPANSIONS, macro names.
# A name the assembler can write, wse-objdump prints back so that it re-assembles to the same
# bytes; a symbol named like a register or built-in (the assembler cannot define one) is
# refused by both readers with the same message.
AWKWARD = ["a", "p", "q", "main", "buf", "add", "ldsd", "exit", "nop", "li", "task", "start", "local",
           "data", "color", "entry", "id", "name", "mem1d", "fabin", "ramp", "f32", "u16", "export",
           "program", "image_0", "image_1", "task_1", "task_2", "dsd_0", "dsd_1", "hi16", "taskid",
           "ut8", "r16", "p_1", "L0"]
RESERVED_SAMPLE = ["r1", "d0", "a3", "b7", "lr", "zero", "ut0", "pe_x", "fabric_h", "inf", "nan"]
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=6)
FILE = st.one_of(st.sampled_from(["k.s", "a b.s", 'q"', "\\", "x\ny", ";", "\x85", "\u2028"]),
                 TEXT.filter(bool))
U32 = st.integers(0, 0xFFFFFFFF)


@st.composite
def _image(draw):
    from wse.isa import objfile as of
    from wse.isa.builder import ImageBuilder
    name = draw(st.one_of(st.sampled_from(AWKWARD + RESERVED_SAMPLE + ["", "a b", "image_0"]), TEXT))
    idents = st.sampled_from(AWKWARD + RESERVED_SAMPLE)      # DSD and macro names may be reserved
    sym_idents = st.sampled_from(AWKWARD)
    syms = draw(st.lists(sym_idents, min_size=0, max_size=5, unique=True))
    n_data = draw(st.integers(0, len(syms)))
    n_task = max(1, len(syms) - n_data) if syms else 1
    if len(syms) < n_data + n_task:
        syms.append(draw(sym_idents.filter(lambda s: s not in syms)))
    if draw(st.integers(0, 3)) == 0:                            # a data or task symbol reserved
        syms[draw(st.integers(0, len(syms) - 1))] = draw(st.sampled_from(RESERVED_SAMPLE))
    dsds = draw(st.lists(st.sampled_from(AWKWARD + RESERVED_SAMPLE + [""]), max_size=4))
    b = ImageBuilder("placeholder")
    for i in range(n_data):
        b.alloc(f"s{i}", "u16", 2)
    b.label("L0")
    for k in range(len(dsds)):
        b.emit("ldsd", dsr=k % 24, dsdidx=k)
    b.emit("exit")
    for i in range(n_task):
        b.label(f"t{i}")
        b.emit("exit")
        b.task(i + 1, f"t{i}", activated=i == 0)
    for nm in dsds:
        b.dsd("fabin", length=1, color=3, name=nm)
    img = b.build()
    rename = {f"s{i}": syms[i] for i in range(n_data)} | {f"t{i}": syms[n_data + i] for i in range(n_task)}
    img.name = name
    img.symbols = [of.Symbol(rename[s.name], s.type, s.value, s.count) for s in img.symbols]
    extra = draw(st.sampled_from([None, 1, 40]))     # a second name for task 1, or a name of no task
    if extra is not None:
        alias = draw(sym_idents.filter(lambda s: s not in syms))
        img.symbols.append(of.Symbol(alias, "task", extra, 0))
    img.symbols.sort(key=lambda s: s.name)
    via = draw(st.lists(st.tuples(st.one_of(idents, U32.map(lambda n: f".rep[{n}]")), FILE, U32, U32),
                        max_size=3))
    img.lines = [of.Line(0, draw(FILE), draw(U32), draw(U32), tuple(via))]
    if len(img.code) > 1 and draw(st.booleans()):
        img.lines.append(of.Line(1, "", 0, 0))                          # a bare .loc
    return img


@given(st.lists(_image(), min_size=1, max_size=2))
def test_any_names_survive_objdump(images):
    """Whatever names an object stores, if the readers accept it, wse-objdump's listing
    re-assembles to the same bytes and its second round is a fixed point; if a symbol is named
    like a register, DSR, microthread or built-in, both readers refuse it, saying the same."""
    from wse.emu import Fabric
    from wse.emu.errors import WseError
    from wse.isa import objfile as of
    from wse.isa.objfile import reserved_names
    pes = {(x, 0): img for x, img in enumerate(images)}
    data = of.ObjectFile.from_pe_images("wse2", len(images), 1, pes).to_bytes()
    bad = sorted({s.name for img in images for s in img.symbols} & reserved_names())
    event("refused" if bad else "round trip")
    if bad:
        with pytest.raises(of.ObjectFormatError) as py:
            of.read(data)
        with pytest.raises(WseError) as c:
            Fabric.from_object(data)
        assert "is reserved (a register, microthread or built-in)" in str(py.value)
        assert str(py.value) in str(c.value), (str(py.value), str(c.value))
        with pytest.raises(AssemblyError, match="not a valid object file"):
            disassemble(data)
        return
    text = disassemble(data)
    again = assemble_text(text, "dis.s")
    assert again == data, text
    assert disassemble(again) == text
