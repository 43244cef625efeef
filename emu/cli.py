"""wse-emu: run an object file on the emulator.

    wse-emu --grid 64x64 [--arch wse2|wse3] PROG.wso [--max-cycles N]
            [--input SYM[@RECT]=FILE.npy ...] [--output SYM[@RECT]=FILE.npy ...]
            [--launch TASK[@RECT]] [--received FILE.npy] [--pe-stats FILE.npy] [--stats]
            [--until CYCLE]
            [--trace FILE.json [--trace-rect RECT] [--trace-cycles START:END]]

RECT selects PEs: `X,Y` (one PE) or `X,Y,W,H`; without it, every PE of the fabric (each must
have the symbol or task).

Running, reading results back and debugging (faults, hangs, --until, traces) are documented in
docs/emulator.md of the wse source tree; the cycle counts in docs/timing.md.

Exit status: 0 on completion (also when stdout's reader stops early, as `| head` does: the
files asked for are written all the same); 1 on a fault, a hang, the watchdog (--max-cycles) or
the run running out of host memory (the report is printed); 2 on bad usage or input (a missing
file, a bad object, a bad --grid, a bad array, an output path that cannot be written: all
checked before the run), when an output file or stdout could not be written after it, when the
host runs out of memory outside the run, or on an internal error (one line, please report it);
130 when interrupted (Ctrl-C: during the run, after the state report). Never a Python traceback.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys

import numpy as np

from wse.cli.files import (OutputError, StdoutError, dash_values, file_key, int_arg, not_utf8, printable,
                           read_object, silence_stdout, write_file)
from wse.isa import objfile

from . import errors as E
from .fabric import Fabric, parse_grid
from .records import TRACE_OPEN, opcode_mnemonic


class UsageError(Exception):
    pass


def _rect(text: str, what: str):
    """`X,Y` or `X,Y,W,H` -> (x, y, w, h)."""
    parts = text.split(",")
    nums = [int(v) for v in parts] if all(v.strip().isascii() and v.strip().isdigit() for v in parts) else []
    if len(nums) == 2:
        nums += [1, 1]
    if len(nums) != 4 or min(nums) < 0 or nums[2] == 0 or nums[3] == 0:
        raise UsageError(f"{what}: rectangle {text!r} must be X,Y or X,Y,W,H (non-negative, W,H > 0)")
    return tuple(nums)


def _cycle_range(text: str) -> tuple[int, int | None]:
    """`START:END` or `START:` -> (start, end or None)."""
    a, colon, b = text.partition(":")
    ok = colon and a.strip().isascii() and a.strip().isdigit() and (not b.strip() or (b.strip().isascii() and b.strip().isdigit()))
    if not ok:
        raise UsageError(f"--trace-cycles {text!r}: expected START:END or START: (cycles, END above START)")
    start, end = int(a), (int(b) if b.strip() else None)
    if end is not None and end <= start or start >= 2**64 - 1 or (end or 0) >= 2**64:
        raise UsageError(f"--trace-cycles {text!r}: the range is empty or too large; END must be above START")
    return start, end


def _split_at(spec: str, what: str):
    name, at, rect = spec.partition("@")
    if not name:
        raise UsageError(f"{what} {spec!r}: the name is missing")
    bad = not_utf8(name, iconv=False)
    if bad:     # (the names of an object are UTF-8: the core's lookup said only "utf-8")
        raise UsageError(f"{what} {printable(spec)}: the name {bad}")
    if at and not rect:
        raise UsageError(f"{what} {spec!r}: the rectangle after @ is missing (X,Y or X,Y,W,H; "
                         f"leave out @ for the whole fabric)")
    return name, (_rect(rect, f"{what} {spec!r}") if rect else None)


def _pairs(items, what):
    out = []
    for it in items or []:
        if "=" not in it:
            raise UsageError(f"{what} {it!r}: expected SYM[@X,Y[,W,H]]=FILE.npy")
        sym, path = it.split("=", 1)
        if not sym or not path:
            raise UsageError(f"{what} {it!r}: expected SYM[@X,Y[,W,H]]=FILE.npy")
        name, rect = _split_at(sym, what)
        out.append((name, rect, path))
    return out


def _task_names(data: bytes):
    """(x, y) -> {task id: name} from the object's symbol table, for readable traces."""
    try:
        obj = objfile.read(data)
    except objfile.ObjectFormatError:
        return lambda x, y: {}
    per_image = [{s.value: s.name for s in img.symbols if s.type == "task"} for img in obj.images]
    grid = obj.pe_grid()

    def names(x, y):
        if y < len(grid) and x < len(grid[y]) and grid[y][x] >= 0:
            return per_image[grid[y][x]]
        return {}
    return names


