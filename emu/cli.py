"""wse-emu: run an object file on the emulator.

    wse-emu --grid 64x64 [--arch wse2|wse3] PROG.wso [--max-cycles N]
            [--input SYM=FILE.npy ...] [--output SYM=FILE.npy ...] [--launch TASK]
            [--stats] [--trace FILE.json]

Exit status: 0 on completion; 1 on a fault, a hang or the watchdog (the report is printed);
2 on bad usage or input (a missing file, a bad object, a bad --grid, a bad array). Never a
Python traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from . import errors as E
from .fabric import Fabric, parse_grid


class UsageError(Exception):
    pass


def _pairs(items, what):
    out = []
    for it in items or []:
        if "=" not in it:
            raise UsageError(f"{what} {it!r}: expected SYM=FILE.npy")
        sym, path = it.split("=", 1)
        if not sym or not path:
            raise UsageError(f"{what} {it!r}: expected SYM=FILE.npy")
        out.append((sym, path))
    return out


def write_trace(fab: Fabric, path: str) -> int:
    """Chrome trace-event JSON (Perfetto opens it): one track per PE (pid 0, tid = y*W+x),
    tasks and tensor ops as spans, wavelet arrivals as instants. 1 cycle = 1 us of trace time."""
    events = []
    seen = set()
    for kind, x, y, a, b, t0, t1 in fab.trace_events():
        tid = y * fab.width + x
        if tid not in seen:
            seen.add(tid)
            events.append({"ph": "M", "pid": 0, "tid": tid, "name": "thread_name",
                           "args": {"name": f"PE ({x},{y})"}})
        if kind == 1:
            events.append({"ph": "X", "pid": 0, "tid": tid, "name": f"task {a}", "cat": "task",
                           "ts": t0, "dur": max(t1 - t0, 0)})
        elif kind == 2:
            where = "main" if b == 8 else f"ut{b}"
            events.append({"ph": "X", "pid": 0, "tid": tid, "name": f"op 0x{a:02x} ({where})",
                           "cat": "tensor", "ts": t0, "dur": max(t1 - t0, 0)})
        elif kind == 3:
            events.append({"ph": "i", "pid": 0, "tid": tid, "s": "t", "name": f"wavelet c{a}",
                           "cat": "wavelet", "ts": t0, "args": {"payload": b}})
    with open(path, "w") as fh:
        json.dump({"traceEvents": events, "displayTimeUnit": "ns",
                   "otherData": {"time_unit": "1 us = 1 cycle"}}, fh)
    return len(events)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="wse-emu", description="Run a wse object file (.wso).")
    ap.add_argument("program", help="the object file (.wso)")
    ap.add_argument("--grid", help="fabric size WxH (default: the object's)")
    ap.add_argument("--arch", choices=("wse2", "wse3"), help="default: the object's")
    ap.add_argument("--max-cycles", type=int, default=None, help="watchdog")
    ap.add_argument("--input", action="append", metavar="SYM=FILE.npy",
                    help="write an array into a symbol before the run ((n,) or (h, w, n))")
    ap.add_argument("--output", action="append", metavar="SYM=FILE.npy",
                    help="save a symbol after the run, shape (h, w, n)")
    ap.add_argument("--launch", action="append", metavar="TASK", help="activate a task (name or id)")
    ap.add_argument("--stats", action="store_true", help="print all statistics")
    ap.add_argument("--trace", metavar="FILE.json", help="write a Chrome/Perfetto trace")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else 2
    try:
        inputs = _pairs(args.input, "--input")
        outputs = _pairs(args.output, "--output")
        if args.max_cycles is not None and args.max_cycles <= 0:
            raise UsageError("--max-cycles must be positive")
        try:
            with open(args.program, "rb") as fh:
                data = fh.read()
        except OSError as e:
            raise UsageError(f"cannot read {args.program}: {e.strerror or e}") from None
        grid = parse_grid(args.grid) if args.grid else None
        fab = Fabric.from_object(data, grid=grid, arch=args.arch, trace=bool(args.trace))
        for sym, path in inputs:
            try:
                arr = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise UsageError(f"--input {sym}: cannot read {path}: {e}") from None
            fab.write(sym, arr)
        for t in args.launch or []:
            fab.launch(int(t) if t.isdigit() else t)
    except (UsageError, E.WseError, ValueError, TypeError) as e:
        print(f"wse-emu: error: {e}", file=sys.stderr)
        return 2
    status = 0
    try:
        fab.run(max_cycles=args.max_cycles)
    except (E.FaultError, E.HangError, E.WatchdogError) as e:
        print(str(e).rstrip(), file=sys.stderr)
        status = 1
    st = fab.stats()
    print(f"cycles: {st['cycles']}  ({st['cycles'] / fab.clock_hz * 1e6:.3f} us at "
          f"{fab.clock_hz / 1e6:g} MHz, {fab.arch})")
    print(f"instructions: {st['instructions']}  wavelet hops: {st['wavelet_hops']}")
    if args.stats:
        for k, v in st.items():
            print(f"  {k}: {v}")
    try:
        if status == 0:
            for sym, path in outputs:
                np.save(path, fab.read(sym))
        if args.trace:
            n = write_trace(fab, args.trace)
            print(f"trace: {n} events -> {args.trace}")
    except (E.WseError, OSError) as e:
        print(f"wse-emu: error: {e}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
