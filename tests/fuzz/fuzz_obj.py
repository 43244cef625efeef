"""A long robustness campaign for the object-file readers and wse-emu (not run by CI or pytest).

    python tests/fuzz/fuzz_obj.py [--seed N] [--cases N] [--minutes M] [--asan] [--out DIR]

The base objects are the real sources (kernels/**/*.s, tests/asm/ok_*.s) assembled with the
defines of their `;@ define` annotations. A case takes one (or splices two) and corrupts its
bytes: bit flips, aligned u32/u16/u8 fields set to edge values (0, 1, huge, the file size),
section-table offsets/sizes, truncation, deleted / inserted / repeated chunks; most cases then
fix the header's size and CRC-32 so that the deeper checks are reached. Each case:

  - wse.isa.objfile.read (Python reader): ObjectFormatError or an object; anything else is a
    finding ("py-crash");
  - the C loader (Fabric.from_object): LoadError/WseError or loaded; a crash of the process
    (segfault, abort, ASan/UBSan report with --asan) is a finding ("c-crash"), so is a case
    that makes no progress for 60 s ("hang");
  - the two readers must agree (docs/object-format.md): "disagree";
  - a loaded object runs for up to 20 000 cycles; any exception other than WseError: "run";
  - an object the Python reader accepts goes through wse-objdump -> wse-as and must come back
    as an equivalent object: the same wse.isa.objfile.loaded_form, what the emulators read
    (docs/object-format.md, "Forms wse-as never writes"), and a second round must give the
    same bytes ("objdump");
  - every --cli-every'th case runs `wse-emu FILE --max-cycles 20000` and `wse-objdump FILE`,
    which must exit 0/1/2 without a traceback or an internal error ("cli").

The cases run in a worker process that the driver restarts after a crash (the case that
crashed is written down and skipped); with --asan the worker uses the sanitized core built by
`bash csrc/build_sanitized.sh` (in build/asan; build it first). Every case is derived from
(--seed, case number): `--seed S --only N` reruns one. Speed: most corrupted files are refused
early, and the CLI runs take most of the time: seed 1, --cli-every 200: 88 481 cases in 8
minutes; seed 2, --asan --cli-every 500: 180 175 cases in 10 minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve()


def build_bases(out: Path):
    from wse.asm import AssemblyError, AssemblyWarning, assemble_text
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.wso")):
        return sorted(out.glob("*.wso"))
    files = sorted(list(ROOT.glob("kernels/**/*.s")) + list(ROOT.glob("tests/asm/ok_*.s")))
    for p in files:
        if "/llm/" in str(p):
            continue
        text = p.read_text()
        defs = {}
        for m in re.finditer(r";@\s*define\s+(\w+)\s*=\s*(\S+)", text):
            try:
                defs[m.group(1)] = int(m.group(2), 0)
            except ValueError:
                defs[m.group(1)] = float(m.group(2))
        m = re.search(r";@\s*arch\s+(wse\d)", text)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AssemblyWarning)
                data = assemble_text(text, str(p), include_dirs=[str(p.parent), str(ROOT / "kernels/lib"),
                                                                  str(ROOT / "tests/asm/inc")],
                                     defines=defs, arch=m.group(1) if m else None)
        except AssemblyError:
            continue
        (out / (p.parent.name + "_" + p.stem + ".wso")).write_bytes(data)
    return sorted(out.glob("*.wso"))


EDGE32 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
          0xFFFFFFFE, 0xFFFFFFFC, 24576, 24575, 24577, 49152, 65535, 63, 64, 23, 24, 255, 0x3FFFFFFF]
EDGE16 = [0, 1, 0xFFFF, 0x7FFF, 0x8000, 0xFFFE, 4096, 4095, 4097, 255, 256, 2, 3]


def refix(d: bytearray) -> bytes:
    if len(d) >= 32:
        struct.pack_into("<I", d, 20, len(d))
        struct.pack_into("<I", d, 24, zlib.crc32(bytes(d[32:])))
    return bytes(d)


def mutate(rng: random.Random, data: bytes, bases) -> bytes:
    d = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):
        if not d:
            break
        op = rng.randrange(11)
        if op == 0:                                   # bit flips
            for _ in range(rng.randrange(1, 4)):
                i = rng.randrange(len(d))
                d[i] ^= 1 << rng.randrange(8)
        elif op in (1, 2) and len(d) >= 4:            # aligned u32 to an edge value
            i = rng.randrange(len(d) // 4) * 4
            v = rng.choice(EDGE32 + [len(d), len(d) - 32, len(d) + 4, rng.getrandbits(32)])
            struct.pack_into("<I", d, i, v & 0xFFFFFFFF)
        elif op == 3 and len(d) >= 2:                 # u16
            i = rng.randrange(len(d) // 2) * 2
            struct.pack_into("<H", d, i, rng.choice(EDGE16))
        elif op == 4:                                 # a byte
            d[rng.randrange(len(d))] = rng.choice((0, 1, 2, 3, 4, 5, 0x7F, 0x80, 0xFF, 24, 63, 64))
        elif op == 5 and len(d) > 44:                 # section table: offset/size fields
            n = min(struct.unpack_from("<I", d, 16)[0], 6)
            if n:
                k = rng.randrange(n)
                off = 32 + 12 * k + rng.choice((0, 4, 8))
                if off + 4 <= len(d):
                    struct.pack_into("<I", d, off, rng.choice(EDGE32 + [len(d), len(d) - 4])
                                     & 0xFFFFFFFF)
        elif op == 6:                                 # truncate
            d = d[:rng.randrange(len(d) + 1)]
        elif op == 7:                                 # delete a chunk
            i = rng.randrange(len(d))
            del d[i:i + rng.choice((1, 2, 4, 8, 12, 32, 100))]
        elif op == 8:                                 # insert random/zero bytes
            i = rng.randrange(len(d) + 1)
            n = rng.choice((1, 2, 4, 8, 12, 32))
            d[i:i] = bytes(n) if rng.random() < 0.5 else bytes(rng.getrandbits(8) for _ in range(n))
        elif op == 9:                                 # repeat a chunk
            i = rng.randrange(len(d))
            n = rng.choice((4, 8, 12, 32, 64))
            d[i:i] = d[i:i + n] * rng.choice((1, 2, 3))
        elif op == 10:                                # splice with another object
            o = rng.choice(bases)
            i, j = rng.randrange(len(d) + 1), rng.randrange(len(o) + 1)
            d = d[:i] + bytearray(o[j:])
    return refix(d) if rng.random() < 0.85 else bytes(d)


def make_case(seed, n, bases):
    rng = random.Random(f"obj:{seed}:{n}")
    return mutate(rng, rng.choice(bases), bases)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def where(e):
    tb = traceback.extract_tb(e.__traceback__)
    fr = [f for f in tb if "wt-fuzz" in f.filename or "/wse" in f.filename]
    f = fr[-1] if fr else (tb[-1] if tb else None)
    return f"{type(e).__name__}@{Path(f.filename).name}:{f.lineno}" if f else type(e).__name__


def check(data: bytes, tmp: str, cli: bool):
    """The findings of one case: [(category, signature, detail)]."""
    from wse.asm import AssemblyError, AssemblyWarning, assemble_text, disassemble
    from wse.emu import Fabric
    from wse.emu.errors import WseError
    from wse.isa import objfile as of
    finds = []
    py_ok = None
    try:
        of.read(data)
        py_ok = True
    except of.ObjectFormatError as e:
        py_ok = False
        py_msg = str(e)
    except Exception as e:
        finds.append(("py-crash", where(e), traceback.format_exc()[-2500:]))
    c_ok, fab = None, None
    try:
        fab = Fabric.from_object(data)
        c_ok = True
    except WseError as e:
        c_ok = False
        c_msg = str(e)
        if not c_msg:
            finds.append(("c-nomsg", type(e).__name__, "empty message"))
    except Exception as e:
        finds.append(("c-exc", where(e), traceback.format_exc()[-2500:]))
    if py_ok is not None and c_ok is not None and py_ok != c_ok:
        detail = (f"python: {'ok' if py_ok else py_msg}\nC: {'ok' if c_ok else c_msg}")
        sig = re.sub(r"\d+", "N", (py_msg if not py_ok else c_msg))[:60]
        finds.append(("disagree", sig, detail))
    if fab is not None:
        signal.alarm(120)
        try:
            fab.run(max_cycles=20000)
        except WseError as e:
            str(e)
        except Timeout:
            finds.append(("hang", "run-timeout", "run(max_cycles=20000) took > 120 s"))
        except Exception as e:
            finds.append(("run", where(e), traceback.format_exc()[-2500:]))
        finally:
            signal.alarm(0)
        try:
            fab.state_report()
        except Exception as e:
            finds.append(("run", "state_report:" + where(e), traceback.format_exc()[-2500:]))
        fab.close()
    if py_ok:
        signal.alarm(120)
        try:
            text = disassemble(data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AssemblyWarning)
                again = assemble_text(text, "dis.s")
                twice = assemble_text(disassemble(again), "dis2.s") if again != data else again
            # what the emulators read (not always the same bytes: the readers accept forms wse-as
            # never writes, such as unreferenced STRTAB bytes, images placed nowhere, overlapping
            # chunks or LINES records that change no position, which the listing cannot keep)
            if again != data and of.loaded_form(of.read(again)) != of.loaded_form(of.read(data)):
                finds.append(("objdump", "round-trip-form", "objdump -> wse-as changed what the emulators read"))
            elif twice != again:
                finds.append(("objdump", "second-round", "objdump -> wse-as of wse-as's output changed its bytes"))
        except Timeout:
            finds.append(("hang", "objdump-timeout", "objdump round trip > 120 s"))
        except AssemblyError as e:    # an object the readers accept that wse-as cannot write
            msg = e.diagnostics[0].message if e.diagnostics else str(e)
            finds.append(("objdump-reasm", re.sub(r"\d+|0x[0-9a-f]+", "N", msg)[:60], str(e)[-1500:]))
        except Exception as e:
            finds.append(("objdump", where(e), traceback.format_exc()[-2500:]))
        finally:
            signal.alarm(0)
    if cli:
        p = Path(tmp) / "case.wso"
        p.write_bytes(data)
        bindir = Path(sys.executable).parent
        for cmd in ([str(bindir / "wse-emu"), str(p), "--max-cycles", "20000"],
                    [str(bindir / "wse-objdump"), str(p)]):
            try:
                r = subprocess.run(cmd, capture_output=True, timeout=120, env=os.environ)
            except subprocess.TimeoutExpired:
                finds.append(("cli", Path(cmd[0]).name + " timeout", ""))
                continue
            err = r.stderr.decode("utf-8", "replace")
            if r.returncode not in (0, 1, 2) or "Traceback" in err or "internal error" in err \
                    or "AddressSanitizer" in err or "runtime error" in err:
                finds.append(("cli", f"{Path(cmd[0]).name} rc={r.returncode}", err[-2500:]))
    return finds


def worker(a):
    resource.setrlimit(resource.RLIMIT_AS, (12 << 30, 12 << 30)) if not a.asan else None
    signal.signal(signal.SIGALRM, _alarm)
    bases = [p.read_bytes() for p in sorted(Path(a.out, "base").glob("*.wso"))]
    prog = open(a.progress, "a")
    res = open(Path(a.out) / "findings.jsonl", "a")
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(a.start, a.end):
            prog.write(f"{n}\n")
            prog.flush()
            data = make_case(a.seed, n, bases)
            for cat, sig, detail in check(data, tmp, a.cli_every and n % a.cli_every == 0):
                res.write(json.dumps({"seed": a.seed, "case": n, "cat": cat, "sig": sig,
                                      "detail": detail}) + "\n")
                res.flush()
    prog.write("done\n")


def arg_parser(out: str, cli_every: int) -> argparse.ArgumentParser:
    """The options drive() and the workers share (this runner's and fuzz_run's): the seed and
    case range, the time budget, the ASan build, one case (--only), the output folder, and the
    worker-side ones (--worker, --end, --progress)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--cases", type=int, default=10 ** 8)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--cli-every", type=int, default=cli_every)
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("--only", type=int, default=None)
    ap.add_argument("--out", default=str(ROOT / out))
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--end", type=int, default=0)
    ap.add_argument("--progress", default="")
    return ap


