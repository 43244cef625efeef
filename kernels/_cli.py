"""The guard of the ``python -m wse.kernels...`` tools: a bad argument or file is one line on
stderr and exit 2 (never a traceback), output piped into ``head`` and closed early is not an
error."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable


def guarded(prog: str, fn) -> int:
    """Run a python -m tool's main, `fn` (a function of no arguments, or a click command, which
    is given the command line), through the console scripts' launcher (wse.cli.launch.run), so
    that they all end the same way: Ctrl-C is "PROG: interrupted" and 130, standard output that
    cannot be written (a full disk) is one line and 2 (its reader going away, `| head`, is not
    an error), an unexpected exception one line "internal error, please report" and 2. Here: a
    bad argument or file, a problem too large, is one line "PROG: error: ..." and 2."""
    from wse.cli.launch import run
    click = sys.modules.get("click")
    if click is not None and isinstance(fn, click.Command):
        return run(prog, fn, spec=(None, "click", f"{prog}: error: ", 2, 2, 2))
    return run(prog, lambda: _input_errors(prog, fn), spec=(None, "argv", f"{prog}: error: ", 2, 2, 2))


def _input_errors(prog: str, fn: Callable[[], int | None]) -> int:
    from wse.asm import AssemblyError
    from wse.cli.files import OutputError
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
    except (ValueError, TypeError, KeyError, OSError, WseError, OutputError) as e:
        msg = e.strerror + f": {e.filename}" if isinstance(e, OSError) and e.strerror and e.filename else str(e)
        print(f"{prog}: error: {msg.strip() or type(e).__name__}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------------------------------------
# The kernel CLIs (python -m wse.kernels.<name>): one set of options, one report
class ArgError(ValueError):
    """A bad command-line argument: guarded() prints it as one line and exits 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (ArgError, through guarded) instead of the
    usage and the error."""

    def error(self, message):
        raise ArgError(message)

    def parse_args(self, args=None, namespace=None):
        from wse.cli.files import dash_values
        return super().parse_args(dash_values(self, sys.argv[1:] if args is None else args), namespace)


def grid_arg(text: str) -> tuple[int, int]:
    """--grid WxH (e.g. 4x2): W columns by H rows of PEs."""
    from wse.cli.files import int_arg
    try:
        w, h = (int_arg(v) for v in text.lower().split("x"))
    except (ValueError, argparse.ArgumentTypeError):     # (int_arg: ASCII digits, as the other tools)
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 4x2, got {text!r}") from None
    if not (1 <= w <= 4096 and 1 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"W and H must be in 1..4096, got {text!r}")
    return w, h


def seed_arg(text: str) -> int:
    from wse.cli.files import int_arg
    try:
        v = int_arg(text)
    except argparse.ArgumentTypeError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return v


def positive(name: str, hi: int | None = None):
    """An argparse type: an integer >= 1 (and <= hi), in ASCII digits."""
    from wse.cli.files import int_arg

    def conv(text: str) -> int:
        v = int_arg(text)
        if v < 1 or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be in 1..{hi if hi else ''}, got {v}")
        return v
    return conv


def kernel_parser(prog: str, description: str, tolerance: str, n_default: int | None = None,
                  grid_default: str = "4x4"):
    """The options every kernel CLI shares: --n (if n_default), --grid, --arch, --backend,
    --seed, --json, --limits. ``tolerance``: the kernel's stated tolerance, for --help."""
    ap = Parser(prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
                description=f"{description}\n\nRuns the kernel on seeded random inputs and compares "
                            f"it with its NumPy model.\nTolerance: {tolerance}\n"
                            f"Exit status: 0 PASS, 1 FAIL (outside the tolerance), 2 bad arguments "
                            f"(one line on stderr).")
    if n_default is not None:
        ap.add_argument("--n", type=positive("--n"), default=n_default,
                        help=f"vector length N (default {n_default})")
    ap.add_argument("--grid", type=grid_arg, default=grid_arg(grid_default),
                    help=f"the PE rectangle WxH (default {grid_default})")
    ap.add_argument("--arch", choices=("wse2", "wse3"), default="wse3", help="default wse3")
    ap.add_argument("--backend", choices=("c", "reference"), default=None,
                    help="the C core or the reference interpreter (default: $WSE_EMU, else c)")
    ap.add_argument("--seed", type=seed_arg, default=0, help="seed of the random inputs (default 0)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ap.add_argument("--limits", action="store_true",
                    help="print the sizes the kernel takes on --grid (no run)")
    return ap


