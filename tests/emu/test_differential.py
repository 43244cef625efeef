"""Lock-step differential test: the C core (wse.emu.Fabric) against the reference interpreter
(wse.emu.reference.ReferenceFabric), which is the executable form of docs/timing.md.

Hypothesis generates programs for small fabrics (1x1 .. 4x3): random scalar code, tensor ops
over random in-bounds DSDs, sends and fabric tensor ops between PEs on point-to-point,
multicast, switched and host routes, data/local/control tasks and async ops. Both emulators
run the same object file in chunks of CHUNK cycles and their complete state (every PE's
pe_state, the cycle, idle/fault/hang) is compared at every chunk boundary; on a difference,
both are replayed from the start one cycle at a time to the first differing cycle, and the
assertion prints which keys differ, both values and the last instructions the reference
executed on that PE.
"""
from __future__ import annotations

import random
import struct
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from wse.isa import load as load_isa, objfile
from wse.isa.builder import ImageBuilder
from wse.emu.reference import ReferenceFabric

from helpers import (report_diffs, assemble_quietly, chain_program as waiting_chain, chains as waiting_chains,
                     check_records, record_diffs)

N, E, S, W, R = 1, 2, 4, 8, 16
STEP = {N: (0, -1), E: (1, 0), S: (0, 1), W: (-1, 0)}
OPP = {N: S, S: N, E: W, W: E}
PNAME = {N: "north", E: "east", S: "south", W: "west"}
ISA = load_isa()
CHUNK = 8
MAX_CYCLES = 4000

MAIN, LOCAL, ASYNC_DONE, CTRL = 32, 33, 34, 40       # task ids (data tasks use their color)


def _core_fabric():
    pytest.importorskip("wse.emu._core", reason="the C core is not built (pip install -e .)")
    from wse.emu import Fabric
    return Fabric


# =============================================================================================
# lock-step comparison
def outcome(fab, fn):
    """Run fn(); return ("ok", value) or ("ExcName", key facts)."""
    try:
        return ("ok", fn())
    except Exception as e:                                   # compared below, never swallowed
        name = type(e).__name__
        if name not in ("FaultError", "HangError", "WatchdogError"):
            raise
        facts = {"cycle": getattr(e, "cycle", None)}
        # what was still running where the run stopped (the unfinished spans a trace shows)
        facts["open"] = fab.trace_open_events()
        if name == "HangError":
            # the whole report: both emulators describe the state of the PEs and who waits on
            # whom in the same words (a diff of the lines: end_diffs), and build the records the
            # waits are printed from from the state alone (compared field by field)
            facts["report"] = str(e)
            check_records(e)
            facts["wait_records"] = (tuple(e.waits), tuple(e.deadlock), e.waits_truncated, e.waits_out_of_memory,
                                     e.deadlock_out_of_memory)
        if name == "WatchdogError":
            facts["report"] = str(e)      # the state where the run stopped: the same words too
        if name == "FaultError":
            pe = getattr(e, "pe", None)
            if pe is None and hasattr(e, "x"):
                pe = (e.x, e.y)
            facts.update(pe=tuple(pe) if pe is not None else None, kind=getattr(e, "kind", None),
                         pc=getattr(e, "pc", None), task=getattr(e, "task", None))
            for k in ("pc", "task"):
                if facts[k] is not None and facts[k] < 0:
                    facts[k] = None
        return (name, facts)


def end_diffs(ref_status, core_status) -> list[str]:
    """How two end statuses differ; for two hangs, their wait records field by field."""
    if ref_status == core_status:
        return []
    out = [f"end status: reference {ref_status} vs core {core_status}"]
    if ref_status[0] == core_status[0] == "HangError":
        def err(facts):
            waits, deadlock, truncated, waits_oom, deadlock_oom = facts["wait_records"]
            return SimpleNamespace(waits=list(waits), deadlock=list(deadlock), waits_truncated=truncated,
                                   waits_out_of_memory=waits_oom, deadlock_out_of_memory=deadlock_oom,
                                   cycle=facts["cycle"])
        out += record_diffs(err(core_status[1]), err(ref_status[1]))
    if ref_status[0] == core_status[0] and "report" in ref_status[1]:
        out += report_diffs(core_status[1]["report"], ref_status[1]["report"])
    return out


