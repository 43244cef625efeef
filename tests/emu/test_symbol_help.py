"""A read or write of a symbol that a PE does not export says what the PE does export (sorted,
the first 12), the closest name (difflib) and which PEs do have the symbol; Fabric.pes_with
(symbol) lists the PEs whose image exports it. Both emulators give the same lists and the same
messages (the C core through wse_symbol_count / wse_symbol_at / wse_symbol_pes). Before, the
error named only the PE and the symbol, and finding where a symbol lives meant reading the
object file."""
from __future__ import annotations

import numpy as np
import pytest

from wse.asm import assemble_text
from wse.emu import BadArgError, Fabric, NotFoundError
from wse.emu.cli import main
from wse.emu.fabric import ffi, lib
from wse.emu.reference import ReferenceFabric

BOTH = [pytest.param(Fabric, id="core"), pytest.param(ReferenceFabric, id="reference")]

# `many` (20 data symbols s00..s19 and a task) on row 0 but (3,0); `few` on (3,0) and (0,1);
# (1,1) and (2,1) run `many` too; (3,1) is empty.
MANY = "\n".join(f"s{i:02d}: .u32 {i}" for i in range(20))
SRC = f""".fabric 4, 2
.program many
    .task main, local, start
main:
    exit
    .data
{MANY}
    .export {", ".join(f"s{i:02d}" for i in range(20))}
.endprogram
.program few
    .task work, local
work:
    exit
    .data
total: .f32 0
    .export total
.endprogram
.place many, 0, 0, 3, 1
.place few, 3, 0
.place few, 0, 1
.place many, 1, 1, 2, 1
"""
OBJ = assemble_text(SRC)


def fabric(cls):
    f = cls(4, 2, "wse2")
    f.load(OBJ)
    return f


def error_of(cls, call) -> NotFoundError:
    with pytest.raises(NotFoundError) as e:
        call(fabric(cls))
    return e.value


@pytest.mark.parametrize("cls", BOTH)
def test_pes_with(cls):
    f = fabric(cls)
    many = [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1)]
    assert f.pes_with("s07") == many                       # row-major
    assert f.pes_with("total") == [(3, 0), (0, 1)]
    assert f.pes_with("main") == many and f.pes_with("work") == [(3, 0), (0, 1)]   # tasks too
    assert f.pes_with("nothing") == []
    assert all(type(x) is int and type(y) is int for x, y in f.pes_with("total"))
    with pytest.raises(BadArgError, match="symbol name must be a str, got 3"):
        f.pes_with(3)
    with pytest.raises(BadArgError, match="is empty or holds a NUL"):
        f.pes_with("")


@pytest.mark.parametrize("name", ["s07", "total", "main", "work", "nothing"])
def test_the_object_file_answers_pes_with_as_the_loaded_fabrics_do(name):
    """wse.isa.objfile.ObjectFile.pes_with gives the same PEs without loading the object (the
    kernel driver uses it to find where inputs and outputs live)."""
    from wse.isa import objfile
    want = {"s07": [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1)], "total": [(3, 0), (0, 1)], "nothing": []}
    got = objfile.read(OBJ).pes_with(name)
    assert got == fabric(Fabric).pes_with(name) == fabric(ReferenceFabric).pes_with(name)
    assert got == want.get(name, got) and (got != [] or name == "nothing")


def test_object_pes_with_follows_the_placement_not_the_whole_fabric():
    """A wide object with two PEs placed: the answer comes from the placement rectangles (a
    4096x4096 fabric is not walked PE by PE), row-major across rectangles."""
    import time

    from wse.isa import objfile
    obj = objfile.read(OBJ)
    obj.width = obj.height = 4096
    obj.placement = [(4000, 7, 1, 1, 1), (5, 4095, 3, 1, 0), (0, 7, 2, 1, 0)]
    t = time.perf_counter()
    assert obj.pes_with("s07") == [(0, 7), (1, 7), (5, 4095), (6, 4095), (7, 4095)]
    assert obj.pes_with("total") == [(4000, 7)]
    assert time.perf_counter() - t < 0.5


