"""wse-emu: exit codes, summary, outputs, trace, and no traceback for any bad input."""
import json
import sys
import os

import numpy as np
import pytest
from click.testing import CliRunner

from helpers import li, obj_bytes
from wse.emu.cli import main
from wse.isa.builder import ImageBuilder


def prog(trap=False, spin=False):
    b = ImageBuilder("p")
    b.alloc("x", "f32", 4)
    b.alloc("y", "f32", 4)
    b.dsd("mem1d", base="y", length=4)
    b.dsd("mem1d", base="x", length=4)
    b.label("main")
    b.emit("ldsd", dsr=0, dsdidx=0)
    b.emit("ldsd", dsr=8, dsdidx=1)
    li(b, 3, int(np.float32(2.0).view(np.uint32)))
    b.emit("fmuls", dd=0, da=0, rs=3)
    if trap:
        b.emit("trap", uimm16=7)
    if spin:
        b.label("spin")
        b.emit("jmp", target="spin")
    b.emit("exit")
    b.task(0, "main")
    img = b.build()
    return obj_bytes({(x, y): img for x in range(2) for y in range(2)}, 2, 2)


def test_run_with_io_stats_and_trace(tmp_path, capsys):
    p = tmp_path / "p.wso"
    p.write_bytes(prog())
    x = tmp_path / "x.npy"
    np.save(x, np.arange(4, dtype=np.float32))
    tr = tmp_path / "t.json"
    y = tmp_path / "y.npy"
    rc = main([str(p), "--grid", "2x2", "--input", f"x={x}", "--output", f"y={y}",
               "--launch", "main", "--stats", "--trace", str(tr)])
    out = capsys.readouterr().out
    assert rc == 0 and "cycles:" in out and "instructions:" in out and "MHz" in out
    assert "wavelet hops" in out and "busy_cycles" in out
    got = np.load(y)
    assert got.shape == (2, 2, 4) and list(got[0, 0]) == [0, 2, 4, 6]
    ev = json.loads(tr.read_text())["traceEvents"]
    assert any(e.get("cat") == "task" for e in ev) and any(e.get("cat") == "tensor" for e in ev)


def test_pe_stats_saves_every_pe_counters_also_after_a_fault(tmp_path, capsys):
    """--pe-stats FILE.npy: pe_stats_grid() as .npy, [y, x], summing to --stats' totals; after a
    fault too (the counters up to the stop are what one debugs with)."""
    from wse.emu.fabric import PE_STAT_FIELDS
    p = tmp_path / "p.wso"
    p.write_bytes(prog())
    ps = tmp_path / "ps.npy"
    assert main([str(p), "--launch", "main@1,0", "--pe-stats", str(ps), "--stats"]) == 0
    out = capsys.readouterr().out
    g = np.load(ps)
    assert g.shape == (2, 2) and g.dtype.names == PE_STAT_FIELDS
    assert g["pes"].tolist() == [[1, 1], [1, 1]]
    assert g["tasks"].tolist() == [[0, 1], [0, 0]] and g["instructions"][0, 1] > 0 == g["instructions"][1, 0]
    for k in ("instructions", "busy_cycles", "tasks"):
        assert f"  {k}: {int(g[k].sum())}\n" in out, k
    p.write_bytes(prog(trap=True))
    assert main([str(p), "--launch", "main@0,1", "--pe-stats", str(ps)]) == 1
    g = np.load(ps)
    assert g["tasks"].tolist() == [[0, 0], [1, 0]]


def test_fault_and_watchdog_exit_nonzero(tmp_path, capsys):
    p = tmp_path / "p.wso"
    p.write_bytes(prog(trap=True))
    assert main([str(p), "--launch", "main"]) == 1
    err = capsys.readouterr().err
    assert "trap" in err and "Traceback" not in err
    p.write_bytes(prog(spin=True))
    assert main([str(p), "--launch", "main", "--max-cycles", "500"]) == 1
    assert "watchdog" in capsys.readouterr().err


def test_fault_inside_a_run_summary_names_both_cycles(tmp_path, capsys):
    """A fault 3 instructions into a run: the report gives the fault's own cycle, and the
    summary says that the fabric's cycle (where it stopped) is the run's first."""
    b = ImageBuilder("m")
    b.label("main")
    li(b, 2, 30000)
    b.emit("ld16", r1=3, r2=2, imm16=0)
    b.emit("exit")
    b.task(0, "main", activated=True)
    p = tmp_path / "m.wso"
    p.write_bytes(obj_bytes({(0, 0): b.build()}, 1, 1))
    assert main([str(p)]) == 1
    cap = capsys.readouterr()
    assert cap.err.startswith("fault at cycle 3:")        # task switch 1, then lui, ori
    assert "cycles: 1  (" in cap.out and "the fault is at cycle 3" in cap.out