def state_diff(a: dict, b: dict) -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k, "<missing>"), b.get(k, "<missing>")
        if k == "mem":
            if (va is None) != (vb is None) or (va is not None and not np.array_equal(va, vb)):
                if va is None or vb is None:
                    out.append(f"  mem: reference {va is not None} vs core {vb is not None}")
                else:
                    idx = np.nonzero(np.asarray(va) != np.asarray(vb))[0][:8]
                    out.append("  mem differs at words " + ", ".join(
                        f"{i:#x}: ref {int(va[i]):#06x} core {int(vb[i]):#06x}" for i in idx))
        elif k == "dsrs":
            va_, vb_ = [tuple(d) for d in va], [tuple(d) for d in vb]
            for i, (x, y) in enumerate(zip(va_, vb_)):
                if x != y:
                    out.append(f"  dsrs[{i}]: reference {x} vs core {y}")
        elif k in ("rb", "oq", "iq"):
            na = {c: [tuple(w) for w in q] for c, q in va.items()}
            nb = {c: [tuple(w) for w in q] for c, q in vb.items()}
            if na != nb:
                out.append(f"  {k}: reference {na} vs core {nb}")
        elif k == "ut":
            na = [tuple(u) if u is not None else None for u in va]
            nb = [tuple(u) if u is not None else None for u in vb]
            if na != nb:
                out.append(f"  ut: reference {na} vs core {nb}")
        elif va != vb:
            out.append(f"  {k}: reference {va} vs core {vb}")
    return out


def compare(ref, core, w, h, what):
    diffs = []
    if ref.cycle != core.cycle:
        diffs.append(f"cycle: reference {ref.cycle} vs core {core.cycle}")
    for y in range(h):
        for x in range(w):
            d = state_diff(ref.pe_state(x, y), core.pe_state(x, y))
            if d:
                tr = "\n".join(f"    cycle {c} pc {pc}: {txt}" for c, pc, txt in ref.trace(x, y)[-10:])
                diffs.append(f"PE ({x},{y}) {what}:\n" + "\n".join(d)
                             + f"\n  last instructions (reference):\n{tr}")
                break
        if diffs:
            break
    if not diffs:
        # the spans open at the boundary: the running tasks and the ops in progress
        o_ref, o_core = ref.trace_open_events(), core.trace_open_events()
        if o_ref != o_core:
            diffs.append(f"open spans {what}: reference {o_ref} vs core {o_core}")
    return diffs


def lockstep(obj_bytes, w, h, arch, host=(), max_cycles=MAX_CYCLES, describe=""):
    """Run both; at each CHUNK boundary compare everything. On a difference, replay one cycle
    at a time to the first differing cycle and fail with the differing state."""
    Fabric = _core_fabric()

    def fresh():
        r, c = ReferenceFabric(w, h, arch), Fabric(w, h, arch)
        for fab in (r, c):
            fab.load(obj_bytes)
            for color, x, y, port, vals, ctrl in host:
                fab.send(color, x, y, port, vals, control=ctrl)
        return r, c

    def step_both(r, c, t):
        o1 = outcome(r, lambda: bool(r.run_until(t)))
        o2 = outcome(c, lambda: c.run_until(t))     # returns whether the fabric is idle
        return o1, o2

    def ended(o):
        return o[0] != "ok"

    def status(o, fab):
        if o[0] != "ok":
            return o
        return ("ok", o[1] if isinstance(o[1], bool) else _idle(fab))

    ref, core = fresh()
    t = 0
    while t < max_cycles:
        t2 = t + CHUNK
        o1, o2 = step_both(ref, core, t2)
        s1, s2 = status(o1, ref), status(o2, core)
        diffs = end_diffs(s1, s2)
        if not ended(o1) and not ended(o2):
            diffs += compare(ref, core, w, h, f"at cycle {t2}")
        if diffs:
            # bisect: replay one cycle at a time from the start of this chunk
            r2, c2 = fresh()
            step_both(r2, c2, t)
            for tt in range(t + 1, t2 + 1):
                p1, p2 = step_both(r2, c2, tt)
                q1, q2 = status(p1, r2), status(p2, c2)
                dd = end_diffs(q1, q2)
                if not ended(p1) and not ended(p2):
                    dd += compare(r2, c2, w, h, f"at cycle boundary {tt}")
                if dd:
                    raise AssertionError(f"first divergence before cycle boundary {tt}:\n"
                                         + "\n".join(dd) + f"\nprogram:\n{describe}")
            raise AssertionError("divergence that did not reproduce cycle by cycle:\n"
                                 + "\n".join(diffs) + f"\nprogram:\n{describe}")
        if ended(o1):
            return s1
        if s1 == ("ok", True):
            # both idle: the final run() must agree too
            f1 = outcome(ref, lambda: ref.run())
            f2 = outcome(core, lambda: core.run())
            assert (f1[0], ref.cycle) == (f2[0], core.cycle), (f1, f2, describe)
            return s1
        t = t2
    return ("running", t)


