"""Typed exceptions of the emulator. Each carries the core's own report as its message and
structured fields (docs/emulator.md)."""
from __future__ import annotations

from dataclasses import dataclass


def _rebuild(cls, args, state):
    e = cls.__new__(cls, *args)
    e.args = args
    e.__dict__.update(state)
    return e


class WseError(Exception):
    """Base of every error the emulator raises. They pickle with their fields (a sweep that runs
    fabrics in worker processes gets the HangError or FaultError back whole)."""

    def __reduce__(self):
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class BadArgError(WseError, ValueError):
    """A bad argument (a rectangle outside the fabric, a bad port, a bad array shape...)."""


class NotFoundError(WseError, KeyError):
    """No such symbol, task or PE. A read or write of a data symbol that a PE does not export
    also has: symbol, pe (x, y), exports (that PE's data symbols, sorted), suggestion (the
    closest of them, or None), holders (the PEs (x, y) that export it as a data symbol,
    row-major) and brief (the message without the help that follows); else these are None."""

    def __init__(self, message: str = "", symbol=None, pe=None, exports=None, suggestion=None,
                 holders=None, brief=None):
        super().__init__(message)
        self.symbol, self.pe, self.exports, self.suggestion = symbol, pe, exports, suggestion
        self.holders, self.brief = holders, brief

    def __str__(self) -> str:          # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LoadError(WseError, ValueError):
    """The object file is malformed, or does not fit this fabric."""


class FaultError(WseError):
    """The program broke a rule. Fields: kind (lower-case name of the core's wse_fault_kind),
    reason, cycle, pe (x, y), task, task_name, pc, insn, line ("file:line:col"), expansions
    (the macro invocations the instruction comes from, innermost first: (macro name,
    "file:line:col" of the invocation); empty outside macros), microthread (N when the fault
    is in an async op running on microthread utN, after its issue: then task, task_name, pc,
    insn, line and expansions are those of the op's issue; else None), address, color, port,
    code (trap code); str() is the core's full report, with every name whole. trace holds only
    instructions whose own cycle is before the fault's.

    From the C core (wse.emu.Fabric), reason, insn and the trace's texts are copies from the
    fixed-size fields of its wse_fault_info (1023, 95 and 95 bytes): a longer one is cut at a
    character boundary and ends with "..." (the report has it whole); task_name and line are
    whole (from the image's symbols and LINES). The reference interpreter's are all whole."""

    def __init__(self, report: str, kind: str, reason: str, cycle: int, pe=None, task=None,
                 pc=None, insn=None, line=None, task_name=None, address=None, color=None,
                 port=None, code=None, trace=None, expansions=(), microthread=None):
        super().__init__(report)
        self.report = report
        self.kind, self.reason, self.cycle = kind, reason, cycle
        self.pe, self.task, self.pc, self.insn, self.line = pe, task, pc, insn, line
        self.expansions: list[tuple[str, str]] = list(expansions)
        self.microthread = microthread
        self.task_name, self.address, self.color, self.port, self.code = (
            task_name, address, color, port, code)
        # the instructions the PE executed before the fault, oldest first: (own cycle, pc,
        # instruction text); the C core keeps the last 16, the reference interpreter 32
        self.trace: list = list(trace or [])


# Who waits on whom at a hang. The C core (csrc/wse_core.c, wait_analyse) and the reference
# interpreter (emu/reference.py, wait_records) build these records from the state alone, and the
# report's "who waits on whom" section is printed from them (format_waits here and the core's
# wait_print, line for line).
WAIT_MAX = 4096       # waits analysed (the core's WSE_WAIT_MAX)
WAIT_TARGETS = 64     # targets kept per wait (WSE_WAIT_TARGETS)
WAIT_SHOW = 16        # waits printed in the report
WAIT_KINDS = ("fabin", "fabout", "send")                    # WSE_WAIT_FABIN... (1, 2, 3)
DEAD_END_REASONS = ("edge", "no_program", "not_toward", "no_route", "no_ramp")   # WSE_DEAD_*