def _at(rect) -> str:
    """A rectangle as the options write it: @X,Y for one PE, else @X,Y,W,H."""
    x, y, w, h = rect
    return f"@{x},{y}" if w == h == 1 else f"@{x},{y},{w},{h}"


def _holders(obj, name, task: bool, width: int, height: int):
    """The rectangles (x, y, w, h) of the PEs whose program has the data symbol, or the task
    (a name or an id), `name`."""
    def has(img):
        return any((s.type == "task") == task and (s.name == name or (task and s.value == name))
                   for s in img.symbols)
    grid = obj.pe_grid()
    marks = [[0 if y < len(grid) and x < len(grid[y]) and grid[y][x] >= 0
              and has(obj.images[grid[y][x]]) else -1 for x in range(width)] for y in range(height)]
    return [r[:4] for r in objfile.rects_from_grid(marks)]


def _suggest(data: bytes, name, task: bool, rect, fab, usage) -> str:
    """For an option over `rect` (None: the whole fabric) that a PE there cannot serve (no
    program, or not the symbol or task `name`): where the name is, as the rectangles to give
    (`usage(at)` writes the option with one), or 'did you mean', or the object's names."""
    import difflib
    try:
        obj = objfile.read(data)
    except objfile.ObjectFormatError:
        return ""
    holders = _holders(obj, name, task, fab.width, fab.height)
    if holders:
        x0, y0, w, h = rect or (0, 0, fab.width, fab.height)
        inside = {(x, y) for hx, hy, hw, hh in holders for x in range(hx, hx + hw) for y in range(hy, hy + hh)}
        if all((x, y) in inside for x in range(x0, x0 + w) for y in range(y0, y0 + h)):
            return ""           # every PE asked for has it: the error is about something else
        shown = " and ".join(_at(r) for r in holders[:6]) + (" and more" if len(holders) > 6 else "")
        if len(holders) == 1:
            one = holders[0][2] == holders[0][3] == 1
            return (f"; the {'PE that has it is' if one else 'PEs that have it are'} {shown}: "
                    f"write {usage(_at(holders[0]))}")
        return (f"; the PEs that have it are {shown}: give one option per rectangle, "
                f"e.g. {usage(_at(holders[0]))}")
    names = sorted({s.name for img in obj.images for s in img.symbols if (s.type == "task") == task})
    what = "tasks" if task else "exported data symbols"
    # a data label is a symbol of the object only when its program's .export lists it
    export = "" if task else " (a data label is visible here only when its program's .export lists it)"
    if not names:
        return f"; the object has no {what}{export}"
    if isinstance(name, str):
        close = difflib.get_close_matches(name, names, n=3)
        if close:
            return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"; the object's {what}: {shown}{export}"


def _on_pes(data, fab, opt, name, rect, tail, task, call):
    """call(), with an error about the PEs of the option's rectangle (a PE without a program,
    without the symbol or task) saying which option and rectangle, and where the name is."""
    try:
        return call()
    except (E.WseError, ValueError) as e:
        msg = e.args[0] if e.args else str(e)
        if getattr(e, "brief", None):
            msg = e.brief       # the hint below says where the name is, in the options' terms
        where = (f"on the rectangle {_at(rect)}" if rect else
                 f"on every PE of the {fab.width}x{fab.height} fabric, as it has no @X,Y[,W,H]")
        hint = ""
        if isinstance(e, E.NotFoundError):
            hint = _suggest(data, name, task, rect, fab, lambda at: f"{opt} {name}{at}{tail}")
        raise UsageError(f"{opt} {name}{_at(rect) if rect else ''}{tail} ({where}): {msg}{hint}") from None


def _run_out_of_memory(msg: str, tracing: bool) -> str:
    """The core's message for a run that ran out of host memory, in the command line's terms.
    The core names the structure that could not grow and the cycle, and gives the remedy of the
    API ("free memory (or turn tracing off) and load the program again"), which means nothing
    here: each wse-emu loads the program once, and tracing is on only with --trace."""
    import re
    m = re.match(r"out of host memory at cycle (\d+): growing (.+?) failed", msg)
    if not m:
        return msg or "out of host memory during the run"
    cycle, what = m.groups()
    head = f"out of host memory at cycle {cycle}"
    if what == "the trace buffer":
        return (f"{head} while recording the trace, so the run stopped there; limit the trace with "
                f"--trace-rect or --trace-cycles, or free memory")
    if what == "the buffer of wavelets sent to the host":
        return (f"{head} while keeping the wavelets that left the fabric, so the run stopped there; "
                f"stop the run earlier (--max-cycles or --until), or free memory")
    return (f"{head} while growing {what}, so the run stopped there; free memory, or run a smaller "
            f"fabric or fewer cycles (--max-cycles)"
            + ("; --trace takes memory too: limit it with --trace-rect or --trace-cycles" if tracing else ""))