def _idle(fab):
    if hasattr(fab, "idle"):
        v = fab.idle
        return bool(v() if callable(v) else v)
    return None


# =============================================================================================
# program generation
I32 = [0, 1, 2, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 31, 32, 33, 16, 0x1234ABCD]
F32S = [0.0, -0.0, 1.0, -2.5, 3.4e38, 1e-45, 1.17e-38, np.inf, -np.inf, np.nan, 0.1, 65504.0,
        1 + 2 ** -11, 7e-6]
F16S = [0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 6.1e-5, np.inf, np.nan, 0.1, 2049.0, -1e-3]
SCALAR_RRR = ["add", "sub", "and", "or", "xor", "sll", "srl", "sra", "mul", "slt", "sltu",
              "addf", "subf", "mulf", "maxf", "minf", "feq", "flt", "fle", "macf"]
SCALAR_RRI = ["addi", "slti"]
SCALAR_RRU = ["andi", "ori", "xori"]
SCALAR_SH = ["slli", "srli", "srai"]
SCALAR_RR = ["negf", "absf", "i2f", "f2i", "h2f", "f2h"]
TENSOR = [i for i in ISA.insns if i.types is not None]
TYPES = {"h": "f16", "s": "f32", "u16": "u16", "u32": "u32"}
BUF16, BUF32 = 48, 24          # elements of the 16-bit and 32-bit scratch buffers


def fbits(x):
    return int(np.float32(x).view(np.uint32))


def hbits(x):
    return int(np.float16(x).view(np.uint16))


def li(b, r, v):
    v &= 0xFFFFFFFF
    b.emit("lui", r1=r, uimm16=v >> 16)
    b.emit("ori", r1=r, r2=r, uimm16=v & 0xFFFF)


def rand_i32(rng):
    c = rng.random()
    if c < 0.35:
        return rng.choice(I32)
    if c < 0.65:
        return fbits(rng.choice(F32S))
    if c < 0.75:
        return hbits(rng.choice(F16S))
    return rng.getrandbits(32)


