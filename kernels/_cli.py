"""The guard of the ``python -m wse.kernels...`` tools: a bad argument or file is one line on
stderr and exit 2 (never a traceback), output piped into ``head`` and closed early is not an
error."""
from __future__ import annotations

import os
import sys
from typing import Callable


def guarded(prog: str, fn: Callable[[], int | None]) -> int:
    from wse.asm import AssemblyError
    from wse.emu import WseError

    try:
        return int(fn() or 0)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except AssemblyError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "assembly failed"
        print(f"{prog}: error: {first.removeprefix('error: ')}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{prog}: error: out of host memory: choose a smaller problem", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError, WseError) as e:
        msg = e.strerror + f": {e.filename}" if isinstance(e, OSError) and e.strerror and e.filename else str(e)
        print(f"{prog}: error: {msg.strip() or type(e).__name__}", file=sys.stderr)
        return 2
