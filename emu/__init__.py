"""wse.emu: the emulator. `Fabric` runs object files on the C core (wse.emu._core);
docs/emulator.md has its Python API."""
from .errors import (WseError, LoadError, FaultError, HangError, WatchdogError, BadArgError,
                     NotFoundError, OutOfMemoryError, Wait, DeadEnd)
from .fabric import Fabric, RunResult, Received
from .records import TRACE_OPEN, TRACE_TASK, TRACE_TENSOR, TRACE_WAVELET, payloads_as

__all__ = ["Fabric", "RunResult", "Received", "WseError", "LoadError", "FaultError", "HangError",
           "WatchdogError", "BadArgError", "NotFoundError", "OutOfMemoryError", "Wait", "DeadEnd", "TRACE_TASK", "TRACE_TENSOR",
           "TRACE_WAVELET", "TRACE_OPEN", "payloads_as"]
