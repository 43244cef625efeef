"""The host API's argument checks, shared by ``wse.emu.Fabric`` (the face of the C core) and the
reference interpreter (``wse.emu.reference.ReferenceFabric``): both refuse the same bad
arguments with the same exception and message, before anything changes
(tests/emu/test_host_api_agreement.py calls both with the same arguments). What only a loaded
program can tell (a PE with no program, an unknown symbol or task) is checked by the C core and,
with the same messages, by the reference itself. Plain Python and numpy, like the reference:
nothing here touches the C core.
"""
from __future__ import annotations

import difflib

import numpy as np

from wse.isa import load as load_isa

from . import errors as E

ARCHES = ("wse2", "wse3")
PORTS = {"north": 1, "east": 2, "south": 4, "west": 8, "ramp": 16}
PORT_NAMES = {v: k for k, v in PORTS.items()}
EDGE_PORTS = ("north", "east", "south", "west")
NCOLORS = load_isa().max_colors     # (both presets: 24 colors, 64 task ids)
NTASKS = load_isa().max_task_ids
MAX_FABRIC = 4096
U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF

# numpy kinds a host array may have: booleans, integers, floats
NUMERIC = "biuf"


def int_arg(what: str, v, lo: int, hi: int) -> int:
    """``v`` as an int in lo..hi, or BadArgError naming ``what`` (floats, bools, strings and
    None are refused rather than truncated or converted)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise E.BadArgError(f"{what} must be an integer, got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise E.BadArgError(f"{what} {v} is out of range {lo}..{hi}")
    return v


def name_arg(what: str, v) -> str:
    """A symbol or task name: a non-empty str without NUL characters."""
    if not isinstance(v, str):
        raise E.BadArgError(f"{what} must be a str, got {v!r}")
    if "\0" in v or not v:
        raise E.BadArgError(f"{what} {v!r} is empty or holds a NUL character")
    return v


def host_array(what: str, array, dt: np.dtype) -> np.ndarray:
    """``array`` converted to the element type ``dt`` of ``what`` (e.g. "symbol 'x'"), refusing
    what the conversion would change silently: non-numeric data (None, strings, objects, dates,
    records), complex numbers, floats into an integer symbol, integers outside the type's range,
    and finite values that overflow fp16/fp32 to infinity."""
    arr = np.asarray(array)
    if arr.dtype.kind not in NUMERIC:
        raise E.BadArgError(f"{what} takes {dt.name} values; got {arr.dtype} data, not numbers: give an "
                            f"integer or float array")
    if dt.kind in "ui":
        if arr.dtype.kind == "f":
            raise E.BadArgError(f"{what} takes {dt.name} values; got a {arr.dtype.name} array (convert it "
                                f"explicitly, e.g. .view() for bits or .astype() to round)")
        if arr.size and arr.dtype.kind in "iu":
            info = np.iinfo(dt)
            lo, hi = int(arr.min()), int(arr.max())
            if lo < info.min or hi > info.max:
                raise E.BadArgError(f"{what} takes {dt.name} values ({info.min}..{info.max}); the array has "
                                    f"values {lo}..{hi}")
        return np.ascontiguousarray(arr, dtype=dt)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=dt)
    if arr.size and (arr.dtype.kind in "iu" or arr.dtype.itemsize > dt.itemsize):
        bad = np.isinf(out) & (np.isfinite(arr) if arr.dtype.kind == "f" else True)
        if bad.any():
            v = arr.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]].item()
            raise E.BadArgError(f"{what} takes {dt.name} values; {v!r} overflows it to infinity "
                                f"(largest finite: {float(np.finfo(dt).max):g})")
    return out


def arch_arg(arch) -> str:
    if not isinstance(arch, str) or arch not in ARCHES:
        raise E.BadArgError(f"unknown arch {arch!r}; one of {', '.join(ARCHES)}")
    return arch


def fabric_size(width, height) -> tuple[int, int]:
    return (int_arg("fabric width", width, 1, MAX_FABRIC), int_arg("fabric height", height, 1, MAX_FABRIC))


def object_bytes(data, what: str = "load") -> bytes:
    """The bytes of an object file given to load() (bytes, bytearray, memoryview or another
    buffer); an int would be taken by bytes() as a count of zero bytes, a str is not the file."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if not isinstance(data, (str, int, np.integer)):
        try:
            return bytes(memoryview(data))
        except TypeError:
            pass
    hint = " (a path? read the file: open(path, 'rb').read())" if isinstance(data, str) else ""
    raise E.BadArgError(f"{what} takes the bytes of an object file, got {type(data).__name__}{hint}")


def need_loaded(loaded: bool) -> None:
    if not loaded:
        raise E.BadArgError("no program is loaded: call load() first")