class PeProg:
    """Everything one PE runs, collected before it is emitted."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        self.routes = {}           # color -> [(rx, tx), ...]
        self.sends = []            # (color, payloads, ctrl_after, use_fabout)
        self.data_tasks = {}       # color -> expected wavelets (a data task)
        self.fabin = []            # (color, count)
        self.is_main = True


def gen_routes(rng, w, h, progs, host):
    """Flows on distinct colors: point-to-point, multicast chains, switches, host in/out."""
    colors = list(range(1, 24))
    rng.shuffle(colors)
    n_flows = rng.randint(0, min(6, 2 * w * h))
    for c in colors[:n_flows]:
        kind = rng.choice(["p2p", "p2p", "chain", "switch", "host_out", "host_in"])
        x, y = rng.randrange(w), rng.randrange(h)
        src = progs[(x, y)]
        k = rng.randint(1, 6)
        payloads = [rand_i32(rng) for _ in range(k)]
        if kind in ("p2p", "chain"):
            dirs = [d for d in (N, E, S, W) if 0 <= x + STEP[d][0] < w and 0 <= y + STEP[d][1] < h]
            if not dirs:
                continue
            d = rng.choice(dirs)
            path = [(x, y)]
            cx, cy = x, y
            while True:
                cx, cy = cx + STEP[d][0], cy + STEP[d][1]
                if not (0 <= cx < w and 0 <= cy < h):
                    break
                path.append((cx, cy))
                if kind == "p2p":
                    break
            src.routes[c] = [(R, d)]
            for i, p in enumerate(path[1:], 1):
                last = i == len(path) - 1
                progs[p].routes[c] = [(OPP[d], R if last else R | d)]
                consume(rng, progs[p], c, k)
            src.sends.append((c, payloads, False, rng.random() < 0.3))
        elif kind == "switch":
            if not (x + 1 < w and y + 1 < h):
                continue
            k2 = rng.randint(1, 4)
            src.routes[c] = [(R, E), (R, S)]
            progs[(x + 1, y)].routes[c] = [(W, R)]
            progs[(x, y + 1)].routes[c] = [(N, R)]
            progs[(x + 1, y)].data_tasks[c] = k
            progs[(x, y + 1)].data_tasks[c] = k2
            src.sends.append((c, payloads, True, False))       # k data, then sendc CTRL
            src.sends.append((c, [rand_i32(rng) for _ in range(k2)], False, False))
        elif kind == "host_out":
            edges = [d for d in (N, E, S, W) if not (0 <= x + STEP[d][0] < w and 0 <= y + STEP[d][1] < h)]
            if not edges:
                continue
            d = rng.choice(edges)
            src.routes[c] = [(R, d if rng.random() < 0.8 else d | R)]
            if src.routes[c][0][1] & R:
                consume(rng, src, c, k)
            src.sends.append((c, payloads, False, rng.random() < 0.3))
        else:  # host_in
            edges = [d for d in (N, E, S, W) if not (0 <= x + STEP[d][0] < w and 0 <= y + STEP[d][1] < h)]
            if not edges:
                continue
            d = rng.choice(edges)
            src.routes[c] = [(d, R)]
            consume(rng, src, c, k)
            host.append((c, x, y, PNAME[d], payloads, False))


def consume(rng, prog, c, k):
    if rng.random() < 0.7:
        prog.data_tasks[c] = k
    else:
        prog.fabin.append((c, k))


class Gen:
    """Emits random code for one PE image."""

    def __init__(self, rng, b: ImageBuilder, arch):
        self.rng, self.b, self.arch = rng, b, arch
        self.labels = 0
        self.uts_free = list(range(8))

    def label(self):
        self.labels += 1
        return f"L{self.labels}"

    def scalar_block(self, n):
        rng, b = self.rng, self.b
        regs = list(range(2, 13))
        end = self.label()
        pending = []
        for i in range(n):
            c = rng.random()
            r1, r2, r3 = rng.choice(regs), rng.choice(regs + [0]), rng.choice(regs + [0, 1])
            if c < 0.35:
                b.emit(rng.choice(SCALAR_RRR), r1=r1, r2=r2, r3=r3)
            elif c < 0.45:
                b.emit(rng.choice(SCALAR_RRI), r1=r1, r2=r2, imm16=rng.randint(-32768, 32767))
            elif c < 0.5:
                b.emit(rng.choice(SCALAR_RRU), r1=r1, r2=r2, uimm16=rng.getrandbits(16))
            elif c < 0.55:
                b.emit(rng.choice(SCALAR_SH), r1=r1, r2=r2, shamt=rng.randrange(32))
            elif c < 0.65:
                b.emit(rng.choice(SCALAR_RR), r1=r1, r2=r2)
            elif c < 0.72:
                li(b, r1, rand_i32(rng))
            elif c < 0.82:
                # loads/stores into the scratch buffers: "s16" and "s32" (addresses via li)
                mn = rng.choice(["ld16", "ld16s", "ld32", "st16", "st32"])
                buf, n_el, e = (("s32", BUF32, 2) if mn in ("ld32", "st32") else ("s16", BUF16, 1))
                b.emit("addi", r1=13, r2=0, imm16=0)
                self.addr_fixups.append((b.pc - 1, buf, rng.randrange(n_el) * e))
                b.emit(mn, r1=r1, r2=13, imm16=0)
            elif c < 0.825:
                # rarely, a fault: a trap, or a store to an arbitrary address (code, SRAM end)
                if rng.random() < 0.5:
                    b.emit("trap", uimm16=rng.getrandbits(16))
                else:
                    b.emit(rng.choice(["st16", "st32"]), r1=r1, r2=0,
                           imm16=rng.choice([0, 1, 3, -1, 32767, -32768]))
            elif c < 0.86:
                b.emit("rdcyc", r1=r1)
            elif c < 0.9:
                b.emit("nop")
            else:
                lab = self.label()
                b.emit(rng.choice(["beq", "bne", "blt", "bge", "bltu", "bgeu"]), r1=r1, r2=r2,
                       target=lab)
                pending.append((lab, i + rng.randint(1, 3)))
            for lab, at in list(pending):
                if at <= i:
                    b.label(lab)
                    pending.remove((lab, at))
        for lab, _ in pending:
            b.label(lab)
        b.label(end)

    def mem_dsd(self, typ, n):
        """A memory DSD over the scratch buffer of the type's width, all elements in bounds."""
        rng, b = self.rng, self.b
        buf, size = ("s32", BUF32) if typ in ("s", "u32") else ("s16", BUF16)
        e = 2 if buf == "s32" else 1
        if n >= 4 and n % 2 == 0 and rng.random() < 0.25:
            n0 = 2
            n1 = n // 2
            s0, s1 = rng.choice([(1, 2), (2, 1), (1, 3), (n1, 1)])
            span = (n0 - 1) * s0 + (n1 - 1) * s1
            off = rng.randrange(size - span)
            return b.dsd("mem4d", buf, lens=[n0, n1], strides=[s0, s1], offset=off * e, name=f"m4_{n}")
        fits = [sd for sd in (1, 1, 1, 2, 0, -1) if abs(sd) * max(n - 1, 0) < size]
        stride = rng.choice(fits)
        span = abs(stride) * max(n - 1, 0)
        off = rng.randrange(size - span) + (span if stride < 0 else 0)
        return b.dsd("mem1d", buf, n, stride=stride, offset=off * e, name=f"m1_{n}")

    def tensor_op(self, fab_src=None, fab_dst=None, act=None):
        """One tensor op. fab_src/fab_dst = (color, n) make operand b/a or dst a fabric DSD."""
        rng, b = self.rng, self.b
        if fab_src or fab_dst:
            n = (fab_src or fab_dst)[1]
        else:
            n = rng.choice([0, 1, 2, 3, 4, 5, 8, 9, 16])
        cands = TENSOR
        if fab_src:
            cands = [i for i in TENSOR if i.form in ("vv", "v", "vs", "vvs")]
        insn = rng.choice(cands)
        tdst, ta, tb = insn.types
        fields = {}
        if fab_dst:
            dd = b.dsd("fabout", color=fab_dst[0], length=n)
        else:
            dd = self.mem_dsd(tdst, n)
        b.emit("ldsd", dsr=0, dsdidx=dd)
        if rng.random() < 0.2:           # a change after the ldsd (pe_state's dsr_origins say so)
            b.emit("dsdaddi", dsr=0, imm16=0)
        fields["dd"] = 0
        srcs = []
        if insn.form in ("vv", "vs", "v", "vvs"):
            srcs.append(("da", 8, ta))
        if insn.form in ("vv", "vvs"):
            srcs.append(("db", 16, tb))
        fab_slot = rng.randrange(len(srcs)) if fab_src and srcs else None
        for i, (f, base, typ) in enumerate(srcs):
            if i == fab_slot:
                ds = b.dsd("fabin", color=fab_src[0], length=n)
            else:
                ds = self.mem_dsd(typ, n)
            b.emit("ldsd", dsr=base, dsdidx=ds)
            fields[f] = 0
        if insn.form in ("vs", "s", "vvs"):
            r = rng.randrange(2, 13)
            li(b, r, rand_i32(rng))
            fields["rs"] = r
        if act is None:
            act = 0 if rng.random() < 0.7 else rng.choice([1, 2])
        if act and self.uts_free:
            ut = self.uts_free.pop(rng.randrange(len(self.uts_free)))
            fields.update(act=act, ut=ut)
            if act == 2:
                fields["tid"] = ASYNC_DONE
        b.emit(insn.mnemonic, **fields)


