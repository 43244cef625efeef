"""The five console scripts through their entry points (wse.cli.launch): a Ctrl-C, an
out-of-memory or a failed import while they start, standard output that cannot be written (a
full disk, a file-size limit, closed) or whose reader goes away, and the exit statuses their
--help gives. Each runs in a child process, as a user runs it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "kernels" / "examples"
LINUX = sys.platform.startswith("linux")
TOOLS = ("wse-as", "wse-objdump", "wse-emu", "wse-bench", "wse-llm")


def launch_code(prog: str, before: str = "") -> str:
    fn = prog.replace("-", "_")
    return f"import sys\n{before}\nfrom wse.cli.launch import {fn}\nsys.exit({fn}())\n"


def run(prog, *args, before="", **kw):
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    return subprocess.run([sys.executable, "-c", launch_code(prog, before), *map(str, args)],
                          text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def objs(tmp_path_factory):
    d = tmp_path_factory.mktemp("objs")
    for name, defs in (("hello", []), ("deadlock", []),
                       ("jacobi2d", ["-D", "PX=3", "-D", "PY=2", "-D", "NX=4", "-D", "NY=3", "-D", "T=2",
                                     "--arch", "wse3"])):
        r = run("wse-as", EXAMPLES / f"{name}.s", "-o", d / f"{name}.wso", *defs)
        assert r.returncode == 0, r.stderr
    return d


def test_console_scripts_are_the_launcher():
    import tomllib
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {p: f"wse.cli.launch:{p.replace('-', '_')}" for p in TOOLS}


# A meta-path hook that stops the start of a tool in the import of `name` (numpy, click): it says
# so on stderr and then waits, or raises there.
HOOK = """
import time
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == {name!r}:
            {action}
        return None
