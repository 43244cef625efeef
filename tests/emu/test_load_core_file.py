"""load_core (wse-bench --against CORE.so) checks the file before the dynamic loader maps it: a
build cut short passes the loader's own checks and then kills the process with SIGBUS when a
page past the file's end is touched. Every segment and the section headers must be inside the
file, and the ELF class and machine must be this process's; the error is one line naming the
file. The core is then loaded from a private copy, so that cutting or rebuilding the file later
cannot fault the process either."""
import struct
import subprocess
import sys
import textwrap

import pytest

import wse.emu._core as installed
from wse.emu import fabric as FB
from wse.emu.errors import CoreVersionError

CORE = open(installed.__file__, "rb").read()
ELF = CORE[:4] == b"\x7fELF"
needs_elf = pytest.mark.skipif(not ELF, reason="the installed core is not an ELF file")


def _ends():
    """Where the file must not end: inside the ELF header, the program headers, each segment
    with bytes in the file, the section headers (little-endian ELF64, the installed core)."""
    phoff, shoff = struct.unpack_from("<QQ", CORE, 32)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", CORE, 54)
    ends = {"ELF header": 64, "program headers": phoff + phnum * phentsize}
    for i in range(phnum):
        _, _, off, _, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", CORE, phoff + i * phentsize)
        if filesz:
            ends[f"segment {i}"] = off + filesz
    ends["section headers"] = shoff + shnum * shentsize
    return ends


def _write(tmp_path, data, name="_core.abi3.so"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _refused(path, *words):
    with pytest.raises(CoreVersionError) as e:
        FB.load_core(path)
    msg = str(e.value)
    assert msg.startswith(str(path)) and "\n" not in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


@needs_elf
def test_a_core_cut_short_is_refused_saying_so(tmp_path):
    assert CORE[4] == 2 and CORE[5] == 1, "these cuts assume a little-endian ELF64 core"
    _refused(_write(tmp_path, CORE[:5000], "trunc.so"), "is not a complete shared object",
             "the file has 5000 bytes", "(cut short?)")
    for what, end in _ends().items():
        for n in (end - 1, end // 2 + 1):
            if n > 0:
                msg = _refused(_write(tmp_path, CORE[:n]), "is not a complete shared object", "(cut short?)")
                assert f"the file has {n} bytes" in msg


def test_a_file_that_is_not_a_shared_object_is_refused(tmp_path):
    _refused(_write(tmp_path, b"not an ELF file\n" * 100), "is not a shared object (no ELF header)")
    _refused(_write(tmp_path, b""), "is not a shared object (no ELF header)")


@needs_elf
def test_another_machine_or_class_is_refused(tmp_path):
    other = bytearray(CORE)
    other[18:20] = struct.pack("<H", 183 if CORE[18:20] != struct.pack("<H", 183) else 62)
    _refused(_write(tmp_path, bytes(other)), "is a shared object for ", "not for this machine")
    other = bytearray(CORE)
    other[4] = 1 if CORE[4] == 2 else 2
    _refused(_write(tmp_path, bytes(other)), "-bit shared object; this Python is ")
    other = bytearray(CORE)
    other[16:18] = struct.pack("<H", 2)                  # ET_EXEC
    _refused(_write(tmp_path, bytes(other)), "is an ELF file but not a shared object")


@needs_elf
def test_wse_bench_against_a_core_cut_short(tmp_path):
    """The audit's case: it died with SIGBUS (exit 135) and no message."""
    trunc = _write(tmp_path, CORE[:5000], "trunc.so")
    r = subprocess.run([sys.executable, "-m", "wse.kernels.bench", "--only", "ab", "--against", str(trunc)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert f"--against: {trunc} is not a complete shared object" in r.stderr
    assert "(cut short?)" in r.stderr and "Traceback" not in r.stderr


def test_a_core_file_cut_after_it_was_loaded_does_not_fault(tmp_path):
    """Loaded from a private copy: the file can be cut (a rebuild over it) while the process
    runs code it has not touched yet."""
    copy = _write(tmp_path, CORE)
    script = textwrap.dedent(f"""
        from wse.asm import assemble_text
        from wse.emu import fabric as FB
        core = FB.load_core({str(copy)!r})
        open({str(copy)!r}, "r+b").truncate(5000)
        with FB.use_core(core):
            fab = FB.Fabric.from_object(assemble_text(
                ".task main, local, start\\nmain:\\n    addi r2, r2, 3\\n    exit\\n"))
            fab.run()
            print("r2 =", fab.pe_state(0, 0)["regs"][2], fab.stats()["instructions"])
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.strip() == "r2 = 3 2"


def test_two_loads_give_two_cores(tmp_path):
    """Each load is its own copy of the library (the loader would hand back an earlier one for
    a path it has seen, such as a reused /proc/self/fd/N), also after a refused file."""
    a = FB.load_core(_write(tmp_path, CORE, "a.so"))
    with pytest.raises(CoreVersionError):
        FB.load_core(_write(tmp_path, b"\x7fELF", "bad.so"))
    b = FB.load_core(_write(tmp_path, CORE, "b.so"))
    assert a.lib is not b.lib and a.__file__ != b.__file__
    with FB.use_core(a):
        fa = FB.Fabric(2, 1)
    with FB.use_core(b):
        assert FB.Fabric(2, 1).width == 2
    with FB.use_core(a):
        assert fa.cycle == 0


def test_without_memory_files_the_copy_is_a_temporary_file(tmp_path, monkeypatch):
    """Where os.memfd_create is missing (not Linux): a copy in a folder of its own, removed once
    the library is mapped."""
    import os
    import tempfile

    monkeypatch.delattr(os, "memfd_create", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    core = FB.load_core(_write(tmp_path, CORE, "c.so"))
    assert core.__file__.startswith(str(tmp_path / "tmp" / "wse-core-"))
    assert list((tmp_path / "tmp").iterdir()) == []
    with FB.use_core(core):
        assert FB.Fabric(3, 1).width == 3
