"""The host side of docs/tutorial.md: run one step of the GEMV tutorial and print what it did.

    python -m wse.kernels.gemv.tutorial STEP [--m M] [--n N] [--kx KX] [--ky KY] [--seed S]
    python -m wse.kernels.gemv.tutorial --check docs/tutorial.md        # exit 1 if stale
    python -m wse.kernels.gemv.tutorial --refresh-doc docs/tutorial.md  # rewrite the outputs

Steps: 1 one PE, all in memory (one_pe.s); 2 one PE, x as wavelets (gemv.s on 1 x 1);
3 a column of PEs; 4 a row of PEs; 5 a rectangle with padding; 6 y = A^T x (gemv_t.s).
Every step checks the result bit for bit against the NumPy model of the kernel and against
float64 NumPy with the fp32 error bound, and prints the cycle count.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ..driver import kernel_source, run_kernel
from .model import error_bound, gemv_model, gemv_t_model
from .run import gemv, gemv_t, utilization

DEFAULTS = {  # step: (m, n, kx, ky)
    1: (8, 6, 1, 1), 2: (8, 6, 1, 1), 3: (8, 6, 1, 4), 4: (8, 6, 3, 1),
    5: (10, 7, 3, 4), 6: (10, 7, 3, 4),
}


def one_pe(a, x, b):
    """Step 1: one_pe.s. Returns (y, cycles)."""
    m, n = a.shape
    inputs = {"A": {(0, 0): a.reshape(-1, order="F")}, "x": {(0, 0): x}}
    if b is not None:
        inputs["y"] = {(0, 0): b}
    r = run_kernel(kernel_source("gemv/one_pe.s"), {"MB": m, "NB": n}, inputs, ["y"])
    return r.outputs["y"][(0, 0)].astype(np.float32), r.cycles


# ---------------------------------------------------------------------------------------------
# The tutorial document: its code excerpts and its commands (used by the tests, by --check,
# and to refresh the printed outputs: python -m wse.kernels.gemv.tutorial --refresh-doc
# docs/tutorial.md).
FILE_MARK = "<!-- file: "
RUN_MARK = "<!-- run -->"
SHELL_MARK = "<!-- shell -->"   # a shell session: `$ command` lines, each followed by its output


def _marked_blocks(text: str) -> list[tuple[int, str, str, str]]:
    """(line of the marker, kind, arg, body) for every marked fenced block."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        ln = lines[i].strip()
        if ln.startswith(FILE_MARK) or ln in (RUN_MARK, SHELL_MARK):
            j = i + 1
            if j >= len(lines) or not lines[j].startswith("```"):
                raise ValueError(f"line {j + 1}: a fenced block must follow {ln!r}")
            k = j + 1
            while k < len(lines) and not lines[k].startswith("```"):
                k += 1
            if k == len(lines):
                raise ValueError(f"line {j + 1}: the fenced block is not closed")
            body = lines[j + 1:k]
            if ln in (RUN_MARK, SHELL_MARK):
                if not body or not body[0].startswith("$ "):
                    raise ValueError(f"line {j + 2}: a run block starts with '$ command'")
                if ln == RUN_MARK:
                    out.append((i + 1, "run", body[0][2:], "\n".join(body[1:])))
                else:
                    out.append((i + 1, "shell", "", "\n".join(body)))
            else:
                out.append((i + 1, "file", ln[len(FILE_MARK):-len("-->")].strip(), "\n".join(body)))
            i = k + 1
        else:
            i += 1
    return out


def doc_blocks(text: str) -> list[tuple[str, str, str]]:
    """(kind, arg, body) for every marked fenced block: ("file", path, excerpt),
    ("run", command, expected output) or ("shell", "", the session)."""
    return [(kind, arg, body) for _, kind, arg, body in _marked_blocks(text)]