@dataclass(frozen=True)
class DeadEnd:
    """Where the path of a color toward a waiting PE ends when no CE sends it. reason:
    "edge" (PE pe's route takes it from outside the fabric: only the host can send it),
    "no_program" (the neighbour pe it would come from has no program), "not_toward" (the route
    of PE pe does not send it on toward the waiting PE), "no_route" (the waiting PE pe has no
    route for the color), "no_ramp" (its route does not deliver it to its CE)."""
    pe: tuple[int, int]
    reason: str

    def text(self, color) -> str:
        """The words of the report for this dead end of a wait on `color`."""
        xy = f"PE ({self.pe[0]},{self.pe[1]})"
        return {"edge": f"{xy}'s route takes it from outside the fabric (only the host can send it)",
                "no_program": f"{xy} has no program",
                "not_toward": f"{xy}'s route for color {color} does not send it on that way",
                "no_route": f"it has no route for color {color}",
                "no_ramp": f"its route for color {color} does not deliver to its CE (no ramp among its "
                           f"outputs)"}.get(self.reason, self.reason)


@dataclass(frozen=True)
class Wait:
    """One CE thread stuck on the fabric at a hang: a line of the report's "who waits on whom".

    pe: the PE (x, y) that waits. kind: "fabin" (a fabric op reads `color` and no wavelet is in
    its input queue), "fabout" (a fabric op writes `color` and its output queue is full) or
    "send" (a send waits for room in the output queue of `color`). microthread: N for an async
    op on utN, None for the main thread. task, task_name, pc, line ("file:line:col"): the send
    or op (for an async op, its issue: the task that issued it), None when unknown.
    waits_on: the PEs whose CEs are at the other end of the color's routes, followed through
    pass-through PEs (for "fabin", those whose RAMP feeds the route toward pe: the senders it
    waits for; for "fabout" and "send", those whose RAMP the route reaches: the receivers that
    should drain it), row-major (at most WAIT_TARGETS: the nearest along the route). more_targets:
    how many more CEs are at the other end beyond those (0: waits_on holds them all; the report
    says "and N more"). at_rest: those of waits_on with
    nothing running or activated. dead_ends: for a "fabin" wait that nobody can feed, where
    its path ends (DeadEnd). deadlock: this wait is an edge of the cycle of waits
    (HangError.deadlock). str() is its line of the report."""
    pe: tuple[int, int]
    kind: str
    color: int
    microthread: int | None = None
    task: int | None = None
    task_name: str | None = None
    pc: int | None = None
    line: str | None = None
    waits_on: tuple[tuple[int, int], ...] = ()
    more_targets: int = 0
    at_rest: tuple[tuple[int, int], ...] = ()
    dead_ends: tuple[DeadEnd, ...] = ()
    deadlock: bool = False

    def __str__(self) -> str:
        who = f"PE ({self.pe[0]},{self.pe[1]})" + (f" ut{self.microthread}" if self.microthread is not None else "")
        send = self.kind != "fabin"
        if self.waits_on:
            return (f"{who} waits {'to send' if send else 'for'} color {self.color} {'to' if send else 'from'} "
                    + ", ".join(f"PE ({x},{y})" for x, y in self.waits_on)
                    + (f" and {self.more_targets} more" if self.more_targets else "")
                    + "".join(f"; nothing is running or activated on PE ({x},{y})" for x, y in self.waits_on
                              if (x, y) in self.at_rest))
        if send:
            return f"{who} waits to send color {self.color}, but its route leads to no CE"
        return (f"{who} waits for color {self.color}, but no CE sends it there:"
                + ";".join(" " + d.text(self.color) for d in self.dead_ends))