def _load(path: str, data: bytes, grid, arch) -> Fabric:
    """Fabric.from_object, with errors that name the object file and the option at fault: a
    malformed object is "PATH: not a valid object file: ...", as wse-objdump says it, with the
    control characters of a corrupt name escaped; an --arch or --grid that does not fit it names
    that option."""
    def bad(e):
        return UsageError(f"{path}: not a valid object file: {printable(str(e))}")
    try:
        oarch, ow, oh = Fabric.peek(data)
    except E.LoadError as e:
        raise bad(e) from None
    if arch is not None and arch != oarch:
        raise UsageError(f"--arch {arch}: {path} was assembled for {oarch}; leave --arch out, or "
                         f"assemble it again with wse-as --arch {arch}")
    w, h = grid or (ow, oh)
    if w < ow or h < oh:
        raise UsageError(f"--grid {w}x{h}: {path} was made for a {ow}x{oh} fabric; give at least "
                         f"that, or leave --grid out")
    fab = Fabric(w, h, arch or oarch)
    try:
        fab.load(data)
    except E.LoadError as e:
        raise bad(e) from None
    return fab


def write_trace(fab: Fabric, path, task_names=lambda x, y: {}, chunk: int = 1 << 17) -> int:
    """Chrome trace-event JSON (Perfetto opens it) into `path`, a file name or a binary file
    object: one process per PE (pid = y*W+x, named "PE (x,y)") with a track for its main thread
    (tasks, its tensor ops, wavelet arrivals at the RAMP) and one per microthread it used (its
    async ops): spans on one track never overlap without nesting. 1 cycle = 1 us of trace time.
    After the recorded events come the spans still open where the run stopped (a fault, a hang,
    the watchdog, --until: Fabric.trace_open_array), cut there, named "... (unfinished)" with
    "args": {"unfinished": true}. The events are read from the core and written `chunk` at a
    time, so the host memory stays bounded however long the trace. Returns the number of events
    written."""
    if hasattr(path, "write"):        # a binary file object
        return _write_trace(fab, path, task_names, chunk)
    with open(path, "wb") as fh:
        return _write_trace(fab, fh, task_names, chunk)


