"""wse-as / wse-objdump command lines: exit codes, messages, no tracebacks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wse.asm import assemble_text, cli, objdump_cli

HERE = Path(__file__).parent


def run_as(args):
    return CliRunner().invoke(cli.main, args)


def test_help_has_examples():
    for m in (cli.main, objdump_cli.main):
        r = CliRunner().invoke(m, ["--help"])
        assert r.exit_code == 0 and "Examples" in r.output


def test_assemble_and_dump(tmp_path):
    out = tmp_path / "a.wso"
    r = run_as([str(HERE / "ok_layout_two.s"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    r = CliRunner().invoke(objdump_cli.main, [str(out)])
    assert r.exit_code == 0 and ".program sender" in r.output
    assert assemble_text(r.output, "x.s") == data


def test_defines_and_include(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "k.inc").write_text("K = 9\n")
    src = tmp_path / "a.s"
    src.write_text('.include "k.inc"\n    addi r1, r0, K + N\n')
    out = tmp_path / "a.wso"
    r = run_as([str(src), "-o", str(out), "-I", str(inc), "-D", "N=0x10", "--arch", "wse3"])
    assert r.exit_code == 0, r.output
    from wse.isa import objfile
    obj = objfile.read(out.read_bytes())
    assert obj.arch == "wse3" and obj.images[0].code == [0x18100019]


def test_error_exit_status_and_render(tmp_path):
    src = tmp_path / "bad.s"
    src.write_text("    addi r1, r0, 70000\n    bogus\n")
    r = run_as([str(src), "-o", str(tmp_path / "x.wso")])
    assert r.exit_code == 1
    assert "error: imm16 70000 (0x11170) is out of range" in r.output
    assert " --> " in r.output and "^^^^^" in r.output and "2 errors" in r.output
    assert "Traceback" not in r.output


def test_missing_file(tmp_path):
    r = run_as([str(tmp_path / "nope.s")])
    assert r.exit_code == 1 and "cannot read" in r.output


def test_bad_define():
    r = run_as([str(HERE / "ok_empty.s"), "-D", "X=abc"])
    assert r.exit_code == 1 and "-D" in r.output


def test_a_define_given_twice_with_two_values_is_refused(tmp_path):
    out = tmp_path / "x.wso"
    r = run_as([str(HERE / "ok_empty.s"), "-D", "P=4", "-D", "P=5", "-o", str(out)])
    assert r.exit_code == 1 and "-D P=5: P is already defined as 4 by an earlier -D" in r.output
    assert not out.exists()
    assert run_as([str(HERE / "ok_empty.s"), "-D", "P=4", "-D", "P=4", "-o", str(out)]).exit_code == 0


def test_objdump_rejects_garbage(tmp_path):
    p = tmp_path / "junk.wso"
    p.write_bytes(b"\x00" * 64)
    r = CliRunner().invoke(objdump_cli.main, [str(p)])
    assert r.exit_code == 1 and "not a valid object file" in r.output


def test_objdump_output_that_cannot_be_written(tmp_path):
    """-o into a missing folder: one line naming the file, exit 1 (it was a traceback)."""
    out = tmp_path / "a.wso"
    assert run_as([str(HERE / "ok_layout_two.s"), "-o", str(out)]).exit_code == 0
    r = CliRunner().invoke(objdump_cli.main, [str(out), "-o", str(tmp_path / "no" / "x.s")])
    assert r.exit_code == 1 and r.output.startswith("error: cannot write ") and "Traceback" not in r.output


def test_internal_error_is_one_line(monkeypatch, tmp_path):
    import wse.asm.cli as c

    def boom(*a, **k):
        raise ZeroDivisionError("simulated bug")
    monkeypatch.setattr(c, "assemble_file", boom)
    r = run_as([str(HERE / "ok_empty.s"), "-o", str(tmp_path / "x.wso")])
    assert r.exit_code == 2
    assert r.output.startswith("internal error, please report: ZeroDivisionError: simulated bug")
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [b"\xff\xfe\x00junk", b"", b"\x00\x01\x02", "\u00e9\u4e2d".encode()])
def test_junk_files_exit_cleanly(tmp_path, content):
    p = tmp_path / "j.s"
    p.write_bytes(content)
    r = run_as([str(p), "-o", str(tmp_path / "j.wso")])
    assert r.exit_code in (0, 1)
    assert "Traceback" not in r.output and "internal error" not in r.output


def test_console_scripts_declared():
    """Through the launcher (wse.cli.launch, tests/test_cli_launch.py), which runs these."""
    text = (HERE.parents[1] / "pyproject.toml").read_text()
    assert 'wse-as = "wse.cli.launch:wse_as"' in text
    assert 'wse-objdump = "wse.cli.launch:wse_objdump"' in text
    from wse.cli.launch import TOOLS
    assert TOOLS["wse-as"][0] == cli.__name__ and TOOLS["wse-objdump"][0] == objdump_cli.__name__


def test_out_of_range_li_points_at_the_value(tmp_path):
    """`li` is a pseudo-instruction (lui + ori of hi16/lo16 of its operand): a value that does
    not fit is the operand's fault, so the caret is under it, not under `li`; the same through
    a macro parameter."""
    src = tmp_path / "li.s"
    src.write_text(".macro put, V\n    li r4, V\n.endm\n"
                   "    li r3, 1e40\n    li r3, 0x1ffffffff\n    put 0x2ffffffff\n")
    r = run_as([str(src), "-o", str(tmp_path / "x.wso")])
    assert r.exit_code == 1 and "3 errors" in r.output
    assert "li.s:4:12" in r.output and "li.s:5:12" in r.output and "li.s:6:9" in r.output
    assert "li.s:4:5" not in r.output and "li.s:5:5" not in r.output


WARN_SRC = """\
    .route 3, west -> ramp
    .task main, local, start
    .task orphan, local
    .task shared, local, entry=main
    .task fed, data, color=3
    .task starved, data, color=4
    .dsd big, mem1d, base=buf, len=100000
    .dsd back, mem1d, base=buf, len=8, stride=-1
    .dsd fine, mem4d, base=buf, len=[4, 2], stride=[2, 1]