def rect_arg(rect, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) inside the fabric; (x, y) is the one PE there; None is the whole fabric."""
    if rect is None:
        return 0, 0, width, height
    if isinstance(rect, (str, bytes)):
        raise E.BadArgError(f"rect must be (x, y, w, h), or (x, y) for one PE, got {rect!r}")
    try:
        parts = tuple(rect)
    except TypeError:
        parts = ()
    if len(parts) == 2:
        parts += (1, 1)
    if len(parts) != 4:
        raise E.BadArgError(f"rect must be (x, y, w, h), or (x, y) for one PE, got {rect!r}")
    x, y, w, h = parts
    x, y = int_arg("rect x", x, -U32, U32), int_arg("rect y", y, -U32, U32)
    w, h = int_arg("rect width", w, 1, U32), int_arg("rect height", h, 1, U32)
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise E.BadArgError(f"rectangle {(x, y, w, h)} is outside the {width}x{height} fabric")
    return x, y, w, h


def pe_arg(x, y, width: int, height: int) -> tuple[int, int]:
    return int_arg("x", x, 0, width - 1), int_arg("y", y, 0, height - 1)


def task_arg(task):
    """A task name (str) or id (0..63)."""
    if isinstance(task, str):
        return name_arg("task name", task)
    return int_arg("task id", task, 0, NTASKS - 1)


def port_arg(port) -> int:
    """An edge port by name or mask (north 1, east 2, south 4, west 8)."""
    if isinstance(port, str):
        p = PORTS.get(port.lower())
        if p is None or p == PORTS["ramp"]:
            raise E.BadArgError(f"port {port!r} is not one of north, east, south, west")
        return p
    if isinstance(port, (bool, np.bool_)) or not isinstance(port, (int, np.integer)):
        raise E.BadArgError(f"port must be a name (north, east, south, west) or its mask (1, 2, 4, 8), "
                            f"got {port!r}")
    if int(port) not in (1, 2, 4, 8):
        raise E.BadArgError(f"port {int(port)} is not one of north (1), east (2), south (4), west (8)")
    return int(port)


def edge_arg(port: int, x: int, y: int, width: int, height: int) -> None:
    """Host wavelets enter an edge PE from outside the fabric: the port must face its edge."""
    faces = {"north": y == 0, "east": x == width - 1, "south": y == height - 1, "west": x == 0}
    if faces[PORT_NAMES[port]]:
        return
    edges = [p for p in EDGE_PORTS if faces[p]]
    where = (f"PE ({x},{y})'s ports on the edge are {', '.join(edges)}" if edges else
             f"PE ({x},{y}) is inside the {width}x{height} fabric: send to a PE on its edge")
    raise E.BadArgError(f"port {PORT_NAMES[port]} of PE ({x},{y}) does not face the edge of the fabric, "
                        f"so no wavelet can enter there from the host; {where}")


def color_arg(color) -> int:
    return int_arg("color", color, 0, NCOLORS - 1)


def color_filter(color):
    """received()'s color: None (every color) or a color."""
    return None if color is None else color_arg(color)


def start_arg(start) -> int:
    """received()'s start: how many of the wavelets (of the color asked) to skip; past the end
    gives none, so a script can poll with the count it has already seen."""
    return int_arg("start", start, 0, U64)


def payload_words(payloads) -> np.ndarray:
    """send()'s payloads as 32-bit words: integers 0..2**32-1 (or down to -2**31, as two's
    complement); floats as their bits (fp16 zero-extended, fp32 as is, wider floats rounded to
    fp32 first, refusing a finite value that would overflow to infinity)."""
    arr = np.asarray(payloads).reshape(-1)
    if arr.dtype.kind not in NUMERIC:
        raise E.BadArgError(f"payloads must be integers or floats, got {arr.dtype} data")
    if arr.dtype.kind == "f":
        if arr.dtype.itemsize not in (2, 4):
            arr = host_array("send", arr, np.dtype(np.float32))
        arr = arr.view({2: np.uint16, 4: np.uint32}[arr.dtype.itemsize])
    elif arr.size and (int(arr.min()) < -(1 << 31) or int(arr.max()) > U32):
        raise E.BadArgError(f"payloads must fit 32 bits (-2**31..2**32-1); got {int(arr.min())}..{int(arr.max())}")
    return np.ascontiguousarray(arr.astype(np.int64) & U32, dtype=np.uint32)


def max_cycles_arg(max_cycles, cycle: int):
    """run()'s max_cycles: None (no limit) or an absolute cycle, at least 1 and not before the
    fabric's cycle (equal to it: the run executes no cycle)."""
    if max_cycles is None:
        return None
    mc = int_arg("max_cycles", max_cycles, 1, U64 - 1)
    if mc < cycle:
        raise E.BadArgError(f"max_cycles {mc} is before the fabric's cycle {cycle}: it is absolute "
                            f"(the watchdog fires when the cycle counter reaches it)")
    return mc