@pytest.mark.parametrize("args", [
    ["missing.wso"],
    ["{bad}"],
    ["{good}", "--grid", "axb"],
    ["{good}", "--grid", "1x1"],
    ["{good}", "--input", "x={npy_bad_shape}"],
    ["{good}", "--input", "nosuchsym={npy}"],
    ["{good}", "--input", "x"],
    ["{good}", "--input", "x={missing_npy}"],
    ["{good}", "--launch", "nosuchtask"],
    ["{good}", "--arch", "wse3"],
    ["{good}", "--max-cycles", "-5"],
    ["{good}", "--input", "x={empty}"],
    ["{good}", "--input", "x={text}"],
    ["{good}", "--output", "nosuchsym={tmp}/y.npy"],
    ["{good}", "--output", "x={tmp}/no/such/dir/y.npy"],
    ["{good}", "--output", "x={tmp}"],
    ["{good}", "--trace", "{tmp}/no/such/dir/t.json"],
    ["{good}", "--max-cycles", "18446744073709551616"],
    ["{good}", "--launch", "4294967296"],
    ["{good}", "--launch", "main@"],
    ["{good}", "--grid", "\u00b2x2"],
    ["{good}", "--input", "x={huge}"],
    ["{good}", "--input", "x={strings}"],
])
def test_bad_input_no_traceback(tmp_path, capsys, args):
    good = tmp_path / "g.wso"
    good.write_bytes(prog())
    bad = tmp_path / "b.wso"
    bad.write_bytes(b"WSEO" + b"\0" * 40)
    npy = tmp_path / "a.npy"
    np.save(npy, np.zeros(4, np.float32))
    npy_bad = tmp_path / "bad.npy"
    np.save(npy_bad, np.zeros((3, 3, 3), np.float32))
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "text.npy").write_text("1 2 3 4\n")
    np.save(tmp_path / "h.npy", np.ones(4, np.float32))    # a header that declares 1e11 elements
    (tmp_path / "huge.npy").write_bytes((tmp_path / "h.npy").read_bytes().replace(b"(4,)", b"(99999999999,)")[:200])
    np.save(tmp_path / "strings.npy", np.array(["ab", "cd"]))
    subst = dict(good=good, bad=bad, npy=npy, npy_bad_shape=npy_bad, missing_npy=tmp_path / "no.npy",
                 empty=tmp_path / "empty.npy", text=tmp_path / "text.npy", tmp=tmp_path,
                 huge=tmp_path / "huge.npy", strings=tmp_path / "strings.npy")
    rc = main([a.format(**subst) for a in args])
    cap = capsys.readouterr()
    assert rc == 2 and "Traceback" not in cap.err and "error" in cap.err
    # every bad argument is caught before the run: nothing ran, nothing was lost
    assert "cycles:" not in cap.out


def edge_prog():
    """PE (0,0) sends 3 wavelets East on color 2 to PE (1,0), which has a data task on color 2
    and passes them East again, off the fabric."""
    from helpers import E as EAST, R as RAMP, W as WEST
    s = ImageBuilder("s")
    s.label("main")
    for v in (5, 6, 7):
        li(s, 2, v)
        s.emit("send", color=2, rq=2)
    s.emit("exit")
    s.task(0, "main", activated=True)
    s.route(2, (RAMP, EAST))
    r = ImageBuilder("r")
    r.alloc("y", "u32", 4)
    r.label("on_data")
    r.emit("exit")
    r.task(2, "on_data", kind="data", color=2)
    r.route(2, (WEST, RAMP | EAST))
    return obj_bytes({(0, 0): s.build(), (1, 0): r.build()}, 2, 1)


def test_wavelets_off_the_fabric_are_counted_and_saved(tmp_path, capsys):
    p = tmp_path / "e.wso"
    p.write_bytes(edge_prog())
    assert main([str(p)]) == 0
    assert "host: 3 wavelets left the fabric (--received FILE.npy saves them)" in capsys.readouterr().out
    rec = tmp_path / "rec.npy"
    assert main([str(p), "--received", str(rec)]) == 0
    assert f"-> {rec}" in capsys.readouterr().out
    got = np.load(rec)
    assert list(got["payload"]) == [5, 6, 7] and set(got["x"]) == {1} and set(got["color"]) == {2}
    assert list(got["port"]) == [2, 2, 2] and list(got["cycle"]) == sorted(got["cycle"])


def test_short_input_array_and_data_task_launch_are_refused(tmp_path, capsys):
    p = tmp_path / "e.wso"
    p.write_bytes(edge_prog())
    two = tmp_path / "two.npy"
    np.save(two, np.ones(2, np.uint32))
    assert main([str(p), "--input", f"y@1,0={two}"]) == 2
    err = capsys.readouterr().err
    assert "y has 4 elements per PE but" in err and "gives 2" in err
    assert main([str(p), "--launch", "on_data@1,0"]) == 2
    err = capsys.readouterr().err
    assert "is a data task" in err and "color 2" in err and "Traceback" not in err