main:
    exit
fed:
starved:
    exit
    .data
buf: .zero 8, f32
"""


def test_warnings_api_and_cli(tmp_path):
    """Code that assembles but cannot do what it says: a data task no route feeds, a task that
    silently enters another task's code, a DSD that reaches outside SRAM as declared. Each is a
    warning at its line (AssemblyWarning from the API; printed by wse-as, which still writes the
    object, or fails with --Werror); the well-formed neighbours get none."""
    import warnings
    from wse.asm import AssemblyWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = assemble_text(WARN_SRC, "w.s")
    got = sorted((w.message.diagnostic.line, w.message.diagnostic.message) for w in caught
                 if isinstance(w.message, AssemblyWarning))
    assert [line for line, _ in got] == [3, 6, 7, 8]
    assert "task `orphan` has no label" in got[0][1] and "entry of task `main`" in got[0][1]
    assert "data task `starved` never runs here: no route of color 4" in got[1][1]
    assert "DSD `big` reaches word" in got[2][1] and "DSD `back` reaches word -" in got[3][1]
    assert data[:4] == b"WSEO"
    src = tmp_path / "w.s"
    src.write_text(WARN_SRC)
    out = tmp_path / "w.wso"
    r = run_as([str(src), "-o", str(out)])
    assert r.exit_code == 0 and out.read_bytes()[:4] == b"WSEO"
    assert "warning: data task `starved`" in r.output and " --> " in r.output and "4 warnings" in r.output
    out.unlink()
    r = run_as([str(src), "-o", str(out), "--Werror"])
    assert r.exit_code == 1 and not out.exists() and "(--Werror: no output written)" in r.output


def test_dsd_warning_inside_a_macro_names_the_callers_dsd():
    """A DSD declared by a macro under the name its caller passed is warned about under that
    name, not the macro parameter's."""
    import warnings
    from wse.asm import AssemblyWarning
    src = ".macro mk, D\n    .dsd D, mem1d, base=0, len=100000\n.endm\n    mk huge\n" \
          "    .task main, local, start\nmain:\n    exit\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assemble_text(src, "m.s")
    msgs = [str(w.message.diagnostic.message) for w in caught if isinstance(w.message, AssemblyWarning)]
    assert len(msgs) == 1 and msgs[0].startswith("DSD `huge` reaches word 99999")