def until_arg(until, cycle: int) -> int:
    """run_until()'s cycle: not before the fabric's cycle."""
    until = int_arg("cycle", until, 0, U64 - 1)
    if until < cycle:
        raise E.BadArgError(f"cycle {until} is before the fabric's cycle {cycle}: run_until only goes forward")
    return until


def trace_cycles_arg(cycles) -> tuple[int, int]:
    """(c0, c1) of enable_trace's cycles=(start, end | None); None: every cycle."""
    if cycles is None:
        return 0, U64
    try:
        start, end = cycles
    except (TypeError, ValueError):
        raise E.BadArgError(f"cycles must be (start, end), got {cycles!r}") from None
    c0 = int_arg("the trace's start cycle", start, 0, U64 - 1)
    c1 = U64 if end is None else int_arg("the trace's end cycle", end, 0, U64)
    if c0 >= c1:
        raise E.BadArgError(f"the trace's cycles [{c0}, {c1}) are empty: the start must be below the end")
    return c0, c1


def write_array(symbol: str, array, dt: np.dtype, count: int, x: int, y: int, w: int,
                h: int) -> tuple[np.ndarray, int]:
    """write()'s array for `symbol` (element type dt, count elements at PE (x, y), the first
    PE of the w x h rectangle): shape (n,) for every PE or (h, w, n), one slice per PE.
    Returns the array converted to dt, of shape (n,) or (h, w, n), and n."""
    arr = host_array(f"symbol {symbol!r}", array, dt)
    if arr.ndim == 3:
        if arr.shape[:2] != (h, w):
            raise E.BadArgError(f"array shape {arr.shape} does not match the {w} x {h} rectangle: give "
                                f"(n,) for every PE or ({h}, {w}, n), one row of n per PE (n up to "
                                f"{count}, the symbol's elements)")
        n = arr.shape[2]
    elif arr.ndim <= 1:
        arr = arr.reshape(-1)
        n = arr.size
    else:
        hint = (f"; to give row i to the i-th PE in row-major order, reshape it to "
                f"({h}, {w}, {arr.shape[-1]})" if arr.ndim == 2 and arr.shape[0] == h * w else "")
        raise E.BadArgError(f"array shape {arr.shape}: expected (n,) for every PE or ({h}, {w}, n), "
                            f"one row of n per PE (n up to {count}, the symbol's elements){hint}")
    if n > count:
        raise E.BadArgError(f"symbol {symbol!r} at PE ({x},{y}) has {count} elements; the array gives {n}")
    return arr, n


SHOW_SYMBOLS = 12     # a missing-symbol error lists this many of the PE's data symbols
SHOW_HOLDERS = 6      # and of the PEs that have the symbol


def missing_symbol(brief: str, name: str, pe: tuple[int, int], exports, holders) -> E.NotFoundError:
    """The NotFoundError of a read or write of data symbol `name` that PE `pe` does not export:
    the core's `brief` message, then the closest of the PE's data symbols (difflib), those
    symbols (sorted; the first SHOW_SYMBOLS), and the PEs that export `name` as a data symbol
    (row-major; the first SHOW_HOLDERS), or that none does. `exports`: the PE's data symbol
    names; `holders`: the PEs (x, y) with `name` as a data symbol, row-major. The exception
    carries them as fields: symbol, pe, exports (sorted), suggestion (None without a close
    one), holders and brief."""
    exports = sorted(set(exports))
    holders = [tuple(h) for h in holders]
    close = difflib.get_close_matches(name, exports, n=1)
    suggestion = close[0] if close else None
    at = f"PE ({pe[0]},{pe[1]})"
    msg = brief + "."
    if suggestion:
        msg += f" Did you mean '{suggestion}'?"
    if exports:
        more = len(exports) - SHOW_SYMBOLS
        msg += f" {at}'s data symbols: " + ", ".join(exports[:SHOW_SYMBOLS]) + (f" and {more} more" if more > 0 else "") + "."
    else:
        msg += f" {at} has no data symbols."
    if len(holders) == 1:
        (x, y), = holders
        msg += f" Only PE ({x},{y}) has a data symbol '{name}' (rect=({x}, {y}) reads or writes it there)."
    elif holders:
        more = len(holders) - SHOW_HOLDERS
        msg += (f" {len(holders)} PEs have a data symbol '{name}': "
                + ", ".join(f"({x},{y})" for x, y in holders[:SHOW_HOLDERS]) + (f" and {more} more" if more > 0 else "") + ".")
    else:
        msg += f" No PE has a data symbol '{name}'."
    return E.NotFoundError(msg, symbol=name, pe=tuple(pe), exports=exports, suggestion=suggestion,
                           holders=holders, brief=brief)