def _write_trace(fab: Fabric, fh, task_names, chunk: int) -> int:
    # (JSON strings; an unfinished span's name says so)
    @functools.lru_cache(maxsize=None)
    def mnemonic(op, unfinished=False):
        return json.dumps(opcode_mnemonic(op) + (" (unfinished)" if unfinished else ""))

    @functools.lru_cache(maxsize=None)
    def task_name(x, y, a, unfinished=False):
        name = task_names(x, y).get(a)
        return json.dumps(f"task {a}" + (f" ({name})" if name else "") + (" (unfinished)" if unfinished else ""))

    seen: set = set()
    count = 0
    first = True

    def emit(lines):
        nonlocal first, count
        if lines:
            fh.write(((b"" if first else b",") + ",".join(lines).encode()))
            first = False
            count += len(lines)

    W = fab.width

    def lines(ev):
        kind, xs, ys = ev["kind"].tolist(), ev["x"].tolist(), ev["y"].tolist()
        a_s, b_s = ev["a"].tolist(), ev["b"].tolist()
        t0s, t1s = ev["t0"].tolist(), ev["t1"].tolist()
        out = []
        for k, x, y, a, b, t0, t1 in zip(kind, xs, ys, a_s, b_s, t0s, t1s):
            pid = y * W + x
            unfinished, k = bool(k & TRACE_OPEN), k & ~TRACE_OPEN
            tid = 0 if k != 2 or b == 8 else 1 + b
            if (pid, tid) not in seen:
                if (pid, -1) not in seen:
                    seen.add((pid, -1))
                    out.append(f'{{"ph":"M","pid":{pid},"name":"process_name","args":{{"name":"PE ({x},{y})"}}}}')
                    out.append(f'{{"ph":"M","pid":{pid},"name":"process_sort_index","args":{{"sort_index":{pid}}}}}')
                seen.add((pid, tid))
                out.append(f'{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_name","args":{{"name":"'
                           + ("main" if tid == 0 else f"ut{tid - 1}") + '"}}')
            end = ',"args":{"unfinished":true}}' if unfinished else "}"
            if k == 1:
                out.append(f'{{"ph":"X","pid":{pid},"tid":0,"cat":"task","name":{task_name(x, y, a, unfinished)},'
                           f'"ts":{t0},"dur":{max(t1 - t0, 0)}' + end)
            elif k == 2:
                out.append(f'{{"ph":"X","pid":{pid},"tid":{tid},"name":{mnemonic(a, unfinished)},"cat":"tensor",'
                           f'"ts":{t0},"dur":{max(t1 - t0, 0)}' + end)
            elif k == 3:
                out.append(f'{{"ph":"i","pid":{pid},"tid":0,"s":"t","name":"wavelet c{a}","cat":"wavelet",'
                           f'"ts":{t0},"args":{{"payload":{b}}}}}')
        return out

    # The spans still open where the run stopped (none after a run that ended idle) come after
    # the recorded events. A main thread runs ahead of the fabric's cycle (a run of local
    # instructions has its effects at its first cycle, docs/timing.md), and its memory-only
    # tensor ops are recorded at issue, so they may end after the cycle where its unfinished task
    # is cut: that task is drawn to the end of the last of them, so that the track nests.
    n_open = fab.trace_open_count
    tasks = []                       # (pid, t0, t1) of the unfinished tasks, by pid
    for start in range(0, n_open, chunk):
        ev = fab.trace_open_array(start, min(chunk, n_open - start))
        ev = ev[ev["kind"] == TRACE_OPEN | 1]
        tasks.append(np.stack([ev["y"].astype(np.int64) * W + ev["x"], ev["t0"].astype(np.int64),
                               ev["t1"].astype(np.int64)], axis=1))
    tasks = np.concatenate(tasks) if tasks else np.zeros((0, 3), np.int64)
    ends = tasks[:, 2].copy()

    fh.write(b'{"traceEvents":[')
    total = fab.trace_count
    for start in range(0, total, chunk):
        ev = fab.trace_array(start, min(chunk, total - start))
        if len(tasks):
            op = ev[(ev["kind"] == 2) & (ev["b"] == 8)]
            pid = op["y"].astype(np.int64) * W + op["x"]
            i = np.minimum(np.searchsorted(tasks[:, 0], pid), len(tasks) - 1)
            t0, t1 = op["t0"].astype(np.int64), op["t1"].astype(np.int64)
            hit = (tasks[i, 0] == pid) & (t0 >= tasks[i, 1]) & (t1 > ends[i])
            np.maximum.at(ends, i[hit], t1[hit])
        emit(lines(ev))
    stretched = dict(zip(tasks[:, 0].tolist(), ends.tolist()))
    for start in range(0, n_open, chunk):
        ev = fab.trace_open_array(start, min(chunk, n_open - start))
        task = ev["kind"] == TRACE_OPEN | 1
        if task.any():
            pid = (ev["y"].astype(np.int64) * W + ev["x"])[task].tolist()
            ev["t1"][task] = [stretched[p] for p in pid]
        emit(lines(ev))
    fh.write(b'],"displayTimeUnit":"ns","otherData":{"time_unit":"1 us = 1 cycle"}}')
    return count


def _load_npy(path: str, what: str) -> np.ndarray:
    """np.load of a .npy file, after checking its header against the file: a file that is not
    .npy, or whose header declares more data than it holds (cut, or corrupt: a header can claim
    terabytes), is a UsageError before anything is allocated."""
    from numpy.lib import format as npf
    try:
        with open(path, "rb") as fh:
            if fh.read(6) != b"\x93NUMPY":
                raise UsageError(f"{what}: {path} is not a .npy file (it does not start with the .npy "
                                 f"magic); write the array with numpy.save")
            fh.seek(0)
            version = npf.read_magic(fh)
            shape, _, dtype = (npf.read_array_header_1_0(fh) if version == (1, 0)
                               else npf.read_array_header_2_0(fh))
            if dtype.hasobject:
                raise UsageError(f"{what}: {path} holds Python objects, not numbers")
            need = int(np.prod(shape, dtype=object)) * dtype.itemsize
            have = os.fstat(fh.fileno()).st_size - fh.tell()
            if need > have:
                raise UsageError(f"{what}: {path} declares a {dtype} array of shape {shape} ({need} bytes) "
                                 f"but holds {have} bytes of data: the file is cut or corrupt")
        return np.load(path, allow_pickle=False)
    except OSError as e:
        raise UsageError(f"{what}: cannot read {path}: {e.strerror or e}") from None
    except (ValueError, EOFError) as e:   # EOFError: an empty or cut file
        raise UsageError(f"{what}: cannot read {path} as a .npy array: {e}") from None
    except MemoryError:
        raise UsageError(f"{what}: {path} declares an array too large for this machine's memory") from None