def shell_steps(body: str) -> list[tuple[str, str]]:
    """(command, expected output) for each `$ command` of a shell block."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.split("\n"):
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return [(c, "\n".join(o)) for c, o in steps]


def run_command(cmd: str) -> str:
    """Run one tutorial command (it must be `python -m wse.kernels.gemv.tutorial ...`)
    in this process and return what it prints."""
    import contextlib
    import io
    import shlex
    argv = shlex.split(cmd)
    prefix = ["python", "-m", "wse.kernels.gemv.tutorial"]
    if argv[:3] != prefix:
        raise ValueError(f"not a tutorial command: {cmd!r}")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(argv[3:])
    return buf.getvalue().rstrip("\n")


def run_shell(body: str, root) -> str:
    """Run a shell session (`$ command` lines) as a reader would from the repository root
    ``root``, in a scratch folder that sees its kernels/, with this interpreter's scripts first
    on PATH; return the session with each command's output as printed now."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernels").symlink_to(Path(root).resolve() / "kernels")
        for cmd, _ in shell_steps(body):
            r = subprocess.run(cmd, shell=True, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise RuntimeError(f"{cmd!r} failed (exit {r.returncode}): {r.stderr.strip()}")
            out.append("$ " + cmd)
            if r.stdout.rstrip("\n"):
                out.extend(r.stdout.rstrip("\n").split("\n"))
    return "\n".join(out)


def _root_of(doc) -> "Path":
    from pathlib import Path
    return Path(doc).resolve().parent.parent       # docs/tutorial.md -> the repository


def doc_problems(path) -> list[str]:
    """`path:line: what` for every block of the document that is stale: a code excerpt not
    verbatim in the file it names, or a command whose output is not what the block shows."""
    from pathlib import Path
    root = _root_of(path)
    problems = []
    for line, kind, arg, body in _marked_blocks(Path(path).read_text()):
        where = f"{path}:{line}"
        if kind == "file":
            f = root / arg
            if not f.is_file():
                problems.append(f"{where}: the excerpt names {arg}, which does not exist")
            elif body not in f.read_text():
                problems.append(f"{where}: the excerpt is not verbatim in {arg}: copy it again")
        elif kind == "run":
            if run_command(arg) != body:
                problems.append(f"{where}: `{arg}` prints something else now: "
                                f"python -m wse.kernels.gemv.tutorial --refresh-doc {path}")
        else:
            try:
                now = run_shell(body, root)
            except RuntimeError as e:
                problems.append(f"{where}: the shell session fails: {e}")
                continue
            if now != body:
                problems.append(f"{where}: the shell session prints something else now: "
                                f"python -m wse.kernels.gemv.tutorial --refresh-doc {path}")
    return problems


def refresh_doc(path) -> None:
    """Rewrite the output of every run block and shell session of the document with what the
    commands print now (code excerpts are not touched: --check reports them)."""
    from pathlib import Path
    p = Path(path)
    lines = p.read_text().split("\n")
    out = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        mark = lines[i].strip()
        if mark in (RUN_MARK, SHELL_MARK):
            out.append(lines[i + 1])                 # ```console
            k = i + 2
            while not lines[k].startswith("```"):
                k += 1
            if mark == RUN_MARK:
                out.append(lines[i + 2])             # $ command
                out.extend(run_command(lines[i + 2][2:]).split("\n"))
            else:
                out.extend(run_shell("\n".join(lines[i + 2:k]), _root_of(p)).split("\n"))
            i = k
            continue
        i += 1
    # replaced whole when written (a full disk keeps the document as it was)
    from wse.cli.files import write_file
    write_file(str(p), lambda fh: fh.write("\n".join(out).encode()), "--refresh-doc")


def main(argv=None) -> int:
    from wse.cli.files import int_arg
    ap = argparse.ArgumentParser(
        prog="python -m wse.kernels.gemv.tutorial", description="Run one step of docs/tutorial.md.",
        epilog="--check DOC: report every code excerpt of DOC that is not verbatim in its file and "
               "every command whose output differs (exit 1); --refresh-doc DOC: rewrite the "
               "outputs of DOC's commands.")
    ap.add_argument("step", type=int_arg, choices=sorted(DEFAULTS))
    ap.add_argument("--m", type=int_arg)
    ap.add_argument("--n", type=int_arg)
    ap.add_argument("--kx", type=int_arg)
    ap.add_argument("--ky", type=int_arg)
    ap.add_argument("--seed", type=int_arg, default=0)
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] in (["--refresh-doc"], ["--check"]):
        if len(argv) != 2:
            ap.error(f"{argv[0]} takes the document: {argv[0]} docs/tutorial.md")
        from pathlib import Path
        if not Path(argv[1]).is_file():
            ap.error(f"{argv[0]}: " + ("a folder, not a document" if Path(argv[1]).is_dir() else "no such document")
                     + f": {argv[1]}")
        if argv[0] == "--refresh-doc":
            refresh_doc(argv[1])
            return 0
        problems = doc_problems(argv[1])
        for p in problems:
            print(p)
        if not problems:
            print(f"{argv[1]}: every excerpt and every output is current")
        return 1 if problems else 0
    args = ap.parse_args(argv)
    m, n, kx, ky = DEFAULTS[args.step]
    m, n = (m if args.m is None else args.m), (n if args.n is None else args.n)
    kx, ky = (kx if args.kx is None else args.kx), (ky if args.ky is None else args.ky)
    for name, v, hi in (("--m", m, 1 << 16), ("--n", n, 1 << 16), ("--kx", kx, 4096), ("--ky", ky, 4096)):
        if not 1 <= v <= hi:
            ap.error(f"{name} must be in 1..{hi}, got {v}")
    rows, cols = (n, m) if args.step == 6 else (m, n)
    if kx > cols or ky > rows:
        ap.error(f"a {m} x {n} matrix on {kx} x {ky} PEs leaves PEs without work: use kx <= {cols} "
                 f"and ky <= {rows}")
    if args.seed < 0:
        ap.error(f"--seed must be >= 0, got {args.seed}")
    if args.step == 1 and m * n + 2 * (m + n) > 20000:
        ap.error(f"step 1 keeps A on one PE: {m} x {n} does not fit its SRAM; use a later step")
    rng = np.random.default_rng(args.seed)
    a = rng.uniform(-1, 1, (m, n)).astype(np.float16)
    transpose = args.step == 6
    x = rng.uniform(-1, 1, m if transpose else n).astype(np.float32)
    b = rng.uniform(-1, 1, n if transpose else m).astype(np.float32)
    if args.step == 1:
        y, cycles = one_pe(a, x, b)
        model = gemv_model(a, x, b, 1, 1)
    elif transpose:
        r = gemv_t(a, x, b, grid=(kx, ky))
        y, cycles, model = r.y, r.cycles, gemv_t_model(a, x, b, kx, ky)
    else:
        r = gemv(a, x, b, grid=(kx, ky))
        y, cycles, model = r.y, r.cycles, gemv_model(a, x, b, kx, ky)
    a64 = a.astype(np.float64)
    exact = (a64.T if transpose else a64) @ x.astype(np.float64) + b
    err = np.abs(y - exact)
    bound = error_bound(a, x, b, transpose=transpose)
    what = "A^T x + b" if transpose else "A x + b"
    print(f"step {args.step}: y = {what}, A {m}x{n} fp16, on {kx}x{ky} PEs")
    print(f"y[:4]            = {np.array2string(y[:4], precision=6)}")
    print(f"same bits as the model: {bool(np.array_equal(y.view(np.uint32), model.view(np.uint32)))}")
    print(f"max |y - exact|  = {err.max():.3g} (bound {bound.max():.3g})")
    print(f"cycles           = {cycles}")
    print(f"utilization      = {100 * utilization(m, n, kx, ky, cycles):.1f}%")
    return 0 if np.all(err <= bound) else 1


if __name__ == "__main__":
    from wse.kernels._cli import guarded
    sys.exit(guarded("python -m wse.kernels.gemv.tutorial", main))
