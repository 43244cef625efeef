"""wse.emu.reference: the executable specification.

A slow, readable, pure-Python interpreter of docs/timing.md. Every rule of the spec is a short
piece of code below, commented with the spec's words, so that a reader can check one against
the other. The fast C core (csrc/) implements the same rules; tests/emu/test_differential.py
runs both in lock-step and compares their state cycle by cycle.

This module imports only wse.isa, numpy, the standard library, the exception classes of
wse.emu.errors and the host API's argument checks of wse.emu.hostargs (both plain Python, the
checks shared with wse.emu.Fabric so that the two refuse the same arguments the same way), so
that it stays an independent statement of the semantics: it shares no code with the C core.

Layout of this file:
  1. values: 32-bit integers, fp16/fp32 with canonical NaNs
  2. exceptions
  3. per-PE state
  4. scalar instruction semantics (one small function per instruction, dispatched by key)
  5. tensor instruction semantics (one element function per instruction) and DSD operands
  6. the main thread: runs of local instructions, the scheduler
  7. phase 1: routers; phase 2: compute engines; the cycle loop, idle/hang/watchdog
  8. the host interface (load, write, read, send, received, launch) and pe_state
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from wse.isa import decode, format_insn, load as load_isa
from wse.isa import objfile

# The typed exceptions are the emulator's own (wse.emu.errors, plain Python), so that code
# catching them works with either backend; the reference fills the same fields as the C core.
from . import errors as E, hostargs as A
from .errors import BadArgError, FaultError, HangError, LoadError, NotFoundError, WatchdogError
from .records import (DSR_CHANGES, TRACE_OPEN, TRACE_TASK, TRACE_TENSOR, DsrOrigin, Received,
                      payloads_as)

ISA = load_isa()

# Ports (bit masks, as in the object format).
NORTH, EAST, SOUTH, WEST, RAMP = 1, 2, 4, 8, 16
PORT_NAMES = {NORTH: "north", EAST: "east", SOUTH: "south", WEST: "west", RAMP: "ramp"}
PORT_BY_NAME = {v: k for k, v in PORT_NAMES.items()}
OPPOSITE = {NORTH: SOUTH, SOUTH: NORTH, EAST: WEST, WEST: EAST}
STEP = {NORTH: (0, -1), EAST: (1, 0), SOUTH: (0, 1), WEST: (-1, 0)}
NCOLORS = load_isa().max_colors     # the core's array sizes (csrc/wse_internal.h)
NTASKS = load_isa().max_task_ids
NUT = load_isa().max_microthreads
NDSRS = load_isa().n_dsrs
RUN_LIMIT = 4096          # "after 4096 instructions" a run ends
TRACE_LEN = 32            # instructions kept per PE for fault and divergence reports

# Return codes of instruction semantics that do not simply cost cycles.
WAIT = "wait"             # could not execute (send into a full oq): nothing happened
HOLD = "hold"             # a synchronous fabric op started: the main thread is held by it
EXIT = "exit"             # the task ended

MASK32 = 0xFFFFFFFF
F16_QNAN = 0x7E00
F32_QNAN = 0x7FC00000


# =============================================================================================
# 1. Values
# =============================================================================================
def u32(v: int) -> int:
    return v & MASK32


def s32(v: int) -> int:
    v &= MASK32
    return v - (1 << 32) if v & 0x80000000 else v


def sext16(v: int) -> int:
    v &= 0xFFFF
    return v - 0x10000 if v & 0x8000 else v


def f32(bits: int) -> np.float32:
    """The fp32 value of 32 bits."""
    return np.uint32(bits & MASK32).view(np.float32)


def f16(bits: int) -> np.float32:
    """The fp16 value of the low 16 bits, widened (exactly) to fp32."""
    return np.float32(np.uint16(bits & 0xFFFF).view(np.float16))


def bits32(x) -> int:
    """fp32 bits of x (rounded to nearest even); a NaN is the canonical 0x7fc00000."""
    x = np.float32(x)
    return F32_QNAN if np.isnan(x) else int(x.view(np.uint32))


def bits16(x) -> int:
    """fp16 bits of x (an fp32 value, rounded to nearest even); a NaN is 0x7e00."""
    x = np.float32(x)
    if np.isnan(x):
        return F16_QNAN
    with np.errstate(over="ignore"):          # overflow to infinity is the IEEE result
        return int(np.float16(x).view(np.uint16))


def fmax(a: np.float32, b: np.float32) -> np.float32:
    """max with NaN if either is NaN, and +0 > -0 (Clarifications)."""
    if np.isnan(a) or np.isnan(b):
        return np.float32(np.nan)
    if a == b:                      # equal, or +0 and -0: the one without a sign bit wins
        return b if np.signbit(a) else a
    return a if a > b else b


def fmin(a: np.float32, b: np.float32) -> np.float32:
    if np.isnan(a) or np.isnan(b):
        return np.float32(np.nan)
    if a == b:
        return a if np.signbit(a) else b
    return a if a < b else b


# =============================================================================================
# 2. Exceptions
# =============================================================================================


def fault_error(kind, reason, cycle, pe=None, task=None, pc=None, insn=None, line=None,
                trace=(), expansions=(), task_name=None, address=None, color=None, port=None,
                code=None, microthread=None, router=False, source=None) -> FaultError:
    """The FaultError of a fault, with the fields the C core fills (wse.emu.Fabric._check) and a
    report that names them. trace: (own cycle, pc, text) of the instructions before the fault;
    source(pc) gives the "file:line:col" and expansions of a trace entry, for the report."""
    where = f"PE ({pe[0]},{pe[1]})" if pe else "fabric"
    msg = f"fault at {where}, cycle {cycle}"
    who = f"task {task}" + (f" ({task_name})" if task_name else "") if task is not None else None
    if microthread is not None:
        msg += f", microthread ut{microthread}" + (f" (async op issued by {who})" if who else "")
    elif router:
        msg += ", its router"
    elif who:
        msg += f", {who}"
    elif pe:
        msg += ", no task running"
    if pc is not None:
        msg += f", pc {pc}"
    if insn:
        msg += f": `{insn}`"
    if line:
        msg += f" ({_where(line, expansions)})"
    details = []
    if color is not None:
        details.append(f"color {color}")
    if port is not None:
        details.append(f"port {PORT_NAMES.get(port, port)}")
    if address is not None:
        details.append(f"address {address:#x}")
    if code is not None:
        details.append(f"code {code:#x}")
    msg += f": {reason} [{kind}" + "".join(f"; {d}" for d in details) + "]"
    if trace and pe:
        msg += (f"\n  the last {len(trace)} instructions PE ({pe[0]},{pe[1]}) executed before "
                f"(oldest first):")
        for t, tpc, text in trace:
            msg += f"\n    cycle {t}  pc {tpc}: {text}"
            src = source(tpc) if source else None
            if src and src[0]:
                msg += f"    at {_where(*src)}"
    return FaultError(msg, kind, reason, cycle, pe=pe, task=task, pc=pc, insn=insn, line=line,
                      task_name=task_name, address=address, color=color, port=port, code=code,
                      trace=trace, expansions=expansions if line else (), microthread=microthread)


def _ports(mask: int) -> str:
    """A port mask as the C core prints it: EAST,RAMP ({} when empty)."""
    return ",".join(PORT_NAMES[p].upper() for p in (NORTH, EAST, SOUTH, WEST, RAMP)
                    if mask & p) or "{}"


def _where(line, expansions=()) -> str:
    """"file:line:col" and the macro invocations it was expanded from, as the C core prints
    them: `f:l:c, in `m` at f:l:c`."""
    return line + "".join(f", in `{m}` at {at}" for m, at in expansions)


class Fault(Exception):
    """Raised inside the interpreter with a kind and a reason; the fabric adds the where. The
    fields the C core fills per kind: address (memory faults; None for a negative element
    address, as wse.emu.Fabric reports it), color and port (route and queue faults; port as
    a mask), code (trap)."""

    def __init__(self, kind, reason, cycle=None, address=None, color=None, port=None, code=None):
        super().__init__(reason)
        self.kind, self.reason = kind, reason
        self.cycle = cycle          # set by run_main: the faulting instruction's own cycle
        self.address = address if address is None or address >= 0 else None
        self.color, self.port, self.code = color, port, code


# =============================================================================================
# 3. Per-PE state
# =============================================================================================
class Route:
    def __init__(self, r: objfile.Route):
        self.positions = list(r.positions)   # (rx, tx) port masks
        self.pos = 0                         # the current position, initially 0
        self.iq = r.iq                       # input queue id bound to the color
        self.oq = r.oq                       # output queue id bound to the color

    @property
    def rx(self) -> int:
        return self.positions[self.pos][0]

    @property
    def tx(self) -> int:
        return self.positions[self.pos][1]


class Dsr:
    """A data structure register: a DSD (kind 0 = empty), and where it comes from: the DSD
    table entry dsd (None: no ldsd loaded it) and the pc of the ldsd that loaded it; what
    changed since (chg: bit 0 the base, by dsdbase/dsdadd/dsdaddi; bit 1 the length, by
    dsdlen) and the mnemonic and pc of the last instruction that changed it (by, by_pc)."""

    def __init__(self, d: objfile.Dsd | None = None, dsd: int | None = None, pc: int | None = None):
        if d is None:
            self.kind, self.color, self.base, self.ndim = 0, 0, 0, 1
            self.lens, self.strides = [0, 0, 0, 0], [0, 0, 0, 0]
        else:
            self.kind, self.color, self.base, self.ndim = d.kind, d.color, d.base, d.ndim
            self.lens, self.strides = list(d.lens), list(d.strides)
        self.dsd, self.ld_pc = dsd, pc
        self.chg, self.by, self.by_pc = 0, None, None

    def as_tuple(self):
        return (self.kind, self.color, self.base, *self.lens, *self.strides)

    def changed(self, bit: int, by: str, pc: int) -> None:
        self.chg |= bit
        self.by, self.by_pc = by, pc

    def origin(self, img) -> DsrOrigin | None:
        if self.dsd is None:
            return None
        return DsrOrigin(self.dsd, img.dsds[self.dsd].name, self.ld_pc, DSR_CHANGES[self.chg],
                         self.by if self.chg else None, self.by_pc if self.chg else None)

    def count(self) -> int:
        """Its elements (the C core's dsd_count): len0, or for mem4d the product over ndim."""
        if self.kind != objfile.DSD_MEM4D:
            return self.lens[0]
        return math.prod(self.lens[:self.ndim])


def origin_text(pe, o: DsrOrigin | None, pre: str = "") -> str:
    """Where a DSR's contents come from, as the C core's dsr_origin says it: pre + "loaded from
    DSD `NAME` by the ldsd at pc P, file:line:col, in `m` at file:line:col" ("DSD N" for a DSD
    without a name; the ldsd's position and the macro invocations it comes from, when it has
    one), then "; base changed since, last by the dsdaddi at pc Q"
    when something changed it since; "" when no ldsd loaded it."""
    if o is None:
        return ""
    line = pe.line(o.pc)
    text = (f"{pre}loaded from DSD " + (f"`{o.name}`" if o.name else str(o.dsd)) +
            f" by the ldsd at pc {o.pc}" + (f", {_where(line, pe.expansions(o.pc))}" if line else ""))
    if o.changed:
        text += f"; {o.changed} changed since, last by the {o.by} at pc {o.by_pc}"
    return text


def _paren(text: str) -> str:
    return f" ({text})" if text else ""


class Op:
    """A tensor operation in progress: a fabric op (element by element), or an async memory
    op waiting for its finish cycle."""

    def __init__(self, insn, values, n, operands, scalar, fn, pc, task=None):
        self.insn, self.values, self.n = insn, values, n
        self.operands = operands    # [dst, src0, src1] Operand or None
        self.scalar = scalar
        self.fn = fn
        self.pc = pc                # the op's issue: its pc and the task that issued it (a
        self.task = task            # fault of an async op after its issue is reported there)
        self.done = 0               # elements processed
        self.start = 0              # first cycle at which it may process an element (an async
                                    # memory op: its first cycle on the datapath; traces)
        self.finish_at = None       # cycle in which it finishes (known once all are done)

    @property
    def colors(self) -> set:
        return {o.color for o in self.operands if o is not None and o.fabric}


class PE:
    def __init__(self, fab, x, y, img: objfile.Image | None):
        self.x, self.y, self.index = x, y, y * fab.width + x
        self.img = img
        self.stats = dict(instructions=0, busy_cycles=0, wavelets_sent=0, wavelets_received=0,
                          stalls=0)
        self.regs = [0] * 16
        self.pc = None
        self.task = None
        self.activated = 0
        self.blocked = 0
        self.dsrs = [Dsr() for _ in range(NDSRS)]
        self.routes: dict[int, Route] = {}
        self.rb = {c: deque() for c in range(NCOLORS)}
        self.oq = {c: deque() for c in range(NCOLORS)}
        self.iq = {c: deque() for c in range(NCOLORS)}
        self.toggle = [False] * NCOLORS       # False: "rb first"
        self.ut: list[Op | None] = [None] * NUT
        self.dp_free = 0                      # the SIMD datapath is free from this cycle
        self.op: Op | None = None             # the main thread's synchronous fabric op
        self.wake = 0                         # the main thread's next self-scheduled event
        self.task_start = 0
        # the main thread's instructions as (own cycle, pc): those executed (a run has all its
        # effects at its first cycle) whose own cycle is not yet before the fabric's cycle,
        # then, once it is (counted then), the last TRACE_LEN of them
        self.pending: deque = deque()
        self.trace = deque(maxlen=TRACE_LEN)
        self.mem = None
        if img is None:
            return
        self.mem = np.zeros(fab.preset.sram_words, dtype=np.uint16)
        for i, w in enumerate(img.code):        # instruction i lives at words 2i, 2i+1
            self.mem[2 * i] = w & 0xFFFF
            self.mem[2 * i + 1] = w >> 16
        for addr, words in img.chunks:
            self.mem[addr:addr + len(words)] = words
        self.code_words = 2 * len(img.code)
        self.decoded = [decode(w) for w in img.code]
        self.tasks = {t.id: t for t in img.tasks}
        self.data_task_of = {t.color: t.id for t in img.tasks if t.kind == 1}
        self.task_names = {}                   # id -> name: the first task symbol, as the C core
        for s in img.symbols:
            if s.type == "task":
                self.task_names.setdefault(s.value, s.name)
        # index -> name: an ldsd operand by the DSD's name, as the C core prints it
        self.dsd_names = {i: d.name for i, d in enumerate(img.dsds) if d.name}
        for t in img.tasks:
            if t.activated:
                self.activated |= 1 << t.id
            if t.blocked:
                self.blocked |= 1 << t.id
        for r in img.routes:
            self.routes[r.color] = Route(r)

    # registers: r0 always reads 0 and ignores writes
    def r(self, i: int) -> int:
        return self.regs[i]

    def w(self, i: int, v: int) -> None:
        if i:
            self.regs[i] = v & MASK32

    def empty(self) -> bool:
        return self.img is None

    def insn_text(self, pc):
        if self.img is None or pc is None or not 0 <= pc < len(self.decoded):
            return None
        return format_insn(self.decoded[pc], pc, task_names=self.task_names, dsd_names=self.dsd_names)

    def history(self, before=None) -> list:
        """The last TRACE_LEN instructions the main thread executed whose own cycle is before
        `before` (None: all), oldest first, as (own cycle, pc, text)."""
        out = list(self.trace) + [e for e in self.pending if before is None or e[0] < before]
        return [(t, pc, self.insn_text(pc)) for t, pc in out[-TRACE_LEN:]]

    def task_name(self, tid):
        """The task's name from the symbol table, or None (no task, or a task without one)."""
        return self.task_names.get(tid) if self.img is not None and tid is not None else None

    def _line_for(self, pc):
        """The LINES entry of the instruction at pc; None without one, and past the end of the
        code (there is no instruction there to have a line)."""
        if self.img is None or pc is None or not 0 <= pc < len(self.decoded):
            return None
        return objfile.line_for(self.img, pc)

    def line(self, pc):
        ln = self._line_for(pc)
        return f"{ln.file}:{ln.line}:{ln.col}" if ln else None

    def expansions(self, pc):
        """The macro invocations the instruction at pc comes from, innermost first: (macro,
        "file:line:col")."""
        ln = self._line_for(pc)
        return [(m, f"{f}:{li}:{co}") for m, f, li, co in ln.via] if ln else []


# =============================================================================================
# 4. Scalar instruction semantics. Each function gets (fab, pe, v, t), where v holds the
#    decoded fields and t is the instruction's own cycle; it may set pe.next_pc. It returns
#    None (cost 1) or one of WAIT, HOLD, EXIT, or a cost in cycles.
# =============================================================================================
SEM = {}


def sem(*keys):
    def deco(fn):
        for k in keys:
            SEM[k] = fn
        return fn
    return deco


def _rr(pe, v):
    return pe.r(v["r2"]), pe.r(v["r3"])


@sem("nop")
def i_nop(fab, pe, v, t):
    pass


@sem("exit")
def i_exit(fab, pe, v, t):
    return EXIT


@sem("trap")
def i_trap(fab, pe, v, t):
    raise Fault("trap", f"trap {v['uimm16']} ({v['uimm16']:#x})", code=v["uimm16"])


@sem("rdcyc")
def i_rdcyc(fab, pe, v, t):
    pe.w(v["r1"], t & MASK32)          # the instruction's own cycle (Clarifications)


@sem("rdcych")
def i_rdcych(fab, pe, v, t):
    pe.w(v["r1"], (t >> 32) & MASK32)


# --- integer ALU: registers are 32-bit; arithmetic wraps mod 2^32 --------------------------
@sem("add")
def i_add(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], a + b)