def test_pseudo_instruction_errors_name_what_was_written(tmp_path):
    """An operand error in `mov`, `li`, `ret` or `b` is reported as the user wrote it: the
    pseudo-instruction, its usage and what to write instead, with the caret under the operand;
    never the instruction it expands to (addi, lui/ori, jr, beq)."""
    src = tmp_path / "p.s"
    src.write_text("    mov r1, 5\n    exit\n")
    r = run_as([str(src), "-o", str(tmp_path / "p.wso")])
    assert r.exit_code == 1
    assert r.output == (
        "error: operand `r2` of `mov` must be a register (r0-r15), got an expression\n"
        f" --> {src}:1:13\n"
        "  |\n"
        "1 |     mov r1, 5\n"
        "  |             ^\n"
        "  = note: usage: mov r1, r2\n"
        "  = note: to load a constant, use `li r1, 5`\n"
        "\n"
        "1 error\n")
    bad = ["mov r1, 5", "mov 5, r1", "mov r1, [r2]", "mov d0, r1", "mov r1", "mov r1, r2, r3",
           "li r1, r2", "li 5, 5", "li r1, [r2]", "li r1", "li d1, 0", "ret r1", "ret 5",
           "b r1", "b [r1]", "b", "b 1, 2", "li r1, 5 async ut0"]
    for line in bad:
        src.write_text(f"    {line}\n    exit\n")
        r = run_as([str(src), "-o", str(tmp_path / "p.wso")])
        name = line.split()[0]
        assert r.exit_code == 1 and "1 error\n" in r.output, (line, r.output)
        assert f"`{name}`" in r.output and f"usage: {name}" in r.output, (line, r.output)
        for under in ("addi", "lui", "ori", "jr r15", "beq"):
            assert under not in r.output, (line, r.output)


def _tool(prog, *args, preexec_fn=None, **kw):
    """The console script `prog` as installed (its entry point, wse.cli.launch), in a child."""
    fn = prog.replace("-", "_")
    return subprocess.run([sys.executable, "-c", f"import sys; from wse.cli.launch import {fn}; sys.exit({fn}())",
                           *map(str, args)], capture_output=True, text=True, timeout=120,
                          preexec_fn=preexec_fn, **kw)


def _file_size_limit(n):
    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return limit


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("prog, make", [
    ("wse-as", lambda tmp: [HERE.parents[1] / "kernels" / "examples" / "hello.s", "-o"]),
    ("wse-objdump", lambda tmp: [tmp / "hello.wso", "-o"]),
])
def test_a_failed_write_keeps_the_file_that_was_there(tmp_path, prog, make):
    """-o over an existing file, and the write fails (a file-size limit stands in for a full
    disk): the old file is as it was, no partial file is left beside it, exit 1. Both tools
    wrote in place: the old file was gone and half a new one was left."""
    assert _tool("wse-as", HERE.parents[1] / "kernels" / "examples" / "hello.s", "-o",
                 tmp_path / "hello.wso").returncode == 0
    out = tmp_path / "out"
    out.write_bytes(b"the old file")
    r = _tool(prog, *make(tmp_path), out, preexec_fn=_file_size_limit(2048))
    assert r.returncode == 1, r.stderr
    assert r.stderr == f"error: cannot write {out}: File too large; the file that was there is unchanged\n"
    assert out.read_bytes() == b"the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hello.wso", "out"]


