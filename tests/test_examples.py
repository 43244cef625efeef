"""The examples in kernels/examples run as their headers say, through the real CLIs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "kernels" / "examples"


def _run(*args, cwd):
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)


def test_hello_sums_every_pe(tmp_path):
    for w, h in [(4, 4), (1, 1), (5, 2), (1, 3)]:
        r = _run("wse-as", str(EX / "hello.s"), "-o", "h.wso", "-D", f"W={w}", "-D", f"H={h}", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = _run("wse-emu", "--grid", f"{w}x{h}", "h.wso", "--output", "total=t.npy", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        total = np.load(tmp_path / "t.npy").reshape(h, w, -1)[h - 1, w - 1, 0]
        n = w * h
        assert total == np.float32(n * (n + 1) / 2), (w, h, total)


def test_deadlock_exits_nonzero_with_who_waits_on_what(tmp_path):
    r = _run("wse-as", str(EX / "deadlock.s"), "-o", "d.wso", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _run("wse-emu", "--grid", "2x1", "d.wso", cwd=tmp_path)
    assert r.returncode != 0
    report = r.stderr
    assert "hang at cycle" in report and "Traceback" not in report
    for pe, color in [("(0,0)", 1), ("(1,0)", 2)]:
        block = report.split(f"PE {pe}:")[1].split("PE (")[0]
        assert "running task 0 (main)" in block and "mov32 d0, a0" in block
        assert "deadlock.s:23" in block
        assert f"waits for wavelets on color {color}" in block


def test_cli_rectangles_and_trace(tmp_path):
    r = _run("wse-as", str(EX / "hello.s"), "-o", "h.wso", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _run("wse-emu", "--grid", "4x4", "h.wso", "--output", "total@3,3=one.npy",
             "--output", "total@0,0,4,2=top.npy", "--trace", "t.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "one.npy").shape == (1, 1, 1)
    assert np.load(tmp_path / "one.npy")[0, 0, 0] == 136.0
    assert np.load(tmp_path / "top.npy").shape == (2, 4, 1)
    import json
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    spans = {e["name"] for e in events if e["ph"] == "X"}
    assert spans == {"task 0 (start)", "task 0 (row)", "task 1 (col)"}
    assert sum(e["ph"] == "i" for e in events) == 15  # one arrival per wavelet received
    procs = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert procs == {f"PE ({x},{y})" for x in range(4) for y in range(4)}
    threads = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert threads == {"main"}                       # hello.s has no async ops
    r = _run("wse-emu", "--grid", "4x4", "h.wso", "--output", "total@3,3,2,2=x.npy", cwd=tmp_path)
    assert r.returncode == 2 and "outside the 4x4 fabric" in r.stderr and "Traceback" not in r.stderr


# ---- scan.s, oddeven_sort.s, jacobi2d.s against numpy, over sizes and grids ----------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from wse.asm import assemble_file  # noqa: E402
from wse.emu import Fabric  # noqa: E402


def _fabric(name, **defines):
    return Fabric.from_object(assemble_file(EX / name, defines=defines, arch="wse3"))


def scan_model(x):
    """scan.s's order in fp32: each chunk summed in sequence, then the carry (the previous
    chunk's last result) added to every element."""
    out = np.empty_like(x)
    carry = None
    for k, chunk in enumerate(x):
        s = np.add.accumulate(chunk, dtype=np.float32)
        out[k] = s if carry is None else s + carry
        carry = out[k, -1]
    return out


@settings(max_examples=30)
@given(p=st.integers(1, 12), n=st.integers(1, 20), seed=st.integers(0, 2**16))
def test_scan(p, n, seed):
    x = np.random.default_rng(seed).standard_normal((p, n)).astype(np.float32)
    fab = _fabric("scan.s", P=p, N=n)
    fab.write("x", x[None])
    fab.run()
    got = fab.read("x")[0]
    assert np.array_equal(got, scan_model(x))
    # and it is the prefix sum: against float64, within fp32 accumulation error
    exact = np.cumsum(x.astype(np.float64).ravel())
    bound = 2 * p * n * np.finfo(np.float32).eps * np.cumsum(np.abs(x.ravel()).astype(np.float64))
    assert np.all(np.abs(got.ravel() - exact) <= bound + 1e-30)


@settings(max_examples=30)
@given(keys=st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=24))
def test_oddeven_sort(keys):
    k = np.array(keys, np.float32)
    fab = _fabric("oddeven_sort.s", P=len(k))
    fab.write("key", k.reshape(1, -1, 1))
    fab.run()
    assert np.array_equal(fab.read("key").ravel(), np.sort(k))