@sem("sub")
def i_sub(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], a - b)


@sem("and")
def i_and(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], a & b)


@sem("or")
def i_or(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], a | b)


@sem("xor")
def i_xor(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], a ^ b)


@sem("sll")
def i_sll(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], 0 if b >= 32 else a << b)      # 0 when r3 >= 32


@sem("srl")
def i_srl(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], 0 if b >= 32 else a >> b)


@sem("sra")
def i_sra(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], s32(a) >> min(b, 31))         # sign fill when >= 32


@sem("mul")
def i_mul(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], a * b)                         # low 32 bits


@sem("slt")
def i_slt(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], int(s32(a) < s32(b)))


@sem("sltu")
def i_sltu(fab, pe, v, t):
    a, b = _rr(pe, v); pe.w(v["r1"], int(a < b))


@sem("addi")
def i_addi(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) + v["imm16"])


@sem("andi")
def i_andi(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) & v["uimm16"])


@sem("ori")
def i_ori(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) | v["uimm16"])


@sem("xori")
def i_xori(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) ^ v["uimm16"])


@sem("slli")
def i_slli(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) << v["shamt"])


@sem("srli")
def i_srli(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) >> v["shamt"])


@sem("srai")
def i_srai(fab, pe, v, t):
    pe.w(v["r1"], s32(pe.r(v["r2"])) >> v["shamt"])


@sem("lui")
def i_lui(fab, pe, v, t):
    pe.w(v["r1"], v["uimm16"] << 16)


@sem("slti")
def i_slti(fab, pe, v, t):
    pe.w(v["r1"], int(s32(pe.r(v["r2"])) < v["imm16"]))


# --- memory: word addresses; (r2 + imm16) mod 2^32 must lie inside SRAM --------------------
def _addr(fab, pe, v, words: int, write: bool) -> int:
    a = u32(pe.r(v["r2"]) + v["imm16"])
    check_mem(fab, pe, a, words, write)
    return a


def check_mem(fab, pe, a: int, words: int, write: bool) -> None:
    """One memory element of `words` 16-bit words at word address a (spec: DSD operands)."""
    if not 0 <= a or a + words > fab.preset.sram_words:
        raise Fault("mem_range", f"address {a:#x} is outside SRAM (0..{fab.preset.sram_words - 1:#x})",
                    address=a)
    if words == 2 and a % 2:
        raise Fault("misaligned", f"32-bit access at odd word address {a:#x}", address=a)
    if write and a < pe.code_words:
        raise Fault("write_code", f"write to {a:#x} inside the code region [0, {pe.code_words:#x})",
                    address=a)


LAZY_ADDRS = 1 << 20     # an Operand with more elements computes each address when asked


class _LazyAddrs:
    """The element addresses of a memory operand with many elements, dimension 0 fastest,
    computed when indexed or iterated (the C core's dsd_addr)."""

    def __init__(self, o):
        self.o = o

    def __len__(self):
        return self.o.n

    def __getitem__(self, i: int) -> int:
        o = self.o
        a = o.base
        for ln, st in zip(o.lens, o.strides):
            ln = ln or 1
            a += (i % ln) * st * o.e
            i //= ln
        return a

    def __iter__(self):
        return (self[i] for i in range(self.o.n))


def check_elem(fab, pe, a: int, o, write: bool) -> None:
    """One element of a tensor op's memory operand o (range, then alignment, then the code for
    the destination), reported as the C core's check_elem does, the DSR named with its DSD."""
    words, sram = o.e, fab.preset.sram_words
    which = f"{o.name} operand{_paren(origin_text(pe, o.origin))}"
    if a < 0 or a + words > sram:
        raise Fault("mem_range", f"{which}: element address {a} is outside SRAM ({sram} 16-bit words: a "
                                 f"{2 * words}-byte element starts at word 0..{sram - words})", address=a)
    if words == 2 and a % 2:
        raise Fault("misaligned", f"{which}: 32-bit element at odd word address {a}", address=a)
    if write and a < pe.code_words:
        raise Fault("write_code", f"{which}: element at word {a} is in the code region [0, {pe.code_words})",
                    address=a)


def rd16(pe, a: int) -> int:
    return int(pe.mem[a])


def rd32(pe, a: int) -> int:
    return int(pe.mem[a]) | int(pe.mem[a + 1]) << 16      # low half first


def wr16(pe, a: int, val: int) -> None:
    pe.mem[a] = val & 0xFFFF