@pytest.mark.parametrize("prog, args, said", [
    ("wse-as", [""], "error: SOURCE: the file name is empty; give the source file to assemble\n"),
    ("wse-as", ["{hello}", "-o", ""], "error: -o: the file name is empty; give the object file to write\n"),
    ("wse-objdump", [""], "error: OBJFILE: the file name is empty; give the object file to print\n"),
    ("wse-objdump", ["{obj}", "-o", ""], "error: -o: the file name is empty; give the file to write\n"),
    ("wse-as", ["{tmp}"], "error: cannot read {tmp}: Is a directory\n --> {tmp}\n\n1 error\n"),
    ("wse-as", ["{hello}", "-o", "{tmp}"], "error: cannot write {tmp}: Is a directory\n"),
    ("wse-objdump", ["{tmp}"], "error: cannot read {tmp}: Is a directory\n"),
    ("wse-objdump", ["{obj}", "-o", "{tmp}"], "error: cannot write {tmp}: Is a directory\n"),
])
def test_empty_names_and_folders_are_file_errors(tmp_path, prog, args, said):
    """An empty file name was taken as "." ("cannot read : Is a directory"); a folder was a
    click usage error, exit 2, the status documented for an internal error. Both are now what
    any file that cannot be read or written is: one line, exit 1."""
    hello = HERE.parents[1] / "kernels" / "examples" / "hello.s"
    obj = tmp_path / "o" / "hello.wso"
    obj.parent.mkdir()
    assert _tool("wse-as", hello, "-o", obj).returncode == 0
    fill = dict(hello=hello, obj=obj, tmp=tmp_path)
    r = _tool(prog, *[a.format(**fill) for a in args])
    assert (r.returncode, r.stderr) == (1, said.format(**fill))


def _address_space(n):
    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (n, resource.RLIM_INFINITY))
    return limit


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /dev/zero and RLIMIT_AS")
def test_endless_inputs_are_refused_without_reading_them_to_the_end(tmp_path):
    """wse-objdump /dev/zero and wse-as /dev/zero read until the memory was gone (a MemoryError
    traceback; wse-as "internal error, please report: MemoryError"). An object is read no
    further than its header says (wse.cli.files.read_object); a source no further than the
    64 MiB limit of docs/assembly.md."""
    r = _tool("wse-objdump", "/dev/zero", preexec_fn=_address_space(1 << 30))
    assert (r.returncode, r.stderr) == (1, "error: /dev/zero: not a valid object file: bad magic "
                                           "b'\\x00\\x00\\x00\\x00': not a wse object file (expected b'WSEO')\n")
    r = _tool("wse-as", "/dev/zero", "-o", tmp_path / "z.wso", preexec_fn=_address_space(1 << 30))
    assert (r.returncode, r.stderr) == (1, "error: the file is larger than 64 MiB, the most wse-as reads of a "
                                           "source file: is it a source file?\n --> /dev/zero\n\n1 error\n")
    obj = assemble_text(".fabric 1, 1\n.program p\n    .task main, local, start\nmain:\n    exit\n.endprogram\n.place p, 0, 0\n")
    (tmp_path / "long.wso").write_bytes(obj + b"junk")
    r = _tool("wse-objdump", tmp_path / "long.wso")
    assert (r.returncode, r.stderr) == (1, f"error: {tmp_path / 'long.wso'}: not a valid object file: header "
                                           f"says {len(obj)} bytes but the file has {len(obj) + 4}\n")