def build_program(seed, w, h, arch):
    rng = random.Random(seed)
    progs = {(x, y): PeProg(x, y) for y in range(h) for x in range(w)}
    host = []
    gen_routes(rng, w, h, progs, host)
    images = {}
    for (x, y), p in progs.items():
        if rng.random() < 0.08 and not p.routes and (w * h > 1):
            continue                                   # an empty PE, when nothing routes here
        b = ImageBuilder(f"pe{x}_{y}")
        g = Gen(rng, b, arch)
        g.addr_fixups = []
        b.alloc("s16", "u16", BUF16, init=[hbits(rng.choice(F16S)) if rng.random() < 0.5
                                           else rng.getrandbits(16) for _ in range(BUF16)])
        b.alloc("s32", "u32", BUF32, init=[rand_i32(rng) for _ in range(BUF32)])
        b.alloc("acc", "u32", 2, init=0)
        # main task
        b.label("main")
        for r in range(2, 13):
            if rng.random() < 0.5:
                li(b, r, rand_i32(rng))
        g.scalar_block(rng.randint(0, 10))
        for c, payloads, ctrl_after, use_fabout in p.sends:
            if use_fabout and not ctrl_after:
                g.tensor_op(fab_dst=(c, len(payloads)))
            else:
                for v in payloads:
                    li(b, 2, v)
                    b.emit("send", color=c, rq=2)
            if ctrl_after:
                b.emit("addi", r1=2, r2=0, imm16=CTRL)
                b.emit("sendc", color=c, rq=2)
        for _ in range(rng.randint(0, 3)):
            g.tensor_op()
            if rng.random() < 0.4:
                g.scalar_block(rng.randint(1, 4))
        for c, k in p.fabin:
            g.tensor_op(fab_src=(c, k), act=rng.choice([0, 0, 2]))
        if rng.random() < 0.3:
            # a counted loop around a tensor op (loop counter r14)
            b.emit("addi", r1=14, r2=0, imm16=rng.randint(1, 4))
            b.label("loop")
            g.tensor_op(act=0)
            b.emit("addi", r1=14, r2=14, imm16=-1)
            b.emit("bne", r1=14, r2=0, target="loop")
        if rng.random() < 0.3:
            b.emit("activate", tid=LOCAL)
        b.emit("exit")
        # a local task
        b.label("local")
        g.scalar_block(rng.randint(1, 6))
        if rng.random() < 0.5:
            g.tensor_op(act=0)
        b.emit("exit")
        # the task async ops activate
        b.label("adone")
        b.emit("addi", r1=12, r2=12, imm16=1)
        b.emit("exit")
        # the control task
        b.label("ctrl")
        b.emit("addi", r1=11, r2=11, imm16=1)
        b.emit("exit")
        # data tasks: the GEMV step (fmacs with the payload as scalar) or an accumulation
        for c in sorted(p.data_tasks):
            b.label(f"on_c{c}")
            if rng.random() < 0.5:
                g.tensor_op(act=0) if rng.random() < 0.3 else None
                ins = [i for i in TENSOR if i.key in ("fmacs", "fmachs", "fadds.vs", "add16.vs")]
                insn = rng.choice(ins)
                tdst, ta, tb = insn.types
                n = rng.choice([1, 2, 4, 7])
                b.emit("ldsd", dsr=1, dsdidx=g.mem_dsd(tdst, n))
                b.emit("ldsd", dsr=9, dsdidx=g.mem_dsd(ta, n))
                fields = dict(dd=1, da=1, rs=1)
                if insn.form == "vvs":
                    b.emit("ldsd", dsr=17, dsdidx=g.mem_dsd(tb, n))
                    fields["db"] = 1
                b.emit(insn.mnemonic, **fields)
            else:
                b.emit("add", r1=10, r2=10, r3=1)
                g.scalar_block(rng.randint(0, 3))
            b.emit("exit")
            b.task(c, f"on_c{c}", kind="data", color=c)
        b.task(MAIN, "main", activated=True)
        b.task(LOCAL, "local")
        b.task(ASYNC_DONE, "adone")
        b.task(CTRL, "ctrl", kind="control")
        for c, pos in sorted(p.routes.items()):
            b.route(c, pos)
        img = b.build()
        # patch the scratch addresses into the `addi r13, r0, addr` instructions
        code = list(img.code)
        for pc, buf, off in g.addr_fixups:
            a = b.addresses[buf] + off
            code[pc] = (code[pc] & ~0xFFFF) | a
        img.code = code
        images[(x, y)] = img
    obj = objfile.ObjectFile.from_pe_images(arch, w, h, images)
    return obj.to_bytes(), host