def wr32(pe, a: int, val: int) -> None:
    pe.mem[a] = val & 0xFFFF
    pe.mem[a + 1] = (val >> 16) & 0xFFFF


@sem("ld16")
def i_ld16(fab, pe, v, t):
    pe.w(v["r1"], rd16(pe, _addr(fab, pe, v, 1, False)))


@sem("ld16s")
def i_ld16s(fab, pe, v, t):
    pe.w(v["r1"], sext16(rd16(pe, _addr(fab, pe, v, 1, False))))


@sem("ld32")
def i_ld32(fab, pe, v, t):
    pe.w(v["r1"], rd32(pe, _addr(fab, pe, v, 2, False)))


@sem("st16")
def i_st16(fab, pe, v, t):
    wr16(pe, _addr(fab, pe, v, 1, True), pe.r(v["r1"]))


@sem("st32")
def i_st32(fab, pe, v, t):
    wr32(pe, _addr(fab, pe, v, 2, True), pe.r(v["r1"]))


# --- control flow --------------------------------------------------------------------------
def _branch(pe, v, taken: bool) -> None:
    if taken:
        pe.next_pc = pe.pc + v["off16"]


@sem("beq")
def i_beq(fab, pe, v, t):
    _branch(pe, v, pe.r(v["r1"]) == pe.r(v["r2"]))


@sem("bne")
def i_bne(fab, pe, v, t):
    _branch(pe, v, pe.r(v["r1"]) != pe.r(v["r2"]))


@sem("blt")
def i_blt(fab, pe, v, t):
    _branch(pe, v, s32(pe.r(v["r1"])) < s32(pe.r(v["r2"])))


@sem("bge")
def i_bge(fab, pe, v, t):
    _branch(pe, v, s32(pe.r(v["r1"])) >= s32(pe.r(v["r2"])))


@sem("bltu")
def i_bltu(fab, pe, v, t):
    _branch(pe, v, pe.r(v["r1"]) < pe.r(v["r2"]))


@sem("bgeu")
def i_bgeu(fab, pe, v, t):
    _branch(pe, v, pe.r(v["r1"]) >= pe.r(v["r2"]))


@sem("jmp")
def i_jmp(fab, pe, v, t):
    pe.next_pc = v["tgt24"]


@sem("call")
def i_call(fab, pe, v, t):
    pe.w(15, pe.pc + 1)
    pe.next_pc = v["tgt24"]


@sem("jr")
def i_jr(fab, pe, v, t):
    pe.next_pc = pe.r(v["r1"])            # checked when fetched (pc_range fault)


# --- scalar fp32: registers hold binary32 bits --------------------------------------------
def _ff(pe, v):
    return f32(pe.r(v["r2"])), f32(pe.r(v["r3"]))


@sem("addf")
def i_addf(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], bits32(a + b))


@sem("subf")
def i_subf(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], bits32(a - b))


@sem("mulf")
def i_mulf(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], bits32(a * b))


@sem("maxf")
def i_maxf(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], bits32(fmax(a, b)))


@sem("minf")
def i_minf(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], bits32(fmin(a, b)))


@sem("negf")
def i_negf(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) ^ 0x80000000)      # flips the sign bit (also of a NaN)


@sem("absf")
def i_absf(fab, pe, v, t):
    pe.w(v["r1"], pe.r(v["r2"]) & 0x7FFFFFFF)      # clears the sign bit


@sem("feq")
def i_feq(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], int(bool(a == b)))


@sem("flt")
def i_flt(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], int(bool(a < b)))


@sem("fle")
def i_fle(fab, pe, v, t):
    a, b = _ff(pe, v); pe.w(v["r1"], int(bool(a <= b)))


@sem("i2f")
def i_i2f(fab, pe, v, t):
    pe.w(v["r1"], bits32(np.float32(s32(pe.r(v["r2"])))))   # int32 -> fp32, nearest even


@sem("f2i")
def i_f2i(fab, pe, v, t):
    x = f32(pe.r(v["r2"]))
    if np.isnan(x):
        r = 0                                   # NaN gives 0
    elif x >= 2.0 ** 31:
        r = 0x7FFFFFFF                          # saturates
    elif x <= -2.0 ** 31:
        r = -0x80000000
    else:
        r = int(float(x))                       # truncated toward zero
    pe.w(v["r1"], r)


@sem("h2f")
def i_h2f(fab, pe, v, t):
    pe.w(v["r1"], bits32(f16(pe.r(v["r2"]))))


@sem("f2h")
def i_f2h(fab, pe, v, t):
    pe.w(v["r1"], bits16(f32(pe.r(v["r2"]))))


@sem("macf")
def i_macf(fab, pe, v, t):
    acc, a, b = f32(pe.r(v["r1"])), *_ff(pe, v)
    prod = np.float32(a * b)                    # product rounded to fp32 ...
    pe.w(v["r1"], bits32(acc + prod))           # ... then the sum rounded: not fused


# --- DSRs ----------------------------------------------------------------------------------
@sem("ldsd")
def i_ldsd(fab, pe, v, t):
    i = v["dsdidx"]
    if i >= len(pe.img.dsds):
        raise Fault("dsd_index", f"DSD index {i} is outside the image's table ({len(pe.img.dsds)} entries)")
    pe.dsrs[v["dsr"]] = Dsr(pe.img.dsds[i], i, pe.pc)


@sem("dsdbase")
def i_dsdbase(fab, pe, v, t):
    pe.dsrs[v["dsr"]].base = pe.r(v["rq"])
    pe.dsrs[v["dsr"]].changed(1, "dsdbase", pe.pc)


@sem("dsdadd")
def i_dsdadd(fab, pe, v, t):
    d = pe.dsrs[v["dsr"]]
    d.base = u32(d.base + s32(pe.r(v["rq"])))     # 32-bit, wraps (Clarifications)
    d.changed(1, "dsdadd", pe.pc)


@sem("dsdaddi")
def i_dsdaddi(fab, pe, v, t):
    d = pe.dsrs[v["dsr"]]
    d.base = u32(d.base + v["imm16"])
    d.changed(1, "dsdaddi", pe.pc)


@sem("dsdlen")
def i_dsdlen(fab, pe, v, t):
    pe.dsrs[v["dsr"]].lens[0] = pe.r(v["rq"])
    pe.dsrs[v["dsr"]].changed(2, "dsdlen", pe.pc)


# --- tasks and the fabric ------------------------------------------------------------------
@sem("activate")
def i_activate(fab, pe, v, t):
    activate(pe, v["tid"])


@sem("block")
def i_block(fab, pe, v, t):
    pe.blocked |= 1 << v["tid"]


@sem("unblock")
def i_unblock(fab, pe, v, t):
    pe.blocked &= ~(1 << v["tid"])


@sem("send")
def i_send(fab, pe, v, t):
    return send(fab, pe, v, t, ctrl=False)


@sem("sendc")
def i_sendc(fab, pe, v, t):
    return send(fab, pe, v, t, ctrl=True)


def activate(pe, tid: int) -> None:
    """Set the activated bit of task tid; an undefined task is a fault (Clarifications)."""
    if tid not in pe.tasks:
        raise Fault("task", f"activation of task {tid}, which is not defined on this PE")
    pe.activated |= 1 << tid


def oq_room(pe, c: int) -> bool:
    """Check that the CE may push into oq[c] (Clarifications: entering through the RAMP):
    a route for c whose current rx contains RAMP (else a route fault); then whether oq[c]
    has room."""
    r = pe.routes.get(c)
    if r is None:
        raise Fault("route", f"color {c} has no route on this PE", color=c)
    if not r.rx & RAMP:
        raise Fault("route", f"color {c}: RAMP is not in rx of the current position {r.pos}",
                    color=c, port=RAMP)
    return len(pe.oq[c]) < pe.fab.preset.oq_depth[r.oq]


def push_oq(fab, pe, c: int, payload: int, ctrl: bool, t: int) -> None:
    pe.oq[c].append((payload & MASK32, ctrl, t + 1))     # ready = t + 1 (Clarifications)
    pe.stats["wavelets_sent"] += 1


def send(fab, pe, v, t, ctrl: bool):
    """send/sendc: 1 cycle once the wavelet fits in oq[c]; while it is full the main thread
    waits."""
    c = v["color"]
    if not oq_room(pe, c):
        return WAIT
    push_oq(fab, pe, c, pe.r(v["rq"]), ctrl, t)
    return None


# =============================================================================================
# 5. Tensor instructions. ELEM[key](a, b, s) computes one element. Floating point operands
#    arrive widened to fp32 (np.float32), the scalar rs as fp32; the result is an fp32 value
#    that is rounded to the destination type. Integer operands arrive as ints.
# =============================================================================================
F32 = np.float32


def _mac(acc, x, s):
    return acc + F32(x * s)          # the product is rounded to fp32 before the add


ELEM = {
    "fmovh.v": lambda a, b, s: a,
    "fmovh.s": lambda a, b, s: s,
    "faddh.vv": lambda a, b, s: a + b,
    "faddh.vs": lambda a, b, s: a + s,
    "fsubh.vv": lambda a, b, s: a - b,
    "fsubh.vs": lambda a, b, s: a - s,
    "fmulh.vv": lambda a, b, s: a * b,
    "fmulh.vs": lambda a, b, s: a * s,
    "fmach": lambda a, b, s: _mac(a, b, s),
    "fmaxh.vv": lambda a, b, s: fmax(a, b),
    "fmaxh.vs": lambda a, b, s: fmax(a, s),
    "fnegh": lambda a, b, s: -a,
    "fabsh": lambda a, b, s: abs(a),
    "fmovs.v": lambda a, b, s: a,
    "fmovs.s": lambda a, b, s: s,
    "fadds.vv": lambda a, b, s: a + b,
    "fadds.vs": lambda a, b, s: a + s,
    "fsubs.vv": lambda a, b, s: a - b,
    "fsubs.vs": lambda a, b, s: a - s,
    "fmuls.vv": lambda a, b, s: a * b,
    "fmuls.vs": lambda a, b, s: a * s,
    "fmacs": lambda a, b, s: _mac(a, b, s),
    "fmaxs.vv": lambda a, b, s: fmax(a, b),
    "fmaxs.vs": lambda a, b, s: fmax(a, s),
    "fnegs": lambda a, b, s: -a,
    "fabss": lambda a, b, s: abs(a),
    "faddhs": lambda a, b, s: a + b,               # b is the fp16 src1, widened
    "fmachs": lambda a, b, s: _mac(a, b, s),
    "fh2s": lambda a, b, s: a,                     # widened on read, stored as fp32
    "fs2h": lambda a, b, s: a,                     # rounded to fp16 on write
    "add16.vv": lambda a, b, s: a + b,
    "add16.vs": lambda a, b, s: a + s,
    "sub16.vv": lambda a, b, s: a - b,
    "sub16.vs": lambda a, b, s: a - s,
    "and16.vv": lambda a, b, s: a & b,
    "and16.vs": lambda a, b, s: a & s,
    "or16.vv": lambda a, b, s: a | b,
    "or16.vs": lambda a, b, s: a | s,
    "xor16.vv": lambda a, b, s: a ^ b,
    "xor16.vs": lambda a, b, s: a ^ s,
    "sll16.vv": lambda a, b, s: 0 if b >= 16 else a << b,          # 0 when >= 16
    "sll16.vs": lambda a, b, s: 0 if s >= 16 else a << s,          # unsigned rs
    "slr16.vv": lambda a, b, s: 0 if b >= 16 else a >> b,
    "slr16.vs": lambda a, b, s: 0 if s >= 16 else a >> s,
    "sar16.vv": lambda a, b, s: sext16(a) >> min(b, 15),           # sign fill when >= 16
    "sar16.vs": lambda a, b, s: sext16(a) >> min(s, 15),
    "mov16.v": lambda a, b, s: a,
    "mov16.s": lambda a, b, s: s,                                  # low 16 bits of rs
    "mov32.v": lambda a, b, s: a,
    "mov32.s": lambda a, b, s: s,
}
FLOAT_TYPES = ("h", "s")
ELEM_WORDS = {"h": 1, "s": 2, "u16": 1, "u32": 2}


