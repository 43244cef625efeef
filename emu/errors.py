"""Typed exceptions of the emulator. Each carries the core's own report as its message and
structured fields (docs/emulator.md)."""
from __future__ import annotations


class WseError(Exception):
    """Base of every error the emulator raises."""


class BadArgError(WseError, ValueError):
    """A bad argument (a rectangle outside the fabric, a bad port, a bad array shape...)."""


class NotFoundError(WseError, KeyError):
    """No such symbol, task or PE."""

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
    code (trap code); str() is the core's full report. trace holds only instructions whose own
    cycle is before the fault's."""

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


class HangError(WseError):
    """Nothing can happen any more but the fabric is not idle; .report says who waits on what."""

    def __init__(self, cycle: int, report: str):
        super().__init__(report)
        self.cycle, self.report = cycle, report


class WatchdogError(WseError):
    """The cycle counter reached max_cycles; .report shows the state at that point."""

    def __init__(self, cycle: int, report: str = ""):
        super().__init__(report or f"watchdog: the cycle counter reached max_cycles = {cycle}")
        self.cycle, self.report = cycle, report


class CoreVersionError(WseError, ImportError):
    """The compiled core does not match this Python package."""