def describe(obj_bytes, host):
    obj = objfile.read(obj_bytes)
    out = []
    from wse.isa import disassemble
    grid = obj.pe_grid()
    for i, img in enumerate(obj.images):
        pes = [(x, y) for y in range(obj.height) for x in range(obj.width) if grid[y][x] == i]
        out.append(f"image {i} on {pes}: routes {[(r.color, r.positions) for r in img.routes]}")
        out.append(f"  tasks {[(t.id, t.kind, t.entry, t.color) for t in img.tasks]}")
        for pc, wd in enumerate(img.code):
            out.append(f"  {pc:4d}: {disassemble(wd, pc)}")
    out.append(f"host sends: {host}")
    return "\n".join(out)


@settings(max_examples=150)
@given(seed=st.integers(0, 2 ** 32 - 1), w=st.integers(1, 4), h=st.integers(1, 3),
       arch=st.sampled_from(["wse2", "wse3"]))
def test_differential_random_programs(seed, w, h, arch):
    obj, host = build_program(seed, w, h, arch)
    lockstep(obj, w, h, arch, host, describe=describe(obj, host))


@settings(max_examples=60)
@given(seed=st.integers(0, 2 ** 32 - 1), w=st.integers(1, 4), h=st.integers(1, 3),
       arch=st.sampled_from(["wse2", "wse3"]))
def test_generated_programs_run_on_the_reference(seed, w, h, arch):
    """Runs without the C core: the generator's programs end in a defined way on the
    reference (idle, or a FaultError/HangError with a report), and two runs agree exactly."""
    obj, host = build_program(seed, w, h, arch)
    results = []
    for _ in range(2):
        f = ReferenceFabric(w, h, arch)
        f.load(obj)
        for color, x, y, port, vals, ctrl in host:
            f.send(color, x, y, port, vals, control=ctrl)
        o = outcome(f, lambda: f.run(max_cycles=MAX_CYCLES))
        results.append((o, f.cycle, [f.pe_state(x, y)["regs"] for y in range(h) for x in range(w)]))
        if o[0] == "FaultError":
            assert o[1]["kind"] and o[1]["pe"] is not None
    assert results[0] == results[1]


