"""A long robustness campaign for wse-as on mutated real sources (not run by CI or pytest).

    python tests/fuzz/fuzz_asm.py [--seed N] [--cases N] [--minutes M] [--cli-every K] [--out DIR]

The corpus is every real source (kernels/**/*.s|*.inc, tests/asm/*.s, tests/asm/inc/*), each
with the defines and arch of its `;@ define` / `;@ arch` annotations. A case picks one or two
of them and applies 1-4 random mutations (delete / duplicate / swap lines or tokens, flip or
insert characters, huge literals, unicode, NUL bytes, truncation, splicing of two files, deep
nesting of parentheses, .if, .macro, .rep and .include), then assembles the result in-process
through the public API (assemble_text, filename = the original path so .include resolves).
Every --cli-every'th case also runs `wse-as FILE` as a subprocess (timeout 60 s).

Findings (written to --out, default build/fuzz-asm/, one file per distinct signature, with the
source that produced it):
  crash      an exception other than AssemblyError (a Python traceback / internal error)
  noloc      an AssemblyError diagnostic without file:line:col (printed in the log, to judge:
             a few, e.g. an empty program, have no line by design)
  slow       one case took longer than --slow seconds (default 10)
  roundtrip  a source that assembled, whose object does not read back or does not survive
             wse-objdump -> wse-as with the same bytes
  cli        wse-as exited with a status other than 0/1, or printed a traceback / internal error

Every case is derived from (--seed, case number), so a finding reproduces with
`--seed S --only CASE`. Speed: about 13 000 cases in 15 minutes on one core (seed 2, with
--cli-every 40); a case near the 2,000,000-statement limit takes several seconds.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

from wse.asm import AssemblyError, AssemblyWarning, assemble_text, disassemble  # noqa: E402
from wse.isa import objfile as of  # noqa: E402


def corpus():
    files = sorted(list(ROOT.glob("kernels/**/*.s")) + list(ROOT.glob("kernels/**/*.inc"))
                   + list(ROOT.glob("tests/asm/*.s")) + list(ROOT.glob("tests/asm/inc/*")))
    out = []
    for p in files:
        if "/llm/" in str(p):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        defs, arch = {}, None
        for m in re.finditer(r";@\s*define\s+(\w+)\s*=\s*(\S+)", text):
            try:
                defs[m.group(1)] = int(m.group(2), 0)
            except ValueError:
                try:
                    defs[m.group(1)] = float(m.group(2))
                except ValueError:
                    pass
        m = re.search(r";@\s*arch\s+(wse\d)", text)
        if m:
            arch = m.group(1)
        out.append((p, text, defs, arch))
    return out


TOKEN_RE = re.compile(r"\s+|[A-Za-z_.][\w.]*|0[xX][0-9a-fA-F_]+|\d[\d_.eE]*|\"(?:[^\"\\]|\\.)*\"|.", re.S)

SPECIAL = ["0x" + "f" * 40, "9" * 400, "1e400", "-1e400", "nan", "inf", "0x8000000000000000",
           "-2147483649", "4294967296", "65536", "-1", "0", "1.5", "0b", "0x", "1__0", "\x00",
           "\u00e9", "\u202e", "\ud7ff", "\U0001F600", "\ufeff", "\r", "\t", "\x0c", "\\", "\"",
           "'", ";", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "%", "<<", ">>", "~",
           "!", "?", ":", "=", "==", "&&", "||", ".", "..", "@", "#", "$", "`", "\n", "\n\n",
           ".if 1\n", ".endif\n", ".else\n", ".macro m a\n", ".endm\n", ".rep 3\n", ".endr\n",
           ".endprogram\n", ".program p\n", ".place p, 0, 0\n", ".fabric 2, 2\n", ".data\n", ".text\n",
           ".include \"consts.inc\"\n", "pe_x", "pe_y", "r15", "r16", "d0", "d9", "t63", "t64",
           "ut7", "ut8", "async", "activate", "color=", "len=", "base=", "stride=", "9999999",
           "-9999999", "0x7fffffff", "2147483648", ".+1", ".-100000", "1.0e-45", "65504", "65520",
           "ramp", "north", "west", "east", "south", "->", ".route", ".task", ".dsd", "mem4d",
           "fabin", "fabout", "mem1d", "log2(0)", "1/0", "1%0", "1<<64", "1<<100000", "-(-(-1))"]

ASCII = [chr(c) for c in range(32, 127)]


def mutate_once(rng: random.Random, text: str, others) -> str:
    lines = text.split("\n")
    op = rng.randrange(22)
    if op == 0 and lines:                                 # delete line(s)
        i = rng.randrange(len(lines))
        del lines[i:i + rng.choice((1, 1, 2, 5))]
    elif op == 1 and lines:                               # duplicate line(s)
        i = rng.randrange(len(lines))
        lines[i:i] = lines[i:i + rng.choice((1, 2, 4))] * rng.choice((1, 2, 3))
    elif op == 2 and len(lines) > 1:                      # swap lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3 and lines:                               # move a line elsewhere
        i = rng.randrange(len(lines))
        ln = lines.pop(i)
        lines.insert(rng.randrange(len(lines) + 1), ln)
    elif op in (4, 5, 6):                                 # token-level
        toks = TOKEN_RE.findall(text)
        if not toks:
            return text
        i = rng.randrange(len(toks))
        if op == 4:
            del toks[i]
        elif op == 5:
            toks.insert(rng.randrange(len(toks) + 1), toks[i])
        else:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        return "".join(toks)
    elif op == 7:                                         # replace a token with a special one
        toks = TOKEN_RE.findall(text)
        idx = [k for k, t in enumerate(toks) if not t.isspace()]
        if idx:
            toks[rng.choice(idx)] = rng.choice(SPECIAL)
        return "".join(toks)
    elif op == 8:                                         # replace a number with a wild one
        nums = list(re.finditer(r"(?<![\w.])(0x[0-9a-fA-F]+|\d+(\.\d+)?)", text))
        if nums:
            m = rng.choice(nums)
            v = rng.choice(["0", "-1", "1", "65535", "65536", "0xffff", "0x10000", "0xffffffff",
                            "0x100000000", "-32768", "-32769", "32767", "32768", "24", "23", "63",
                            "64", "8", "7", "4096", "4095", "100000", "1e9", "9" * 30,
                            "-" + "9" * 30, "1.5", "3.4e38", "-0", str(rng.randrange(-2**40, 2**40))])
            return text[:m.start()] + v + text[m.end():]
    elif op == 9 and text:                                # flip a character
        i = rng.randrange(len(text))
        c = chr(ord(text[i]) ^ (1 << rng.randrange(7))) if rng.random() < 0.7 else rng.choice(ASCII)
        return text[:i] + c + text[i + 1:]
    elif op == 10:                                        # insert a special thing anywhere
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(SPECIAL) + text[i:]
    elif op == 11 and text:                               # truncate
        return text[:rng.randrange(len(text))]
    elif op == 12:                                        # splice two files
        o = rng.choice(others)[1].split("\n")
        i, j = rng.randrange(len(lines) + 1), rng.randrange(len(o) + 1)
        lines = lines[:i] + o[j:] if rng.random() < 0.5 else lines[:i] + o[j:j + rng.randrange(1, 40)] + lines[i:]
    elif op == 13:                                        # deep parentheses around a number
        nums = list(re.finditer(r"(?<![\w.])\d+", text))
        if nums:
            m = rng.choice(nums)
            d = rng.choice((50, 150, 199, 200, 201, 260, 1000, 5000))
            return text[:m.start()] + "(" * d + m.group() + ")" * d + text[m.end():]
    elif op == 14:                                        # deep .if nesting
        d = rng.choice((10, 99, 100, 101, 300))
        i = rng.randrange(len(lines) + 1)
        lines[i:i] = [".if 1"] * d + ([".endif"] * d if rng.random() < 0.8 else [])
    elif op == 15:                                        # recursive / deep macros
        d = rng.choice((5, 63, 64, 65, 200))
        defs = [f".macro m{k}\n    m{k + 1}\n.endm" for k in range(d)] + [f".macro m{d}\n    nop\n.endm"]
        i = rng.randrange(len(lines) + 1)
        lines[i:i] = defs + (["    m0"] if rng.random() < 0.7 else [])
    elif op == 16:                                        # nested .rep (big count)
        i = rng.randrange(len(lines) + 1)
        # (a product near the 2,000,000-statement limit takes 10-40 s: rare, see the report)
        a, b = rng.choice(((2, 2), (0, 5), (3, 100), (100, 100), (2000000, 0), (5, 0))) \
            if rng.random() < 0.97 else rng.choice(((1000, 1000), (3000, 1000)))
        lines[i:i] = [f".rep {a}", f".rep {b}", "    nop" if rng.random() < 0.5 else "", ".endr", ".endr"]
    elif op == 17:                                        # self include / include chains
        i = rng.randrange(len(lines) + 1)
        lines.insert(i, rng.choice(['.include "cycle_a.inc"', '.include "/dev/zero"', '.include "/dev/null"',
                                    '.include "/"', '.include ""', '.include "' + "a" * 5000 + '"',
                                    '.include "\x00"', '.include "../../../../../etc/passwd"',
                                    '.include "bad_line.inc"', '.include "consts.inc"',
                                    '.include "collectives.inc"', '.include "' + "../" * 50 + 'x"']))
    elif op == 18:                                        # insert a random line from another file
        o = rng.choice(others)[1].split("\n")
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(o))
    elif op == 19 and lines:                              # very long line
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + " " + rng.choice(["+1", ",r1", " x", "0"]) * rng.choice((100, 5000, 60000))
    elif op == 20:                                        # random bytes-ish garbage
        i = rng.randrange(len(text) + 1)
        g = "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(1, 30)))
        g = "".join(c if not (0xD800 <= ord(c) <= 0xDFFF) else "?" for c in g)
        return text[:i] + g + text[i:]
    elif op == 21 and lines:                              # strip comments (exposes code)/ uppercase
        i = rng.randrange(len(lines))
        lines[i] = lines[i].upper() if rng.random() < 0.5 else lines[i].split(";")[0]
    return "\n".join(lines)


def make_case(seed: int, n: int, corp):
    rng = random.Random(f"{seed}:{n}")
    p, text, defs, arch = rng.choice(corp)
    defs = dict(defs)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        text = mutate_once(rng, text, corp)
    if rng.random() < 0.05 and defs:
        k = rng.choice(sorted(defs))
        defs[k] = rng.choice([0, -1, 1, 4096, 4097, 2**31, 2**64, 1.5, 1e300, -(2**63)])
    return p, text, defs, arch


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def sig_of(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "/wse" in f.filename or "wt-fuzz" in f.filename]
    last = frames[-1] if frames else (tb[-1] if tb else None)
    where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__}@{where}"


def run_case(p, text, defs, arch, slow):
    incs = [str(p.parent), str(ROOT / "kernels/lib"), str(ROOT / "tests/asm/inc"),
            str(ROOT / "kernels/collectives")]
    signal.alarm(int(slow * 6))
    t0 = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssemblyWarning)
            data = assemble_text(text, filename=str(p), include_dirs=incs, defines=defs, arch=arch)
    except AssemblyError as e:
        signal.alarm(0)
        s = str(e)  # rendering must not fail
        bad = [d for d in e.diagnostics if d.line is None or d.col is None]
        return ("err", time.monotonic() - t0, bad, s)
    except Timeout:
        return ("timeout", time.monotonic() - t0, None, None)
    except RecursionError as e:
        signal.alarm(0)
        return ("crash", time.monotonic() - t0, e, None)
    except Exception as e:
        signal.alarm(0)
        return ("crash", time.monotonic() - t0, e, None)
    signal.alarm(0)
    dt = time.monotonic() - t0
    # the object reads back and survives the printer
    try:
        signal.alarm(int(slow * 6))
        of.read(data)
        if len(data) < 2_000_000:
            dis = disassemble(data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AssemblyWarning)
                again = assemble_text(dis, "dis.s")
            if again != data:
                signal.alarm(0)
                return ("roundtrip", dt, "objdump round trip changed the bytes", None)
        signal.alarm(0)
    except Timeout:
        return ("roundtrip", dt, "timeout in objdump round trip", None)
    except Exception as e:
        signal.alarm(0)
        return ("roundtrip", dt, e, None)
    return ("ok", dt, None, None)


def run_cli(p, text, defs, arch, tmp):
    src = Path(tmp) / p.name
    src.write_bytes(text.encode("utf-8", "surrogatepass"))
    cmd = [str(Path(sys.executable).parent / "wse-as"), str(src), "-o", str(Path(tmp) / "o.wso"),
           "-I", str(p.parent), "-I", str(ROOT / "kernels/lib"), "-I", str(ROOT / "tests/asm/inc")]
    for k, v in defs.items():
        cmd += ["-D", f"{k}={v}"]
    if arch:
        cmd += ["--arch", arch]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "cli timeout"
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode not in (0, 1) or "Traceback" in err or "internal error" in err:
        return f"cli rc={r.returncode}: {err[-400:]}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=10 ** 9)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--cli-every", type=int, default=50)
    ap.add_argument("--slow", type=float, default=10)
    ap.add_argument("--only", type=int, default=None)
    ap.add_argument("--out", default=str(ROOT / "build/fuzz-asm"))
    a = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    signal.signal(signal.SIGALRM, _alarm)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    corp = corpus()
    seen = set()
    counts = {}
    t_end = time.monotonic() + a.minutes * 60
    t_start = time.monotonic()
    cases = [a.only] if a.only is not None else range(a.start, a.start + a.cases)
    n_done = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in cases:
            if time.monotonic() > t_end:
                break
            p, text, defs, arch = make_case(a.seed, n, corp)
            kind, dt, info, rendered = run_case(p, text, defs, arch, a.slow)
            n_done += 1
            counts[kind] = counts.get(kind, 0) + 1
            finds = []
            if kind == "crash":
                finds.append(("crash", sig_of(info), "".join(traceback.format_exception(info))[-3000:]))
            elif kind == "timeout":
                finds.append(("slow", f"timeout-{p.name}-{n}", f"took > {a.slow * 6}s"))
            elif kind == "roundtrip":
                sig = sig_of(info) if isinstance(info, BaseException) else str(info)
                finds.append(("roundtrip", sig, "".join(traceback.format_exception(info))[-3000:]
                              if isinstance(info, BaseException) else str(info)))
            if dt > a.slow and kind != "timeout":
                big_rep = re.search(r"\.rep\s+\d{5,}", text)    # near the 2,000,000-statement limit
                finds.append(("slow", "slow-big-rep" if big_rep else f"slow-{p.name}", f"took {dt:.1f}s"))
            if kind == "err" and info:
                for d in info:
                    msg = re.sub(r"\d+", "N", d.message)[:70]
                    finds.append(("noloc", msg, d.render()))
            if a.cli_every and n % a.cli_every == 0 or a.only is not None:
                r = run_cli(p, text, defs, arch, tmp)
                if r:
                    finds.append(("cli", r.splitlines()[0][:80], r))
            for cat, sig, detail in finds:
                key = (cat, sig)
                if key in seen:
                    continue
                seen.add(key)
                h = hashlib.sha1(repr(key).encode()).hexdigest()[:10]
                (out / f"{cat}-{h}.s").write_text(text, encoding="utf-8", errors="surrogatepass")
                (out / f"{cat}-{h}.txt").write_text(
                    f"seed={a.seed} case={n} file={p} defs={defs} arch={arch}\n{sig}\n{detail}\n",
                    encoding="utf-8", errors="replace")
                print(f"[{n}] {cat}: {sig}  (seed {a.seed} case {n}, {p.name})", flush=True)
            if n_done % 500 == 0:
                print(f"... {n_done} cases, {time.monotonic() - t_start:.0f}s, {counts}", flush=True)
    print(f"done: seed {a.seed}, {n_done} cases ({cases[0] if n_done else '-'}..), "
          f"{time.monotonic() - t_start:.0f}s, {counts}", flush=True)


if __name__ == "__main__":
    main()