sys.meta_path.insert(0, Hook())
"""


@pytest.mark.parametrize("prog, module", [("wse-emu", "numpy"), ("wse-as", "click"),
                                          ("wse-objdump", "click"), ("wse-bench", "click"),
                                          ("wse-llm", "numpy")])
def test_ctrl_c_while_starting_is_one_line_and_130(prog, module):
    """A real SIGINT while the tool imports its modules: it was a KeyboardInterrupt traceback
    out of the console script's imports (before main() could catch anything)."""
    # (the wait is short sleeps: a SIGINT that lands before a single long sleep starts is only
    # acted on when that sleep ends, which on a busy machine made this test time out)
    before = HOOK.format(name=module, action='sys.stderr.write("importing\\n"); sys.stderr.flush()\n'
                                              '            for _ in range(600): time.sleep(0.1)')
    p = subprocess.Popen([sys.executable, "-c", launch_code(prog, before), "x"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stderr.readline() == "importing\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert (p.returncode, err) == (130, f"{prog}: interrupted\n")


@pytest.mark.parametrize("prog, status", [("wse-emu", 2), ("wse-as", 1), ("wse-llm", 3), ("wse-bench", 1)])
def test_out_of_memory_while_starting_is_one_line(prog, status):
    """A MemoryError in an import (what a tight ulimit -v gives): one line, the tool's
    out-of-memory status, with the limit when there is one."""
    module = "click" if prog in ("wse-as", "wse-bench") else "numpy"
    r = run(prog, "x", before=HOOK.format(name=module, action="raise MemoryError"))
    assert r.returncode == status and "Traceback" not in r.stderr
    assert r.stderr.endswith("out of host memory while starting; free memory or raise the limit\n")
    assert r.stderr.count("\n") == 1


@pytest.mark.skipif(not LINUX, reason="needs RLIMIT_AS")
def test_a_module_that_cannot_load_under_a_memory_limit_names_the_limit():
    """Under ulimit -v a shared library's segment cannot be mapped (ImportError: failed to map
    segment), or CPython gives a SystemError: one line that names the limit."""
    before = ("import resource\nresource.setrlimit(resource.RLIMIT_AS, (8 << 30, resource.RLIM_INFINITY))\n"
              + HOOK.format(name="numpy", action='raise ImportError("libx.so: failed to map segment from shared object")'))
    r = run("wse-llm", "x", before=before.replace("numpy", "wse.kernels.llm.cli"))
    assert r.returncode == 3 and "Traceback" not in r.stderr      # wse-llm's out-of-memory status
    assert r.stderr == ("wse-llm: error: cannot start: ImportError: libx.so: failed to map segment from shared "
                        "object; the likely cause is the memory limit (the address space is limited to "
                        "8388608 KiB: ulimit -v): raise it\n")


def test_an_internal_error_is_one_line():
    """An exception the tool does not handle (a bug): one line saying so and where."""
    before = "import wse.emu.cli as c\ndef boom(argv=None):\n    raise ZeroDivisionError('simulated bug')\nc.main = boom\n"
    r = run("wse-emu", "x", before=before)
    assert r.returncode == 2
    assert r.stderr.startswith("wse-emu: internal error, please report: ZeroDivisionError: simulated bug (at ")
    assert r.stderr.count("\n") == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("prog, args, status, prefix", [
    ("wse-objdump", ["{objs}/hello.wso"], 1, "error: "),
    ("wse-llm", ["--model", "tiny", "-n", "3"], 2, "wse-llm: error: "),
    ("wse-llm", ["generate", "--model", "tiny", "-n", "3"], 2, "wse-llm: error: "),
    ("wse-llm", ["info"], 2, "wse-llm: error: "),
    ("wse-as", ["--help"], 1, "error: "),
    ("wse-bench", ["--help"], 1, "wse-bench: error: "),
])
def test_stdout_on_a_full_disk_is_one_error(objs, prog, args, status, prefix):
    """stdout on a full disk (/dev/full): one line and the tool's status for an output that
    cannot be written. It was an OSError traceback (and exit 1, the status of other errors)."""
    with open("/dev/full", "w") as full:
        r = run(prog, *[a.format(objs=objs) for a in args], stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == status, r.stderr
    assert r.stderr.endswith(f"{prefix}cannot write to standard output: No space left on device\n"), r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr


@pytest.mark.skipif(not LINUX, reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_objdump_to_a_file_that_hits_a_size_limit_is_an_error(objs, tmp_path, unbuffered):
    """The listing redirected into a file that reaches a size limit (ulimit -f; a quota or a
    full disk is the same): exit 1 and one line. It was cut at the limit with exit 0 and no
    word (with PYTHONUNBUFFERED=1, print drops the rest of a short write silently)."""
    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    out = tmp_path / "j.dis.s"
    env = dict(os.environ, PYTHONUNBUFFERED=unbuffered)
    with open(out, "w") as fh:
        r = run("wse-objdump", objs / "jacobi2d.wso", stdout=fh, stderr=subprocess.PIPE, preexec_fn=limit, env=env)
    assert (r.returncode, r.stderr) == (1, "error: cannot write to standard output: File too large\n")


@pytest.mark.parametrize("prog, args", [("wse-objdump", ["{objs}/hello.wso"]), ("wse-llm", ["info"]),
                                        ("wse-emu", ["{objs}/hello.wso", "--stats"])])
def test_stdout_closed_is_an_error(objs, prog, args):
    """Started with stdout closed (>&-): Python drops print()s silently; now one line, not
    exit 0 with nothing written anywhere."""
    r = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-c", launch_code(prog),
                        *[a.format(objs=objs) for a in args]], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "cannot write to standard output: it is closed" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("prog, args", [
    ("wse-objdump", ["{objs}/jacobi2d.wso"]),
    ("wse-emu", ["{objs}/hello.wso", "--stats"]),
    ("wse-llm", ["info"]),
    ("wse-as", ["--help"]),
    ("wse-bench", ["--help"]),
])
@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_a_reader_that_goes_away_is_not_an_error(objs, prog, args, unbuffered):
    """stdout piped into a reader that has closed it (`| head -c0`): exit 0 and nothing on
    stderr, for every tool (wse-objdump exited 1, and with buffered stdout Python printed
    "Exception ignored ... BrokenPipeError" and exited 120)."""
    p = subprocess.Popen([sys.executable, "-c", launch_code(prog), *[a.format(objs=objs) for a in args]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, PYTHONUNBUFFERED=unbuffered))
    p.stdout.close()
    err = p.stderr.read()
    assert (p.wait(timeout=300), err) == (0, "")


@pytest.mark.parametrize("prog, words", [
    ("wse-as", ["1 when the source has errors", "2 for bad usage", "130 when interrupted"]),
    ("wse-objdump", ["Exit status: 0", "1 when the object", "130 when interrupted"]),
    ("wse-emu", ["Exit status: 0 on completion", "130 when interrupted"]),
    ("wse-bench", ["Exit status: 0", "130 when interrupted"]),
    ("wse-llm", ["Exit status: 0 done", "130 interrupted"]),
])
def test_help_states_the_exit_statuses(prog, words):
    r = run(prog, "--help")
    assert r.returncode == 0 and r.stderr == ""
    text = " ".join(r.stdout.split())
    for w in words:
        assert w in text, (w, text)


@pytest.mark.skipif(not LINUX or "libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="needs /proc and RLIMIT_AS (and no AddressSanitizer)")
@pytest.mark.parametrize("room_mib", [8, 30, 60, 75])
def test_a_real_memory_limit_while_starting_is_one_line(room_mib):
    """A real address-space limit a little above what Python uses when the tool starts: every
    way the start can fail (a MemoryError, a library whose segment cannot be mapped, numpy's
    ImportError of paragraphs, OpenBLAS exiting the process with its own message when it
    cannot allocate its buffers) is one line and the out-of-memory status."""
    before = ("import resource\n"
              "vm = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024\n"
              f"resource.setrlimit(resource.RLIMIT_AS, (vm + ({room_mib} << 20), resource.RLIM_INFINITY))\n")
    r = run("wse-emu", ROOT / "nothing.wso", before=before)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("wse-emu: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "OpenBLAS" not in r.stderr and "Traceback" not in r.stderr
    # (a numpy that loads in less room goes on to the missing file)
    assert "(the address space is limited to " in r.stderr or "cannot read" in r.stderr


def test_a_module_that_cannot_load_later_is_one_line(tmp_path):
    """A module imported on the way, after the start (wse-objdump imports its disassembler when
    it needs it): it was "internal error, please report", although under a memory limit (where
    a library's segment cannot be mapped) it is the limit's doing."""
    assert run("wse-as", EXAMPLES / "hello.s", "-o", tmp_path / "h.wso").returncode == 0
    before = HOOK.format(name="wse.asm.objdump", action='raise ImportError("libx.so: failed to map segment")')
    r = run("wse-objdump", tmp_path / "h.wso", before=before)
    assert (r.returncode, r.stderr) == (2, "error: cannot load a module: ImportError: libx.so: failed to map "
                                           "segment; the installation may be broken: reinstall wse\n")


@pytest.mark.parametrize("argv, said", [
    ([sys.executable, "-c", launch_code("wse-emu"), b"n\xe9.wso"], b"wse-emu: error: cannot read n\\xe9.wso: No such file"),
    ([sys.executable, "-c", launch_code("wse-llm"), "info", "--model", b"\xff.gguf"],
     b"wse-llm: error: GGUF file not found: \\xff.gguf\n"),
    ([sys.executable, "-m", "wse.kernels.table", "--doc", b"d\xff.md"],
     b"python -m wse.kernels.table: error: d\\xff.md lacks the markers"),
])
def test_a_file_name_that_is_not_utf8_is_shown_as_its_bytes(tmp_path, argv, said):
    """A Latin-1 file name (bytes that are not UTF-8) was shown as \\udce9, the surrogate Python
    keeps it as; now as the byte, \\xe9, as the messages show the bytes of a file's contents."""
    if b"d\xff.md" in argv:
        (tmp_path / os.fsdecode(b"d\xff.md")).write_text("no markers\n")
    r = subprocess.run([os.fsencode(a) if isinstance(a, str) else a for a in argv], capture_output=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode != 0 and said in r.stderr and b"\\udc" not in r.stderr, r.stderr
