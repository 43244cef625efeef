"""wse.asm's Python entry points (assemble_text, assemble_file) take what a script naturally
passes and refuse the rest with one clear error: include_dirs as one folder (a str used to be
split into one-letter folders), defines with a name no source could use (used to be accepted
and ignored), and the source given as None or a path (used to raise AttributeError from inside
the assembler)."""
import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from wse.asm import AssemblyError, assemble_file, assemble_text

INC_SRC = '.include "val.inc"\n.task main, local, start\nmain:\n    li r2, VAL\n    exit\n'


@pytest.fixture
def incdir(tmp_path):
    d = tmp_path / "inc"
    d.mkdir()
    (d / "val.inc").write_text("VAL = 7\n")
    return d


@pytest.mark.parametrize("kind", [str, Path, lambda d: [str(d)], lambda d: (Path(d),)])
def test_include_dirs_is_one_folder_or_a_list_of_them(incdir, kind):
    want = assemble_text(INC_SRC, include_dirs=[str(incdir)])
    assert assemble_text(INC_SRC, include_dirs=kind(incdir)) == want


def test_a_missing_include_names_the_folder_given_as_a_str(tmp_path):
    with pytest.raises(AssemblyError) as e:
        assemble_text(INC_SRC, include_dirs=str(tmp_path))
    msg = str(e.value)
    assert f"{tmp_path}/val.inc" in msg
    assert "/val.inc, " not in msg.replace(f"{tmp_path}/val.inc", "")   # no one-letter folders


@pytest.mark.parametrize("bad", [5, [3], b"inc"])
def test_include_dirs_of_another_type_is_refused(bad):
    with pytest.raises(AssemblyError, match="include_dirs must be"):
        assemble_text("nop\n", include_dirs=bad)


@given(st.from_regex(r"[A-Za-z0-9_]{0,8}", fullmatch=True), st.integers(-2**31, 2**31 - 1))
def test_a_define_reaches_the_source(suffix, value):
    from wse.isa import objfile
    name = "K_" + suffix           # (a prefix keeps it clear of registers and builtins)
    src = f"    .data\nv: .u32 {name} & 0xffffffff\n    .export v\n"
    o = objfile.read(assemble_text(src, defines={name: value}))
    sym = o.images[0].symbol("v")
    assert sym is not None and sym.count == 1
    flat = [w for a, ws in sorted(o.images[0].chunks) for w in ws]
    assert flat[sym.value] | (flat[sym.value + 1] << 16) == value & 0xFFFFFFFF


@given(st.text(min_size=1, max_size=6).filter(
    lambda s: not (s[0].isascii() and (s[0].isalpha() or s[0] == "_")
                   and all(c.isascii() and (c.isalnum() or c == "_") for c in s))))
def test_a_define_that_is_not_a_name_is_refused(name):
    with pytest.raises(AssemblyError) as e:
        assemble_text("nop\n", defines={name: 1})
    assert "is not a name" in str(e.value)
    assert len(e.value.diagnostics) == 1


@pytest.mark.parametrize("defines, match", [
    ({"N": "3"}, "must be a number"),
    ({"N": None}, "must be a number"),
    ({3: 1}, "is not a name"),
    ([1, 2], "defines must be a dict"),
    (5, "defines must be a dict"),
])
def test_bad_defines_are_one_clear_error(defines, match):
    with pytest.raises(AssemblyError, match=match):
        assemble_text("nop\n", defines=defines)


def test_a_name_defined_twice_must_keep_its_value():
    """Pairs (what wse-as -D passes) may repeat a name with the same value; another value is an
    error naming both, not a silent last-one-wins (4 and 4.0 differ: an int and a float)."""
    src = ".data\nv: .u32 N\n.export v\n"
    assert assemble_text(src, defines=[("N", 4), ("N", 4)]) == assemble_text(src, defines={"N": 4})
    for second in (5, 4.0):
        with pytest.raises(AssemblyError, match=rf"-D N={second!r}: N is already defined as 4 by an earlier -D"):
            assemble_text(src, defines=[("N", 4), ("N", second)])


def test_defines_as_pairs_and_bools():
    a = assemble_text(".data\nv: .u32 N\n.export v\n", defines=[("N", True)])
    b = assemble_text(".data\nv: .u32 N\n.export v\n", defines={"N": 1})
    assert a == b


@pytest.mark.parametrize("text, match", [(None, "takes the source text"),
                                         (Path("x.s"), "use assemble_file"),
                                         (42, "got int")])
def test_assemble_text_refuses_what_is_not_text(text, match):
    with pytest.raises(TypeError, match=match):
        assemble_text(text)


def test_assemble_file_refuses_source_text_with_a_hint():
    with pytest.raises(TypeError, match="use assemble_text"):
        assemble_file(b"nop\n")


def test_assemble_file_takes_a_path_object(tmp_path):
    p = tmp_path / "k.s"
    p.write_text("nop\n")
    assert assemble_file(p) == assemble_file(str(p))


@pytest.mark.parametrize("filename", ["", "a\0b.s"])
def test_a_file_name_the_object_cannot_store_is_refused(filename):
    """LINES names the source file: "" means no position and a NUL would end the string, so the
    file read back would be refused (fileless records with lines) or name another file."""
    with pytest.raises(AssemblyError, match="is empty or contains NUL"):
        assemble_text(".task main, local, start\nmain:\n    exit\n", filename)


def test_string_escapes_are_the_documented_ones():
    """docs/assembly.md lists the escapes of a string: \\" \\\\ \\n \\t \\xNN, and no other."""
    from wse.isa import objfile

    src = '.program p, "a\\tb\\x41\\n\\"\\\\"\n    .task main, local, start\nmain:\n    exit\n.endprogram\n.place p, 0, 0\n'
    obj = objfile.read(assemble_text(src))
    assert obj.image_at(0, 0).name == 'a\tbA\n"\\'
    for bad, words in (('"\\q"', "unknown escape '\\q'"), ('"\\xZZ"', "bad escape")):
        with pytest.raises(AssemblyError, match=re.escape(words)):
            assemble_text(src.replace('"a\\tb\\x41\\n\\"\\\\"', bad))


@pytest.mark.parametrize("nn", ["01", "41", "7f", "80", "e9", "ff"])
def test_a_hex_escape_is_the_character_with_that_code(nn):
    """`\\xNN` is the character with hex code NN, for every NN up to ff (not only ASCII)."""
    from wse.isa import objfile

    src = f'.program p, "x\\x{nn}"\n    .task main, local, start\nmain:\n    exit\n.endprogram\n.place p, 0, 0\n'
    assert objfile.read(assemble_text(src)).image_at(0, 0).name == "x" + chr(int(nn, 16))