@settings(max_examples=100)
@given(chain=waiting_chains(), arch=st.sampled_from(["wse2", "wse3"]))
def test_differential_chains_that_wait_on_each_other(chain, arch):
    """Generated programs rarely hang; these mostly do: chains and rings of PEs each receiving
    from the one before and sending to the one after (helpers.chains). Lock-step as above, and
    at a hang the two emulators' wait records (HangError.waits, .deadlock) are compared field by
    field (end_diffs)."""
    w, h, path, closed, roles, head_from, counts, fillers = chain
    src = waiting_chain(w, h, path, closed, roles, head_from, counts, fillers)
    data = assemble_quietly(src, arch=arch)
    end = lockstep(data, w, h, arch, max_cycles=2000, describe=src)
    assert end[0] in ("ok", "HangError"), (end, src)
    if end[0] == "HangError":      # records exactly when the report has a waits section
        assert bool(end[1]["wait_records"][0]) == ("\nwho waits on whom" in end[1]["report"]), end


# =============================================================================================
# fixed regression programs
def gemv_program(n=6, k=5, rows=2, arch="wse2", seed=0):
    """y = A x per row of PEs: PE (0, r) streams A's columns (fp32) east on color 5 with a
    fabout fmovs per column; PE (1, r) runs, for each column j, fmacs y, y, fabin, x[j]."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((rows, n, k)).astype(np.float32)
    x = rng.standard_normal(k).astype(np.float32)
    images = {}
    for r in range(rows):
        b = ImageBuilder(f"stream{r}")
        b.alloc("A", "f32", n * k, init=A[r].T.reshape(-1))      # column-major
        col = b.dsd("mem1d", "A", n)
        out = b.dsd("fabout", color=5, length=n)
        b.label("main")
        b.emit("ldsd", dsr=0, dsdidx=out)
        b.emit("ldsd", dsr=8, dsdidx=col)
        b.emit("addi", r1=3, r2=0, imm16=k)
        b.label("loop")
        b.emit("fmovs", dd=0, da=0)
        b.emit("dsdaddi", dsr=8, imm16=2 * n)
        b.emit("addi", r1=3, r2=3, imm16=-1)
        b.emit("bne", r1=3, r2=0, target="loop")
        b.emit("exit")
        b.task(MAIN, "main", activated=True)
        b.route(5, (R, E))
        images[(0, r)] = b.build()
        b = ImageBuilder("gemv")
        b.alloc("y", "f32", n, init=0)
        b.alloc("x", "f32", k, init=x)
        dy = b.dsd("mem1d", "y", n)
        din = b.dsd("fabin", color=5, length=n)
        b.label("main")
        b.emit("ldsd", dsr=0, dsdidx=dy)
        b.emit("ldsd", dsr=8, dsdidx=dy)
        b.emit("ldsd", dsr=16, dsdidx=din)
        b.emit("addi", r1=3, r2=0, imm16=k)
        b.emit("addi", r1=4, r2=0, imm16=0)                    # word address of x[j] (fixed up)
        b.label("loop")
        b.emit("ld32", r1=5, r2=4, imm16=0)
        b.emit("fmacs", dd=0, da=0, db=0, rs=5)
        b.emit("addi", r1=4, r2=4, imm16=2)
        b.emit("addi", r1=3, r2=3, imm16=-1)
        b.emit("bne", r1=3, r2=0, target="loop")
        b.emit("exit")
        b.task(MAIN, "main", activated=True)
        b.route(5, (W, R))
        img = b.build()
        code = list(img.code)
        code[4] = (code[4] & ~0xFFFF) | b.addresses["x"]
        img.code = code
        images[(1, r)] = img
    obj = objfile.ObjectFile.from_pe_images(arch, 2, rows, images).to_bytes()
    y = np.zeros((rows, n), dtype=np.float32)
    for j in range(k):                                           # fmacs: y + (A[:, j] * x_j)
        y = y + (A[:, :, j] * x[j]).astype(np.float32)
    return obj, 2, rows, y


def chain_program(n_pes=4, arch="wse3"):
    """PE 0 sends 1..6 east on color 2; every other PE delivers to its RAMP and passes on
    (multicast); a data task sums the payloads."""
    images = {}
    b = ImageBuilder("src")
    b.label("main")
    for v in range(1, 7):
        b.emit("addi", r1=2, r2=0, imm16=v)
        b.emit("send", color=2, rq=2)
    b.emit("exit")
    b.task(MAIN, "main", activated=True)
    b.route(2, (R, E))
    images[(0, 0)] = b.build()
    for x in range(1, n_pes):
        b = ImageBuilder("sink")
        b.label("t")
        b.emit("add", r1=10, r2=10, r3=1)
        b.emit("nop")
        b.emit("exit")
        b.task(2, "t", kind="data", color=2)
        b.route(2, (W, R if x == n_pes - 1 else R | E))
        images[(x, 0)] = b.build()
    return objfile.ObjectFile.from_pe_images(arch, n_pes, 1, images).to_bytes(), n_pes, 1


def switch_program(arch="wse2"):
    """PE (0,0) sends 3 data wavelets, a control wavelet (which activates the control task
    on the east neighbour), then 2 more; its route switches from east to south."""
    b = ImageBuilder("src")
    b.label("main")
    for v in (5, 6, 7):
        b.emit("addi", r1=2, r2=0, imm16=v)
        b.emit("send", color=9, rq=2)
    b.emit("addi", r1=2, r2=0, imm16=CTRL)
    b.emit("sendc", color=9, rq=2)
    for v in (100, 200):
        b.emit("addi", r1=2, r2=0, imm16=v)
        b.emit("send", color=9, rq=2)
    b.emit("exit")
    b.task(MAIN, "main", activated=True)
    b.route(9, [(R, E), (R, S)])
    src = b.build()
    imgs = {(0, 0): src}
    for pos, rx in (((1, 0), W), ((0, 1), N)):
        b = ImageBuilder("rcv")
        b.label("t")
        b.emit("add", r1=10, r2=10, r3=1)
        b.emit("exit")
        b.label("c")
        b.emit("addi", r1=11, r2=11, imm16=1)
        b.emit("exit")
        b.task(9, "t", kind="data", color=9)
        b.task(CTRL, "c", kind="control")
        b.route(9, (rx, R))
        imgs[pos] = b.build()
    return objfile.ObjectFile.from_pe_images(arch, 2, 2, imgs).to_bytes(), 2, 2


def _run_ref(obj, w, h, arch):
    f = ReferenceFabric(w, h, arch)
    f.load(obj)
    f.run(max_cycles=MAX_CYCLES)
    return f


@pytest.mark.parametrize("arch", ["wse2", "wse3"])
def test_regression_programs_on_the_reference(arch):
    obj, w, h, y = gemv_program(arch=arch)
    f = _run_ref(obj, w, h, arch)
    assert np.array_equal(f.read("y", (1, 0, 1, h))[:, 0].view(np.uint32), y.view(np.uint32))
    obj, w, h = chain_program(arch=arch)
    f = _run_ref(obj, w, h, arch)
    assert [f.pe_state(x, 0)["regs"][10] for x in range(1, w)] == [21] * (w - 1)
    obj, w, h = switch_program(arch=arch)
    f = _run_ref(obj, w, h, arch)
    assert f.pe_state(1, 0)["regs"][10:12] == [18, 1]
    assert f.pe_state(0, 1)["regs"][10:12] == [300, 0]
    assert f.pe_state(0, 0)["switch"] == {9: 1}


@pytest.mark.parametrize("arch", ["wse2", "wse3"])
@pytest.mark.parametrize("which", ["gemv", "chain", "switch"])
def test_regression_programs_lockstep(which, arch):
    if which == "gemv":
        obj, w, h, _ = gemv_program(arch=arch)
    elif which == "chain":
        obj, w, h = chain_program(arch=arch)
    else:
        obj, w, h = switch_program(arch=arch)
    status = lockstep(obj, w, h, arch, describe=describe(obj, ()))
    assert status[0] == "ok"


# =============================================================================================
# regressions found by the differential test (C-core side; see the report in the commit log)
def test_core_run_until_reports_idle_at_the_first_idle_boundary():
    """run_until(T) must return True when the fabric is idle at boundary T, also when T is
    exactly the first idle boundary (the core used to answer WSE_PAUSED there, before
    checking for idle). Found by test_differential_random_programs (seed 6, 2x2, wse2)."""
    Fabric = _core_fabric()
    obj, w, h = chain_program(arch="wse2")
    ref = ReferenceFabric(w, h, "wse2")
    ref.load(obj)
    end = ref.run()
    core = Fabric(w, h, "wse2")
    core.load(obj)
    assert core.run_until(end - 1) is False
    assert core.run_until(end) is True
    assert core.cycle == end