@pytest.mark.parametrize("cls", BOTH)
def test_pes_with_needs_a_program(cls):
    with pytest.raises(BadArgError, match="no program is loaded"):
        cls(2, 2, "wse2").pes_with("x")


def test_both_emulators_say_the_same():
    calls = [lambda f: f.read("totl", rect=(3, 0)), lambda f: f.read("s7"), lambda f: f.read("total"),
             lambda f: f.write("s01", np.uint32([1]), rect=(0, 0, 4, 1)), lambda f: f.read("main"),
             lambda f: f.read("work", rect=(3, 0)), lambda f: f.read("s01", rect=(2, 1, 2, 1))]
    for call in calls:
        a, b = error_of(Fabric, call), error_of(ReferenceFabric, call)
        assert str(a) == str(b)
        assert (a.symbol, a.pe, a.exports, a.suggestion, a.holders, a.brief) == \
               (b.symbol, b.pe, b.exports, b.suggestion, b.holders, b.brief)


@pytest.mark.parametrize("cls", BOTH)
def test_a_close_name_and_the_pe_with_it(cls):
    e = error_of(cls, lambda f: f.read("totl", rect=(3, 0)))
    assert str(e) == ("PE (3,0) (image few) has no symbol 'totl'. Did you mean 'total'? PE (3,0)'s data "
                      "symbols: total. No PE has a data symbol 'totl'.")
    assert (e.symbol, e.pe, e.exports, e.suggestion, e.holders) == ("totl", (3, 0), ["total"], "total", [])
    assert e.brief == "PE (3,0) (image few) has no symbol 'totl'"


@pytest.mark.parametrize("cls", BOTH)
def test_many_symbols_and_many_pes_are_cut_short(cls):
    e = error_of(cls, lambda f: f.read("total"))
    listed = ", ".join(f"s{i:02d}" for i in range(12))
    assert str(e) == (f"PE (0,0) (image many) has no symbol 'total'. PE (0,0)'s data symbols: {listed} and "
                      f"8 more. 2 PEs have a data symbol 'total': (3,0), (0,1).")
    assert e.exports == [f"s{i:02d}" for i in range(20)] and e.holders == [(3, 0), (0, 1)]
    e = error_of(cls, lambda f: f.read("s05", rect=(3, 0)))
    assert str(e).endswith("5 PEs have a data symbol 's05': (0,0), (1,0), (2,0), (1,1), (2,1).")
    assert e.suggestion is None


def test_holders_beyond_the_first_six_are_counted():
    src = SRC.replace(".fabric 4, 2", ".fabric 4, 4") + ".place many, 0, 2, 4, 2\n"
    obj = assemble_text(src)
    msgs = []
    for cls in (Fabric, ReferenceFabric):
        f = cls(4, 4, "wse2")
        f.load(obj)
        assert len(f.pes_with("s00")) == 13
        with pytest.raises(NotFoundError) as e:
            f.read("s00", rect=(3, 0))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    assert msgs[0].endswith("13 PEs have a data symbol 's00': (0,0), (1,0), (2,0), (1,1), (2,1), (0,2) and 7 more.")


@pytest.mark.parametrize("cls", BOTH)
def test_a_task_of_that_name(cls):
    e = error_of(cls, lambda f: f.read("work", rect=(3, 0)))
    assert str(e) == ("PE (3,0) has no data symbol 'work' (it is a task). PE (3,0)'s data symbols: total. "
                      "No PE has a data symbol 'work'.")


@pytest.mark.parametrize("cls", BOTH)
def test_the_first_pe_of_a_rectangle_without_it(cls):
    """(3,0) is the first PE of the row without s01 (as the core checks, row-major); a PE
    without a program keeps the plain message."""
    e = error_of(cls, lambda f: f.write("s01", np.uint32([1]), rect=(0, 0, 4, 1)))
    assert e.pe == (3, 0) and str(e).startswith("PE (3,0) (image few) has no data symbol 's01'. ")
    e = error_of(cls, lambda f: f.read("s01", rect=(2, 1, 2, 1)))
    assert str(e) == "PE (3,1) has no program" and e.pe is None


