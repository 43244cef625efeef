"""docs/cookbook.md works as written, and its kernels (kernels/examples/) compute what their
headers say, checked against numpy for several sizes.

The page marks what it wants checked:
- `<!-- cookbook-file: PATH -->` before an ```asm block: the block is verbatim in PATH;
- `<!-- cookbook-console -->` before a ```console block: each `$ ` line is run by bash from a
  scratch directory in which `kernels` links to the repository's; what it prints (stdout, then
  stderr) must be the lines below it;
- `<!-- cookbook-python -->` before a ```python block followed by a ```text block: the script
  prints exactly the text block.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wse.asm import assemble_file
from wse.emu import Fabric, HangError

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cookbook.md"
EX = ROOT / "kernels" / "examples"


def _blocks():
    text = DOC.read_text()
    out = []
    for m in re.finditer(r"<!-- cookbook-(file: (\S+)|console|python) -->\n```(\w+)\n(.*?)```\n"
                         r"(?:```text\n(.*?)```\n)?", text, re.S):
        kind = m.group(1).split(":")[0]
        out.append((kind, m.group(2), m.group(4), m.group(5)))
    return out


def _scratch(tmp_path):
    (tmp_path / "kernels").symlink_to(ROOT / "kernels")
    return tmp_path


def test_doc_has_every_kind_of_block():
    kinds = [k for k, *_ in _blocks()]
    assert kinds.count("file") >= 4 and kinds.count("console") >= 3 and kinds.count("python") >= 2


def test_doc_excerpts_are_verbatim():
    for kind, path, body, _ in _blocks():
        if kind == "file":
            assert body in (ROOT / path).read_text(), f"excerpt not found verbatim in {path}"


def test_doc_console_blocks(tmp_path):
    cwd = _scratch(tmp_path)
    for kind, _, body, _ in _blocks():
        if kind != "console":
            continue
        cmds = re.split(r"^\$ ", body, flags=re.M)[1:]
        for chunk in cmds:
            cmd, _, want = chunk.partition("\n")
            r = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True,
                               timeout=120)
            assert r.stdout + r.stderr == want, f"output of {cmd!r} differs from the cookbook"


def test_doc_python_blocks(tmp_path):
    cwd = _scratch(tmp_path)
    n = 0
    for kind, _, body, want in _blocks():
        if kind != "python":
            continue
        r = subprocess.run([sys.executable, "-c", body], cwd=cwd, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout == want, "output of a Python block differs from the cookbook"
        n += 1
    assert n >= 2


# ---- the kernels against numpy ------------------------------------------------------------
def _fabric(name, **defines):
    return Fabric.from_object(assemble_file(EX / name, defines=defines, arch="wse3"))


@pytest.mark.parametrize("r,c", [(3, 5), (1, 7), (8, 8), (16, 3)])
def test_transpose(r, c):
    a = np.random.default_rng(r * 100 + c).standard_normal((r, c)).astype(np.float32)
    fab = _fabric("transpose.s", R=r, C=c)
    fab.write("A", a.reshape(-1))
    fab.run()
    assert np.array_equal(fab.read("B").reshape(c, r), a.T)


@pytest.mark.parametrize("p,n", [(4, 8), (2, 1), (1, 5), (7, 13)])
def test_stencil(p, n):
    u = np.random.default_rng(p * 100 + n).standard_normal(p * n).astype(np.float32)
    fab = _fabric("stencil.s", P=p, N=n)
    buf = np.zeros((1, p, n + 2), np.float32)
    buf[0, :, 1:n + 1] = u.reshape(p, n)
    fab.write("buf", buf)
    fab.run()
    up = np.concatenate([[0], u, [0]]).astype(np.float32)
    want = (up[:-2] + up[2:]) + np.float32(-2) * up[1:-1]
    assert np.array_equal(fab.read("out").reshape(-1), want)


@pytest.mark.parametrize("p,n", [(4, 8), (2, 3), (9, 1), (16, 20)])
def test_bcast_switch(p, n):
    v = np.random.default_rng(p * 100 + n).standard_normal(n).astype(np.float32)
    fab = _fabric("bcast_switch.s", P=p, N=n)
    fab.write("v", v, rect=(0, 0, 1, 1))
    fab.run()
    out = fab.read("out")[0]
    for x in range(1, p):
        assert np.array_equal(out[x], v * np.float32(x))
    assert int(fab.read("acks", rect=(0, 0, 1, 1)).item()) == p - 1
    assert int(fab.read("xsum", rect=(0, 0, 1, 1)).item()) == p * (p - 1) // 2
    # every router went through one control wavelet: all at position 1
    assert all(fab.pe_state(x, 0)["switch"] == {5: 1} for x in range(p))


@pytest.mark.parametrize("n", [1, 4, 16, 100])
def test_async_square(n):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    fab = _fabric("async_square.s", N=n)
    fab.send(1, 0, 0, "west", x)
    fab.run()
    got = fab.received(color=2)
    assert [(w.x, w.y, w.port, w.ctrl) for w in got] == [(0, 0, 2, False)] * n
    y = np.array([w.payload for w in got], np.uint32).view(np.float32)
    want = x * x + np.float32(1)
    assert np.array_equal(y, want) and np.array_equal(fab.read("y")[0, 0], want)


def test_async_square_without_input_hangs():
    fab = _fabric("async_square.s", N=4)
    with pytest.raises(HangError, match="waits for wavelets on color 1"):
        fab.run()


@pytest.mark.parametrize("n,first_b", [(1, 0), (4, 2), (16, 3), (100, 99)])
def test_async_join(n, first_b):
    """y = a + b only once both receives have finished, whichever finishes last: b arrives
    partly (first_b values), the fabric hangs with ut1 waiting and y untouched, then the rest
    completes it; with a last instead, ut0 is the one that waits."""
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    for late, early, (c_late, port_late), (c_early, port_early) in (
            (b, a, (2, "north"), (1, "west")), (a, b, (1, "west"), (2, "north"))):
        fab = _fabric("async_join.s", N=n)
        fab.send(c_early, 0, 0, port_early, early)
        if first_b:
            fab.send(c_late, 0, 0, port_late, late[:first_b])
        with pytest.raises(HangError, match=f"waits for wavelets on color {c_late}"):
            fab.run()
        assert not fab.read("y").any()
        fab.send(c_late, 0, 0, port_late, late[first_b:])
        fab.run()
        assert np.array_equal(fab.read("y")[0, 0], a + b)
        assert fab.pe_state(0, 0)["regs"][10] == 0


def test_assembly_md_worked_example_runs_as_shown(tmp_path):
    """docs/assembly.md's first example (send.s) and the commands shown after it."""
    text = (ROOT / "docs" / "assembly.md").read_text()
    src = re.search(r"```\n(; send\.s.*?)```", text, re.S).group(1)
    (tmp_path / "send.s").write_text(src)
    run = re.search(r"```\n(\$ wse-as send\.s.*?)```", text, re.S).group(1)
    for chunk in re.split(r"^\$ ", run, flags=re.M)[1:]:
        cmd, _, want = chunk.partition("\n")
        r = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
        assert r.stdout + r.stderr == want, f"output of {cmd!r} differs from docs/assembly.md"
