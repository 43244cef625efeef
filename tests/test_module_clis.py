"""The python -m tools (tutorial, measure, table, gemv bench, collectives, wse.isa) answer a bad
argument or file with one line and exit 2, before any long run, and --help works (an
adversarial pass found tracebacks, a 0 silently replaced by the default, runs that never ended
and a --help that ran the benchmark)."""
import subprocess
import sys

import pytest

BAD = [
    (["wse.kernels.gemv.tutorial", "1", "--m", "-3"], "--m must be in 1..65536, got -3"),
    (["wse.kernels.gemv.tutorial", "1", "--m", "0"], "--m must be in 1..65536, got 0"),
    (["wse.kernels.gemv.tutorial", "5", "--kx", "512", "--ky", "512"], "leaves PEs without work"),
    (["wse.kernels.gemv.tutorial", "1", "--m", "200", "--n", "200"], "does not fit its SRAM"),
    (["wse.kernels.gemv.tutorial", "--refresh-doc"], "--refresh-doc takes the document"),
    (["wse.kernels.lib.measure", "--per-pe", "99999999"], "--per-pe must be in 1..4096"),
    (["wse.kernels.lib.measure", "--grid", "0", "2"], "--grid W H must be in 1..64"),
    (["wse.kernels.table", "--doc", "/nonexistent/x.md"], "cannot read /nonexistent/x.md"),
    (["wse.kernels.table", "--print", "--check"], "--print and --check exclude each other"),
    (["wse.kernels.gemv.bench", "--bogus"], "unrecognized arguments: --bogus"),
    (["wse.kernels.attention", "--group", "9"], "group must be in 1..8, got 9"),
]


@pytest.mark.parametrize("argv, words", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_argument_is_one_line(argv, words):
    r = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


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
