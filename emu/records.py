"""Plain records shared by the C-backed Fabric and the pure-Python reference interpreter (no
dependency on the C core, so the reference stays an independent spec)."""
from __future__ import annotations

import functools
from typing import NamedTuple


class Received(NamedTuple):
    """A wavelet that left the fabric through an edge port, delivered to the host."""
    x: int
    y: int
    port: int
    color: int
    payload: int
    ctrl: bool
    cycle: int


# the kinds of trace events (Fabric.trace_array's field kind; trace_events' first element)
TRACE_TASK = 1       # a task's span: a = task id, [t0, t1) its cycles
TRACE_TENSOR = 2     # a tensor op's span: a = opcode, b = microthread (8: the main thread)
TRACE_WAVELET = 3    # a wavelet at the RAMP: a = color, b = payload (raw 32 bits), t0 = t1 = cycle
TRACE_OPEN = 16      # or'd into kind: a span still open where the run stopped, cut at t1
                     # (Fabric.trace_open_array; the core's WSE_TRACE_OPEN)

_PAYLOAD_DTYPES = ("uint32", "int32", "float32", "float16", "uint16")


def payloads_as(payloads, dtype="float32"):
    """Raw 32-bit payloads (ints, or Received records) as a numpy array of ``dtype``: float32
    and int32/uint32 reinterpret the 32 bits; float16 and uint16 take the low 16 bits (an fp16
    sent by a CE is zero-extended). This is what `Fabric.received_payloads` returns."""
    import numpy as np
    dt = np.dtype(dtype)
    if dt.name not in _PAYLOAD_DTYPES:
        from .errors import BadArgError
        raise BadArgError(f"payload dtype must be one of {', '.join(_PAYLOAD_DTYPES)}, got {dt.name}")
    if isinstance(payloads, np.ndarray) and payloads.dtype.names and "payload" in payloads.dtype.names:
        words = payloads["payload"].astype(np.uint32)
    else:
        words = np.array([p.payload if isinstance(p, Received) else p for p in payloads],
                         dtype=np.uint32).reshape(-1)
    if dt.itemsize == 2:
        return (words & 0xFFFF).astype(np.uint16).view(dt)
    return words.view(dt)


# what DsrOrigin.changed says, by the bits of wse_dsr_state.changed (1 base, 2 length)
DSR_CHANGES = ("", "base", "length", "base and length")


class DsrOrigin(NamedTuple):
    """Where a DSR's contents come from (pe_state()["dsr_origins"], None for a DSR that no ldsd
    loaded): dsd, the DSD table entry the last ldsd loaded it from, name, that DSD's name ("":
    none), pc, the ldsd's pc; changed, what dsdbase/dsdadd/dsdaddi ("base") and dsdlen
    ("length") changed since ("", "base", "length" or "base and length"), and by, by_pc: the
    mnemonic and pc of the last of them (None when none ran)."""
    dsd: int
    name: str
    pc: int
    changed: str = ""
    by: str | None = None
    by_pc: int | None = None


@functools.lru_cache(maxsize=None)
def opcode_mnemonic(opcode: int) -> str:
    """The mnemonic of an opcode (a tensor op's in traces and ut states, the instruction that
    last changed a DSR in DsrOrigin.by), from the ISA table; "op 0xNN" for an unknown one."""
    from wse.isa import load
    insns = load().candidates((opcode & 0xFF) << 24)
    return insns[0].mnemonic if insns else f"op 0x{opcode:02x}"