class Operand:
    """One DSD operand of a tensor op: memory (a list of element addresses) or fabric."""

    def __init__(self, dsr: Dsr, type_: str, name: str, origin: DsrOrigin | None = None):
        self.type = type_
        self.e = ELEM_WORDS[type_]
        self.name = name            # the DSR: "d0", "a3"...
        self.origin = origin        # where it came from, at the op's issue (reports)
        self.fabric = dsr.kind in (objfile.DSD_FABIN, objfile.DSD_FABOUT)
        self.color = dsr.color
        if self.fabric:
            self.n = dsr.lens[0]
            self.addrs = None
            self.unit = True
            return
        nd = dsr.ndim if dsr.kind == objfile.DSD_MEM4D else 1
        lens = [dsr.lens[i] if i < nd else 1 for i in range(4)]
        strides = [dsr.strides[i] if i < nd else 0 for i in range(4)]
        self.n = lens[0] * lens[1] * lens[2] * lens[3]
        self.base, self.lens, self.strides = dsr.base, lens, strides
        if self.n <= LAZY_ADDRS:
            # element offsets (in elements), dimension 0 fastest
            offs = [i0 * strides[0] + i1 * strides[1] + i2 * strides[2] + i3 * strides[3]
                    for i3 in range(lens[3]) for i2 in range(lens[2])
                    for i1 in range(lens[1]) for i0 in range(lens[0])]
            self.unit = offs == list(range(self.n))      # one contiguous run
            self.addrs = [dsr.base + o * self.e for o in offs]
        else:
            # up to 2^32 - 1 elements (a 4-d DSD with long dimensions, a stride of 0): a list of
            # every address took gigabytes (MemoryError, found by fuzzing); computed per element
            run, unit = 1, True
            for ln, st in zip(lens, strides):
                unit = unit and (ln <= 1 or st == run)
                run *= ln
            self.unit = unit
            self.addrs = _LazyAddrs(self)

    def span_ok(self, pe, sram: int, write: bool) -> bool:
        """Every element inside SRAM, aligned and (a destination) outside the code, from the
        extent of the DSD alone (the C core's span_ok): then no element can fault."""
        lo = hi = self.base
        for ln, st in zip(self.lens, self.strides):
            span = (ln - 1 if ln else 0) * st * self.e
            if span < 0:
                lo += span
            else:
                hi += span
        return (lo >= 0 and hi + self.e <= sram and not (self.e == 2 and self.base % 2)
                and not (write and lo < pe.code_words))

    def read(self, pe, i: int, t: int):
        """Element i as raw bits (fabric: pops the head of iq[color])."""
        if self.fabric:
            payload, _ctrl, _ready = pe.iq[self.color].popleft()
            return payload & 0xFFFF if self.e == 1 else payload
        a = self.addrs[i]
        return rd16(pe, a) if self.e == 1 else rd32(pe, a)


def value_of(bits: int, type_: str):
    """Raw element bits -> the value the element function computes on."""
    if type_ == "h":
        return f16(bits)
    if type_ == "s":
        return f32(bits)
    return bits


def bits_of(val, type_: str) -> int:
    """A computed value -> element bits of the destination type."""
    if type_ == "h":
        return bits16(val)
    if type_ == "s":
        return bits32(val)
    if type_ == "u16":
        return int(val) & 0xFFFF
    return int(val) & MASK32


def is_tensor(insn) -> bool:
    return insn.types is not None


def has_fabric_operand(pe, insn, v) -> bool:
    for f in ("dd", "da", "db"):
        if f in v:
            d = pe.dsrs[v[f] + {"dd": 0, "da": 8, "db": 16}[f]]
            if d.kind in (objfile.DSD_FABIN, objfile.DSD_FABOUT):
                return True
    return False


def tensor_operands(fab, pe, insn, v):
    """Resolve and check the operands of a tensor op (Clarifications: order of checks)."""
    tdst, tsrc0, tsrc1 = insn.types
    form = insn.form
    # ut busy
    if v["act"] and pe.ut[v["ut"]] is not None:
        raise Fault("ut_busy", f"microthread {v['ut']} is busy")
    # DSR kinds; each DSR is named with the DSD it was loaded from, as the C core names it
    specs = [("dd", 0, tdst)]
    if form in ("vv", "vs", "v", "vvs"):
        specs.append(("da", 8, tsrc0))
    if form in ("vv", "vvs"):
        specs.append(("db", 16, tsrc1))
    dsrs, names, origins = [None] * 3, [None] * 3, [None] * 3
    for slot, (f, file_base, typ) in enumerate(specs):
        idx = v[f]
        dsr = dsrs[slot] = pe.dsrs[file_base + idx]
        names[slot] = "dab"[slot] + str(idx)
        origins[slot] = dsr.origin(pe.img)
        which = ("destination " if slot == 0 else "source ") + names[slot] + _paren(origin_text(pe, origins[slot]))
        if dsr.kind == 0:
            raise Fault("dsd_kind", f"{which} is an empty DSR")
        if slot == 0 and dsr.kind == objfile.DSD_FABIN:
            raise Fault("dsd_kind", f"{which} is a fabin DSD")
        if slot > 0 and dsr.kind == objfile.DSD_FABOUT:
            raise Fault("dsd_kind", f"{which} is a fabout DSD")
    # element counts: n is the destination's (at most 2^32 - 1); every source must match
    n = dsrs[0].count()
    dst = names[0] + _paren(origin_text(pe, origins[0]))
    if n > MASK32:
        raise Fault("dsd_length", f"destination {dst} has more than 2^32 elements")
    for slot in (1, 2):
        if dsrs[slot] is not None and dsrs[slot].count() != n:
            m = dsrs[slot].count()
            raise Fault("dsd_length", f"source {names[slot]}{_paren(origin_text(pe, origins[slot]))} has "
                                      f"{m if m <= MASK32 else 0} elements but the destination {dst} has {n}")
    ops = [None, None, None]
    for slot, (f, file_base, typ) in enumerate(specs):
        ops[slot] = Operand(dsrs[slot], typ, names[slot], origins[slot])
    # every memory element, checked before anything is written, an operand after another in
    # element order
    for slot, o in enumerate(ops):
        if o is not None and not o.fabric and o.n and not o.span_ok(pe, fab.preset.sram_words, slot == 0):
            for a in o.addrs:
                check_elem(fab, pe, a, o, write=(slot == 0))
    # queue busy: two fabric sources on one color, or a color an op in progress uses
    srcs = [o.color for o in ops[1:] if o is not None and o.fabric]
    if len(srcs) != len(set(srcs)):
        raise Fault("queue_busy", f"two fabric sources on color {srcs[0]}", color=srcs[0])
    mine = {o.color for o in ops if o is not None and o.fabric}
    busy = set()
    for other in [pe.op] + pe.ut:
        if other is not None:
            busy |= other.colors
    if mine & busy:
        raise Fault("queue_busy", f"color {min(mine & busy)} is used by an operation in progress",
                    color=min(mine & busy))
    # the scalar operand rs: fp32 bits for floating point ops, an integer for integer ops
    scalar = None
    if form in ("vs", "s", "vvs"):
        rs = pe.r(v["rs"])
        scalar = f32(rs) if tdst in FLOAT_TYPES else rs
    return n, ops, scalar


def element_ready(fab, pe, op: Op, t: int) -> bool:
    """Can the op process its next element now? Fabric sources need a ready wavelet in their
    iq; a fabric destination needs room in its oq (after the route check)."""
    for o in op.operands[1:]:
        if o is not None and o.fabric:
            q = pe.iq[o.color]
            if not q or q[0][2] > t:
                return False
    d = op.operands[0]
    if d.fabric and not oq_room(pe, d.color):
        return False
    return True


def do_element(fab, pe, op: Op, i: int, t: int) -> None:
    """Element i: read all sources, compute, write the destination."""
    dst, s0, s1 = op.operands
    a = value_of(s0.read(pe, i, t), s0.type) if s0 is not None else None
    b = value_of(s1.read(pe, i, t), s1.type) if s1 is not None else None
    r = bits_of(op.fn(a, b, op.scalar), dst.type)
    if dst.fabric:
        push_oq(fab, pe, dst.color, r, False, t)       # data wavelets, 16 bits zero-extended
    elif dst.e == 1:
        wr16(pe, dst.addrs[i], r)
    else:
        wr32(pe, dst.addrs[i], r)