def main():
    a = arg_parser("build/fuzz-obj", cli_every=200).parse_args()
    if a.worker:
        return worker(a)
    build_bases(Path(a.out) / "base")
    drive(a, HERE)


def drive(a, script):
    """Run the cases a.start.. in worker processes of `script` (restarted after a crash or a
    hang, the case written down and skipped) until a.cases or a.minutes."""
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.only is not None:
        a.start, a.cases = a.only, 1
    env = dict(os.environ)
    if a.asan:
        asan = ROOT / "build/asan"
        env["LD_PRELOAD"] = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                           text=True).stdout.strip()
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        env["PYTHONPATH"] = str(asan)
    t0 = time.monotonic()
    t_end = t0 + a.minutes * 60
    n, end = a.start, a.start + a.cases
    crashes = 0
    while n < end and time.monotonic() < t_end:
        prog = out / "progress.txt"
        prog.write_text("")
        errf = open(out / "worker.stderr", "w")
        chunk_end = min(end, n + 200_000)
        w = subprocess.Popen([sys.executable, str(script), "--worker", "--seed", str(a.seed), "--start", str(n),
                              "--end", str(chunk_end), "--progress", str(prog), "--out", str(out),
                              "--cli-every", str(a.cli_every)] + (["--asan"] if a.asan else [])
                             + list(getattr(a, "extra_args", [])),
                             env=env, stderr=errf, stdout=subprocess.DEVNULL)
        last, last_t = None, time.monotonic()
        while w.poll() is None:
            time.sleep(1)
            lines = prog.read_text().split()
            cur = lines[-1] if lines else None
            if cur != last:
                last, last_t = cur, time.monotonic()
            elif time.monotonic() - last_t > 300:
                w.kill()
                w.wait()
                break
            if time.monotonic() > t_end:
                w.kill()
                w.wait()
                break
        errf.close()
        lines = prog.read_text().split()
        if lines and lines[-1] == "done":
            n = chunk_end
            continue
        cur = int(lines[-1]) if lines else n
        if time.monotonic() > t_end:
            n = cur
            break
        err = (out / "worker.stderr").read_text(errors="replace")[-6000:]
        cat = "hang" if w.returncode in (-9,) else "c-crash"
        crashes += 1
        with open(out / "findings.jsonl", "a") as res:
            res.write(json.dumps({"seed": a.seed, "case": cur, "cat": cat, "sig": f"rc={w.returncode}",
                                  "detail": err}) + "\n")
        print(f"[{cur}] {cat} rc={w.returncode}", flush=True)
        n = cur + 1
    print(f"done: seed {a.seed}, cases {a.start}..{n} ({n - a.start}), {time.monotonic() - t0:.0f}s, "
          f"{crashes} worker crashes/hangs{' (asan)' if a.asan else ''}", flush=True)


if __name__ == "__main__":
    main()
