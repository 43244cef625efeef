"""A long robustness campaign for running programs on the C core (not run by CI or pytest).

    python tests/fuzz/fuzz_run.py [--seed N] [--cases N] [--minutes M] [--asan] [--ref-every K]

A case is a random object that the readers accept but that nobody would write: 1x1..4x3 PEs,
each with 4-60 random instruction words (every instruction of the ISA table, every field
random over its whole range; branch and jump targets inside the code, as the readers
require), registers loaded with wild values first (so loads, stores and DSR updates reach
anywhere), DSD tables with random kinds, bases, lengths (up to 2^32-1), 1-4 dimensions and
strides, random tasks (ids, kinds, colors, activated or blocked), random routes (colors,
1-4 switch positions, port masks, queues), data chunks anywhere past the code. It runs on the
C core with a random cycle limit (up to 2,000,000). Findings:

  c-crash / hang  the worker died (segfault, abort, ASan/UBSan with --asan) or made no
                  progress for 300 s (the cycle limit was ignored);
  run             an exception other than the emulator's own (WseError), or a fault report
                  without its PE / a PC outside the code / an empty message;
  ref             every --ref-every'th case also runs (max 3000 cycles) on the reference
                  emulator (emu/reference.py): the outcome (completed / fault with its PE,
                  PC, task and kind / hang / watchdog, the cycle) and every PE's final state
                  must be the same.

Cases that the object writer or the readers refuse are counted as "invalid" and skipped.
Every case is derived from (--seed, case number): `--seed S --only N` reruns one. Speed:
roughly 300-600 cases a minute without --asan.
"""
from __future__ import annotations

import json
import random
import resource
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import fuzz_obj  # noqa: E402  (the driver: worker processes, crash and hang detection)

ROOT = HERE.parents[2]


def wild(rng):
    return rng.choice([0, 1, 2, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 24575, 24576,
                       49151, 49152, 12288, 6000, rng.getrandbits(32), rng.randrange(0, 26000),
                       rng.randrange(-40, 40) & 0xFFFFFFFF])