def test_input_array_of_the_wrong_rectangle_names_its_whole_shape(tmp_path, capsys):
    """A (h, w, n) array that is wrong in (h, w) and in n: the error gives the array's shape and
    the one needed, not only n (it said 'gives 2', as if only the length were wrong)."""
    p = tmp_path / "e.wso"
    p.write_bytes(edge_prog())
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((2, 3, 2), np.uint32))
    assert main([str(p), "--input", f"y@1,0={bad}"]) == 2
    err = capsys.readouterr().err
    assert "has shape (2, 3, 2)" in err and "needs (1, 1, 4)" in err and "(4,) for every PE" in err
    np.save(bad, np.ones((2, 3, 4), np.uint32))          # right n, wrong (h, w)
    assert main([str(p), "--input", f"y@1,0={bad}"]) == 2
    err = capsys.readouterr().err
    assert "has shape (2, 3, 4)" in err and "needs (1, 1, 4)" in err and "Traceback" not in err
    np.save(bad, np.ones((1, 1, 4), np.uint32))          # right: runs
    assert main([str(p), "--input", f"y@1,0={bad}"]) in (0, 1)
    assert "needs" not in capsys.readouterr().err


@pytest.mark.parametrize("args,hint", [
    (["--output", "yy={tmp}/o.npy"], "has no symbol 'yy'; did you mean 'y'?"),
    (["--output", "qqq={tmp}/o.npy"], "the object's exported data symbols: y (a data label is visible "
                                      "here only when its program's .export lists it)"),
    (["--launch", "on_dat"], "defines task 'on_dat'; did you mean 'on_data'?"),
    (["--launch", "on_data@0,0"], "--launch on_data@0,0 (on the rectangle @0,0): "),
    (["--launch", "on_data@0,0"], "; the PE that has it is @1,0: write --launch on_data@1,0"),
    (["--output", "y={tmp}/o.npy"], "--output y={tmp}/o.npy (on every PE of the 2x1 fabric, as it has "
                                    "no @X,Y[,W,H]): PE (0,0) (image s) has no symbol 'y'; "
                                    "the PE that has it is @1,0: write --output y@1,0={tmp}/o.npy"),
    (["--grid", "3x2", "--input", "y@1,0,2,1={tmp}/y.npy"],
     "--input y@1,0,2,1={tmp}/y.npy (on the rectangle @1,0,2,1): PE (2,0) has no program; "
     "the PE that has it is @1,0: write --input y@1,0={tmp}/y.npy"),
])
def test_unknown_names_get_suggestions(tmp_path, capsys, args, hint):
    p = tmp_path / "e.wso"
    p.write_bytes(edge_prog())
    np.save(tmp_path / "y.npy", np.zeros(4, np.uint32))
    assert main([str(p)] + [a.format(tmp=tmp_path) for a in args]) == 2
    cap = capsys.readouterr()
    assert hint.format(tmp=tmp_path) in cap.err and "Traceback" not in cap.err
    assert "cycles:" not in cap.out


@pytest.mark.parametrize("content, text", [
    (b"; a kernel\n    .task main, local, start\nmain:\n    exit\n", True),
    ("; \u00d7 \u2192 " * 40, True),          # non-ASCII text, the 256 bytes cut inside a character
    (bytes(range(256)), False),
    (b"\0" * 64, False),
])
def test_a_source_file_given_as_the_object_gets_a_hint(tmp_path, capsys, content, text):
    """Assembly source (or any text) given to wse-emu or wse-objdump: the error says to assemble
    it first; bytes that are not text get no such guess."""
    from wse.asm import objdump_cli
    p = tmp_path / "k.s"
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    hint = "it is text, perhaps assembly source: assemble it first (wse-as FILE.s -o FILE.wso)"
    assert main([str(p)]) == 2
    err = capsys.readouterr().err
    assert "not a wse object file" in err and (hint in err) == text, err
    r = CliRunner().invoke(objdump_cli.main, [str(p)])
    assert r.exit_code == 1 and "not a wse object file" in r.output and (hint in r.output) == text


def test_pes_without_a_program_name_the_option_its_rectangle_and_the_rectangles_to_give(tmp_path, capsys):
    """`--grid 2x2` over an object placed on part of it: the whole-fabric default reaches PEs
    with no program; the error says which option, over which PEs, and the rectangles to give
    instead (several when the symbol's PEs are not one rectangle)."""
    from wse.asm import assemble_text
    src = """
    .fabric 3, 2
    .program p
        .task main, local, start
    main:
        exit
        .data
        .export B
    B:  .fill f32, 4, 1.0
    .endprogram
    .place p, 0, 0, 3, 1
    .place p, 0, 1, 1, 1
    """
    p = tmp_path / "p.wso"
    p.write_bytes(assemble_text(src))
    a = tmp_path / "a.npy"
    np.save(a, np.ones(4, np.float32))
    assert main([str(p), "--grid", "3x3", "--input", f"B={a}"]) == 2
    err = capsys.readouterr().err
    assert (f"--input B={a} (on every PE of the 3x3 fabric, as it has no @X,Y[,W,H]): PE (1,1) has "
            f"no program; the PEs that have it are @0,0,3,1 and @0,1: give one option per "
            f"rectangle, e.g. --input B@0,0,3,1={a}") in err
    assert main([str(p), "--output", f"B@0,0,2,2={tmp_path}/o.npy"]) == 2
    err = capsys.readouterr().err
    assert "--output B@0,0,2,2=" in err and "(on the rectangle @0,0,2,2): PE (1,1) has no program" in err
    assert main([str(p), "--output", f"B@0,0,3,1={tmp_path}/o.npy", "--output", f"B@0,1={tmp_path}/p.npy"]) == 0
    assert main([str(p), "--output", f"B@2,0,2,1={tmp_path}/o.npy"]) == 2
    assert "--output B@2,0,2,1: the rectangle @2,0,2,1 (X,Y,W,H) reaches outside the 3x2 fabric" in capsys.readouterr().err


