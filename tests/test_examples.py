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