def format_waits(waits, deadlock=(), truncated: bool = False, waits_out_of_memory: bool = False,
                 deadlock_out_of_memory: bool = False) -> list[str]:
    """The "who waits on whom" section of a hang report from its records (HangError.waits,
    .deadlock, .waits_truncated, .waits_out_of_memory, .deadlock_out_of_memory): the first
    WAIT_SHOW waits, how many more, and the cycle, or the note that host memory ran out."""
    if waits_out_of_memory:
        return [NO_MEMORY_FOR_WAITS]
    if not waits:
        return []
    lines = ["who waits on whom (along the routes of the colors):"]
    lines += [f"  {w}" for w in waits[:WAIT_SHOW]]
    if len(waits) > WAIT_SHOW:
        lines.append(f"  ... and {len(waits) - WAIT_SHOW} more waits")
    if truncated:
        lines.append(f"  (only the first {WAIT_MAX} waits were analysed)")
    if deadlock_out_of_memory:
        lines.append(NO_MEMORY_FOR_DEADLOCK)
    elif deadlock:
        lines.append("  a cycle of waits: " + " -> ".join(f"PE ({x},{y})" for x, y in [*deadlock, deadlock[0]])
                     + ": " + ("it waits for itself, so it cannot go on" if len(deadlock) == 1
                               else "each waits for the next, so none of them can go on") + " (a deadlock)")
    return lines


# the notes of the report when host memory ran out in the analysis (the C core's wait_print)
NO_MEMORY_FOR_WAITS = "(not enough host memory to work out who waits on whom)"
NO_MEMORY_FOR_DEADLOCK = "(not enough host memory to look for a cycle of waits)"


class HangError(WseError):
    """Nothing can happen any more but the fabric is not idle; .report says who waits on what.
    Fields: cycle; report (str(e)); waits: every CE thread stuck on the fabric as a Wait (the
    report prints the first WAIT_SHOW); deadlock: the PEs (x, y) of the first cycle of waits in
    order, each waiting on the next and the last on the first ([] when there is none);
    waits_truncated: more threads waited than the WAIT_MAX analysed.

    The analysis needs host memory of its own (a few arrays of the fabric's size). When it ran
    out, the records say so rather than look like a hang without waits or without a deadlock:
    waits_out_of_memory: it ran out before the waits were recorded, so waits and deadlock are
    empty although CE threads do wait (the report says "(not enough host memory to work out
    who waits on whom)"); deadlock_out_of_memory: it ran out before the cycle of waits was
    looked for (always so when waits_out_of_memory), so deadlock is [] and no Wait has
    deadlock set, whether or not there is a cycle; the waits themselves are complete."""

    def __init__(self, cycle: int, report: str, waits=(), deadlock=(), waits_truncated: bool = False,
                 waits_out_of_memory: bool = False, deadlock_out_of_memory: bool = False):
        super().__init__(report)
        self.cycle, self.report = cycle, report
        self.waits: list[Wait] = list(waits)
        self.deadlock: list[tuple[int, int]] = [tuple(pe) for pe in deadlock]
        self.waits_truncated = bool(waits_truncated)
        self.waits_out_of_memory = bool(waits_out_of_memory)
        self.deadlock_out_of_memory = bool(deadlock_out_of_memory or waits_out_of_memory)


class WatchdogError(WseError):
    """The cycle counter reached max_cycles; .report shows the state at that point."""

    def __init__(self, cycle: int, report: str = ""):
        super().__init__(report or f"watchdog: the cycle counter reached max_cycles = {cycle}")
        self.cycle, self.report = cycle, report


class OutOfMemoryError(WseError, MemoryError):
    """The host ran out of memory: while loading (the message names the PE being placed and
    what the whole placement needs) or during a run (the message names the structure that could
    not grow and the cycle; the fabric must be loaded again). A MemoryError, so that
    ``except MemoryError`` catches it too."""


class CoreVersionError(WseError, ImportError):
    """The compiled core does not match this Python package."""