def test_source_snippets_escape_control_characters_and_cut_long_lines(tmp_path):
    """The snippet under an error showed the source line raw: an escape sequence in it (or the
    bytes of a binary file given as source, one long line) went to the terminal as is. Now
    control characters are escaped as Python writes them, the caret moved to stay under the
    character it marks, and a long line is cut to a window around the caret."""
    src = tmp_path / "ctl.s"
    src.write_bytes(b"    nop\x07 ; \x1b]0;title\x07\n")
    r = run_as([str(src), "-o", str(tmp_path / "x.wso")])
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0] == "error: syntax error: unexpected character U+0007"
    assert lines[3:5] == ["1 |     nop\\x07 ; \\x1b]0;title\\x07", "  |        ^^^^"]
    binary = tmp_path / "bin.s"
    binary.write_bytes(b"WSEO\x03\x00\x1b[2J" + bytes(b for b in range(256) if b != 10) * 4)
    r = run_as([str(binary), "-o", str(tmp_path / "x.wso")])
    assert r.exit_code == 1 and r.output.startswith("error: the file is not valid UTF-8 (byte 0x80 at offset ")
    assert not any(c != "\n" and not c.isprintable() for c in r.output), repr(r.output)
    snippet = r.output.splitlines()[3]
    assert snippet.startswith("1 | ...") and snippet.endswith("...") and len(snippet) < 180
    caret = r.output.splitlines()[4]
    assert snippet[caret.index("^")] == "\ufffd"       # under the byte that is not UTF-8


@pytest.mark.parametrize("value", ["\u0663", "\uff13.\uff15", "1\u0660"])
def test_defines_take_ascii_digits_only(tmp_path, value):
    """-D N=٣ was taken as 3 (Python's int() and float() read other scripts' digits), though
    the source language, and the other tools' integer options, take ASCII digits only."""
    r = run_as([str(HERE / "ok_empty.s"), "-D", f"N={value}", "-o", str(tmp_path / "x.wso")])
    assert r.exit_code == 1
    assert r.output == f"error: -D 'N={value}': the value must be an integer or a float in ASCII digits\n"


@pytest.mark.parametrize("prog, name, other", [("wse-as", "k.s", "k.s"), ("wse-as", "k.s", "./link.s"),
                                               ("wse-objdump", "k.wso", "k.wso")])
def test_an_output_over_its_own_input_is_refused(tmp_path, prog, name, other):
    """-o naming the input (also through a link): the source was replaced by its object (the
    listing replaced its object) with exit 0; now refused before anything is written."""
    src = tmp_path / "k.s"
    src.write_text((HERE / "ok_layout_two.s").read_text())
    assert _tool("wse-as", src, "-o", tmp_path / "k.wso").returncode == 0
    (tmp_path / "link.s").symlink_to(src)
    before = (tmp_path / name).read_bytes()
    r = _tool(prog, name, "-o", other, cwd=tmp_path)
    said = ("is the source file k.s: the object would replace it; give the object another name (e.g. -o k.wso)"
            if prog == "wse-as" else
            "is the object file k.wso: the listing would replace it; give the listing another name (e.g. -o k.dis.s)")
    assert (r.returncode, r.stderr) == (1, f"error: -o {other} {said}\n")
    assert (tmp_path / name).read_bytes() == before


def test_an_include_that_is_a_folder_says_so(tmp_path):
    """.include "d" where d is a folder: it was 'cannot find include file "d" (looked in: d)',
    which reads as if d did not exist."""
    (tmp_path / "d").mkdir()
    (tmp_path / "a.s").write_text('.include "d"\n')
    r = _tool("wse-as", tmp_path / "a.s", "-o", tmp_path / "a.wso")
    assert r.returncode == 1 and f'cannot find include file "d" (looked in: {tmp_path / "d"} (a folder, not a file))' in r.stderr


