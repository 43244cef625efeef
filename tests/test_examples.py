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


# ---- chain_sum.s and stream.s: a sum sent to the host; a stream that backs up ---------------

@settings(max_examples=25)
@given(p=st.integers(1, 10), n=st.integers(1, 20), seed=st.integers(0, 2**16))
def test_chain_sum(p, n, seed):
    """Each PE's `total` is the sum of every element up to its own, in the kernel's order (its
    own elements from 0.0, then the West's sum added); the last PE sends the total to the host
    out of its East edge, as one wavelet."""
    x = np.random.default_rng(seed).standard_normal((p, n)).astype(np.float32)
    fab = _fabric("chain_sum.s", P=p, N=n)
    fab.write("x", x[None])
    res = fab.run()
    want, carry = [], None
    for row in x:
        local = np.float32(0)
        for v in row:
            local = np.float32(local + v)
        carry = local if carry is None else np.float32(local + carry)
        want.append(carry)
    assert np.array_equal(fab.read("total").ravel(), np.array(want, np.float32))
    got = fab.received()
    assert [(w.x, w.y, w.port, w.color, w.ctrl) for w in got] == [(p - 1, 0, 2, (p - 1) % 2, False)]
    assert fab.received_payloads()[0] == want[-1]
    assert res.cycles == 5 * n + 7 * p                      # the header's cost


def test_chain_sum_cli_received(tmp_path):
    """The header's commands: the sum reaches the host, and --received saves it."""
    r = _run("wse-as", str(EX / "chain_sum.s"), "-o", "c.wso", "-D", "P=4", "-D", "N=8", "--arch", "wse3",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "x.npy", np.arange(32, dtype=np.float32).reshape(1, 4, 8))
    r = _run("wse-emu", "c.wso", "--input", "x=x.npy", "--received", "sum.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = np.load(tmp_path / "sum.npy")
    assert got["payload"].view(np.float32).tolist() == [496.0] and got["x"].tolist() == [3]


def _stream(n, k, x=None):
    fab = _fabric("stream.s", N=n, K=k)
    x = np.arange(n, dtype=np.float32) if x is None else x
    fab.write("x", x, rect=(0, 0))
    res = fab.run()
    return fab, res, x


@settings(max_examples=20)
@given(n=st.integers(1, 40), k=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_stream_result(n, k, seed):
    """The consumer's sum of squares, in order, in fp32; the host gets it once."""
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    fab, res, _ = _stream(n, k, x)
    want = np.float32(0)
    for v in x:
        want = np.float32(want + np.float32(v * v))
    assert fab.read("result", rect=(1, 0)).item() == want
    assert fab.received_payloads().tolist() == [want]
    assert res.cycles == n * (2 * k + 7) + 12                # the header's cost (wse3)


def test_stream_backpressure_as_the_header_says():
    """ut0's send ends when the consumer has taken all but 20 elements (8 + 4 + 8 places on
    wse3's color 0), so t_sent grows with K; a stream that fits in the queues never waits."""
    t_sent = {}
    for k in (1, 4, 16):
        fab, res, _ = _stream(32, k)
        t_sent[k] = fab.read("t_sent", rect=(0, 0)).item()
        assert fab.stats()["stalls"] > 0
    assert t_sent == {1: 113, 4: 179, 16: 443}
    fab, res, _ = _stream(4, 4)
    assert fab.read("t_sent", rect=(0, 0)).item() == 11 and fab.stats()["stalls"] == 0
    fab = _fabric("stream.s", N=32, K=16)
    fab.write("x", np.arange(32, dtype=np.float32), rect=(0, 0))
    fab.run_until(t_sent[16] + 1)                   # `sent` has run: 20 elements still to come
    assert fab.pe_state(1, 0)["regs"][10] == 20
