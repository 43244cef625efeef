"""The python -m tools (tutorial, measure, table, gemv bench, collectives, wse.isa) answer a bad
argument or file with one line and exit 2, before any long run, and --help works (an
adversarial pass found tracebacks, a 0 silently replaced by the default, runs that never ended
and a --help that ran the benchmark)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BAD = [
    (["wse.kernels.gemv.tutorial", "1", "--m", "-3"], "--m must be in 1..65536, got -3"),
    (["wse.kernels.gemv.tutorial", "1", "--m", "0"], "--m must be in 1..65536, got 0"),
    (["wse.kernels.gemv.tutorial", "5", "--kx", "512", "--ky", "512"], "leaves PEs without work"),
    (["wse.kernels.gemv.tutorial", "1", "--m", "200", "--n", "200"], "does not fit its SRAM"),
    (["wse.kernels.gemv.tutorial", "--refresh-doc"], "--refresh-doc takes the document"),
    (["wse.kernels.gemv.tutorial", "--refresh-doc", "/"], "--refresh-doc: a folder, not a document: /"),
    (["wse.kernels.lib.measure", "--per-pe", "99999999"], "--per-pe must be in 1..4096"),
    (["wse.kernels.lib.measure", "--grid", "0", "2"], "--grid W H must be in 1..64"),
    (["wse.kernels.table", "--doc", "/nonexistent/x.md"], "cannot read /nonexistent/x.md"),
    (["wse.kernels.table", "--print", "--check"], "--print and --check exclude each other"),
    (["wse.kernels.gemv.bench", "--bogus"], "unrecognized arguments: --bogus"),
    (["wse.kernels.gemm.bench", "--bogus"], "unrecognized arguments: --bogus"),
    (["wse.kernels.gemm.bench", "--grid", "0"], "argument --grid: must be in 1..256, got 0"),
    (["wse.kernels.gemm.bench", "--grid", "1", "--size", "4000"], "use grid=("),
    (["wse.kernels.attention", "--group", "9"], "group must be in 1..8, got 9"),
    # the kernel CLIs: a bad option, and a size the kernel cannot hold (the driver's SizeError)
    (["wse.kernels.argmax", "--grid", "4"], "argument --grid: expected WxH, e.g. 4x2, got '4'"),
    (["wse.kernels.argmax", "--n", "3", "--grid", "2x2"], "N=3 cannot be spread over 2x2 = 4 PEs"),
    (["wse.kernels.softmax", "--n", "0"], "argument --n: must be in 1.., got 0"),
    (["wse.kernels.softmax", "--n", "30000", "--grid", "1x1"], "on 1x1: use grid=("),
    # an N no grid holds, refused before its inputs are made (numpy's "Maximum allowed dimension
    # exceeded", or minutes and gigabytes searching for a grid); one that a huge grid holds, named
    (["wse.kernels.softmax", "--n", "10" + "0" * 20], "does not fit any grid: a PE's 49,152 bytes"),
    (["wse.kernels.argmax", "--n", "10" + "0" * 11], "does not fit any grid"),
    (["wse.kernels.norm", "--n", "10000000000"], "so N <= 64,864 on 4x4: use grid=(1571, 1571) or larger"),
    (["wse.kernels.rope", "--n", "10" + "0" * 20], "hold at most 1,536 pairs"),
    (["wse.kernels.elementwise", "silu", "--n", "10" + "0" * 20], "does not fit any grid"),
    (["wse.kernels.norm", "--eps", "-1"], "argument --eps: must be a finite number >= 0"),
    (["wse.kernels.rope", "--n", "100"], "N=100 must be a multiple of an even head_dim=64"),
    (["wse.kernels.rope", "--pos", "200000"], "pos must be in 0..131071, got 200000"),
    (["wse.kernels.elementwise", "div"], "argument op: invalid choice: 'div'"),
    (["wse.kernels.elementwise", "add", "--n", "5000", "--grid", "1x1"], "use grid=(2, 1) or larger"),
    (["wse.kernels.gemv", "--m", "400", "--n", "400", "--grid", "1x1"], "A is 400 x 400 on grid=(1, 1)"),
    # (A was made first: 8 GiB, "out of host memory: choose a smaller problem")
    (["wse.kernels.gemv", "--m", "65536", "--n", "65536", "--grid", "1x1"], "use grid=(475, 379) or larger"),
    (["wse.kernels.gemv", "--arch", "wse4"], "argument --arch: invalid choice: 'wse4'"),
    (["wse.kernels.gemm", "--grid", "2x3"], "grid=(2, 3): the GEMM kernel (Cannon's algorithm) needs a square grid"),
    (["wse.kernels.gemm", "--m", "200", "--k", "200", "--n", "200", "--grid", "1x1"], "use grid=(4, 4) or larger"),
    (["wse.kernels.gemm", "--k", "0"], "argument --k: must be in 1..65536, got 0"),
    (["wse.kernels.collectives", "reduce", "--scheme", "tree", "--grid", "300x1"], "lines of up to 256"),
    (["wse.kernels.collectives", "reduce", "--root", "5,0"], "root (5, 0) is not a PE of the 4 x 4 rectangle"),
    (["wse.kernels.collectives"], "the following arguments are required: kind"),
    # integers in ASCII digits, as the console scripts take them (int() took '３'), and a seed's
    # error names its option (attention's was numpy's "expected non-negative integer")
    (["wse.kernels.softmax", "--n", "３"], "argument --n: expected an integer (ASCII digits), got '３'"),
    (["wse.kernels.softmax", "--grid", "４x4"], "argument --grid: expected WxH, e.g. 4x2, got '４x4'"),
    (["wse.kernels.softmax", "--grid=-1x2"], "argument --grid: W and H must be in 1..4096, got '-1x2'"),
    (["wse.kernels.softmax", "--grid", "-1x2"], "argument --grid: W and H must be in 1..4096, got '-1x2'"),
    (["wse.kernels.collectives", "reduce", "--root", "-1,0"], "root (-1, 0) is not a PE of the 4 x 4 rectangle"),
    (["wse.kernels.collectives", "reduce", "--root", "３,0"], "argument --root: expected X,Y"),
    (["wse.kernels.rope", "--pos", "３"], "argument --pos: expected an integer (ASCII digits)"),
    (["wse.kernels.attention", "--seed=-1"], "argument --seed: must be an integer >= 0, got '-1'"),
    (["wse.kernels.attention", "--P", "３"], "argument --P: expected an integer (ASCII digits)"),
    (["wse.kernels.attention", "--arch", "wse9"], "argument --arch: invalid choice: 'wse9'"),
    (["wse.kernels.gemv.tutorial", "1", "--m", "３"], "argument --m: expected an integer (ASCII digits)"),
    (["wse.kernels.lib.measure", "--per-pe", "３"], "argument --per-pe: expected an integer (ASCII digits)"),
    # (1e300 overflows fp32: it was said, after a RuntimeWarning with its source line)
    (["wse.kernels.elementwise", "scale", "--alpha", "1e300"], "argument --alpha: must be a finite fp32 number"),
    (["wse.kernels.collectives", "reduce", "--n", "9999999999"], "the reduce on 4x4 takes at most n=12,279 (--limits)"),
]


@pytest.mark.parametrize("argv, words", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_argument_is_one_line(argv, words):
    r = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
    if argv[0] in {f"wse.kernels.{k}" for k in ("argmax", "attention", "collectives", "elementwise", "gemm", "gemv", "norm",
                                                "rope", "softmax")}:
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"python -m {argv[0]}: error: "), r.stderr


# python -m wse.kernels.<name>: one small run per kernel (its default tolerance is the tests')
KERNEL_CLIS = [
    ["wse.kernels.argmax", "--n", "100", "--grid", "3x2", "--ties"],
    ["wse.kernels.softmax", "--n", "100", "--grid", "2x3"],
    ["wse.kernels.norm", "--n", "100", "--grid", "4x1", "--eps", "1e-6"],
    ["wse.kernels.rope", "--n", "64", "--head-dim", "16", "--grid", "2x2", "--pos", "77"],
    ["wse.kernels.elementwise", "add", "--n", "50", "--grid", "2x2"],
    ["wse.kernels.elementwise", "swiglu", "--n", "30", "--grid", "1x3"],
    ["wse.kernels.gemv", "--m", "30", "--n", "20", "--grid", "2x3"],
    ["wse.kernels.gemv", "--m", "30", "--n", "20", "--grid", "2x3", "--transpose"],
    ["wse.kernels.gemm", "--m", "30", "--k", "20", "--n", "10", "--grid", "3x3"],
    ["wse.kernels.collectives", "allreduce", "--n", "9", "--grid", "3x2", "--scheme", "tree", "--root", "1,1"],
    ["wse.kernels.collectives", "broadcast", "--n", "9", "--grid", "2x2", "--backend", "reference"],
]


@pytest.mark.parametrize("argv", KERNEL_CLIS, ids=[" ".join(a[:2]) for a in KERNEL_CLIS])
def test_kernel_cli_runs_and_reports(argv):
    import json
    r = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "PASS" in r.stdout and " cycles" in r.stdout and "max abs error" in r.stdout
    grid = argv[argv.index("--grid") + 1]
    assert f"on {grid} = " in r.stdout
    j = subprocess.run([sys.executable, "-m", *argv, "--json"], capture_output=True, text=True, timeout=120)
    d = json.loads(j.stdout)
    w, h = (int(v) for v in grid.split("x"))
    assert j.returncode == 0 and d["pass"] is True and d["grid"] == [w, h] and d["pes"] == w * h
    assert d["cycles"] > 0 and d["max_abs_err"] >= 0 and d["tolerance"]
    assert f"{d['cycles']:,} cycles" in r.stdout                     # the same run, both ways
    assert d["backend"] == ("reference" if "reference" in argv else "c")


def test_kernel_cli_limits_and_help():
    import json
    r = subprocess.run([sys.executable, "-m", "wse.kernels.softmax", "--limits", "--grid", "1x1", "--json"],
                       capture_output=True, text=True, timeout=60)
    d = json.loads(r.stdout)
    from wse.kernels.softmax.run import limits
    assert r.returncode == 0 and d["max_n"] == limits((1, 1)).max_n > 6000 and d["min_n"] == 1
    r = subprocess.run([sys.executable, "-m", "wse.kernels.elementwise", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "silu: rtol = 10u" in r.stdout and "Exit status: 0 PASS, 1 FAIL" in r.stdout
    r = subprocess.run([sys.executable, "-m", "wse.kernels.collectives.run", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "--sweep" in r.stdout


def test_kernel_cli_exit_1_on_a_numeric_failure(monkeypatch, capsys):
    """A result outside the tolerance is FAIL and exit 1 (the model is made wrong by one ulp)."""
    import numpy as np

    import wse.kernels.llm.reference as ref
    from wse.kernels.softmax.__main__ import main
    good = ref.softmax
    monkeypatch.setattr(ref, "softmax", lambda x: np.nextafter(good(x), np.float32(2)) * np.float32(1.001))
    assert main(["--n", "40", "--grid", "2x2"]) == 1
    assert "FAIL" in capsys.readouterr().out
    monkeypatch.setattr(ref, "softmax", good)
    assert main(["--n", "40", "--grid", "2x2"]) == 0


def test_help_and_broken_pipe():
    r = subprocess.run([sys.executable, "-m", "wse.kernels.gemv.bench", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "usage: python -m wse.kernels.gemv.bench" in r.stdout
    # output closed early (| head -1) is not an error
    r = subprocess.run(f"{sys.executable} -m wse.kernels.lib.measure --per-pe 16 --grid 1 1 | head -1",
                       shell=True, capture_output=True, text=True, timeout=120)
    assert r.stdout.count("\n") == 1 and "Traceback" not in r.stderr


def test_isa_check_on_unreadable_files(tmp_path):
    """--root with a derived file that is a directory: one line, exit 2."""
    (tmp_path / "csrc" / "wse_isa.h").mkdir(parents=True)
    r = subprocess.run([sys.executable, "-m", "wse.isa", "--check", "--root", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_FSIZE")
def test_isa_write_that_cannot_be_written_keeps_the_old_file(tmp_path):
    """--write of a derived file past a file-size limit (a full disk is the same): the file that
    was there stays whole (it was written in place, so a failure left it cut), one line says so,
    exit 2, and no partial file is left beside it."""
    (tmp_path / "csrc").mkdir()
    old = tmp_path / "csrc" / "wse_isa.h"
    old.write_text("stale\n" * 10)
    code = ("import resource, sys\nfrom wse.isa.__main__ import run\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
            f"sys.exit(run(['--write', '--root', {str(tmp_path)!r}]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith(f"error: cannot write {old}: File too large; the file "
                                                     f"that was there is unchanged"), r.stderr
    assert old.read_text() == "stale\n" * 10
    assert sorted(p.name for p in old.parent.iterdir()) == ["wse_isa.h"]


def test_kernel_table_finds_the_docs_of_the_current_checkout(tmp_path, monkeypatch):
    """After `pip install .` the package has no docs/ beside it: the table tool takes
    ./docs/kernels.md, and with neither it says where to run it or to give --doc."""
    from wse.kernels import table
    monkeypatch.setattr(table, "__file__", str(tmp_path / "site" / "wse" / "kernels" / "table.py"))
    monkeypatch.chdir(tmp_path)
    assert table.default_doc() == tmp_path / "site" / "wse" / "docs" / "kernels.md"   # neither
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "kernels.md").write_text("x")
    assert table.default_doc().resolve() == tmp_path / "docs" / "kernels.md"


def test_kernel_table_without_docs_says_where_to_run_it(tmp_path, capsys, monkeypatch):
    from wse.kernels import table
    monkeypatch.setattr(table, "__file__", str(tmp_path / "site" / "wse" / "kernels" / "table.py"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        table.main(["--check"])
    assert e.value.code == 2
    assert "run this from the root of a source checkout, or give the file with --doc PATH" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The python -m tools end as the console scripts do (guarded goes through wse.cli.launch.run):
# a command-line audit found tracebacks for Ctrl-C (every guarded tool; wse.emu.perf),
# "Aborted!" and exit 1 for Ctrl-C in fabric_bench (click), and "[Errno 28] No space left on
# device" (or a traceback) for a stdout on a full disk.
def _interrupted_in(module: str, target: str, *args: str):
    """python -m `module` with `target` (module:function, reached during the run) replaced by a
    wait; a SIGINT once the run is there."""
    import signal
    mod, fn = target.split(":")
    code = (f"import sys, time, runpy, {mod} as m\n"
            f"def wait(*a, **k):\n    sys.stderr.write('running\\n'); sys.stderr.flush()\n"
            f"    for _ in range(600): time.sleep(0.1)\n"
            f"m.{fn} = wait\nsys.argv[0] = {module!r}\nrunpy.run_module({module!r}, run_name='__main__')\n")
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stderr.readline() == "running\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, err


@pytest.mark.parametrize("module, target, args", [
    ("wse.kernels.softmax", "wse.kernels.softmax.run:softmax", ["--n", "64", "--grid", "2x2"]),
    ("wse.emu.perf", "wse.isa.builder:ImageBuilder", []),
    ("wse.kernels.llm.fabric_bench", "wse.kernels.llm.tokenizer:load_model", ["--roles", "tiny"]),
    ("wse.isa", "wse.isa.gen:outputs", ["--check"]),      # (its own guard: isa/ imports no wse.cli)
])
def test_ctrl_c_is_one_line_and_130(module, target, args):
    rc, err = _interrupted_in(module, target, *args)
    assert rc == 130 and err.strip() == f"python -m {module}: interrupted", err


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["wse.kernels.softmax", "--limits"],
                                  ["wse.kernels.llm.fabric_bench", "--help"], ["wse.emu.perf", "--help"],
                                  ["wse.isa", "--check"]])
def test_stdout_on_a_full_disk_is_one_line(argv):
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", *argv], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=60)
    assert (r.returncode, r.stderr) == (2, f"python -m {argv[0]}: error: cannot write to standard output: "
                                           f"No space left on device\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_FSIZE")
def test_kernel_table_that_cannot_be_written_keeps_the_document(tmp_path):
    """The table rewritten into a file that reaches a size limit (a full disk is the same): the
    document was left cut at the limit, its end lost; now it is unchanged and one line says so."""
    doc = tmp_path / "k.md"
    doc.write_text((ROOT / "docs" / "kernels.md").read_text())
    before = doc.read_bytes()
    code = ("import resource, sys\nimport wse.kernels.table as t\nfrom wse.kernels._cli import guarded\n"
            "t.providers = lambda: [lambda: [dict(kernel='x' * 5000, problem='p', pes='1x1', cycles=1)]]\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 100}, {len(before) + 100}))\n"
            "sys.exit(guarded('python -m wse.kernels.table', lambda: t.main(sys.argv[1:])))\n")
    r = subprocess.run([sys.executable, "-c", code, "--doc", str(doc)], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (2, f"python -m wse.kernels.table: error: --doc: cannot write {doc}: File "
                                           f"too large; the file that was there is unchanged\n")
    assert doc.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["k.md"]