@pytest.mark.parametrize("prog", ["wse-as", "wse-objdump"])
def test_a_read_only_output_file_is_kept_whoever_runs_it(tmp_path, monkeypatch, prog):
    """The check of the test below, in this process, for any user (root may write a read-only
    file, so here the file is made unwritable to os.access, which the check asks): exit 1, the
    message, the file unchanged."""
    import os

    from click.testing import CliRunner

    from wse.asm import cli as asm_cli, objdump_cli
    from wse.cli import files
    src, obj, out = tmp_path / "k.s", tmp_path / "k.wso", tmp_path / "out"
    src.write_text((HERE / "ok_layout_two.s").read_text())
    assert _tool("wse-as", src, "-o", obj).returncode == 0
    out.write_bytes(b"keep")
    real = os.access
    monkeypatch.setattr(files.os, "access", lambda p, mode, **kw: False if (str(p) == str(out) and mode & os.W_OK)
                        else real(p, mode, **kw))
    main = asm_cli.main if prog == "wse-as" else objdump_cli.main
    r = CliRunner().invoke(main, [str(src if prog == "wse-as" else obj), "-o", str(out)])
    assert (r.exit_code, r.stderr) == (1, f"error: cannot write {out}: Permission denied (the file is "
                                          f"read-only); the file that was there is unchanged\n"), r.output
    assert out.read_bytes() == b"keep"


def _nobody_can_import_wse() -> bool:
    r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable, "-c",
                        "import wse.cli.launch"], capture_output=True, timeout=60)
    return r.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs file modes and setpriv (Linux)")
@pytest.mark.parametrize("prog", ["wse-as", "wse-objdump"])
def test_a_read_only_output_file_is_kept(prog):
    """-o onto a read-only file (chmod 444, in a folder the user may write): the file was
    replaced, as the output is renamed over it (open() would have refused it, and wse-emu
    does); now refused, the file unchanged. Run as another user when the tests run as root."""
    import os
    import shutil
    import tempfile
    top = Path(tempfile.mkdtemp())
    try:
        top.chmod(0o755)
        d = top / "d"
        d.mkdir()
        src, obj, out = d / "k.s", d / "k.wso", d / "out"
        src.write_text((HERE / "ok_layout_two.s").read_text())
        assert _tool("wse-as", src, "-o", obj).returncode == 0
        out.write_bytes(b"keep")
        out.chmod(0o444)
        pre = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("root, and no setpriv to run as another user (the test above checks it in-process)")
            if not _nobody_can_import_wse():
                pytest.skip("root, and uid 65534 cannot read this checkout (a private clone): the test "
                            "above checks the same in-process")
            for p in (d, src, obj, out):
                os.chown(p, 65534, 65534)
            pre = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        fn = prog.replace("-", "_")
        r = subprocess.run(pre + [sys.executable, "-c", f"import sys; from wse.cli.launch import {fn}; sys.exit({fn}())",
                                  str(src if prog == "wse-as" else obj), "-o", str(out)],
                           capture_output=True, text=True, timeout=120)
        assert (r.returncode, r.stderr) == (1, f"error: cannot write {out}: Permission denied (the file is "
                                               f"read-only); the file that was there is unchanged\n")
        assert out.read_bytes() == b"keep"
    finally:
        shutil.rmtree(top)


@pytest.mark.parametrize("prog", ["wse-as", "wse-objdump"])
def test_an_output_into_a_missing_folder_says_to_create_it(tmp_path, prog):
    """It was 'cannot write no/x: No such file or directory', which does not say that the
    folder is what is missing (wse-emu said so already, with mkdir -p)."""
    src = tmp_path / "k.s"
    src.write_text((HERE / "ok_layout_two.s").read_text())
    assert _tool("wse-as", src, "-o", tmp_path / "k.wso").returncode == 0
    out = tmp_path / "no" / "x"
    r = _tool(prog, src if prog == "wse-as" else tmp_path / "k.wso", "-o", out)
    assert (r.returncode, r.stderr) == (1, f"error: cannot write {out}: No such file or directory (the folder "
                                           f"{out.parent} does not exist: mkdir -p {out.parent})\n")