def test_wse_emu_does_not_say_it_twice(tmp_path, capsys):
    """wse-emu keeps its own hint (the option with the rectangle that has the symbol) after the
    core's message, without the Python API's help repeating it."""
    p = tmp_path / "s.wso"
    p.write_bytes(OBJ)
    assert main([str(p), "--output", f"totl={tmp_path}/o.npy"]) == 2
    err = capsys.readouterr().err
    assert err.count("did you mean") + err.count("Did you mean") == 1 and "'total'" in err
    assert "Traceback" not in err


def test_the_c_calls_check_their_arguments():
    f = fabric(Fabric)
    h = f._f
    n = ffi.new("unsigned int *")
    assert lib.wse_symbol_count(h, 3, 0, n) == lib.WSE_OK and n[0] == 2        # total, work
    assert lib.wse_symbol_count(h, 3, 1, n) == lib.WSE_NOT_FOUND and n[0] == 0   # no program
    assert lib.wse_symbol_count(h, 4, 0, n) == lib.WSE_BAD_ARG                  # outside
    assert lib.wse_symbol_count(h, 0, 0, ffi.NULL) == lib.WSE_BAD_ARG
    assert lib.wse_symbol_count(ffi.NULL, 0, 0, n) == lib.WSE_BAD_ARG
    name, typ = ffi.new("const char **"), ffi.new("int *")
    got = set()
    for i in range(2):
        assert lib.wse_symbol_at(h, 3, 0, i, name, typ) == lib.WSE_OK
        got.add((ffi.string(name[0]).decode(), typ[0]))
    assert got == {("total", 2), ("work", 5)}
    assert lib.wse_symbol_at(h, 3, 0, 2, name, typ) == lib.WSE_BAD_ARG and name[0] == ffi.NULL
    assert "has 2 symbols; there is no symbol 2" in f._msg()
    assert lib.wse_symbol_at(h, 3, 0, 0, ffi.NULL, typ) == lib.WSE_BAD_ARG
    assert lib.wse_symbol_at(h, 3, 0, 0, name, ffi.NULL) == lib.WSE_OK      # the type is optional
    assert lib.wse_symbol_at(h, 3, 1, 0, name, typ) == lib.WSE_NOT_FOUND
    cnt = ffi.new("unsigned long long *")
    xy = ffi.new("unsigned int[8]", [99] * 8)
    assert lib.wse_symbol_pes(h, b"s03", 1, xy, 2, cnt) == lib.WSE_OK
    assert cnt[0] == 5 and list(xy) == [0, 0, 1, 0, 99, 99, 99, 99]    # the first 2 of 5
    assert lib.wse_symbol_pes(h, b"main", 1, ffi.NULL, 0, cnt) == lib.WSE_OK and cnt[0] == 0  # data only
    assert lib.wse_symbol_pes(h, b"main", 2, ffi.NULL, 0, cnt) == lib.WSE_OK and cnt[0] == 5  # tasks only
    assert lib.wse_symbol_pes(h, b"s03", 3, ffi.NULL, 0, cnt) == lib.WSE_BAD_ARG
    assert lib.wse_symbol_pes(h, b"s03", -1, ffi.NULL, 0, cnt) == lib.WSE_BAD_ARG
    assert lib.wse_symbol_pes(h, b"s03", 0, ffi.NULL, 1, cnt) == lib.WSE_BAD_ARG     # NULL with room
    assert lib.wse_symbol_pes(h, ffi.NULL, 0, ffi.NULL, 0, cnt) == lib.WSE_BAD_ARG
    assert lib.wse_symbol_pes(h, b"s03", 0, ffi.NULL, 0, ffi.NULL) == lib.WSE_BAD_ARG
    assert lib.wse_symbol_pes(ffi.NULL, b"s03", 0, ffi.NULL, 0, cnt) == lib.WSE_BAD_ARG
    empty = Fabric(2, 2, "wse2")        # nothing loaded: no PE has anything
    assert lib.wse_symbol_pes(empty._f, b"s03", 0, ffi.NULL, 0, cnt) == lib.WSE_OK and cnt[0] == 0