def tensor(fab, pe, v, t, insn):
    """Execute a tensor op at cycle t (docs/timing.md: Instruction costs)."""
    n, ops, scalar = tensor_operands(fab, pe, insn, v)
    op = Op(insn, v, n, ops, scalar, ELEM[insn.key], pe.pc, pe.task)
    fabric = any(o is not None and o.fabric for o in ops)
    if not fabric:
        # Over memory only: the whole effect happens at its first cycle; cost
        # max(1, ceil(n / width)), width 1 if any operand is not unit-stride.
        for i in range(n):
            do_element(fab, pe, op, i, t)
        op.done = n
        unit = all(o.unit for o in ops if o is not None)
        width = fab.preset.simd[insn.cls] if unit else 1
        if unit and n > 1:
            # a recurrence: a source starting L elements before the destination and overlapping
            # it gives at most L elements per cycle (1 if its element size differs)
            d0, dst = ops[0].addrs[0], ops[0]
            for o in ops[1:]:
                if o is not None and o.addrs[0] < d0 < o.addrs[0] + n * o.e:
                    width = min(width, max(1, (d0 - o.addrs[0]) // dst.e) if o.e == dst.e else 1)
        cost = max(1, math.ceil(n / width))
        # one SIMD datapath per PE: a memory-only op starts when the previous one has finished
        start = max(t, pe.dp_free)
        pe.dp_free = start + cost
        if not v["act"]:
            return start + cost - t               # the wait for the datapath, then the op
        # async: takes effect at issue, finishes on microthread ut when the datapath is done
        op.start, op.finish_at = start, start + cost
        pe.ut[v["ut"]] = op
        return 1                                  # the main thread goes on at the next cycle
    if v["act"]:
        op.start = t + 1                          # the microthread's first event (Clarifications)
        if n == 0:
            op.finish_at = t + 1
        pe.ut[v["ut"]] = op
        return 1
    # synchronous fabric op: holds the main thread; first element in this cycle
    op.start = t
    pe.op = op
    if n == 0:
        op.finish_at = t + 1
    else:
        step_op(fab, pe, op, t)
    return HOLD


def step_op(fab, pe, op: Op, t: int) -> bool:
    """One event of a fabric op's thread: process the next element if it can. Returns True
    when an element was processed."""
    if op.finish_at is not None or t < op.start:
        return False
    if not element_ready(fab, pe, op, t):
        return False
    do_element(fab, pe, op, op.done, t)
    op.done += 1
    if op.done == op.n:
        op.finish_at = t + 1                      # it finishes the cycle after its last element
    return True


for _i in ISA.insns:
    if is_tensor(_i):
        assert _i.key in ELEM, f"no element semantics for {_i.key}"
        SEM[_i.key] = (lambda insn: lambda fab, pe, v, t: tensor(fab, pe, v, t, insn))(_i)
    assert _i.key in SEM, f"no semantics for {_i.key}"


# =============================================================================================
# 6. The main thread
# =============================================================================================
def stops_run(pe, d) -> bool:
    """Instructions before which a run stops when its cost so far is non-zero: sync ones, and
    tensor ops with a fabric operand or an async clause."""
    insn = d.insn
    if insn.sync:
        return True
    if is_tensor(insn):
        return bool(d.values["act"]) or has_fabric_operand(pe, insn, d.values)
    return False


class ReferenceFabric:
    """The reference interpreter: same interface as the C-backed wse.emu.Fabric."""

    def __init__(self, width: int, height: int, arch: str = "wse2"):
        arch = A.arch_arg(arch)
        width, height = A.fabric_size(width, height)
        self.width, self.height, self.arch = width, height, arch
        self.preset = ISA.presets[arch]
        self.cycle = 0
        self.hops = 0
        self.obj = None
        self.host_in: dict[tuple[int, int], deque] = {}   # (pe index, port) -> (color, payload, ctrl)
        self.host_out: list[Received] = []
        self.pes = [PE(self, x, y, None) for y in range(height) for x in range(width)]
        for pe in self.pes:
            pe.fab = self
        # the trace window (enable_trace; the reference records no events, but gives the spans
        # open where a run stopped through it), and the FaultError that stopped the last cycle
        self.trace_window = (0, 0, width, height, 0, A.U64)
        self.stopped_by_fault: FaultError | None = None

    # ---------------------------------------------------------------------------------------
    def pe_at(self, x, y) -> PE | None:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pes[y * self.width + x]
        return None

    def _fault(self, f: Fault, pe: PE | None, t: int, op: Op | None = None, ut=None,
               router=False):
        """The FaultError of f at PE pe in cycle t (f.cycle when set): a router's (no task,
        no pc), an async op's on microthread ut after its issue (op: reported at the op's
        issue, its pc and the task that issued it, whatever the CE runs now), or the main
        thread's (its task and pc)."""
        task = pc = None
        if pe is not None and op is not None:
            task, pc = op.task, op.pc
        elif pe is not None and not router:
            task, pc = pe.task, pe.pc
        insn = pe.insn_text(pc) if pe is not None else None
        line = pe.line(pc) if pe is not None else None      # None past the end of the code
        if f.cycle is not None:
            t = f.cycle
        # the main thread may have run ahead of t (a run's effects are at its first cycle):
        # the trace holds only the instructions whose own cycle is before the fault's
        trace = pe.history(before=t) if pe is not None else []
        return fault_error(f.kind, f.reason, t, (pe.x, pe.y) if pe else None, task, pc, insn,
                           line, trace, pe.expansions(pc) if line else (),
                           task_name=pe.task_name(task) if pe is not None else None,
                           address=f.address, color=f.color, port=f.port, code=f.code,
                           router=router and pe is not None, microthread=ut,
                           source=(lambda p: (pe.line(p), pe.expansions(p))) if pe else None)

    # ---- the scheduler ----------------------------------------------------------------------
    def runnable(self, pe: PE, t: int) -> list[int]:
        """Runnable task ids: not blocked, and activated (local and control tasks), or, for a
        data task bound to color c, iq[c] holds a ready wavelet."""
        out = []
        for tid, task in pe.tasks.items():
            if pe.blocked >> tid & 1:
                continue
            if task.kind == 1:
                q = pe.iq[task.color]
                if q and q[0][2] <= t:
                    out.append(tid)
            elif pe.activated >> tid & 1:
                out.append(tid)
        return sorted(out)

    def schedule(self, pe: PE, t: int) -> bool:
        """The CE is idle: pick the runnable task with the lowest id."""
        cands = self.runnable(pe, t)
        if not cands:
            return False
        tid = cands[0]
        task = pe.tasks[tid]
        if task.kind == 1:                        # a data task: pop its iq, payload -> r1
            payload, _c, _r = pe.iq[task.color].popleft()
            pe.w(1, payload)
        pe.activated &= ~(1 << tid)               # picking any task clears its activated bit
        pe.task, pe.pc = tid, task.entry
        pe.task_start = t
        pe.wake = t + self.preset.task_switch    # first instruction task_switch cycles later
        return True

    def end_task(self, pe: PE, t: int) -> None:
        pe.stats["busy_cycles"] += t - pe.task_start + 1
        pe.task = None
        pe.pc = None

    # ---- a run of local instructions --------------------------------------------------------
    def run_main(self, pe: PE, t0: int) -> bool:
        """Execute a run starting at t0. Returns True if anything executed."""
        cost = 0
        count = 0
        while True:
            if not 0 <= pe.pc < len(pe.decoded):
                raise Fault("pc_range", f"pc {pe.pc} is outside the code (0..{len(pe.decoded) - 1})",
                            cycle=t0 + cost)
            d = pe.decoded[pe.pc]
            if cost > 0 and stops_run(pe, d):
                break                             # it executes at t0 + cost, at its exact cycle
            t = t0 + cost                         # the instruction's own cycle
            pe.next_pc = pe.pc + 1
            try:
                res = SEM[d.insn.key](self, pe, d.values, t)
            except Fault as f:                    # a fault is reported at its instruction's cycle
                f.cycle = t
                raise
            if res == WAIT:                       # send into a full oq: wait, nothing happened
                break
            pe.pending.append((t, pe.pc))         # counted at its own cycle
            count += 1
            if res == HOLD:                       # a synchronous fabric op holds the thread
                return True
            if res == EXIT:                       # exit: the task ends; costs 1
                self.end_task(pe, t)
                cost += 1
                break
            cost += 1 if res is None else res
            pe.pc = pe.next_pc
            if count == RUN_LIMIT:
                break
        pe.wake = t0 + cost                       # the CE's next event
        return count > 0

    def finish_main_op(self, pe: PE, t: int) -> None:
        pe.op = None
        pe.pc += 1

    # =========================================================================================
    # 7. Cycles
    # =========================================================================================
    def _move_checks(self, pe: PE, c: int, tx: int, used: int) -> bool:
        """Step 3 of phase 1: faults first, then waits (Clarifications). True if it can move."""
        if tx == 0:
            raise Fault("route", f"color {c}: the route's tx is empty at position {pe.routes[c].pos}",
                        color=c)
        for port in (NORTH, EAST, SOUTH, WEST):
            if not tx & port:
                continue
            dx, dy = STEP[port]
            nb = self.pe_at(pe.x + dx, pe.y + dy)
            if nb is None:
                continue                          # off the fabric: delivered to the host
            if nb.empty():
                raise Fault("empty_pe", f"color {c}: wavelet sent {PORT_NAMES[port]} to PE "
                                        f"({nb.x},{nb.y}), which has no program", color=c, port=port)
            r = nb.routes.get(c)
            if r is None or not r.rx & OPPOSITE[port]:
                # reported at the PE whose route refuses it, as the C core does (timing.md)
                f = Fault("route", f"a wavelet on color {c} from PE ({pe.x},{pe.y}) enters through "
                                   f"{PORT_NAMES[OPPOSITE[port]].upper()}, but " +
                                   ("this PE has no route for the color" if r is None else
                                    "the current route's rx does not include it"),
                          color=c, port=OPPOSITE[port])
                f.at = nb
                raise f
        if tx & used:                             # one wavelet per link per direction per cycle
            return False
        for port in (NORTH, EAST, SOUTH, WEST):
            if tx & port:
                dx, dy = STEP[port]
                nb = self.pe_at(pe.x + dx, pe.y + dy)
                if nb is not None and len(nb.rb[c]) >= self.preset.router_depth:
                    return False
        if tx & RAMP:
            if len(pe.iq[c]) >= self.preset.iq_depth[pe.routes[c].iq]:
                return False
        return True

    def _move(self, pe: PE, c: int, src: deque, t: int) -> None:
        """Step 4: pop the candidate and copy it to every port of tx."""
        payload, ctrl, _ready = src.popleft()
        route = pe.routes[c]
        tx = route.tx
        for port in (NORTH, EAST, SOUTH, WEST):
            if not tx & port:
                continue
            dx, dy = STEP[port]
            nb = self.pe_at(pe.x + dx, pe.y + dy)
            if nb is None:                        # off-fabric edge: to the host
                self.host_out.append(Received(pe.x, pe.y, port, c, payload, ctrl, t))
            else:
                nb.rb[c].append((payload, ctrl, t + self.preset.hop_latency))
            self.hops += 1
        if tx & RAMP:
            pe.stats["wavelets_received"] += 1
            self.hops += 1
            if ctrl:                              # a control wavelet at a RAMP is not queued:
                try:                              # it activates task payload & 63
                    activate(pe, payload & 63)
                except Fault as f:
                    f.color = c                   # (the core reports the wavelet's color)
                    raise
            else:
                pe.iq[c].append((payload, ctrl, t + 1))
        if ctrl:                                  # the switch advances after it has left
            route.pos = (route.pos + 1) % len(route.positions)
        pe.toggle[c] = not pe.toggle[c]

    def _inject(self, pe: PE, t: int) -> bool:
        """Phase 1 step 1: host injection, ports N, E, S, W, at most one per port."""
        moved = False
        for port in (NORTH, EAST, SOUTH, WEST):
            q = self.host_in.get((pe.index, port))
            if not q:
                continue
            c, payload, ctrl = q[0]
            if len(pe.rb[c]) >= self.preset.router_depth:
                continue                          # the port waits; nothing behind it passes
            r = pe.routes.get(c)
            if r is None or not r.rx & port:
                raise Fault("route", f"color {c}: host wavelet enters through {PORT_NAMES[port]}, "
                                     "which is not in rx of the current position", color=c, port=port)
            q.popleft()
            pe.rb[c].append((payload, ctrl, t + self.preset.hop_latency))
            moved = True
        return moved

    def phase_routers(self, t: int) -> bool:
        happened = False
        for pe in self.pes:                       # increasing PE index
            if pe.empty():
                continue
            try:
                if self._inject(pe, t):
                    happened = True
                used = 0
                for k in range(NCOLORS):          # rotating priority (t + k) mod 24
                    c = (t + k) % NCOLORS
                    rb, oq = pe.rb[c], pe.oq[c]
                    rb_ready = bool(rb) and rb[0][2] <= t
                    oq_ready = bool(oq) and oq[0][2] <= t
                    if not (rb_ready or oq_ready):
                        continue
                    if rb_ready and oq_ready:     # both: alternate, toggle starts "rb first"
                        src = oq if pe.toggle[c] else rb
                    else:
                        src = rb if rb_ready else oq
                    tx = pe.routes[c].tx
                    if not self._move_checks(pe, c, tx, used):
                        pe.stats["stalls"] += 1   # the candidate waits: a stall
                        continue
                    self._move(pe, c, src, t)
                    used |= tx
                    happened = True
            except Fault as f:
                raise self._fault(f, getattr(f, "at", pe), t, router=True) from None
        return happened

    def phase_ces(self, t: int) -> bool:
        happened = False
        for pe in self.pes:                       # increasing PE index
            if pe.empty():
                continue
            try:
                if self.ce_event(pe, t):
                    happened = True
            except Fault as f:
                raise self._fault(f, pe, t) from None
        return happened

    def ce_event(self, pe: PE, t: int) -> bool:
        happened = False
        # 1. microthreads 0..7 that hold an operation step
        for n in range(NUT):
            op = pe.ut[n]
            if op is None:
                continue
            if op.finish_at is not None and t >= op.finish_at:
                pe.ut[n] = None                   # finished: activate T / unblock T
                act, tid = op.values["act"], op.values["tid"]
                if act == 2:
                    try:
                        activate(pe, tid)
                    except Fault as f:            # the op's fault, as for its elements
                        raise self._fault(f, pe, t, op=op, ut=n) from None
                elif act == 3:
                    pe.blocked &= ~(1 << tid)
                happened = True
            else:
                try:
                    if step_op(self, pe, op, t):
                        happened = True
                except Fault as f:                # the op's: its issue, on microthread n
                    raise self._fault(f, pe, t, op=op, ut=n) from None
        # 2. the main thread
        if pe.op is not None:
            if pe.op.finish_at is not None and t >= pe.op.finish_at:
                self.finish_main_op(pe, t)        # then the next run starts in this event
                pe.wake = t
                happened = True
            else:
                if step_op(self, pe, pe.op, t):
                    happened = True
                return happened
        if t < pe.wake:
            return happened
        if pe.task is None:
            if self.schedule(pe, t):
                happened = True
            return happened
        if self.run_main(pe, t):                  # a running task: execute a run
            happened = True
        return happened

    def _flush_stats(self, pe: PE) -> None:
        """Instructions are counted at their own cycle: those before the current boundary."""
        while pe.pending and pe.pending[0][0] < self.cycle:
            pe.trace.append(pe.pending.popleft())
            pe.stats["instructions"] += 1

    # ---- end conditions ----------------------------------------------------------------------
    def idle(self) -> bool:
        """No CE running a task or an operation, no task runnable or activated, no wavelet in
        any buffer, and the host has no wavelets waiting to enter."""
        if any(self.host_in.values()):
            return False
        for pe in self.pes:
            if pe.empty():
                continue
            if pe.task is not None or pe.op is not None or any(u is not None for u in pe.ut):
                return False
            if pe.activated:
                return False
            for c in range(NCOLORS):
                if pe.rb[c] or pe.oq[c] or pe.iq[c]:
                    return False
        return True

    def _future_events(self, t: int) -> bool:
        """Is any event scheduled for a cycle after t?"""
        for pe in self.pes:
            if pe.empty():
                continue
            for c in range(NCOLORS):
                for q in (pe.rb[c], pe.oq[c], pe.iq[c]):
                    if any(w[2] > t for w in q):
                        return True
            if pe.task is not None and pe.op is None and pe.wake > t:
                return True
            for op in [pe.op] + pe.ut:
                if op is not None and ((op.finish_at is not None and op.finish_at > t)
                                       or op.start > t):
                    return True
        return False

    REPORT_PES = 64          # PEs described in a hang or watchdog report, as the C core

    def hang_report(self, hang: bool = True) -> str:
        """The state behind a hang or a watchdog, per PE that is not at rest (the information of
        the C core's hang_report): the running task with its pc, instruction and source line
        (file:line:col and the macro invocations), what its main thread waits for (room in an
        output queue, or a fabric op's wavelets), each microthread's op with the colors it
        waits on and writes, the activated-but-blocked, activated data and blocked tasks, and
        per color the wavelets in each buffer, the route's tx and who is full downstream; then
        the host's wavelets that cannot enter."""
        lines, shown, more = [], 0, 0
        for pe in self.pes:
            if pe.empty():
                continue
            host = [(port, len(q)) for port in (NORTH, EAST, SOUTH, WEST)
                    for q in [self.host_in.get((pe.index, port))] if q]
            if not (pe.task is not None or pe.op is not None or pe.activated or host
                    or any(op is not None for op in pe.ut)
                    or any(pe.rb[c] or pe.oq[c] or pe.iq[c] for c in range(NCOLORS))):
                continue
            if shown >= self.REPORT_PES:
                more += 1
                continue
            shown += 1
            lines.append(f"PE ({pe.x},{pe.y}):")
            lines += self._pe_report(pe, host, hang)
        if more:
            lines.append(f"... and {more} more PEs")
        return "\n".join(lines)

    def _pe_report(self, pe: PE, host, hang: bool = True) -> list[str]:
        out = []

        def named(tid):
            n = pe.task_name(tid)
            return f"{tid}({n})" if n else f"{tid}"

        def src(pc):
            line = pe.line(pc)
            return _where(line, pe.expansions(pc)) if line else None

        def op_waits(op):
            """What a fabric op waits on: its fabric sources' colors; the color it writes; each
            with the DSD its DSR was loaded from."""
            parts = [f"waits for wavelets on color {o.color}{_paren(origin_text(pe, o.origin, o.name + ' '))}"
                     for o in op.operands[1:] if o is not None and o.fabric]
            if op.operands[0].fabric:
                d = op.operands[0]
                parts.append(f"writes color {d.color}{_paren(origin_text(pe, d.origin, d.name + ' '))}")
            return parts

        if pe.task is not None:
            name = pe.task_name(pe.task)
            where = src(pe.pc)
            out.append(f"  running task {pe.task}" + (f" ({name})" if name else "") +
                       f" at pc {pe.pc}: {pe.insn_text(pe.pc) or '(outside the code)'}" +
                       (f"  ({where})" if where else ""))
            # the registers that are not 0 (a loop counter, an address): small values in
            # decimal, others in hex (the C core's app_regs)
            regs = [f"r{r}={sv}" if -65536 < sv < 65536 else f"r{r}=0x{v:08x}"
                    for r in range(1, 16) for v in [pe.regs[r] & MASK32] if v
                    for sv in [v - (1 << 32) if v >> 31 else v]]
            if regs:
                out.append("    registers: " + " ".join(regs))
            if pe.op is not None:
                op = pe.op
                out.append(f"    fabric op: {op.done} of {op.n} elements done" +
                           "".join(f"; {w}" for w in op_waits(op)))
            elif pe.pc is not None and 0 <= pe.pc < len(pe.decoded):
                d = pe.decoded[pe.pc]
                if d.insn.key in ("send", "sendc"):
                    c = d.values["color"]
                    r = pe.routes.get(c)
                    if r is not None and r.rx & RAMP and len(pe.oq[c]) >= self.preset.oq_depth[r.oq]:
                        out.append(f"    waits for room in the output queue of color {c} (full)")
        for n, op in enumerate(pe.ut):
            if op is None:
                continue
            where = src(op.pc)
            name = pe.task_name(op.task)
            issue = (f"issued by task {op.task}" + (f" ({name})" if name else "") + " at "
                     if op.task is not None else "") + f"pc {op.pc}"
            parts = [f"{op.done} of {op.n} elements done"] + op_waits(op)
            if op.finish_at is not None:
                parts.append(f"finishes at cycle {op.finish_at}")
            out.append(f"  ut{n}: {pe.insn_text(op.pc) or '(outside the code)'} ({issue}" + (f", {where}" if where else "")
                       + "), " + ", ".join(parts))
        defined = sum(1 << tid for tid in pe.tasks)
        data = sum(1 << tid for tid, t in pe.tasks.items() if t.kind == 1)
        act_blocked = pe.activated & pe.blocked
        for what, mask in (("activated but blocked tasks", act_blocked),
                           ("activated data tasks (they run only when a wavelet arrives on their "
                            "color)", pe.activated & ~pe.blocked & data),
                           ("activated tasks, waiting for the CE", pe.activated & ~pe.blocked & ~data),
                           ("blocked tasks", pe.blocked & ~act_blocked & defined)):
            if mask:
                out.append(f"  {what}: " + " ".join(named(t) for t in range(NTASKS) if mask >> t & 1))
        reads = {o.color for op in [pe.op] + pe.ut if op is not None
                 for o in op.operands[1:] if o is not None and o.fabric}
        for c in range(NCOLORS):
            rb, oq, iq = pe.rb[c], pe.oq[c], pe.iq[c]
            if not (rb or oq or iq):
                continue
            r = pe.routes.get(c)
            line = (f"  color {c}: router buffer {len(rb)}, output queue {len(oq)}, input queue "
                    f"{len(iq)} wavelet(s)")
            if r is not None:
                line += f"; route position {r.pos} tx {_ports(r.tx)}"
            if iq:
                dt = pe.data_task_of.get(c)
                if dt is not None and pe.blocked >> dt & 1:
                    line += f"; its data task {named(dt)} is blocked"
                elif dt is not None and pe.task is None:
                    # between two tasks (a stop by --until or the watchdog can land there)
                    line += f"; the CE is between tasks: its data task {named(dt)} is to run for it"
                elif dt is None and c not in reads and (hang or pe.task is None):
                    # (a task still running may read it later: said at a hang, or of an idle CE)
                    line += "; no data task or op reads it"
                    # the data tasks this PE has, on other colors: the usual slip is a wrong color
                    dts = sorted((tid, t.color) for tid, t in pe.tasks.items() if t.kind == 1)
                    if dts:
                        line += (" (its data tasks: " + ", ".join(f"{named(tid)} on color {tc}" for tid, tc in dts[:4])
                                 + (f", and {len(dts) - 4} more" if len(dts) > 4 else "") + ")")
            if (rb or oq) and r is not None:
                for port in (NORTH, EAST, SOUTH, WEST):
                    if r.tx & port:
                        dx, dy = STEP[port]
                        nb = self.pe_at(pe.x + dx, pe.y + dy)
                        if nb is not None and not nb.empty() and len(nb.rb[c]) >= self.preset.router_depth:
                            line += f"; next PE ({nb.x},{nb.y}) buffer full"
                if r.tx & RAMP and len(iq) >= self.preset.iq_depth[r.iq]:
                    line += "; own input queue full"
            out.append(line)
        for port, n in host:
            out.append(f"  host: {n} wavelet(s) waiting to enter through {PORT_NAMES[port].upper()}")
        return out

    WAIT_MAX, WAIT_TGT = E.WAIT_MAX, E.WAIT_TARGETS   # as the C core's wait_analyse

    def wait_records(self) -> dict:
        """Who waits on whom, after a hang (the C core's wait_analyse, record for record): each
        CE thread stuck on the fabric (a fabric op whose fabin color has no wavelet, one whose
        fabout color's output queue is full, a send waiting for room) as a wse.emu.errors.Wait
        with the PEs whose CEs are at the other end of the color's routes (upstream: whose RAMP
        feeds the route toward it; downstream: whose RAMP it reaches), or where the path ends;
        then the first cycle among the PEs that wait. Returns HangError's keyword arguments:
        waits, deadlock (the cycle's PEs in order), waits_truncated (more threads waited than
        WAIT_MAX), and, as the core's analysis says when an allocation fails, whether host
        memory ran out (a MemoryError) before the waits (waits_out_of_memory: no records) or
        before the cycle (deadlock_out_of_memory: the waits without a cycle)."""
        try:
            waits, more = self._wait_threads()
            try:
                cycle, cycle_oom = self._wait_cycle(waits), False
            except MemoryError:
                cycle, cycle_oom = [], True
            out = self._wait_objects(waits, cycle)
        except MemoryError:
            return {"waits": [], "deadlock": [], "waits_truncated": False, "waits_out_of_memory": True,
                    "deadlock_out_of_memory": True}
        return {"waits": out, "deadlock": [(v % self.width, v // self.width) for v in cycle],
                "waits_truncated": more, "waits_out_of_memory": False, "deadlock_out_of_memory": cycle_oom}

    def _wait_threads(self) -> tuple[list, bool]:
        """wait_records' first step: (every CE thread that waits as (pe, ut or -1, kind, color,
        task, pc, targets, dead ends, targets beyond WAIT_TGT), whether more than WAIT_MAX did)."""
        waits = []            # (pe, ut or -1, kind, color, task, pc, targets, dead ends, beyond)
        more = False

        def walk(p, send, c):
            r = p.routes.get(c)
            if r is None:
                return [], ([] if send else [(p.index, 3)]), 0
            if not send and not r.tx & RAMP:
                return [], [(p.index, 4)], 0
            tgt, dead, seen, queue, beyond = [], set(), {p.index}, [p], 0
            for q in queue:
                rq = q.routes[c]
                ports = rq.tx if send else rq.rx
                if ports & RAMP and len(tgt) < self.WAIT_TGT:
                    tgt.append(q.index)
                elif ports & RAMP:
                    beyond += 1        # a CE beyond the WAIT_TGT kept (each PE is visited once)
                for port in (NORTH, EAST, SOUTH, WEST):
                    if not ports & port:
                        continue
                    dx, dy = STEP[port]
                    n = self.pe_at(q.x + dx, q.y + dy)
                    if n is None:
                        dead.add((q.index, 0))
                        continue
                    if n.empty():
                        dead.add((n.index, 1))
                        continue
                    rn = n.routes.get(c)
                    if rn is None or not (rn.rx if send else rn.tx) & OPPOSITE[port]:
                        dead.add((n.index, 2))
                        continue
                    if n.index not in seen:
                        seen.add(n.index)
                        queue.append(n)
            # dead ends only for a wait that no CE can feed (wse.h, wse_wait)
            return sorted(set(tgt)), ([] if send or tgt else sorted(dead)), beyond

        def add(p, ut, kind, c, task, pc):
            if any(w[0] == p.index and w[1] == ut and w[2] == kind and w[3] == c for w in waits):
                return True
            if len(waits) >= self.WAIT_MAX:
                return False
            waits.append((p.index, ut, kind, c, task, pc) + walk(p, kind != "fabin", c))
            return True

        def op_waits(p, op, ut):
            task, pc = (p.task, p.pc) if ut < 0 else (op.task, op.pc)
            for o in op.operands[1:]:
                if o is not None and o.fabric and not p.iq[o.color]:
                    if not add(p, ut, "fabin", o.color, task, pc):
                        return False
            d = op.operands[0]
            if d is not None and d.fabric:
                r = p.routes.get(d.color)
                if r is None or len(p.oq[d.color]) >= self.preset.oq_depth[r.oq]:
                    return add(p, ut, "fabout", d.color, task, pc)
            return True

        for p in self.pes:
            if p.empty() or more:
                continue
            ok = True
            if p.task is not None and p.op is not None:
                ok = op_waits(p, p.op, -1)
            elif p.task is not None and p.pc is not None and 0 <= p.pc < len(p.decoded):
                d = p.decoded[p.pc]
                if d.insn.key in ("send", "sendc"):
                    c = d.values["color"]
                    r = p.routes.get(c)
                    if r is not None and r.rx & RAMP and len(p.oq[c]) >= self.preset.oq_depth[r.oq]:
                        ok = add(p, -1, "send", c, p.task, p.pc)
            for u, op in enumerate(p.ut):
                if ok and op is not None:
                    ok = op_waits(p, op, u)
            more = not ok
        return waits, more

    def _wait_cycle(self, waits) -> list[int]:
        """wait_records' second step: the first cycle of waits, as PE indices in order ([]:
        none). Depth first from each PE that waits, in index order, over the sorted targets that
        wait themselves."""
        nodes = list(dict.fromkeys(w[0] for w in waits))
        adj = {v: sorted({t for w in waits if w[0] == v for t in w[6] if t in adj_keys})
               for adj_keys in [set(nodes)] for v in nodes}
        mark, cycle = {}, []
        for s in nodes:
            if s in mark or cycle:
                continue
            path, pos = [s], [0]
            mark[s] = 1
            while path:
                v = path[-1]
                if pos[-1] == len(adj[v]):
                    mark[v] = 2
                    path.pop(), pos.pop()
                    continue
                t = adj[v][pos[-1]]
                pos[-1] += 1
                if mark.get(t) == 1:
                    cycle = path[path.index(t):]
                    break
                if t not in mark:
                    mark[t] = 1
                    path.append(t), pos.append(0)
        return cycle

    def _wait_objects(self, waits, cycle) -> list:
        """wait_records' records: a Wait for each wait, an edge of the cycle when its targets
        hold the next PE of the cycle."""
        W = self.width
        edges = {(v, cycle[(i + 1) % len(cycle)]) for i, v in enumerate(cycle)}

        def xy(i):
            return (i % W, i // W)

        def at_rest(i):
            q = self.pes[i]
            return q.task is None and q.op is None and not any(o is not None for o in q.ut) and not q.activated

        reasons = E.DEAD_END_REASONS
        out = []
        for pe, ut, kind, c, task, pc, tgt, dead, more in waits:
            p = self.pes[pe]
            out.append(E.Wait(
                pe=xy(pe), kind=kind, color=c, microthread=ut if ut >= 0 else None, task=task,
                task_name=p.task_name(task) or None, pc=pc, line=p.line(pc),
                waits_on=tuple(xy(t) for t in tgt), more_targets=more, at_rest=tuple(xy(t) for t in tgt if at_rest(t)),
                dead_ends=tuple(E.DeadEnd(xy(i), reasons[k]) for i, k in dead),
                deadlock=any((pe, t) in edges for t in tgt)))
        return out

    # ---- one cycle ----------------------------------------------------------------------------
    def step(self) -> None:
        """Execute cycle self.cycle: phase 1 (routers), then phase 2 (compute engines)."""
        t = self.cycle
        self.stopped_by_fault = None
        with np.errstate(all="ignore"):
            try:
                moved = self.phase_routers(t)
                executed = self.phase_ces(t)
            except FaultError as e:               # (the cycle stays t: it did not complete)
                self.stopped_by_fault = e
                raise
        self.cycle = t + 1
        for pe in self.pes:
            if not pe.empty():
                self._flush_stats(pe)
        if not (moved or executed) and not self.idle() and not self._future_events(t):
            rec = self.wait_records()
            # (every line ends with a newline, as the C core's report)
            state = self.hang_report()
            raise HangError(t + 1, "".join(ln + "\n" for ln in
                                           [f"hang at cycle {t + 1}: nothing can happen any more, "
                                            f"but the fabric is not idle"] + ([state] if state else [])
                                           + E.format_waits(rec["waits"], rec["deadlock"], rec["waits_truncated"],
                                                            rec["waits_out_of_memory"],
                                                            rec["deadlock_out_of_memory"])), **rec)

    def run(self, max_cycles: int | None = None) -> int:
        """Run until idle (returns the cycle), or raise FaultError / HangError /
        WatchdogError (max_cycles is absolute: equal to the fabric's cycle, no cycle runs, and
        the run returns if the fabric is idle)."""
        self._check_loaded()
        max_cycles = A.max_cycles_arg(max_cycles, self.cycle)
        while True:
            if self.idle():
                return self.cycle
            if max_cycles is not None and self.cycle >= max_cycles:
                state = self.hang_report(hang=False)
                raise WatchdogError(self.cycle, f"watchdog: the cycle counter reached max_cycles "
                                                f"= {max_cycles}; the state:\n" + (state + "\n" if state else ""))
            self.step()

    def run_until(self, cycle: int) -> bool:
        """Execute every cycle < `cycle` and stop at that boundary (idle cycles pass too).
        Returns whether the fabric is idle there. Raises FaultError / HangError."""
        self._check_loaded()
        cycle = A.until_arg(cycle, self.cycle)
        while self.cycle < cycle:
            if self.idle():                       # nothing can happen: let the cycles pass
                self.cycle = cycle
                for pe in self.pes:
                    if not pe.empty():
                        self._flush_stats(pe)
                break
            self.step()
        return self.idle()

    # =========================================================================================
    # 8. The host interface
    # =========================================================================================
    # The arguments are checked as wse.emu.Fabric checks them (wse.emu.hostargs), and what the
    # C core checks against the loaded program is checked here with the core's messages, every
    # PE before any is changed: a refused call changes nothing.
    def _check_loaded(self):
        A.need_loaded(self.obj is not None)

    def load(self, data: bytes) -> None:
        data = A.object_bytes(data)
        try:
            obj = objfile.read(data)
        except objfile.ObjectFormatError as e:
            raise LoadError(str(e)) from None
        if obj.arch != self.arch:
            raise LoadError(f"the object is for {obj.arch} but the fabric is {self.arch}")
        if obj.width > self.width or obj.height > self.height:
            raise LoadError(f"the object was made for a {obj.width}x{obj.height} fabric; "
                            f"this fabric is {self.width}x{self.height}")
        self.obj = obj
        self.cycle = 0
        self.stopped_by_fault = None
        self.hops = 0
        self.host_in = {}
        self.host_out = []
        self.pes = [PE(self, x, y, obj.image_at(x, y) if x < obj.width and y < obj.height else None)
                    for y in range(self.height) for x in range(self.width)]
        for pe in self.pes:
            pe.fab = self

    def _rect(self, rect):
        return A.rect_arg(rect, self.width, self.height)

    def _placed(self, x: int, y: int) -> PE:
        pe = self.pe_at(x, y)
        if pe.empty():
            raise NotFoundError(f"PE ({x},{y}) has no program")
        return pe

    def pes_with(self, symbol: str) -> list[tuple[int, int]]:
        """The PEs (x, y) whose image exports `symbol` (a data symbol or a task), row-major."""
        self._check_loaded()
        return self._pes_with(A.name_arg("symbol name", symbol), data=False)

    def _pes_with(self, name: str, data: bool) -> list[tuple[int, int]]:
        return [(pe.x, pe.y) for pe in self.pes if not pe.empty()
                for s in [pe.img.symbol(name)] if s is not None and (not data or s.type != "task")]

    def _missing(self, name: str, pe: PE, brief: str) -> NotFoundError:
        """Fabric's error for data symbol `name` missing on `pe` (hostargs.missing_symbol)."""
        return A.missing_symbol(brief, name, (pe.x, pe.y), [s.name for s in pe.img.symbols if s.type != "task"],
                                self._pes_with(name, data=True))

    def _first_symbol(self, x: int, y: int, name):
        """The data symbol `name` of the rectangle's first PE (as Fabric looks it up)."""
        name = A.name_arg("symbol name", name)
        pe = self._placed(x, y)
        s = pe.img.symbol(name)
        if s is None:
            raise self._missing(name, pe, f"PE ({x},{y}) (image {pe.img.name}) has no symbol '{name}'")
        if s.type == "task":
            raise self._missing(name, pe, f"PE ({x},{y}) has no data symbol {name!r} (it is a task)")
        return s

    def _programmed_pes(self, x0: int, y0: int, w: int, h: int):
        """(x, y, pe) of the PEs of the rectangle that run a program, row by row."""
        for y in range(y0, y0 + h):
            for x in range(x0, x0 + w):
                pe = self.pe_at(x, y)
                if not pe.empty():
                    yield x, y, pe

    def _rect_symbols(self, name: str, x0: int, y0: int, w: int, h: int, words: int, write: bool):
        """[(pe, symbol)] over the rectangle, every PE checked as the C core checks a rectangle
        transfer of `words` words: one element type (and, to read, one length) everywhere."""
        out, s0 = [], None
        for yy in range(y0, y0 + h):
            for xx in range(x0, x0 + w):
                pe = self._placed(xx, yy)
                s = pe.img.symbol(name)
                if s is None or s.type == "task":
                    raise self._missing(name, pe, f"PE ({xx},{yy}) (image {pe.img.name}) has no data symbol '{name}'")
                if s0 is None:
                    s0, at = s, (xx, yy)
                elif s.type != s0.type or (not write and s.count != s0.count):
                    act = "write" if write else "read"
                    raise BadArgError(f"symbol '{name}' is {s0.type}[{s0.count}] on PE ({at[0]},{at[1]}) but "
                                      f"{s.type}[{s.count}] on PE ({xx},{yy}): a rectangle {act} needs one "
                                      f"{'element type' if write else 'type and length'} on every PE; "
                                      f"{act} the PEs separately")
                e = 2 if s.type in ("f32", "u32") else 1
                if words > s.count * e:
                    raise BadArgError(f"symbol '{name}' at PE ({xx},{yy}) has {s.count} elements "
                                      f"({s.count * e} words); {words} words asked")
                out.append((pe, s))
        return out

    DTYPES = {"f16": np.float16, "f32": np.float32, "u16": np.uint16, "u32": np.uint32}

    def write(self, symbol: str, array, rect=None) -> None:
        """Copy `array` into `symbol` of every PE in rect (x, y, w, h); shape (n,) is
        broadcast to every PE, shape (h, w, n) gives each PE its own. Takes no cycles."""
        self._check_loaded()
        x0, y0, w, h = self._rect(rect)
        s = self._first_symbol(x0, y0, symbol)
        dt = np.dtype(self.DTYPES[s.type])
        arr, n = A.write_array(symbol, array, dt, s.count, x0, y0, w, h)
        nw = n * dt.itemsize // 2
        for pe, s in self._rect_symbols(symbol, x0, y0, w, h, nw, True):
            row = arr[pe.y - y0, pe.x - x0] if arr.ndim == 3 else arr
            pe.mem[s.value:s.value + nw] = np.ascontiguousarray(row).view(np.uint16)

    def read(self, symbol: str, rect=None) -> np.ndarray:
        """The array `symbol` of every PE in rect, shape (h, w, count)."""
        self._check_loaded()
        x0, y0, w, h = self._rect(rect)
        s = self._first_symbol(x0, y0, symbol)
        dt = np.dtype(self.DTYPES[s.type])
        nw = s.count * dt.itemsize // 2
        out = np.zeros((h, w, s.count), dtype=dt)
        for pe, s in self._rect_symbols(symbol, x0, y0, w, h, nw, False):
            out[pe.y - y0, pe.x - x0] = pe.mem[s.value:s.value + nw].copy().view(dt)
        return out

    def send(self, color: int, x: int, y: int, port, payloads, control: bool = False) -> None:
        """Queue wavelets to enter PE (x, y) through its edge port (pointing off the fabric)."""
        self._check_loaded()
        p = A.port_arg(port)
        color = A.color_arg(color)
        x, y = A.pe_arg(x, y, self.width, self.height)
        A.edge_arg(p, x, y, self.width, self.height)
        words = A.payload_words(payloads)       # (float64 rounded to fp32, as the C core)
        self._placed(x, y)
        q = self.host_in.setdefault((y * self.width + x, p), deque())
        for v in words.tolist():
            q.append((color, v, bool(control)))

    def received(self, color: int | None = None, start: int = 0) -> list[Received]:
        """Wavelets the fabric delivered to the host, in order (of `color`, or every color for
        None), from the start-th on."""
        color = A.color_filter(color)
        start = A.start_arg(start)
        return [r for r in self.host_out if color is None or r.color == color][start:]

    def received_payloads(self, color: int | None = None, dtype="float32",
                          start: int = 0) -> np.ndarray:
        """The payloads of received(color, start) as a numpy array of dtype (Fabric's)."""
        return payloads_as(self.received(color, start), dtype)

    def launch(self, task, rect=None) -> None:
        """Set the activated bit of `task` (a name or an id) on every PE in rect that defines
        it. Takes no cycles."""
        self._check_loaded()
        x0, y0, w, h = self._rect(rect)
        task = A.task_arg(task)
        hits = []
        for xx, yy, pe in self._programmed_pes(x0, y0, w, h):
            tid = task
            if isinstance(task, str):
                s = pe.img.symbol(task)
                if s is None or s.type != "task":
                    continue
                tid = s.value
            if tid in pe.tasks:
                t = pe.tasks[tid]
                if t.kind == 1:     # as the C core: a data task is not launched
                    who = f"'{task}'" if isinstance(task, str) else f"{task}"
                    image = "" if isinstance(task, str) else f" (image {pe.img.name})"
                    raise BadArgError(f"task {who} of PE ({xx},{yy}){image} is a data task: it runs "
                                      f"when a wavelet of color {t.color} reaches the PE, not when "
                                      f"launched; send one (Fabric.send) or launch a local task")
                hits.append((pe, tid))
        if not hits:
            who = f"'{task}'" if isinstance(task, str) else f"{task}"
            raise NotFoundError(f"no PE in the rectangle ({x0},{y0}) {w}x{h} defines task {who}")
        for pe, tid in hits:
            pe.activated |= 1 << tid

    def pe_state(self, x: int, y: int) -> dict:
        pe = self.pe_at(*A.pe_arg(x, y, self.width, self.height))

        def qs(bufs):
            return {c: [(p, bool(k), r) for p, k, r in q] for c, q in bufs.items() if q}

        ut = []
        for op in pe.ut:
            ut.append(None if op is None else (op.insn.opcode, op.done, op.n))
        return {
            "regs": list(pe.regs),
            "pc": pe.pc,
            "task": pe.task,
            "activated": pe.activated,
            "blocked": pe.blocked,
            "dsrs": [d.as_tuple() for d in pe.dsrs],
            "dsr_origins": [d.origin(pe.img) if pe.img is not None else None for d in pe.dsrs],
            "mem": None if pe.mem is None else pe.mem.copy(),
            "rb": qs(pe.rb),
            "oq": qs(pe.oq),
            "iq": qs(pe.iq),
            "switch": {c: r.pos for c, r in sorted(pe.routes.items())},
            "ut": ut,
            "stats": {
                "instructions": pe.stats["instructions"],
                "busy_cycles": pe.stats["busy_cycles"]
                + (self.cycle - pe.task_start if pe.task is not None else 0),
                "wavelets_sent": pe.stats["wavelets_sent"],
                "wavelets_received": pe.stats["wavelets_received"],
                "stalls": pe.stats["stalls"],
            },
        }

    # ---- traces ----------------------------------------------------------------------------
    def enable_trace(self, on: bool = True, rect=None, cycles=None) -> None:
        """The trace window, checked as Fabric.enable_trace checks it. The reference records no
        events: the window limits trace_open_events."""
        x0, y0, w, h = self._rect(rect)
        c0, c1 = A.trace_cycles_arg(cycles)
        self.trace_window = (x0, y0, w, h, c0, c1)

    def trace_open_events(self) -> list[tuple]:
        """The spans open where the run stopped, as Fabric.trace_open_events gives them (the C
        core's wse_trace_open): (TRACE_OPEN | kind, x, y, a, b, t0, t1) for each PE of the
        window's rectangle, row-major: its running task (kind 1, a = task id, t0 = the cycle it
        was picked), its main thread's fabric op (kind 2, a = opcode, b = 8, t0 = its first
        cycle), its microthreads' ops (b = 0..7). t1 is the fabric's cycle; after a fault, the
        cycle after the one the fabric stopped in, and for the main thread that faulted (its
        task and op) the cycle after the fault's when that is later (a run of local
        instructions executes ahead). Spans with t0 < t1 that meet the window's cycles."""
        x0, y0, w, h, c0, c1 = self.trace_window
        e = self.stopped_by_fault
        now = self.cycle + 1 if e is not None else self.cycle
        out = []
        for x, y, pe in self._programmed_pes(x0, y0, w, h):
            tm = now
            if e is not None and e.microthread is None and e.task is not None and e.pe == (x, y):
                tm = max(now, e.cycle + 1)
            spans = []
            if pe.task is not None:
                spans.append((TRACE_TASK, pe.task, 0, pe.task_start, tm))
            if pe.op is not None:
                spans.append((TRACE_TENSOR, pe.op.insn.opcode, 8, pe.op.start, tm))
            for u, op in enumerate(pe.ut):
                if op is not None:
                    spans.append((TRACE_TENSOR, op.insn.opcode, u, op.start, now))
            out += [(TRACE_OPEN | k, x, y, a, b, t0, t1) for k, a, b, t0, t1 in spans
                    if t0 < t1 and t0 < c1 and t1 > c0]
        return out

    def trace(self, x: int, y: int) -> list:
        """The last instructions executed on PE (x, y), also those of a run whose own cycles
        are still ahead of the fabric's: (own cycle, pc, text)."""
        return self.pe_at(x, y).history()


Fabric = ReferenceFabric