def make_case(seed: int, n: int):
    from wse.isa import load
    from wse.isa import objfile as of
    from wse.isa.codec import encode
    isa = load()
    insns = list(isa.insns)
    rng = random.Random(f"run:{seed}:{n}")
    arch = rng.choice(("wse2", "wse3"))
    w, h = rng.randint(1, 4), rng.randint(1, 3)
    sram = 24576 if arch == "wse2" else 24576 * 1   # (the smaller one: the loader checks mem_words)
    images = {}
    for y in range(h):
        for x in range(w):
            if rng.random() < 0.1:
                continue
            dsds = []
            for _ in range(rng.randint(0, 8)):
                kind = rng.choice((of.DSD_MEM1D, of.DSD_MEM1D, of.DSD_MEM4D, of.DSD_MEM4D, of.DSD_FABIN, of.DSD_FABOUT))
                L0 = rng.choice([0, 1, 2, 5, 16, 100, 24576, 65535, 65536, 0xFFFFFFFF, rng.getrandbits(32),
                                 rng.randint(1, 64)])
                if kind in (of.DSD_FABIN, of.DSD_FABOUT):
                    dsds.append(of.Dsd(kind, rng.randint(0, 23), 0, (L0, 1, 1, 1), (0, 0, 0, 0), 1))
                elif kind == of.DSD_MEM1D:
                    dsds.append(of.Dsd(kind, 0, rng.choice((rng.randrange(sram), rng.randrange(200, 2200))), (L0, 1, 1, 1),
                                       (rng.randint(-32768, 32767) if rng.random() < 0.4 else rng.choice((1, 2, -1, 0)),
                                        0, 0, 0), 1))
                else:
                    nd = rng.randint(1, 4)
                    lens = [L0] + [rng.choice([1, 2, 3, 100, 65535, rng.randint(1, 65535)]) for _ in range(nd - 1)]
                    strides = [rng.choice([1, -1, 0, 2, 100, -32768, 32767, rng.randint(-32768, 32767)])
                               for _ in range(nd)]
                    dsds.append(of.Dsd(kind, 0, rng.choice((rng.randrange(sram), rng.randrange(200, 2200))), tuple(lens) + (1,) * (4 - nd),
                                       tuple(strides) + (0,) * (4 - nd), nd))
            n_code = rng.randint(4, 60)
            code = []
            # wild values in registers first: lui + ori
            for r in range(1, rng.randint(1, 15)):
                v = wild(rng)
                code.append(encode(isa.by_mnemonic["lui"][0], {"r1": r, "uimm16": v >> 16}, isa))
                code.append(encode(isa.by_mnemonic["ori"][0], {"r1": r, "r2": r, "uimm16": v & 0xFFFF}, isa))
            # most DSRs loaded from the table, so that tensor ops get past the kind check
            if dsds:
                for dsr in range(24):
                    if rng.random() < 0.8:
                        code.append(encode(isa.by_mnemonic["ldsd"][0],
                                           {"dsr": dsr, "dsdidx": rng.randrange(len(dsds))}, isa))
            start = len(code)
            total = start + n_code
            for pc in range(start, total):
                insn = rng.choice(insns)
                vals = {}
                for name in insn.field_names:
                    f = isa.fields[name]
                    lo, hi = f.range
                    if name == "off16":
                        vals[name] = rng.randrange(total) - pc
                    elif name == "tgt24":
                        vals[name] = rng.randrange(total)
                    elif f.kind in ("color", "dsr"):
                        vals[name] = rng.randint(0, 23) if rng.random() < 0.9 else rng.randint(lo, hi)
                    elif name == "dsdidx":
                        vals[name] = rng.randint(0, 8) if rng.random() < 0.9 else rng.randint(lo, hi)
                    else:
                        vals[name] = rng.randint(lo, hi)
                if "act" in vals:
                    if vals["act"] == 0:
                        vals["ut"] = vals["tid"] = 0
                    elif vals["act"] == 1:
                        vals["tid"] = 0
                try:
                    code.append(encode(insn, vals, isa))
                except Exception:
                    code.append(encode(isa.by_mnemonic["nop"][0], {}, isa))
            code.append(encode(isa.by_mnemonic["exit"][0], {}, isa))
            cw = 2 * len(code)
            mem_words = rng.choice([cw, cw + 16, cw + rng.randrange(0, 2000), sram])
            mem_words = max(min(mem_words, sram), cw)
            chunks = []
            for _ in range(rng.randint(0, 3)):
                if mem_words > cw:
                    a = rng.randrange(cw, mem_words)
                    k = rng.randint(0, min(40, mem_words - a))
                    chunks.append((a, [rng.getrandbits(16) for _ in range(k)]))
            tasks, used_ids, data_colors = [], set(), set()
            for _ in range(rng.randint(1, 6)):
                tid = rng.randint(0, 63)
                if tid in used_ids:
                    continue
                used_ids.add(tid)
                kind = rng.choice((0, 0, 1, 2))
                color = 255
                if kind == 1:
                    color = rng.randint(0, 23)
                    if color in data_colors:
                        continue
                    data_colors.add(color)
                tasks.append(of.Task(tid, kind, 0 if rng.random() < 0.7 else rng.randrange(len(code)), color,
                                     activated=rng.random() < 0.6, blocked=rng.random() < 0.15))
            routes = []
            for c in rng.sample(range(24), rng.randint(0, 5)):
                pos = tuple((rng.randrange(32), rng.randrange(32)) for _ in range(rng.randint(1, 4)))
                routes.append(of.Route(c, pos, rng.randrange(8), rng.randrange(8)))
            symbols = [of.Symbol(f"t{t.id}", "task", t.id, 0) for t in tasks]
            if mem_words > cw + 4:
                symbols.append(of.Symbol("buf", "u16", cw, min(8, mem_words - cw)))
            symbols.sort()
            images[(x, y)] = of.Image(f"p{x}_{y}", code, mem_words, chunks, dsds, tasks, routes, symbols,
                                      [of.Line(0, "gen.s", 1, 1)])
    if not images:
        return None, w, h, arch
    obj = of.ObjectFile.from_pe_images(arch, w, h, images)
    try:
        data = of.write(obj)
        of.read(data)
    except Exception:
        return None, w, h, arch
    max_cycles = rng.choice([100, 1000, 3000, 20000, 200000, 2000000])
    return (data, max_cycles), w, h, arch