def test_oddeven_sort_worst_cases():
    """Reversed and all-equal keys: the reversed row needs every one of the P phases."""
    for k in (np.arange(16, 0, -1, dtype=np.float32), np.full(7, 2.5, np.float32),
              np.array([0.0, -0.0, 1.0], np.float32)):
        fab = _fabric("oddeven_sort.s", P=len(k))
        fab.write("key", k.reshape(1, -1, 1))
        fab.run()
        assert np.array_equal(fab.read("key").ravel(), np.sort(k))


def jacobi_model(g, t, wc=np.float32(0.5), wn=np.float32(0.125)):
    """jacobi2d.s's operations in its order, in fp32, u = 0 outside the grid."""
    for _ in range(t):
        p = np.zeros((g.shape[0] + 2, g.shape[1] + 2), np.float32)
        p[1:-1, 1:-1] = g
        s = ((p[:-2, 1:-1] + p[2:, 1:-1]) + p[1:-1, 2:]) + p[1:-1, :-2]
        g = s * wn + g * wc
    return g


@settings(max_examples=25)
@given(px=st.integers(1, 4), py=st.integers(1, 4), nx=st.integers(1, 5), ny=st.integers(1, 5),
       t=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_jacobi2d(px, py, nx, ny, t, seed):
    g = np.random.default_rng(seed).standard_normal((py * ny, px * nx)).astype(np.float32)
    fab = _fabric("jacobi2d.s", PX=px, PY=py, NX=nx, NY=ny, T=t)
    u = np.zeros((py, px, ny + 2, nx + 2), np.float32)
    u[:, :, 1:-1, 1:-1] = g.reshape(py, ny, px, nx).transpose(0, 2, 1, 3)
    fab.write("u", u.reshape(py, px, -1))
    fab.run()
    got = fab.read("u").reshape(py, px, ny + 2, nx + 2)
    block = got[:, :, 1:-1, 1:-1].transpose(0, 2, 1, 3).reshape(py * ny, px * nx)
    assert np.array_equal(block, jacobi_model(g, t))


def _doc_block(doc: str, first_line: str) -> list[str]:
    """The lines of the fenced block of docs/<doc> whose first line is first_line."""
    text = (ROOT / "docs" / doc).read_text()
    start = text.index("```console\n" + first_line + "\n") + len("```console\n")
    return text[start:text.index("```", start)].rstrip("\n").split("\n")


def test_dsd_fault_names_the_dsds_as_emulator_md_shows(tmp_path):
    """kernels/examples/dsd_fault.s faults in the way docs/emulator.md shows, word for word (its
    `...` stands for lines left out): the reason names each DSR's DSD, the ldsd that loaded it
    with the macro expansion, and what changed it since."""
    block = _doc_block("emulator.md", "$ wse-as kernels/examples/dsd_fault.s -o dsd_fault.wso")
    cmds = [ln[2:] for ln in block if ln.startswith("$ ")]
    assert cmds == ["wse-as kernels/examples/dsd_fault.s -o dsd_fault.wso", "wse-emu dsd_fault.wso"]
    (tmp_path / "kernels" / "examples").mkdir(parents=True)      # (the paths the report prints)
    (tmp_path / "kernels" / "examples" / "dsd_fault.s").write_text((EX / "dsd_fault.s").read_text())
    r = _run(*cmds[0].split(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _run(*cmds[1].split(), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    got = (r.stdout + r.stderr).rstrip("\n").split("\n")
    want = [ln for ln in block if not ln.startswith("$ ")]
    cut = want.index("    ...")
    assert got[:cut] == want[:cut]
    assert "reason: source b1 (loaded from DSD `d_row` by the ldsd at pc 2" in "\n".join(got)


def test_deadlock_report_line_in_emulator_md_is_real(tmp_path):
    r = _run("wse-as", "kernels/examples/deadlock.s", "-o", str(tmp_path / "d.wso"), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    r = _run("wse-emu", "--grid", "2x1", str(tmp_path / "d.wso"), cwd=ROOT)
    text = (ROOT / "docs" / "emulator.md").read_text()
    line = next(ln for ln in text.split("\n") if ln.startswith("    fabric op: 0 of 1 elements done; waits for "
                                                                  "wavelets on color 1 (a0 loaded from DSD"))
    assert line + "\n" in r.stderr, r.stderr