def _save(path: str, arr, what: str) -> None:
    """The array as .npy in exactly `path` (np.save of a name would append .npy to a name
    without it)."""
    write_file(path, lambda fh: np.save(fh, arr, allow_pickle=False), what)


def _check_writable(path: str, what: str, example: str = "out.npy") -> None:
    """Refuse, before the run, a path that cannot be written after it: a folder (or a name
    ending in a separator), a missing folder, a path through a file, no permission, a
    read-only file system. A file that does not exist is created and removed to find out."""
    seps = (os.sep, os.altsep) if os.altsep else (os.sep,)
    if os.path.isdir(path):
        raise UsageError(f"{what}: {path} is a folder; give a file name "
                         f"(e.g. {os.path.join(path, example)})")
    if path.endswith(seps):
        raise UsageError(f"{what}: {path} ends with {path[-1]!r}, so it names a folder, not a file; "
                         f"give a file name (e.g. {os.path.join(path, example)})")
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(d):
        raise UsageError(f"{what}: the folder {d} of {path} does not exist; create it first "
                         f"(mkdir -p {d})")
    if not os.path.isdir(d):
        raise UsageError(f"{what}: {path}: {d} is a file, not a folder")
    try:
        if os.path.exists(path):
            if os.path.isfile(path):
                with open(path, "r+b"):          # writable, without truncating it
                    pass
            elif not os.access(path, os.W_OK):
                raise PermissionError(13, "Permission denied")
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.close(fd)
            os.remove(path)
    except OSError as e:
        raise UsageError(f"{what}: cannot write {path}: {e.strerror or e}") from None


def _check_distinct(writes, reads) -> None:
    """Refuse two outputs to one file, and an output over the object or an --input file,
    before the run (the later write would silently replace the earlier)."""
    seen = {}
    for label, path in reads:
        seen.setdefault(file_key(path), ("r", label, path))
    for label, path in writes:
        key = file_key(path)
        prev = seen.get(key)
        if prev is None:
            seen[key] = ("w", label, path)
            continue
        kind, plabel, ppath = prev
        same = path if path == ppath else f"{path} (the same file as {ppath})"
        if kind == "w":
            raise UsageError(f"{plabel} and {label} both write {same}: the second would replace "
                             f"the first; give each its own file")
        raise UsageError(f"{label} would overwrite {same}, {plabel}; give the output another "
                         f"file name")