def run_core(data, max_cycles):
    from wse.emu import Fabric
    from wse.emu.errors import FaultError, HangError, WatchdogError, WseError
    fab = Fabric.from_object(data)
    res = None
    try:
        fab.run(max_cycles=max_cycles)
        res = ("ok", fab.cycle)
    except FaultError as e:
        res = ("fault", e.cycle, tuple(e.pe) if e.pe is not None else None, e.pc, e.task, e.kind)
        if not str(e) or e.pe is None:
            raise AssertionError(f"a fault without its PE or message: {e!r}")
    except (HangError, WatchdogError) as e:
        res = (type(e).__name__, e.cycle)
        if not str(e):
            raise AssertionError("an empty report")
    except WseError as e:
        res = (type(e).__name__, str(e)[:200])
    return fab, res


def check(case, tmp, ref):
    data, max_cycles = case
    finds = []
    try:
        fab, res = run_core(data, max_cycles)
        fab.state_report()
    except Exception as e:
        finds.append(("run", fuzz_obj.where(e), traceback.format_exc()[-2500:]))
        return finds
    if ref:
        # the reference does a memory-only op's every element in Python at its first cycle:
        # skip objects with a DSD of more than 2^20 elements (hours there; 2 s in the core)
        from wse.isa import objfile as of
        ref = all(d.count <= 1 << 20 for img in of.read(data).images for d in img.dsds)
    if ref:
        from wse.emu.reference import ReferenceFabric
        from wse.emu.errors import FaultError, HangError, WatchdogError, WseError
        try:
            fab2, res2 = run_core(data, min(max_cycles, 3000))
            from wse.emu import Fabric
            arch_, w_, h_ = Fabric.peek(data)
            rf = ReferenceFabric(w_, h_, arch_)
            rf.load(data)
            try:
                rf.run(max_cycles=min(max_cycles, 3000))
                r = ("ok", rf.cycle)
            except FaultError as e:
                r = ("fault", e.cycle, tuple(e.pe) if e.pe is not None else None, e.pc, e.task, e.kind)
            except (HangError, WatchdogError) as e:
                r = (type(e).__name__, e.cycle)
            except WseError as e:
                r = (type(e).__name__, str(e)[:200])
            if r != res2:
                finds.append(("ref", f"outcome {r[0]} vs {res2[0]}",
                              f"reference {r}\ncore {res2}"))
            else:
                sys.path.insert(0, str(ROOT / "tests/emu"))
                from test_differential import state_diff
                for y in range(fab2.height):
                    for x in range(fab2.width):
                        d = state_diff(rf.pe_state(x, y), fab2.pe_state(x, y))
                        if d:
                            finds.append(("ref", "state " + d[0].split(":")[0].strip(),
                                          f"PE ({x},{y}) outcome {r}\n" + "\n".join(d)[:2000]))
                            break
                    else:
                        continue
                    break
        except Exception as e:
            finds.append(("ref-exc", fuzz_obj.where(e), traceback.format_exc()[-2500:]))
    return finds


def worker(a):
    import tempfile
    if not a.asan:
        resource.setrlimit(resource.RLIMIT_AS, (12 << 30, 12 << 30))
    prog = open(a.progress, "a")
    res = open(Path(a.out) / "findings.jsonl", "a")
    stats = {"invalid": 0, "run": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(a.start, a.end):
            prog.write(f"{n}\n")
            prog.flush()
            case, *_ = make_case(a.seed, n)
            if case is None:
                stats["invalid"] += 1
                continue
            stats["run"] += 1
            for cat, sig, detail in check(case, tmp, a.ref_every and n % a.ref_every == 0):
                res.write(json.dumps({"seed": a.seed, "case": n, "cat": cat, "sig": sig,
                                      "detail": detail}) + "\n")
                res.flush()
    (Path(a.out) / f"stats-{a.start}.json").write_text(json.dumps(stats))
    prog.write("done\n")


def main():
    ap = fuzz_obj.arg_parser("build/fuzz-run", cli_every=0)
    ap.add_argument("--ref-every", type=int, default=10)
    a = ap.parse_args()
    if a.worker:
        return worker(a)
    a.extra_args = ["--ref-every", str(a.ref_every)]
    fuzz_obj.drive(a, HERE)


if __name__ == "__main__":
    main()