def errors(got, ref, rtol: float = 0.0, atol: float = 0.0, tol=None) -> dict:
    """max abs / max relative error of got vs ref (relative over ref != 0) and whether every
    element is within atol + rtol*|ref| (or within the per-element ``tol``)."""
    import numpy as np
    g = np.asarray(got, np.float64).reshape(-1)
    r = np.asarray(ref, np.float64).reshape(-1)
    same = (g == r) | (np.isnan(g) & np.isnan(r))
    err = np.where(same, 0.0, np.abs(g - r))
    nz = r != 0
    rel = float(np.max(err[nz] / np.abs(r[nz]))) if nz.any() else 0.0
    bound = (atol + rtol * np.abs(r)) if tol is None else np.asarray(tol, np.float64).reshape(-1)
    ok = bool(np.all(err <= bound))
    return {"max_abs_err": float(np.max(err)) if err.size else 0.0, "max_rel_err": rel, "pass": ok}


def backend_name(run) -> str:
    return "reference" if "Reference" in str(run.stats.get("backend", "")) else "c"


def report(args, kernel: str, problem: dict, result, check: dict, tolerance: str,
           extra: dict | None = None) -> int:
    """Print the run (text or --json); 0 if it passed, 1 if not."""
    import json
    w, h = args.grid if isinstance(args.grid, tuple) else (None, None)
    pes = result.pes
    out = {"kernel": kernel, **problem, "grid": [w, h] if w else None, "pes": pes, "arch": args.arch,
           "backend": backend_name(result.run), "seed": args.seed, "cycles": result.cycles,
           "max_abs_err": check["max_abs_err"], "max_rel_err": check["max_rel_err"],
           "tolerance": tolerance, "pass": check["pass"], **(extra or {})}
    if args.json:
        print(json.dumps(out))
    else:
        size = " ".join(f"{k}={v}" for k, v in problem.items())
        print(f"{kernel} {size} on {w}x{h} = {pes} PEs ({args.arch}, backend {out['backend']}, "
              f"seed {args.seed}): {result.cycles:,} cycles")
        print(f"max abs error {check['max_abs_err']:.3g}, max relative error "
              f"{check['max_rel_err']:.3g}; tolerance: {tolerance}: "
              f"{'PASS' if check['pass'] else 'FAIL'}")
    return 0 if check["pass"] else 1


def report_limits(args, kernel: str, lim, unit: str = "element") -> int:
    """--limits of a vector kernel (a wse.kernels.lib.host.Limit)."""
    import json

    from wse.kernels import driver
    w, h = args.grid
    if args.json:
        print(json.dumps({"kernel": kernel, "grid": [w, h], "arch": args.arch, "min_n": lim.min_n,
                          "max_n": lim.max_n, f"max_{unit}s_per_pe": lim.per_pe,
                          "bytes_per_" + unit: 2 * lim.per_unit, "fixed_bytes": 2 * lim.fixed}))
    else:
        print(f"{kernel} on {w}x{h} ({args.arch}): N from {lim.min_n:,} (one {unit} per PE) to "
              f"{lim.max_n:,} (at most {lim.per_pe:,} {unit}s per PE: {2 * lim.per_unit} bytes "
              f"each beside {2 * lim.fixed:,} bytes of code and buffers: "
              f"{2 * (lim.fixed + lim.per_unit * lim.per_pe):,} of the PE's "
              f"{2 * driver.sram_words(args.arch):,} bytes)")
    return 0