def main(argv=None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:    # the output piped into `head` and closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError as e:   # (the loader's and the run's are handled in _main, with context)
        print(f"wse-emu: error: out of host memory{f' ({e})' if str(e) else ''}; free memory, or "
              f"run a smaller fabric", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside the run (loading, writing the outputs): no traceback;
        # outputs are written whole or not at all (a file is renamed into place when complete)
        print("wse-emu: interrupted outside the run; the outputs not written by then were not written",
              file=sys.stderr)
        return 130


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="wse-emu", description="Run a wse object file (.wso).",
                                 epilog=__doc__[__doc__.index("Exit status:"):],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("program", help="the object file (.wso)")
    ap.add_argument("--grid", help="fabric size WxH (default: the object's)")
    ap.add_argument("--arch", choices=("wse2", "wse3"), help="default: the object's")
    ap.add_argument("--max-cycles", type=int_arg, default=None, metavar="N",
                    help="the watchdog: a run still going at cycle N (counted from 0) stops there "
                         "with a report of every busy PE and exit status 1; default: no limit (a "
                         "program that never ends runs until Ctrl-C)")
    ap.add_argument("--until", type=int_arg, default=None, metavar="CYCLE",
                    help="stop at this cycle and print what every busy PE is doing there; "
                         "--output then saves the symbols as they are at that cycle")
    ap.add_argument("--input", action="append", metavar="SYM[@X,Y[,W,H]]=FILE.npy",
                    help="write an array into a symbol before the run ((n,) or (h, w, n)); "
                         "@X,Y[,W,H] limits it to a rectangle of PEs")
    ap.add_argument("--output", action="append", metavar="SYM[@X,Y[,W,H]]=FILE.npy",
                    help="save a symbol after the run, shape (h, w, n)")
    ap.add_argument("--launch", action="append", metavar="TASK[@X,Y[,W,H]]",
                    help="activate a task (name or id)")
    ap.add_argument("--received", metavar="FILE.npy",
                    help="save the wavelets that left the fabric through its edges (a structured "
                         "array: x, y, port, color, payload, ctrl, cycle), also after a fault")
    ap.add_argument("--pe-stats", metavar="FILE.npy",
                    help="save every PE's counters (a structured array of shape (h, w), [y, x]: "
                         "instructions, busy_cycles, idle_cycles, wavelets_sent, "
                         "wavelets_received, wavelet_hops, stalls, tasks, tensor_elements, pes), "
                         "also after a fault, a hang or --until")
    ap.add_argument("--stats", action="store_true",
                    help="print every statistic (totals over all PEs: busy_cycles + idle_cycles "
                         "= cycles x pes)")
    ap.add_argument("--trace", metavar="FILE.json",
                    help="write a Chrome/Perfetto trace (also after a fault, a hang, --max-cycles or "
                         "--until: what was still running there is marked unfinished)")
    ap.add_argument("--trace-rect", metavar="X,Y[,W,H]",
                    help="trace only these PEs (default: all; with --trace)")
    ap.add_argument("--trace-cycles", metavar="START:END",
                    help="trace only events that meet cycles [START, END); END may be left out "
                         "(with --trace)")
    try:
        args = ap.parse_args(dash_values(ap, sys.argv[1:] if argv is None else argv))
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else 2
    try:
        inputs = _pairs(args.input, "--input")
        outputs = _pairs(args.output, "--output")
        for opt, val in (("--received", args.received), ("--pe-stats", args.pe_stats), ("--trace", args.trace)):
            if val is not None and not val.strip():
                raise UsageError(f"{opt}: the file name is empty; give the file to write")
        if args.max_cycles is not None and not 0 < args.max_cycles < 2**64 - 1:
            raise UsageError("--max-cycles must be 1 .. 2**64-2")
        if args.until is not None and not 0 < args.until < 2**64 - 1:
            raise UsageError("--until must be 1 .. 2**64-2 (the cycle to stop at)")
        if args.until is not None and args.max_cycles is not None:
            raise UsageError("--until and --max-cycles exclude each other: --until already stops "
                             "the run at that cycle")
        if not args.program:
            raise UsageError("the file name of the object is empty; give the .wso file to run")
        try:
            # no further than the header's size: /dev/zero or a FIFO is refused, not read to the end
            data = read_object(args.program)
        except OSError as e:
            raise UsageError(f"cannot read {args.program}: {e.strerror or e}") from None
        except objfile.ObjectFormatError as e:
            raise UsageError(f"{args.program}: not a valid object file: {e}") from None
        _check_distinct(
            [(f"--output {sym}" + (f"@{','.join(map(str, rect))}" if rect else ""), path)
             for sym, rect, path in outputs]
            + [("--received", p) for p in [args.received] if p]
            + [("--pe-stats", p) for p in [args.pe_stats] if p]
            + [("--trace", p) for p in [args.trace] if p],
            [("the object file being run", args.program)]
            + [(f"the file of --input {sym}", path) for sym, _, path in inputs])
        if args.grid is not None and not args.grid.strip():
            raise UsageError("--grid is empty: give WxH (e.g. 64x64), or leave --grid out for the "
                             "object's size")
        try:
            grid = parse_grid(args.grid) if args.grid is not None else None
        except E.BadArgError as e:      # (the API's words: name the option)
            raise UsageError(f"--grid: {e}") from None
        trect = _rect(args.trace_rect, "--trace-rect") if args.trace_rect is not None else None
        tcycles = _cycle_range(args.trace_cycles) if args.trace_cycles is not None else None
        if (trect or tcycles) and not args.trace:
            raise UsageError(f"{'--trace-rect' if trect else '--trace-cycles'} limits the trace: "
                             f"give the file to write with --trace FILE.json")
        fab = _load(args.program, data, grid, args.arch)
        if trect and (trect[0] + trect[2] > fab.width or trect[1] + trect[3] > fab.height):
            raise UsageError(f"--trace-rect {args.trace_rect}: the rectangle {_at(trect)} (X,Y,W,H) "
                             f"reaches outside the {fab.width}x{fab.height} fabric")
        if args.trace:
            fab.enable_trace(True, rect=trect, cycles=tcycles)
        for opt, items in (("--input", inputs), ("--output", outputs)):
            for sym, rect, _ in items:
                if rect and (rect[0] + rect[2] > fab.width or rect[1] + rect[3] > fab.height):
                    raise UsageError(f"{opt} {sym}{_at(rect)}: the rectangle {_at(rect)} (X,Y,W,H) "
                                     f"reaches outside the {fab.width}x{fab.height} fabric")
        for sym, rect, path in inputs:
            arr = _load_npy(path, f"--input {sym}")
            count = _on_pes(data, fab, "--input", sym, rect, f"={path}", False,
                            lambda: fab.read(sym, rect=rect)).shape[2]
            n = arr.shape[-1] if arr.ndim == 3 else arr.size
            h, w = (rect[3], rect[2]) if rect else (fab.height, fab.width)
            if arr.ndim == 3 and (arr.shape[:2] != (h, w) or n != count):
                # both at once: naming only n would hide a wrong (h, w), and the reverse
                where = f"the rectangle {_at(rect)}" if rect else f"the {fab.width}x{fab.height} fabric"
                raise UsageError(f"--input {sym}{_at(rect) if rect else ''}: {path} has shape "
                                 f"{tuple(arr.shape)}, but {sym} on {where} needs ({h}, {w}, {count}): "
                                 f"(height, width, the {count} elements of {sym} per PE), or "
                                 f"({count},) for every PE")
            if arr.ndim in (0, 1) and n != count:
                # Fabric.write writes a prefix when given fewer; on the command line that is
                # nearly always a wrong file or symbol, so the whole symbol is asked for
                raise UsageError(f"--input {sym}: {sym} has {count} elements per PE but {path} gives "
                                 f"{n}; --input writes the whole symbol (Fabric.write in Python "
                                 f"can write its first elements only)")
            _on_pes(data, fab, "--input", sym, rect, f"={path}", False,
                    lambda: fab.write(sym, arr, rect=rect))
        # what is saved after the run is checked before it, so that a long run is not lost to a
        # typo in a symbol or a path
        for sym, rect, path in outputs:
            _on_pes(data, fab, "--output", sym, rect, f"={path}", False, lambda: fab.read(sym, rect=rect))
            _check_writable(path, f"--output {sym}", f"{sym}.npy")
        if args.trace:
            _check_writable(args.trace, "--trace", "trace.json")
        if args.received:
            _check_writable(args.received, "--received", "received.npy")
        if args.pe_stats:
            _check_writable(args.pe_stats, "--pe-stats", "pe_stats.npy")
        for spec in args.launch or []:
            t, rect = _split_at(spec, "--launch")
            task = int(t) if t.isascii() and t.isdigit() else t
            _on_pes(data, fab, "--launch", task, rect, "", True, lambda: fab.launch(task, rect=rect))
    except (UsageError, E.WseError, ValueError, TypeError) as e:
        print(f"wse-emu: error: {e}", file=sys.stderr)
        return 2
    except MemoryError as e:   # not the core's (OutOfMemoryError, above): Python's or numpy's
        print(f"wse-emu: error: out of host memory while loading {args.program} or its inputs"
              f"{f' ({e})' if str(e) else ''}; free memory, or place fewer PEs", file=sys.stderr)
        return 2
    status = 0
    fault_cycle = None
    stopped = None
    paused = None            # the state report at --until's cycle
    try:
        try:
            fab.run(max_cycles=args.until if args.until is not None else args.max_cycles)
        except E.WatchdogError:
            if args.until is None:
                raise
            paused = fab.state_report().rstrip()
    except KeyboardInterrupt:
        # where it was: a program that runs forever is the usual reason for a Ctrl-C
        print(fab.state_report().rstrip(), file=sys.stderr)
        st = fab.stats()
        print(f"wse-emu: interrupted at cycle {st['cycles']} (instructions: {st['instructions']}, "
              f"wavelet hops: {st['wavelet_hops']}); nothing was saved", file=sys.stderr)
        return 130
    except MemoryError as e:
        # E.OutOfMemoryError: the core's message names the structure and the cycle; the state
        # is incomplete, so it is reported like a fault (no --output), with what was sent out
        print(f"wse-emu: error: {_run_out_of_memory(str(e), bool(args.trace))}", file=sys.stderr)
        status = 1
        stopped = "ran out of host memory"
    except (E.FaultError, E.HangError, E.WatchdogError) as e:
        print(str(e).rstrip(), file=sys.stderr)
        status = 1
        if isinstance(e, E.FaultError):
            fault_cycle = e.cycle
        stopped = ("faulted" if isinstance(e, E.FaultError) else "hung" if isinstance(e, E.HangError)
                   else "was stopped by the watchdog (--max-cycles)")
    # The summary goes to stdout as it comes; a stdout that cannot be written (its reader went
    # away, a full disk, closed) does not cost the files asked for: they are written all the
    # same, and the failure is reported after them (a reader that stopped early, `| head`, is not
    # an error).
    stdout_error = None

    def say(text: str) -> None:
        nonlocal stdout_error
        if stdout_error is not None:
            return
        try:
            print(text)
        except (StdoutError, OSError) as e:
            stdout_error = e if isinstance(e, StdoutError) else StdoutError(e)
            silence_stdout()

    st = fab.stats()
    note = ""
    if fault_cycle is not None and fault_cycle != st["cycles"]:
        # a run of local instructions executes in the event at its first cycle (docs/timing.md)
        note = (f"; the fabric stopped at the first cycle of the run that faulted, "
                f"the fault is at cycle {fault_cycle}")
    say(f"cycles: {st['cycles']}  ({st['cycles'] / fab.clock_hz * 1e6:.3f} us at "
        f"{fab.clock_hz / 1e6:g} MHz, {fab.arch}){note}")
    say(f"instructions: {st['instructions']}  wavelet hops: {st['wavelet_hops']}")
    if st["host_out"]:
        say(f"host: {st['host_out']} wavelet{'s' if st['host_out'] != 1 else ''} left the fabric "
            + (f"-> {args.received}" if args.received else "(--received FILE.npy saves them)"))
    if args.stats:
        for k, v in st.items():
            say(f"  {k}: {v}")
    if paused is not None:
        say(paused)
        if outputs:
            print(f"wse-emu: stopped at cycle {st['cycles']} as --until asked; --output saves the "
                  f"symbols as they are there, not results", file=sys.stderr)
    # every file is attempted: one that cannot be written does not cost the others
    failed = False

    def attempt(what, path, write):
        nonlocal failed
        try:
            write()
        except (E.WseError, OSError, UsageError, OutputError) as e:
            print(f"wse-emu: error: {e}", file=sys.stderr)
            failed = True
        except MemoryError:      # (numpy's message names its dtype at length: left out)
            print(f"wse-emu: error: {what}: out of host memory while writing {path}; it was not "
                  f"written (free memory)", file=sys.stderr)
            failed = True
    if stopped and outputs:
        # the symbols hold the state where the run stopped, not its results: saving them under
        # the names asked for results would pass them off as results
        there = [path for _, _, path in outputs if os.path.exists(path)]
        print(f"wse-emu: --output not written, because the run {stopped}: "
              + ", ".join(f"{sym}{_at(rect) if rect else ''} -> {path}" for sym, rect, path in outputs)
              + "; the symbols hold the state where it stopped, not results (Fabric.read reads it "
                "from Python)"
              + (f"; left as it was before this run: {', '.join(there)}" if there else ""),
              file=sys.stderr)
    elif status == 0:
        for sym, rect, path in outputs:
            attempt(f"--output {sym}", path, lambda: _save(path, fab.read(sym, rect=rect), f"--output {sym}"))
    if args.received:
        attempt("--received", args.received, lambda: _save(args.received, fab.received_array(), "--received"))
    if args.pe_stats:
        attempt("--pe-stats", args.pe_stats, lambda: _save(args.pe_stats, fab.pe_stats_grid(), "--pe-stats"))
    if args.trace:
        def trace():
            names = _task_names(data)
            counted = []
            try:
                write_file(args.trace, lambda fh: counted.append(write_trace(fab, fh, names)), "--trace")
            except MemoryError:
                # after the run ran out of memory there is little left: once more, holding
                # 4,096 events at a time instead of 131,072 (the partial file is gone)
                counted.clear()
                write_file(args.trace, lambda fh: counted.append(write_trace(fab, fh, names, chunk=1 << 12)),
                           "--trace")
            n_open = fab.trace_open_count
            say(f"trace: {counted[0]} events"
                + (f" ({n_open} unfinished: what was running where the run stopped)" if n_open else "")
                + f" -> {args.trace}")
        attempt("--trace", args.trace, trace)
    if stdout_error is None:
        try:
            if sys.stdout is not None:
                sys.stdout.flush()
        except (StdoutError, OSError) as e:
            stdout_error = e if isinstance(e, StdoutError) else StdoutError(e)
            silence_stdout()
    if stdout_error is not None and not stdout_error.broken_pipe:
        files = [path for _, _, path in outputs if status == 0] + [p for p in (args.received, args.pe_stats, args.trace)
                                                                    if p]
        print(f"wse-emu: error: {stdout_error}, so the summary is not all there"
              + (f"; the files asked for were written: {', '.join(files)}" if files and not failed else ""),
              file=sys.stderr)
        failed = True
    return 2 if failed else status


if __name__ == "__main__":  # pragma: no cover  (python -m: the console script's launcher)
    from wse.cli.launch import run
    sys.exit(run("wse-emu", main))