def test_trace_puts_microthreads_on_their_own_tracks(tmp_path):
    """An async op overlaps the main thread's work; on one shared track the spans overlapped
    without nesting, which the trace format does not allow. Each PE is a process with a main
    track and one per microthread used, and no two spans of a track overlap unless nested."""
    from wse.asm import assemble_text
    src = """
    .task main, local, start
    .task done, local
    .dsd Ds, mem1d, base=S0, len=64
main:
    ldsd d0, Ds
    ldsd a0, Ds
    fmovs d0, a0 async ut2 activate done
    fmovs d0, a0
    exit
done:
    exit
    .data
S0: .fill f32, 64, 1.0
"""
    p = tmp_path / "t.wso"
    p.write_bytes(assemble_text(src))
    tr = tmp_path / "t.json"
    assert main([str(p), "--trace", str(tr)]) == 0
    ev = json.loads(tr.read_text())["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e.get("name") == "thread_name"}
    assert set(names.values()) == {"main", "ut2"}
    assert any(e.get("name") == "process_name" and e["args"]["name"] == "PE (0,0)" for e in ev)
    spans = [e for e in ev if e.get("ph") == "X"]
    ut = [e for e in spans if names[(e["pid"], e["tid"])] == "ut2"]
    assert len(ut) == 1 and ut[0]["name"] == "fmovs"
    for key in names:
        track = sorted((e["ts"], e["ts"] + e["dur"]) for e in spans if (e["pid"], e["tid"]) == key)
        for (a0, a1), (b0, b1) in zip(track, track[1:]):
            assert b0 >= a1 or b1 <= a1, (names[key], track)     # disjoint or nested


@pytest.mark.parametrize("args,said", [
    # a name ending in a separator names a folder: numpy would have written out_dir/.npy
    (["--output", "x=out_dir/"], "--output x: out_dir/ ends with '/', so it names a folder"),
    (["--output", "x=out_dir/"], "(e.g. out_dir/x.npy)"),
    (["--received", "new/"], "--received: new/ ends with '/'"),
    (["--trace", "new/"], "(e.g. new/trace.json)"),
    (["--output", "x=."], "--output x: . is a folder; give a file name"),
    (["--output", "x=no/such/y.npy"], "the folder {tmp}/no/such of no/such/y.npy does not exist; create it first"),
    (["--output", "x=a.npy/y.npy"], "--output x: a.npy/y.npy: {tmp}/a.npy is a file, not a folder"),
    (["--output", "x=" + "n" * 300 + ".npy"], "--output x: cannot write nnn"),
    (["--received", ""], "--received: the file name is empty"),      # was silently not written
    (["--trace", " "], "--trace: the file name is empty"),
    (["--pe-stats", "no/such/ps.npy"], "--pe-stats: the folder {tmp}/no/such of no/such/ps.npy does not exist"),
    (["--pe-stats", ""], "--pe-stats: the file name is empty"),
])
def test_unwritable_output_paths_are_refused_before_the_run(tmp_path, capsys, monkeypatch, args, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    np.save(tmp_path / "a.npy", np.zeros(4, np.float32))
    assert main(["p.wso", "--launch", "main"] + args) == 2
    cap = capsys.readouterr()
    assert said.format(tmp=tmp_path) in cap.err and "Traceback" not in cap.err
    assert "cycles:" not in cap.out                       # refused before the run
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.npy", "p.wso"]   # nothing left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_output_into_a_read_only_folder_is_refused_before_the_run(tmp_path, capsys):
    (tmp_path / "p.wso").write_bytes(prog())
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main([str(tmp_path / "p.wso"), "--output", f"x={ro}/y.npy"]) == 2
    finally:
        ro.chmod(0o755)
    cap = capsys.readouterr()
    assert f"--output x: cannot write {ro}/y.npy: Permission denied" in cap.err
    assert "cycles:" not in cap.out and list(ro.iterdir()) == []


def test_output_on_a_read_only_file_system_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    """The check creates the file (and removes it) to find out, so whatever stops the write
    after the run (here a read-only file system, simulated; root ignores permissions) stops
    the run before it."""
    import errno
    from wse.emu import cli
    real_open = os.open

    def read_only(path, *a, **k):
        if str(path).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, *a, **k)
    (tmp_path / "ro").mkdir()
    (tmp_path / "p.wso").write_bytes(prog())
    monkeypatch.setattr(cli.os, "open", read_only)
    assert main([str(tmp_path / "p.wso"), "--received", str(tmp_path / "ro" / "r.npy")]) == 2
    cap = capsys.readouterr()
    assert f"--received: cannot write {tmp_path}/ro/r.npy: Read-only file system" in cap.err
    assert "cycles:" not in cap.out


@pytest.mark.parametrize("name", ["y.txt", "y", "y.npy.bak"])
def test_output_writes_exactly_the_file_named(tmp_path, monkeypatch, name):
    """np.save(name) appends .npy to a name without it; wse-emu writes the name given."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    np.save(tmp_path / "x.npy", np.arange(4, dtype=np.float32))
    assert main(["p.wso", "--input", "x=x.npy", "--output", f"y@1,1={name}", "--launch", "main",
                 "--received", name + ".r", "--trace", name + ".t"]) == 0
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(
        ["p.wso", "x.npy", name, name + ".r", name + ".t"])
    assert np.load(tmp_path / name).tolist() == [[[0, 2, 4, 6]]]
    assert np.load(tmp_path / (name + ".r")).size == 0
    assert "traceEvents" in json.loads((tmp_path / (name + ".t")).read_text())


def test_output_replaces_an_existing_file_whole_and_keeps_its_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    old = tmp_path / "y.npy"
    old.write_bytes(b"x" * 10000)                 # longer than the new file: no old tail survives
    old.chmod(0o640)
    link = tmp_path / "link.npy"
    link.symlink_to(old)
    assert main(["p.wso", "--output", "x@0,0=link.npy", "--launch", "main"]) == 0
    assert link.is_symlink()                      # the link still points at the file it named
    assert np.load(old).shape == (1, 1, 4) and old.stat().st_mode & 0o777 == 0o640
    assert sorted(f.name for f in tmp_path.iterdir()) == ["link.npy", "p.wso", "y.npy"]


@pytest.mark.parametrize("args,said", [
    (["--output", "x=o.npy", "--received", "o.npy"], "--output x and --received both write o.npy"),
    (["--output", "x=o.npy", "--output", "x@0,0=./o.npy"],
     "--output x and --output x@0,0,1,1 both write ./o.npy (the same file as o.npy)"),
    (["--output", "x=o.npy", "--trace", "o.npy"], "--output x and --trace both write o.npy"),
    (["--received", "o.npy", "--trace", "o.npy"], "--received and --trace both write o.npy"),
    (["--received", "o.npy", "--pe-stats", "o.npy"], "--received and --pe-stats both write o.npy"),
    (["--pe-stats", "p.wso"], "--pe-stats would overwrite p.wso, the object file being run"),
    (["--output", "x=p.wso"], "--output x would overwrite p.wso, the object file being run"),
    (["--trace", "p.wso"], "--trace would overwrite p.wso, the object file being run"),
    (["--input", "x=a.npy", "--output", "y=a.npy"], "--output y would overwrite a.npy, the file of --input x"),
    (["--input", "x=a.npy", "--received", "link.npy"],
     "--received would overwrite link.npy (the same file as a.npy), the file of --input x"),
])
def test_two_writes_to_one_file_or_over_an_input_are_refused(tmp_path, capsys, monkeypatch, args, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    np.save(tmp_path / "a.npy", np.arange(4, dtype=np.float32))
    (tmp_path / "link.npy").symlink_to(tmp_path / "a.npy")
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    assert main(["p.wso", "--launch", "main"] + args) == 2
    cap = capsys.readouterr()
    assert said in cap.err and "give" in cap.err and "Traceback" not in cap.err
    assert "cycles:" not in cap.out
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before


@pytest.mark.parametrize("kind,args,said", [
    ("trap", [], "because the run faulted"),
    ("spin", ["--max-cycles", "300"], "because the run was stopped by the watchdog (--max-cycles)"),
])
def test_outputs_after_a_fault_are_not_written_and_stderr_says_so(tmp_path, capsys, monkeypatch, kind, args, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog(**{kind: True}))
    (tmp_path / "old.npy").write_bytes(b"from an earlier run")
    assert main(["p.wso", "--launch", "main", "--output", "y=new.npy", "--output", "x@1,0=old.npy",
                 "--received", "r.npy", "--trace", "t.json"] + args) == 1
    err = capsys.readouterr().err
    assert (f"wse-emu: --output not written, {said}: y -> new.npy, x@1,0 -> old.npy; the symbols "
            f"hold the state where it stopped, not results") in err
    assert "left as it was before this run: old.npy" in err
    assert not (tmp_path / "new.npy").exists()
    assert (tmp_path / "old.npy").read_bytes() == b"from an earlier run"
    assert np.load(tmp_path / "r.npy").size == 0 and (tmp_path / "t.json").exists()   # documented: also after a fault


def test_a_failed_write_keeps_the_old_file_and_the_other_outputs_are_still_written(tmp_path, capsys, monkeypatch):
    """The disk fills up while y.npy is written: the y.npy of before is kept whole, no partial
    file is left, the error says so, and x.npy, --received and --trace are written all the same."""
    import errno
    from wse.emu import cli
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    (tmp_path / "y.npy").write_bytes(b"the old y")
    real_save = np.save

    def save(fh, arr, **k):
        if arr.shape == (2, 2, 4) and arr[0, 0, 1] == 2:      # y, not x
            fh.write(b"half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(fh, arr, **k)
    monkeypatch.setattr(cli.np, "save", save)
    np.save(tmp_path / "in.npy", np.arange(4, dtype=np.float32))
    assert main(["p.wso", "--launch", "main", "--input", "x=in.npy", "--output", "y=y.npy",
                 "--output", "x=x.npy", "--received", "r.npy", "--trace", "t.json"]) == 2
    cap = capsys.readouterr()
    assert ("--output y: cannot write y.npy: No space left on device; the file that was there is "
            "unchanged") in cap.err
    assert (tmp_path / "y.npy").read_bytes() == b"the old y"
    assert np.load(tmp_path / "x.npy").shape == (2, 2, 4) and (tmp_path / "r.npy").exists()
    assert "trace:" in cap.out and (tmp_path / "t.json").exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.npy", "p.wso", "r.npy", "t.json", "x.npy", "y.npy"]


def test_ctrl_c_outside_the_run_is_one_line(monkeypatch, capsys):
    """A Ctrl-C while loading or writing the outputs (outside the run, where the state report is
    printed): exit 130 and one line, no traceback."""
    from wse.emu import cli

    def interrupted(argv=None):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_main", interrupted)
    assert cli.main(["x.wso"]) == 130
    err = capsys.readouterr().err
    assert err == "wse-emu: interrupted outside the run; the outputs not written by then were not written\n"


ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.skipif(ASAN, reason="AddressSanitizer's shadow memory does not fit an address-space limit")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS (Linux)")
def test_out_of_memory_while_loading_is_one_error_naming_the_pe_and_the_need(tmp_path):
    """A real allocation failure: wse-emu under an address-space limit loads an object that
    places 40,000 PEs (~2 GiB of SRAM). It printed a MemoryError traceback; now one error that
    names the PE, how many PEs the object places and what they need, and exit 2."""
    import resource
    import subprocess
    from wse.asm import assemble_text as assemble
    obj = assemble(".fabric 200, 200\n.program p\n    .task main, local, start\nmain:\n    exit\n"
                   ".endprogram\n.place p, 0, 0, 200, 200\n")
    (tmp_path / "big.wso").write_bytes(obj)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (900 << 20, resource.RLIM_INFINITY))
    r = subprocess.run([sys.executable, "-c", "import sys; from wse.emu.cli import main; sys.exit(main())",
                        str(tmp_path / "big.wso")], capture_output=True, text=True, timeout=300,
                       preexec_fn=limit)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert line.startswith("wse-emu: error: out of host memory while placing PE (") and "\n" not in line, line
    assert "of the 40000 the object places" in line and "48 KiB of SRAM" in line and "place fewer PEs" in line


def test_out_of_memory_during_the_run_is_reported_like_a_fault(tmp_path, capsys, monkeypatch):
    """The core stops a run whose state could not grow (OutOfMemoryError; tests/emu/
    test_core_nomem.py makes it happen for real): wse-emu says what could not grow and what to
    do on the command line (the core's own message ends with the API's remedy, "load the
    program again"), exit 1, and writes no --output (the state is incomplete), as after a
    fault."""
    from wse.emu import Fabric, OutOfMemoryError, WseError
    msg = ("out of host memory at cycle 12: growing the trace buffer failed, so the emulated state "
           "is incomplete and the run stopped; free memory (or turn tracing off) and load the program again")

    def run(self, *a, **k):
        raise OutOfMemoryError(msg)
    monkeypatch.setattr(Fabric, "run", run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    assert main(["p.wso", "--launch", "main", "--output", "y=y.npy"]) == 1
    cap = capsys.readouterr()
    assert ("wse-emu: error: out of host memory at cycle 12 while recording the trace, so the run stopped "
            "there; limit the trace with --trace-rect or --trace-cycles, or free memory\n") in cap.err
    assert "load the program again" not in cap.err and "Traceback" not in cap.err
    assert "--output not written, because the run ran out of host memory: y -> y.npy" in cap.err
    assert not (tmp_path / "y.npy").exists()
    assert issubclass(OutOfMemoryError, MemoryError) and issubclass(OutOfMemoryError, WseError)


def _emu_child(args, **kw):
    import subprocess
    code = "import sys; from wse.cli.launch import wse_emu; sys.exit(wse_emu())"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], text=True, **kw)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_that_cannot_be_written_does_not_cost_the_output_files(tmp_path):
    """stdout on a full disk: the files asked for are written all the same, then one error
    naming them, exit 2. The summary was printed before the files were saved, so the OSError
    out of print() (a traceback) lost every --output, --received and --trace."""
    import subprocess
    (tmp_path / "p.wso").write_bytes(prog())
    y, t = tmp_path / "y.npy", tmp_path / "t.json"
    with open("/dev/full", "w") as full:
        p = _emu_child([tmp_path / "p.wso", "--launch", "main", "--output", f"y={y}", "--trace", t],
                       stdout=full, stderr=subprocess.PIPE)
        err = p.communicate(timeout=120)[1]
    assert p.returncode == 2
    assert err == (f"wse-emu: error: cannot write to standard output: No space left on device, so the "
                   f"summary is not all there; the files asked for were written: {y}, {t}\n")
    assert np.load(y).shape == (2, 2, 4) and json.loads(t.read_text())["traceEvents"]


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_a_reader_that_goes_away_does_not_cost_the_output_files(tmp_path, unbuffered):
    """stdout's reader gone (`| grep -q cycles`): exit 0, nothing on stderr, and --output
    written. With PYTHONUNBUFFERED=1 the BrokenPipeError came out of the summary's print(),
    before the outputs were saved, and main() turned it into exit 0: nothing written, success
    reported."""
    import subprocess
    (tmp_path / "p.wso").write_bytes(prog())
    y = tmp_path / "y.npy"
    p = _emu_child([tmp_path / "p.wso", "--launch", "main", "--output", f"y={y}", "--stats"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=dict(os.environ, PYTHONUNBUFFERED=unbuffered))
    p.stdout.close()
    err = p.stderr.read()
    assert (p.wait(timeout=120), err) == (0, "")
    assert np.load(y).shape == (2, 2, 4)


@pytest.mark.skipif(ASAN, reason="AddressSanitizer's shadow memory does not fit an address-space limit")
@pytest.mark.skipif(not os.path.exists("/dev/zero") or not sys.platform.startswith("linux"),
                    reason="needs /dev/zero and RLIMIT_AS")
def test_an_object_file_is_read_no_further_than_its_header_says(tmp_path):
    """wse-emu /dev/zero read until the host's memory was gone (a MemoryError traceback under
    ulimit -v, the OOM killer without); an object followed by more bytes than its header says
    was read whole. Now the header (32 bytes) is read first and then at most the size it gives;
    the errors name the file, as wse-objdump's do."""
    import resource
    import subprocess

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, resource.RLIM_INFINITY))
    obj = prog()
    (tmp_path / "long.wso").write_bytes(obj + bytes(1000))
    (tmp_path / "cut.wso").write_bytes(obj[:100])
    for path, said in [("/dev/zero", "/dev/zero: not a valid object file: bad magic b'\\x00\\x00\\x00\\x00': "
                                     "not a wse object file (expected b'WSEO')"),
                       (tmp_path / "long.wso", f"{tmp_path / 'long.wso'}: not a valid object file: header says "
                                               f"{len(obj)} bytes but the file has {len(obj) + 1000}"),
                       (tmp_path / "cut.wso", f"{tmp_path / 'cut.wso'}: not a valid object file: header says "
                                              f"{len(obj)} bytes but the file has 100")]:
        p = _emu_child([path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
        out, err = p.communicate(timeout=120)
        assert (p.returncode, err) == (2, f"wse-emu: error: {said}\n")


def test_object_errors_name_the_file_and_escape_control_characters(tmp_path, capsys):
    """A corrupt name in the object (an escape sequence where a DSD name was) went to the
    terminal raw; the load errors did not name the file ("header says ..."), which with
    several files on the line is ambiguous; --arch and --grid that do not fit the object name
    the option."""
    import struct
    import zlib
    from wse.asm import assemble_text
    obj = bytearray(assemble_text(".fabric 1, 1\n.program p\n    .task main, local, start\n"
                                  "    .dsd dst, mem1d, base=B, len=1\nmain:\n    ldsd d0, dst\n    exit\n"
                                  "    .data\nB: .zero 1, f32\n.endprogram\n.place p, 0, 0, 1, 1\n"))
    i = obj.find(b"\0dst\0")
    assert i > 0
    obj[i + 1:i + 4] = b"\x1b[2"
    struct.pack_into("<I", obj, 24, zlib.crc32(bytes(obj[32:])))
    p = tmp_path / "esc.wso"
    p.write_bytes(bytes(obj))
    assert main([str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wse-emu: error: {p}: not a valid object file: ") and "'\\x1b[2'" in err and "\x1b" not in err
    p.write_bytes(prog())
    assert main([str(p), "--arch", "wse3"]) == 2
    assert capsys.readouterr().err == (f"wse-emu: error: --arch wse3: {p} was assembled for wse2; leave --arch "
                                       f"out, or assemble it again with wse-as --arch wse3\n")
    assert main([str(p), "--grid", "1x2"]) == 2
    assert capsys.readouterr().err == (f"wse-emu: error: --grid 1x2: {p} was made for a 2x2 fabric; give at "
                                       f"least that, or leave --grid out\n")


@pytest.mark.parametrize("args, said", [
    (["--grid", ""], "--grid is empty: give WxH (e.g. 64x64), or leave --grid out for the object's size"),
    ([""], "the file name of the object is empty; give the .wso file to run"),
    (["--max-cycles", "\u0663"], "argument --max-cycles: expected an integer (ASCII digits), got '\u0663'"),
    (["--until", "\uff13"], "argument --until: expected an integer (ASCII digits)"),
])
def test_empty_grid_and_name_and_other_scripts_digits_are_refused(tmp_path, capsys, monkeypatch, args, said):
    """--grid '' was ignored (the run used the object's size); an empty object name was "cannot
    read : No such file"; --max-cycles and --until took other scripts' digits (int()) while
    --trace-rect and --launch refused them."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.wso").write_bytes(prog())
    argv = args if args == [""] else ["p.wso", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and err.strip().splitlines()[-1].startswith("wse-emu: error: ")


OOM_CHILD = """
import resource, sys
from wse.emu import Fabric
run = Fabric.run

def limited(self, *a, **k):
    # the address space is limited once the fabric is loaded: 96 MiB more than it uses then
    vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + (96 << 20), resource.RLIM_INFINITY))
    return run(self, *a, **k)
Fabric.run = limited
from wse.cli.launch import wse_emu
sys.exit(wse_emu())
"""


@pytest.mark.skipif(ASAN, reason="AddressSanitizer's shadow memory does not fit an address-space limit")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS (Linux)")
@pytest.mark.parametrize("kind", ["trace", "host"])
def test_a_run_out_of_memory_prints_the_summary_and_writes_what_it_can(tmp_path, kind):
    """A real out-of-memory during the run (audit #2: the trace buffer, or the wavelets that
    left the fabric, outgrow an address-space limit): one error in the command line's terms,
    the summary, exit 1; --trace and --received are written when memory allows (the trace is
    retried holding fewer events at a time), else said not to be (exit 2)."""
    import subprocess
    from wse.asm import assemble_text
    if kind == "trace":
        b = ImageBuilder("t")            # a task that activates itself: a trace record per span
        b.label("main")
        b.emit("activate", tid=0)
        b.emit("exit")
        b.task(0, "main", activated=True)
        obj = obj_bytes({(0, 0): b.build()}, 1, 1)
    else:                                # 64 PEs that send out of the west edge without end
        obj = assemble_text(".fabric 1, 64\n.program p\n    .route 0, ramp -> west\n    .task main, local, start\n"
                            "main:\n    li r2, 7\nloop:\n    send 0, r2\n    b loop\n.endprogram\n"
                            ".place p, 0, 0, 1, 64\n")
    (tmp_path / "p.wso").write_bytes(obj)
    t, r = tmp_path / "t.json", tmp_path / "r.npy"
    args = ["--max-cycles", "200000000"] + (["--trace", t] if kind == "trace" else ["--received", r])
    p = subprocess.run([sys.executable, "-c", OOM_CHILD, tmp_path / "p.wso", *map(str, args)],
                       capture_output=True, text=True, timeout=600)
    what = ("while recording the trace, so the run stopped there; limit the trace with --trace-rect or "
            "--trace-cycles, or free memory" if kind == "trace" else
            "while keeping the wavelets that left the fabric, so the run stopped there; stop the run "
            "earlier (--max-cycles or --until), or free memory")
    first = p.stderr.splitlines()[0]
    assert first.startswith("wse-emu: error: out of host memory at cycle ") and first.endswith(what), p.stderr
    assert "load the program again" not in p.stderr and "Traceback" not in p.stderr
    assert p.stdout.startswith("cycles: ")
    out = t if kind == "trace" else r
    if p.returncode == 1:
        assert out.exists()
        if kind == "trace":
            assert json.loads(t.read_text())["traceEvents"] and "trace: " in p.stdout
        else:
            assert len(np.load(r)) > 0
    else:
        assert p.returncode == 2, p.stderr
        opt = "--trace" if kind == "trace" else "--received"
        assert f"wse-emu: error: {opt}: out of host memory while writing {out}; it was not written" in p.stderr
        assert not out.exists()


@pytest.mark.parametrize("args, said", [
    # a name in bytes that are not UTF-8 (a Latin-1 terminal): the core's lookup said only "utf-8"
    (["--launch", "\udcff"], "--launch \\xff: the name is not valid UTF-8 (byte 0xff at offset 0); give the text in UTF-8"),
    (["--output", "y\udce9@1,1={tmp}/y.npy"], "--output y\\xe9@1,1: the name is not valid UTF-8 (byte 0xe9 at offset 1)"),
    # a file that cannot be opened: it was "... as a .npy array: [Errno 2] No such file or directory: '...'"
    (["--input", "x={tmp}/no.npy"], "--input x: cannot read {tmp}/no.npy: No such file or directory\n"),
    (["--input", "x={tmp}"], "--input x: cannot read {tmp}: Is a directory\n"),
    # --grid's errors name the option (they were the API's "grid 0x4 is out of range 1..4096")
    (["--grid", "0x4"], "--grid: grid 0x4 is out of range 1..4096\n"),
    (["--grid", "4"], "--grid: bad grid '4': expected WxH, e.g. 64x64\n"),
    # a value that starts with '-' was taken for an option: "argument --grid: expected one argument"
    (["--grid", "-1x2"], "--grid: bad grid '-1x2': expected WxH, e.g. 64x64\n"),
])
def test_bad_names_files_and_grids_say_which_option(tmp_path, capsys, args, said):
    good = tmp_path / "g.wso"
    good.write_bytes(prog())
    rc = main([str(good)] + [a.format(tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("wse-emu: error: ") and said.format(tmp=tmp_path) in err, err
