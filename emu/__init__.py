"""wse.emu: the emulator. `Fabric` runs object files on the C core (wse.emu._core)."""
from .errors import (WseError, LoadError, FaultError, HangError, WatchdogError, BadArgError,
                     NotFoundError)
from .fabric import Fabric, RunResult, Received

__all__ = ["Fabric", "RunResult", "Received", "WseError", "LoadError", "FaultError", "HangError",
           "WatchdogError", "BadArgError", "NotFoundError"]
