"""wse.emu.Fabric: the Python face of the C core (csrc/, built as wse.emu._core).

The interface is shared with the pure-Python reference interpreter
(wse.emu.reference.ReferenceFabric) so that the two can be run in lock-step.
"""
from __future__ import annotations

import contextlib
import itertools

import time

import numpy as np

from . import errors as E
# the host API's argument checks are shared with the reference interpreter (same refusals)
from .hostargs import (ARCHES, PORT_NAMES, PORTS, U32, U64, arch_arg, color_arg,  # noqa: F401
                       color_filter, edge_arg, fabric_size, host_array as _host_array,
                       int_arg as _int, max_cycles_arg, missing_symbol, name_arg, need_loaded,
                       object_bytes,
                       payload_words, pe_arg, port_arg, rect_arg, start_arg, task_arg,
                       trace_cycles_arg as _trace_cycles, until_arg, write_array)
from .records import (DSR_CHANGES, TRACE_OPEN, TRACE_TASK, TRACE_TENSOR, TRACE_WAVELET,  # noqa: F401
                      DsrOrigin, Received, opcode_mnemonic, payloads_as)

try:
    from ._core import ffi, lib
except ImportError as e:  # pragma: no cover - a broken install
    raise E.CoreVersionError(
        "the emulator core wse.emu._core is not built; reinstall with `pip install -e .`") from e

API_VERSION = 11
if lib.wse_api_version() != API_VERSION or lib.WSE_API_VERSION != API_VERSION:
    raise E.CoreVersionError(f"wse.emu._core has API version {lib.wse_api_version()}, this "
                             f"package needs {API_VERSION}; rebuild it (`pip install -e .`)")

_copies = itertools.count()
# the memory files load_core loaded cores from, kept open: the dynamic loader takes a path it
# has loaded before ("/proc/self/fd/N") for the same library, so N must never be reused
_core_fds: list[int] = []

_ELF_MACHINES = {3: "x86 (32-bit)", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "S/390",
                 40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V", 258: "LoongArch"}
_CORE_MAX_BYTES = 1 << 30       # a core is a few MB; a larger file is not one (and not read whole)


def _elf_header(data: bytes):
    """(class, byte order, type, machine, phoff, shoff, phentsize, phnum, shentsize, shnum,
    header size, struct prefix) of an ELF file's header, or None when data does not start with
    a whole one."""
    import struct
    if len(data) < 16 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    cls, e = data[4], "<" if data[5] == 1 else ">"
    fmt = e + ("HHIQQQIHHHHHH" if cls == 2 else "HHIIIIIHHHHHH")
    if len(data) < 16 + struct.calcsize(fmt):
        return None
    (typ, machine, _ver, _entry, phoff, shoff, _flags, ehsize, phentsize, phnum, shentsize, shnum,
     _shstrndx) = struct.unpack_from(fmt, data, 16)
    return cls, data[5], typ, machine, phoff, shoff, phentsize, phnum, shentsize, shnum, ehsize, e


def _shared_object_problem(data: bytes, ref: bytes | None) -> str | None:
    """What keeps data (the bytes of a file) from being a complete ELF shared object that this
    process can load, as the end of a sentence "<file> ...", or None. ref: the start of the
    installed core's file (its class, byte order and machine are this process's). A file cut
    short passes dlopen's own checks and then faults (SIGBUS) when a segment past its end is
    touched, so every segment and the section headers must be inside the file."""
    import struct
    n = len(data)
    if data[:4] != b"\x7fELF":
        if 0 < n < 4 and b"\x7fELF".startswith(data):
            return f"is not a complete shared object: the file has {n} bytes (cut short?)"
        return "is not a shared object (no ELF header)"
    h = _elf_header(data)
    if h is None:
        if n < 16 or (data[4] in (1, 2) and data[5] in (1, 2)):
            return (f"is not a complete shared object: the file has {n} bytes and ends inside its "
                    f"ELF header (cut short?)")
        return (f"is not a shared object this process can load (its ELF class {data[4]} or byte "
                f"order {data[5]} is not 1 or 2)")
    cls, order, typ, machine, phoff, shoff, phentsize, phnum, shentsize, shnum, _ehsize, e = h
    want = _elf_header(ref) if ref else None
    if want is not None:
        bits = {1: "32", 2: "64"}
        if cls != want[0]:
            return f"is a {bits[cls]}-bit shared object; this Python is {bits[want[0]]}-bit"
        if order != want[1]:
            return "is a shared object of the other byte order than this machine's"
        if machine != want[3]:
            name = lambda m: _ELF_MACHINES.get(m, f"ELF machine {m}")  # noqa: E731
            return f"is a shared object for {name(machine)}, not for this machine ({name(want[3])})"
    if typ != 3:                                    # ET_DYN
        return f"is an ELF file but not a shared object (ELF type {typ})"
    ph_fmt = e + ("IIQQQQQQ" if cls == 2 else "IIIIIIII")
    if phnum == 0 or phentsize < struct.calcsize(ph_fmt):
        return "is not a shared object that can be loaded (it has no program headers)"
    end = phoff + phnum * phentsize
    if end > n:
        return (f"is not a complete shared object: its program headers end at byte {end}, the file "
                f"has {n} bytes (cut short?)")
    for i in range(phnum):
        f = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
        off, size = (f[2], f[5]) if cls == 2 else (f[1], f[4])
        if size and off + size > n:
            return (f"is not a complete shared object: its segment {i} ends at byte {off + size}, "
                    f"the file has {n} bytes (cut short?)")
    if shoff and shnum:
        end = shoff + shnum * shentsize
        if end > n:
            return (f"is not a complete shared object: its section headers end at byte {end}, the "
                    f"file has {n} bytes (cut short?)")
    return None


def _load_extension(name: str, data: bytes, path: str):
    """Import the extension module `name` from a private copy of data (the bytes of the file at
    path): a file truncated or rewritten while it is loaded would fault the process (its pages
    are mapped, not read). Linux: an anonymous memory file, sealed; elsewhere a temporary file,
    removed once loaded (the mapping keeps it)."""
    import importlib.machinery
    import importlib.util
    import os
    import tempfile

    def load(file):
        loader = importlib.machinery.ExtensionFileLoader(name, file)
        spec = importlib.util.spec_from_file_location(name, file, loader=loader)
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        return mod

    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.memfd_create(f"wse-core-{name}", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        except OSError:
            fd = -1
        if fd >= 0:
            _core_fds.append(fd)       # (never closed, even when the load fails: see there)
            with os.fdopen(os.dup(fd), "wb") as out:
                out.write(data)
            import fcntl
            if hasattr(fcntl, "F_ADD_SEALS"):
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW
                            | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
            try:
                return load(f"/proc/self/fd/{fd}")
            except ImportError as e:
                if "failed to map segment" not in str(e):     # (a system that maps no memfd: below)
                    raise
    d = tempfile.mkdtemp(prefix="wse-core-")
    copy = os.path.join(d, os.path.basename(path) or "_core.so")
    try:
        with open(copy, "wb") as out:
            out.write(data)
        return load(copy)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(copy)
        with contextlib.suppress(OSError):
            os.rmdir(d)


def load_core(path):
    """Load another build of the C core (a ``_core*.so`` built by ``setup.py build_ext``) beside
    the installed one, to compare two builds in one process (``wse-bench --against``). Returns
    the module (``.ffi``, ``.lib``) for ``use_core``. Its API version must be this package's.
    The file is checked first (an ELF shared object for this machine, with every segment
    inside it: a build cut short would make the process fault), then loaded from a private copy
    (so that rebuilding or cutting the file later cannot fault this process)."""
    import sys
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise E.CoreVersionError(f"no core to load at {path}: give the path of a built _core*.so "
                                 f"(python setup.py build_ext --inplace writes emu/_core.abi3.so)")
    try:
        with open(p, "rb") as fh:
            data = fh.read(_CORE_MAX_BYTES + 1)
    except OSError as e:
        raise E.CoreVersionError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > _CORE_MAX_BYTES:
        raise E.CoreVersionError(f"{path} is not a wse core: it is over {_CORE_MAX_BYTES >> 20} MiB")
    ref = None
    with contextlib.suppress(OSError, KeyError, AttributeError, TypeError):
        with open(sys.modules[__package__ + "._core"].__file__, "rb") as fh:
            ref = fh.read(64)
    if ref is None or ref[:4] == b"\x7fELF":       # (not ELF: another platform, not checked)
        problem = _shared_object_problem(data, ref)
        if problem:
            raise E.CoreVersionError(f"{path} {problem}")
    name = f"wse_core_copy{next(_copies)}._core"    # (the init symbol is PyInit__core)
    try:
        mod = _load_extension(name, data, str(p))
        version = mod.lib.wse_api_version()
    except (ImportError, OSError, AttributeError) as e:
        raise E.CoreVersionError(f"{path} is not a wse core: {e}") from e
    if version != API_VERSION:
        raise E.CoreVersionError(f"the core at {path} has API version {version}, this package "
                                 f"needs {API_VERSION}")
    return mod


@contextlib.contextmanager
def use_core(core):
    """Inside the block, Fabric objects are created and driven with ``core`` (from load_core;
    None: the installed one). A Fabric must only be used under the core that created it (cffi
    refuses another core's handle with a TypeError). Not thread-safe: for benchmarks."""
    global ffi, lib
    old = ffi, lib
    if core is not None:
        ffi, lib = core.ffi, core.lib
    try:
        yield
    finally:
        ffi, lib = old


FAULT_KINDS = ("none", "mem_range", "misaligned", "write_code", "dsd_length", "dsd_kind", "route",
               "empty_pe", "ut_busy", "queue_busy", "illegal", "trap", "pc_range", "task",
               "dsd_index")
SYM_DTYPES = {1: np.float16, 2: np.float32, 3: np.uint16, 4: np.uint32}
SYM_TASK = 5          # the object format's symbol type of a task (wse_isa.h WSE_SYM_TASK)
NEVER = (1 << 64) - 1
# the host time of one slice of a run (Ctrl-C is seen between slices): a slice ends at the
# first cycle boundary after it, so Ctrl-C acts within this plus one visited cycle
_SLICE_NS = 20_000_000


# wse_trace_event as a numpy record (the core's layout, padding included)
TRACE_DTYPE = np.dtype({
    "names": ["kind", "x", "y", "a", "b", "t0", "t1"],
    "formats": [np.int32, np.uint32, np.uint32, np.uint32, np.uint32, np.uint64, np.uint64],
    "offsets": [ffi.offsetof("wse_trace_event", k) for k in ("kind", "x", "y", "a", "b", "t0", "t1")],
    "itemsize": ffi.sizeof("wse_trace_event")})


class RunResult(int):
    """The cycle count at which the run ended (an int), with the run's statistics."""

    stats: dict
    clock_hz: int

    def __new__(cls, cycles: int, stats: dict, clock_hz: int):
        self = super().__new__(cls, cycles)
        self.stats, self.clock_hz = stats, clock_hz
        return self

    @property
    def cycles(self) -> int:
        return int(self)

    @property
    def seconds(self) -> float:
        return int(self) / self.clock_hz

    def __repr__(self) -> str:
        return (f"RunResult(cycles={int(self)}, instructions={self.stats['instructions']}, "
                f"wavelet_hops={self.stats['wavelet_hops']})")


STAT_KEYS = ("cycles", "instructions", "busy_cycles", "idle_cycles", "wavelets_sent",
             "wavelets_received", "wavelet_hops", "stalls", "tasks", "tensor_elements", "host_in",
             "host_out", "pes")
# Fabric.pe_stats_grid's fields: pe_stats' counters of one PE (host_in and host_out, 0 for a PE,
# and cycles, the fabric's, are left out)
PE_STAT_FIELDS = tuple(k for k in STAT_KEYS if k not in ("cycles", "host_in", "host_out"))


def _stats_dict(s) -> dict:
    return {k: int(getattr(s, k)) for k in STAT_KEYS}


def _str(buf) -> str:
    return ffi.string(buf).decode("utf-8", "replace")


def _name(what: str, v) -> bytes:
    return name_arg(what, v).encode()


class Fabric:
    """A W x H fabric of PEs run by the C core. See docs/emulator.md."""

    def __init__(self, width: int, height: int, arch: str = "wse2", trace: bool = False):
        arch = arch_arg(arch)
        width, height = fabric_size(width, height)
        self._handle = None
        out = ffi.new("wse_fabric **")
        st = lib.wse_open(width, height, ARCHES.index(arch), out)
        if st == lib.WSE_NOMEM:
            raise E.OutOfMemoryError(f"out of host memory while opening a {width}x{height} fabric")
        if st != lib.WSE_OK:
            raise E.BadArgError(f"wse_open failed with status {st}")
        self._handle = ffi.gc(out[0], lib.wse_close)
        self.width, self.height, self.arch = width, height, arch
        clk = ffi.new("unsigned long long *")
        words = ffi.new("unsigned int *")
        lib.wse_info(self._f, ffi.NULL, ffi.NULL, ffi.NULL, clk, words)
        self.clock_hz, self.sram_words = int(clk[0]), int(words[0])
        self._loaded = False
        self._recv = np.empty(0, self._RECV_DT)   # received so far
        if trace:
            self.enable_trace(True)

    # -- the core's handle ---------------------------------------------------------------------
    @property
    def _f(self):
        if self._handle is None:
            raise E.BadArgError("the fabric is closed (by close() or the end of its with block): "
                                "make another, e.g. Fabric.from_object(data)")
        return self._handle

    def __copy__(self):
        raise TypeError("a Fabric owns its emulator's state and cannot be copied (a copy would share "
                        "it, and outlive it after close()); build another: Fabric.from_object(data)")

    def __deepcopy__(self, memo):
        self.__copy__()

    def __reduce__(self):
        raise TypeError("a Fabric cannot be pickled: save the object file and the symbols you need "
                        "(read) instead")

    def close(self) -> None:
        """Free the fabric's memory now (else when the object is collected). Any later call
        raises BadArgError; closing twice is harmless."""
        if self._handle is not None:
            h, self._handle = self._handle, None
            ffi.release(h)

    def __repr__(self) -> str:
        if self._handle is None:
            state = "closed"
        elif not self._loaded:
            state = "nothing loaded"
        else:
            state = f"cycle {self.cycle}"
        return f"<Fabric {self.width}x{self.height} {self.arch}, {state}>"

    def __enter__(self) -> "Fabric":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- errors ------------------------------------------------------------------------------
    def _msg(self) -> str:
        return _str(lib.wse_message(self._f))

    def _check(self, st: int, what: str = "") -> int:
        if st in (lib.WSE_OK, lib.WSE_PAUSED):
            return st
        msg = self._msg()
        if st == lib.WSE_BAD_ARG:
            raise E.BadArgError(msg or what)
        if st == lib.WSE_NOT_FOUND:
            raise E.NotFoundError(msg or what)
        if st == lib.WSE_LOAD_ERROR:
            raise E.LoadError(msg)
        if st == lib.WSE_NOMEM:
            raise E.OutOfMemoryError(msg or "out of host memory")
        if st == lib.WSE_FAULT:
            fi = ffi.new("wse_fault_info *")
            lib.wse_fault_get(self._f, fi)
            # The text fields of wse_fault_info have fixed sizes: a value that does not fit ends
            # with "..." there. The task's name and the source position are taken whole from the
            # image (its symbols, its LINES); reason, insn and the trace's texts keep the mark
            # (the report, msg, has them whole).
            line, expansions = None, ()
            if fi.file[0] != b"\0":
                levels = self._source_levels(fi.x, fi.y, fi.pc)[1]
                line, expansions = (levels[0][1], levels[1:]) if levels else (
                    f"{_str(fi.file)}:{fi.line}:{fi.column}", ())
            task_name = (self._task_name(fi.x, fi.y, fi.task, _str(fi.task_name)) or None
                         if fi.task >= 0 else _str(fi.task_name) or None)
            raise E.FaultError(
                msg, FAULT_KINDS[fi.kind] if 0 <= fi.kind < len(FAULT_KINDS) else str(fi.kind),
                _str(fi.reason), int(fi.cycle), (fi.x, fi.y) if fi.x >= 0 else None,
                fi.task if fi.task >= 0 else None, fi.pc if fi.pc >= 0 else None,
                _str(fi.insn) or None, line, task_name,
                fi.address if fi.address >= 0 else None, fi.color if fi.color >= 0 else None,
                fi.port or None, fi.code if fi.kind == lib.WSE_FK_TRAP else None,
                trace=[(int(fi.recent_cycle[i]), int(fi.recent_pc[i]), _str(fi.recent_insn[i]))
                       for i in range(fi.n_recent)],
                expansions=expansions,
                microthread=fi.microthread if fi.microthread >= 0 else None)
        if st == lib.WSE_HANG:
            raise E.HangError(self.cycle, msg, **self._waits())
        if st == lib.WSE_WATCHDOG:
            raise E.WatchdogError(self.cycle, msg)
        raise E.WseError(f"{what}: status {st}: {msg}")

    def _waits(self) -> dict:
        """The last hang's waits from the core (wse_waits), as HangError's keyword arguments:
        waits ([Wait]), deadlock (its PEs), waits_truncated, and whether host memory ran out
        before the waits (info.status 1) or before the cycle (status 2) were worked out."""
        f = self._f
        info = ffi.new("wse_waits_info *")
        if lib.wse_waits(f, info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0) != lib.WSE_OK:
            raise E.WseError(f"wse_waits: {self._msg()}")
        nw, ne, nc = info.n_waits, info.n_ends, info.n_cycle
        ws, es, cs = (ffi.new("wse_wait[]", max(nw, 1)), ffi.new("wse_wait_end[]", max(ne, 1)),
                      ffi.new("wse_wait_end[]", max(nc, 1)))
        if lib.wse_waits(f, info, ws, nw, es, ne, cs, nc) != lib.WSE_OK:
            raise E.WseError(f"wse_waits: {self._msg()}")
        lines: dict = {}
        names: dict = {}
        out = []
        for w in ws[0:nw]:
            x, y, pc = int(w.x), int(w.y), int(w.pc)
            if pc >= 0 and (x, y, pc) not in lines:
                levels = self._source_levels(x, y, pc)[1]
                lines[x, y, pc] = levels[0][1] if levels else None
            tg = es[w.first_target:w.first_target + w.n_targets] if w.n_targets else []
            dead = es[w.first_dead:w.first_dead + w.n_dead] if w.n_dead else []
            out.append(E.Wait(
                pe=(x, y), kind=E.WAIT_KINDS[w.kind - 1], color=int(w.color),
                microthread=int(w.microthread) if w.microthread >= 0 else None,
                task=int(w.task) if w.task >= 0 else None,
                task_name=self._task_name(x, y, int(w.task), _str(w.task_name), names) or None
                if w.task >= 0 else None,
                pc=pc if pc >= 0 else None, line=lines.get((x, y, pc)),
                waits_on=tuple((int(e.x), int(e.y)) for e in tg), more_targets=int(w.n_targets_more),
                at_rest=tuple((int(e.x), int(e.y)) for e in tg if e.what),
                dead_ends=tuple(E.DeadEnd((int(e.x), int(e.y)), E.DEAD_END_REASONS[e.what]) for e in dead),
                deadlock=bool(w.deadlock)))
        return {"waits": out, "deadlock": [(int(c.x), int(c.y)) for c in cs[0:nc]],
                "waits_truncated": bool(info.truncated), "waits_out_of_memory": info.status == 1,
                "deadlock_out_of_memory": info.status in (1, 2)}

    def source(self, x: int, y: int, pc: int) -> tuple[str, list[tuple[str, str]]] | None:
        """Where the instruction at pc of PE (x, y) comes from: ("file:line:col", [(macro,
        "file:line:col" of its invocation) or (".rep[N]", "file:line:col" of the .rep) for
        iteration N of a .rep, ...] innermost first), or None when the object has no line
        information for it."""
        self._need_loaded()
        x, y = _int("x", x, 0, self.width - 1), _int("y", y, 0, self.height - 1)
        pc = _int("pc", pc, 0, U32)
        if not lib.wse_pe_placed(self._f, x, y):
            raise E.NotFoundError(f"PE ({x},{y}) has no program")
        st, levels = self._source_levels(x, y, pc)
        if st == lib.WSE_BAD_ARG:            # the core's message: "pc N is outside the code of ..."
            self._check(st)
        if not levels:
            return None
        return levels[0][1], levels[1:]

    def state_report(self) -> str:
        """What the PEs are doing or waiting for now, as a hang or watchdog report shows it
        (running task, pc, source line, registers, pending ops, queued wavelets), headed
        "state at cycle N:": for a run stopped by the host (wse-emu prints it on Ctrl-C)."""
        self._need_loaded()
        self._check(lib.wse_state_report(self._f))
        return self._msg()

    def _source_levels(self, x, y, pc) -> tuple[int, list[tuple[str, str]]]:
        """wse_source's status at depth 0, and its answers for depths 0, 1, ... while there are
        any: ("", "file:line:col") of the instruction, then (macro or ".rep[N]",
        "file:line:col") of each invocation, innermost first."""
        fp, mp = ffi.new("const char **"), ffi.new("const char **")
        ln, col, it = ffi.new("unsigned int *"), ffi.new("unsigned int *"), ffi.new("unsigned int *")
        out, first = [], None
        for depth in range(1 << 16):
            st = lib.wse_source(self._f, x, y, pc, depth, fp, ln, col, mp, it)
            first = st if first is None else first
            if st != lib.WSE_OK:
                break
            name = (_str(mp[0]) or f".rep[{it[0]}]") if depth else ""
            out.append((name, f"{_str(fp[0])}:{ln[0]}:{col[0]}"))
        return first, out

    def _task_name(self, x: int, y: int, tid: int, copy: str, cache: dict | None = None) -> str:
        """The name of task tid of PE (x, y), whole: copy (the core's copy of it in a fixed-size
        field) when it fits there, else the name of the first task symbol of the image with that
        id, as the core names a task ("" when none). cache: {(x, y): {id: name}} to reuse."""
        if not copy.endswith("..."):
            return copy
        cache = {} if cache is None else cache
        if (x, y) not in cache:
            ids: dict[int, str] = {}
            n, v = ffi.new("unsigned int *"), ffi.new("unsigned int *")
            name, typ = ffi.new("const char **"), ffi.new("int *")
            self._check(lib.wse_symbol_count(self._f, x, y, n))
            for i in range(n[0]):
                self._check(lib.wse_symbol_at(self._f, x, y, i, name, typ))
                if typ[0] == SYM_TASK:
                    self._check(lib.wse_symbol(self._f, x, y, name[0], v, ffi.NULL, ffi.NULL))
                    ids.setdefault(int(v[0]), _str(name[0]))
            cache[x, y] = ids
        return cache[x, y].get(tid, copy)

    def _need_loaded(self):
        need_loaded(self._loaded)

    # -- loading -----------------------------------------------------------------------------
    @staticmethod
    def peek(data: bytes) -> tuple[str, int, int]:
        """(arch, width, height) from an object file's header (validated, checksum too)."""
        data = object_bytes(data, "peek")
        arch, w, h = ffi.new("int *"), ffi.new("unsigned int *"), ffi.new("unsigned int *")
        err = ffi.new("char[1024]")
        st = lib.wse_peek(data, len(data), arch, w, h, err, 1024)
        if st != lib.WSE_OK:
            raise E.LoadError(_str(err))
        return ARCHES[arch[0]], int(w[0]), int(h[0])

    @classmethod
    def from_object(cls, data: bytes, grid=None, arch: str | None = None,
                    trace: bool = False) -> "Fabric":
        """A fabric of the object's size and arch (or `grid` = (w, h) / "WxH", `arch`), loaded
        with the object (its bytes: e.g. assemble_file's result, or open(path, "rb").read())."""
        data = object_bytes(data, "from_object")
        oarch, w, h = cls.peek(data)
        if grid is not None:
            w, h = parse_grid(grid)
        fab = cls(w, h, arch or oarch, trace=trace)
        fab.load(data)
        return fab

    def load(self, data: bytes) -> None:
        """Load an object file (its bytes); resets the fabric to cycle 0."""
        data = object_bytes(data)
        self._check(lib.wse_load(self._f, data, len(data)))
        self._loaded = True
        self._recv = np.empty(0, self._RECV_DT)

    # -- host memory -------------------------------------------------------------------------
    def _rect(self, rect):
        return rect_arg(rect, self.width, self.height)

    def _sym(self, x: int, y: int, name: str):
        # out-parameters allocated once per Fabric (host transfers are often one call per PE)
        if not hasattr(self, "_sym_out"):
            self._sym_out = (ffi.new("unsigned int *"), ffi.new("unsigned int *"), ffi.new("int *"))
        v, c, t = self._sym_out
        st = lib.wse_symbol(self._f, x, y, _name("symbol name", name), v, c, t)
        if st == lib.WSE_NOT_FOUND and lib.wse_pe_placed(self._f, x, y):
            raise self._missing(name, x, y, self._msg())
        self._check(st)
        if t[0] not in SYM_DTYPES:
            raise self._missing(name, x, y, f"PE ({x},{y}) has no data symbol {name!r} (it is a task)")
        return int(v[0]), int(c[0]), np.dtype(SYM_DTYPES[t[0]])

    def _missing(self, name: str, x: int, y: int, brief: str) -> E.NotFoundError:
        """The NotFoundError of data symbol `name` missing on PE (x, y) (placed): the core's
        message and help (hostargs.missing_symbol: the PE's data symbols, a close name, the
        PEs that have it)."""
        return missing_symbol(brief, name, (x, y), self._data_symbols(x, y), self._pes_with(name, 1))

    def _data_symbols(self, x: int, y: int) -> list[str]:
        """The names of the data symbols of PE (x, y)'s image."""
        n = ffi.new("unsigned int *")
        self._check(lib.wse_symbol_count(self._f, x, y, n))
        name, typ = ffi.new("const char **"), ffi.new("int *")
        out = []
        for i in range(n[0]):
            self._check(lib.wse_symbol_at(self._f, x, y, i, name, typ))
            if typ[0] in SYM_DTYPES:
                out.append(_str(name[0]))
        return out

    def _pes_with_xy(self, name: str, kind: int) -> np.ndarray:
        """wse_symbol_pes: the PEs whose image has symbol `name` (kind 0 any, 1 data, 2 task),
        as an (n, 2) array of x, y."""
        nm = _name("symbol name", name)
        n = ffi.new("unsigned long long *")
        self._check(lib.wse_symbol_pes(self._f, nm, kind, ffi.NULL, 0, n))
        xy = np.zeros(2 * max(n[0], 1), np.uint32)
        if n[0]:
            self._check(lib.wse_symbol_pes(self._f, nm, kind, ffi.from_buffer("unsigned int[]", xy),
                                           n[0], n))
        return xy[:2 * n[0]].reshape(-1, 2)

    def _pes_with(self, name: str, kind: int) -> list[tuple[int, int]]:
        return [(x, y) for x, y in self._pes_with_xy(name, kind).tolist()]

    def pes_with(self, symbol: str) -> list[tuple[int, int]]:
        """The PEs (x, y) whose image exports `symbol` (a data symbol or a task), in row-major
        order: where a read or write of it (rect=(x, y)) or a launch of it can go."""
        self._need_loaded()
        return self._pes_with(symbol, 0)

    def _rect_missing(self, name: str, x0: int, y0: int, w: int, h: int):
        """After wse_symbol_rect said NOT_FOUND: the error of the first PE of the rectangle
        (row-major, as the core checks them) without the data symbol, when that PE has a
        program (else the core's own message stands)."""
        brief = self._msg()
        xy = self._pes_with_xy(name, 1).astype(np.int64)
        inside = xy[(xy[:, 0] >= x0) & (xy[:, 0] < x0 + w) & (xy[:, 1] >= y0) & (xy[:, 1] < y0 + h)]
        has = np.zeros((h, w), bool)
        has[inside[:, 1] - y0, inside[:, 0] - x0] = True
        i = int(np.argmin(has.reshape(-1)))
        x, y = x0 + i % w, y0 + i // w
        if has.all() or not lib.wse_pe_placed(self._f, x, y):
            return E.NotFoundError(brief)
        return missing_symbol(brief, name, (x, y), self._data_symbols(x, y), xy.tolist())

    def _symbol_rect(self, symbol, x0, y0, w, h, words, buf, write):
        st = lib.wse_symbol_rect(self._f, symbol.encode(), x0, y0, w, h, words,
                                 ffi.from_buffer("unsigned short[]", buf), write)
        if st == lib.WSE_NOT_FOUND:
            raise self._rect_missing(symbol, x0, y0, w, h)
        self._check(st)

    def write(self, symbol: str, array, rect=None) -> None:
        """Copy `array` into `symbol` on every PE of rect (x, y, w, h). Shape (n,) is broadcast
        to every PE; shape (h, w, n) gives each PE its own n elements. Takes no cycles."""
        self._need_loaded()
        x0, y0, w, h = self._rect(rect)
        _, count, dt = self._sym(x0, y0, symbol)
        arr, n = write_array(symbol, array, dt, count, x0, y0, w, h)
        if arr.ndim == 1 and h * w > 1:       # one PE: the 1-D array is already the buffer
            arr = np.broadcast_to(arr, (h, w, n))
        words = n * dt.itemsize // 2
        # (no words: the core still checks that every PE has the symbol, as for a longer write)
        buf = np.ascontiguousarray(arr).view(np.uint16).reshape(-1) if words else np.zeros(1, np.uint16)
        self._symbol_rect(symbol, x0, y0, w, h, words, buf, 1)

    def read(self, symbol: str, rect=None) -> np.ndarray:
        """`symbol` on every PE of rect, as an array of shape (h, w, count)."""
        self._need_loaded()
        x0, y0, w, h = self._rect(rect)
        _, count, dt = self._sym(x0, y0, symbol)
        out = np.zeros((h, w, count), dtype=dt)
        words = count * dt.itemsize // 2
        buf = out.view(np.uint16).reshape(-1) if words else np.zeros(1, np.uint16)
        self._symbol_rect(symbol, x0, y0, w, h, words, buf, 0)
        return out

    def read_mem(self, x: int, y: int, addr: int, n: int) -> np.ndarray:
        """n 16-bit words of PE (x, y)'s SRAM from word address addr."""
        x, y = pe_arg(x, y, self.width, self.height)
        addr, n = _int("addr", addr, 0, U32), _int("n", n, 0, self.sram_words)
        out = np.zeros(n, dtype=np.uint16)
        self._check(lib.wse_mem_read(self._f, x, y, addr, n, ffi.from_buffer("unsigned short[]", out)))
        return out

    def write_mem(self, x: int, y: int, addr: int, words) -> None:
        """Write 16-bit words (integers 0..65535) into PE (x, y)'s SRAM from word address addr."""
        x, y = pe_arg(x, y, self.width, self.height)
        addr = _int("addr", addr, 0, U32)
        arr = _host_array("write_mem", words, np.dtype(np.uint16)).reshape(-1)
        self._check(lib.wse_mem_write(self._f, x, y, addr, arr.size,
                                      ffi.from_buffer("unsigned short[]", arr)))

    # -- tasks and streams -------------------------------------------------------------------
    def launch(self, task, rect=None) -> None:
        """Set the activated bit of `task` (a name or an id) on every PE of rect that defines
        it. Takes no cycles."""
        self._need_loaded()
        x0, y0, w, h = self._rect(rect)
        task = task_arg(task)
        if isinstance(task, str):
            # by name in the core: the id may differ from image to image, and the core checks
            # every PE (a data task refuses the launch, changing nothing) in one pass over them
            self._check(lib.wse_launch_name(self._f, task.encode(), x0, y0, w, h))
            return
        self._check(lib.wse_launch(self._f, task, x0, y0, w, h))

    def send(self, color: int, x: int, y: int, port, payloads, control: bool = False) -> None:
        """Queue wavelets to enter PE (x, y) through its edge `port` ("north"... or a mask).
        Payloads are 32-bit: integers 0..2**32-1 (or down to -2**31, as two's complement);
        float arrays are sent as their bits: fp16 zero-extended, fp32 as is, and float64 (a
        Python list of floats) rounded to fp32 first."""
        self._need_loaded()
        port = port_arg(port)
        color = color_arg(color)
        x, y = pe_arg(x, y, self.width, self.height)
        edge_arg(port, x, y, self.width, self.height)
        arr = payload_words(payloads)
        self._check(lib.wse_send(self._f, x, y, port, color,
                                 ffi.from_buffer("unsigned int[]", arr), arr.size,
                                 1 if control else 0))

    _RECV_RAW = np.dtype([("x", "<u4"), ("y", "<u4"), ("port", "<u4"), ("color", "<u4"),
                          ("payload", "<u4"), ("ctrl", "<u4"), ("cycle", "<u8")])   # wse_host_wavelet
    _RECV_DT = np.dtype([("x", "u4"), ("y", "u4"), ("port", "u4"), ("color", "u4"),
                         ("payload", "u4"), ("ctrl", "?"), ("cycle", "u8")])

    def _received_all(self) -> np.ndarray:
        """Every wavelet received so far, as a structured array (read from the core in bulk:
        a million take well under a second)."""
        n = int(lib.wse_received_count(self._f))
        have = len(self._recv)
        if n > have:
            raw = np.empty(n - have, self._RECV_RAW)
            self._check(lib.wse_received_read(self._f, have, n - have,
                                              ffi.cast("wse_host_wavelet *", ffi.from_buffer(raw))))
            self._recv = np.concatenate([self._recv, raw.astype(self._RECV_DT)])
        return self._recv

    def received(self, color: int | None = None, start: int = 0) -> list[Received]:
        """Wavelets the fabric delivered to the host, in order (of `color`, or every color for
        None), from the start-th on: a script that polls a stream between run_until steps
        passes the number it has already seen and gets only the new ones."""
        return list(map(Received._make, self.received_array(color, start).tolist()))

    def received_array(self, color: int | None = None, start: int = 0) -> np.ndarray:
        """received() as a numpy structured array (fields x, y, port, color, payload, ctrl,
        cycle), a copy."""
        color = color_filter(color)
        start = start_arg(start)
        arr = self._received_all()
        if color is not None:
            arr = arr[arr["color"] == color]
        return arr[start:].copy()

    def received_payloads(self, color: int | None = None, dtype="float32",
                          start: int = 0) -> np.ndarray:
        """The payloads of received(color, start) as a numpy array of dtype: float32 (the
        default), int32 or uint32 reinterpret the 32 bits, float16 or uint16 take the low 16."""
        return payloads_as(self.received_array(color, start), dtype)

    # -- running -----------------------------------------------------------------------------
    @property
    def cycle(self) -> int:
        """The current cycle: every cycle before it has been executed."""
        return int(lib.wse_cycle(self._f))

    def _run_sliced(self, stop_at: int, mc: int) -> int:
        """wse_run in slices of about 20 ms of host time (wse_run_timed), so that Ctrl-C
        (KeyboardInterrupt, raised between slices) stops a run that would not end: the fabric
        is left at that cycle boundary, and run() goes on with the same run."""
        f = self._f
        timed = getattr(lib, "wse_run_timed", None)
        try:
            if timed is not None:
                while (st := timed(f, stop_at, mc, _SLICE_NS)) == lib.WSE_YIELD:
                    pass
                return st
            # a core from before wse_run_timed (load_core of an older build, for wse-bench
            # --against): slices of visited cycles, sized to take about 20 ms each
            slice_ = 1024
            while True:
                t0 = time.perf_counter()
                st = lib.wse_run_slice(f, stop_at, mc, slice_)
                if st != lib.WSE_YIELD:
                    return st
                dt = time.perf_counter() - t0
                slice_ = max(64, min(1 << 22, int(slice_ * (0.02 / dt if dt > 0 else 4))))
        except KeyboardInterrupt:
            lib.wse_run(f, lib.wse_cycle(f), 0)     # executes nothing; settles the core's caches
            raise

    def run(self, max_cycles: int | None = None) -> RunResult:
        """Run until idle. Raises FaultError, HangError or WatchdogError (the cycle counter
        reached max_cycles, an absolute cycle, with the fabric not idle there: max_cycles equal
        to the fabric's cycle runs no cycle, and returns if the fabric is idle). Ctrl-C stops it
        at a cycle boundary (KeyboardInterrupt); run() again goes on as if it had not stopped."""
        self._need_loaded()
        mc = max_cycles_arg(max_cycles, self.cycle) or 0
        self._check(self._run_sliced(NEVER, mc), "run")
        return RunResult(self.cycle, self.stats(), self.clock_hz)

    def run_until(self, cycle: int) -> bool:
        """Execute every cycle < `cycle` and stop at that boundary. Returns whether the fabric
        is idle there. Raises FaultError or HangError."""
        self._need_loaded()
        cycle = until_arg(cycle, self.cycle)
        st = self._run_sliced(cycle, 0)
        self._check(st, "run_until")
        return bool(lib.wse_is_idle(self._f))

    # -- statistics and state ----------------------------------------------------------------
    def stats(self) -> dict:
        """The fabric's counters since load, as a dict of ints: cycles, instructions,
        busy_cycles and idle_cycles (summed over the PEs with a program), wavelets_sent,
        wavelets_received, wavelet_hops, stalls, tasks, tensor_elements, host_in and host_out
        (wavelets from / to the host), pes (PEs with a program); and seconds (a float: cycles
        at the preset's clock_hz)."""
        s = ffi.new("wse_stats *")
        self._check(lib.wse_stats_get(self._f, s))
        d = _stats_dict(s)
        d["seconds"] = d["cycles"] / self.clock_hz
        return d

    def pe_stats(self, x: int, y: int) -> dict:
        """stats()'s counters for PE (x, y) alone (no seconds). cycles is the fabric's cycle,
        pes is 1 for a PE with a program (else 0, and every counter 0); host_in and host_out
        are 0: the fabric's totals count the host's wavelets, not a PE's."""
        x, y = pe_arg(x, y, self.width, self.height)
        s = ffi.new("wse_stats *")
        self._check(lib.wse_pe_stats(self._f, x, y, s))
        return _stats_dict(s)

    def pe_stats_grid(self) -> np.ndarray:
        """pe_stats() of every PE at once: a structured array of shape (height, width), indexed
        [y, x], with one uint64 field per counter (PE_STAT_FIELDS: instructions, busy_cycles,
        ..., pes). For maps of where the work, the waiting and the traffic are, e.g.
        ``g["busy_cycles"] / fab.cycle`` (the fraction of the run each PE was busy)."""
        self._need_loaded()
        out = np.zeros((self.height, self.width), dtype=[(k, np.uint64) for k in PE_STAT_FIELDS])
        s = ffi.new("wse_stats *")
        get, f = lib.wse_pe_stats, self._f
        cols = [out[k] for k in PE_STAT_FIELDS]
        for y in range(self.height):
            for x in range(self.width):
                self._check(get(f, x, y, s))
                if s.pes:
                    for c, k in zip(cols, PE_STAT_FIELDS):
                        c[y, x] = getattr(s, k)
        return out

    def pe_state(self, x: int, y: int) -> dict:
        """A snapshot of PE (x, y) (the keys are the reference interpreter's too): regs (16
        ints), pc and task (None when no task runs), activated and blocked (bit masks over
        task ids: bit t is task t), dsrs (kind, color, base, 4 lengths, 4 strides each),
        dsr_origins (per DSR, the DSD its last ldsd loaded it from and what changed since, a
        wse.emu.records.DsrOrigin; None for a DSR no ldsd loaded), mem
        (the SRAM as uint16 words, None for a PE without a program), rb / oq / iq ({color:
        [(payload, ctrl, ready cycle)]} of the router buffers, output and input queues,
        colors with something queued only), switch ({color: switch position} of its routes),
        ut (per microthread None or (opcode, elements done, elements in all)), stats."""
        x, y = pe_arg(x, y, self.width, self.height)
        st = ffi.new("wse_pe_state *")
        mem = np.zeros(self.sram_words, dtype=np.uint16)
        self._check(lib.wse_pe_state_get(self._f, x, y, st,
                                         ffi.from_buffer("unsigned short[]", mem)))

        def qs(n, q):
            return {c: [(int(q[c][i].payload), bool(q[c][i].ctrl), int(q[c][i].ready))
                        for i in range(n[c])] for c in range(len(n)) if n[c]}

        placed = bool(st.placed)
        return {
            "regs": [int(v) for v in st.regs],
            "pc": None if st.pc < 0 else int(st.pc),
            "task": None if st.task < 0 else int(st.task),
            "activated": int(st.activated),
            "blocked": int(st.blocked),
            "dsrs": [(d.kind, d.color, int(d.base), *(int(v) for v in d.len),
                      *(int(v) for v in d.stride)) for d in st.dsrs],
            "dsr_origins": [self._dsr_origin(x, y, d) for d in st.dsrs],
            "mem": mem if placed else None,
            "rb": qs(st.n_rb, st.rb),
            "oq": qs(st.n_oq, st.oq),
            "iq": qs(st.n_iq, st.iq),
            "switch": {c: int(st.switch_pos[c]) for c in range(len(st.has_route)) if st.has_route[c]},
            "ut": [(int(st.ut_opcode[u]), int(st.ut_done[u]), int(st.ut_total[u]))
                   if st.ut_busy[u] else None for u in range(len(st.ut_busy))],
            "stats": {"instructions": int(st.instructions), "busy_cycles": int(st.busy_cycles),
                      "wavelets_sent": int(st.wavelets_sent),
                      "wavelets_received": int(st.wavelets_received), "stalls": int(st.stalls)},
        }

    def _dsr_origin(self, x: int, y: int, d) -> DsrOrigin | None:
        if d.dsd < 0:
            return None
        name = ffi.new("const char **")
        self._check(lib.wse_dsd_name(self._f, x, y, d.dsd, name))
        by = opcode_mnemonic(d.changed_op) if d.changed else None
        return DsrOrigin(int(d.dsd), _str(name[0]), int(d.ldsd_pc), DSR_CHANGES[d.changed & 3], by,
                         int(d.changed_pc) if d.changed else None)

    # -- tracing -----------------------------------------------------------------------------
    def enable_trace(self, on: bool = True, rect=None, cycles=None) -> None:
        """Record task spans, tensor op spans and wavelet arrivals (costs memory and time: about
        32 bytes per event). rect=(x, y, w, h) records only those PEs, cycles=(start, end) only
        the events whose span meets [start, end) (end None: no end); the default is the whole
        fabric and every cycle. Events already recorded are kept."""
        x0, y0, w, h = self._rect(rect)
        c0, c1 = _trace_cycles(cycles)
        self._check(lib.wse_trace_window(self._f, x0, y0, w, h, c0, c1))
        self._check(lib.wse_trace_enable(self._f, 1 if on else 0))

    @property
    def trace_count(self) -> int:
        """The number of events recorded so far."""
        return int(lib.wse_trace_count(self._f))

    def trace_array(self, start: int = 0, count: int | None = None) -> np.ndarray:
        """Recorded events [start, start + count) as a numpy structured array (fields kind, x,
        y, a, b, t0, t1; the meaning as in trace_events), one copy out of the core."""
        n = self.trace_count
        start = _int("start", start, 0, n)
        count = n - start if count is None else _int("count", count, 0, n - start)
        out = np.zeros(count, dtype=TRACE_DTYPE)
        if count:
            self._check(lib.wse_trace_read(self._f, start, count,
                                           ffi.cast("wse_trace_event *", ffi.from_buffer(out))))
        return out

    def trace_events(self) -> list[tuple]:
        """Recorded events: (kind, x, y, a, b, t0, t1); kind 1 task (a = id), 2 tensor op
        (a = opcode, b = microthread or 8 for the main thread), 3 wavelet at the RAMP
        (a = color, b = payload). For millions of events, trace_array reads them in chunks."""
        ev = self.trace_array()
        return list(zip(*(ev[k].tolist() for k in TRACE_DTYPE.names)))

    @property
    def trace_open_count(self) -> int:
        """The number of spans open at the fabric's cycle (trace_open_array)."""
        n = ffi.new("unsigned long long *")
        self._check(lib.wse_trace_open(self._f, 0, 0, ffi.NULL, n))
        return int(n[0])

    def trace_open_array(self, start: int = 0, count: int | None = None) -> np.ndarray:
        """The spans still open where the run stopped (--until, run_until, the watchdog, a hang,
        a fault, Ctrl-C), which no event records yet: [start, start + count) of them, as
        trace_array gives events, with TRACE_OPEN or'd into kind: TRACE_OPEN | TRACE_TASK, a
        PE's running task; TRACE_OPEN | TRACE_TENSOR, a tensor op in progress (b = microthread,
        8 for the main thread). t1 is the fabric's cycle (after a fault: the cycle after the
        one it stopped in, and for the main thread that faulted the cycle after the fault's).
        Only those inside the trace window (enable_trace's rect and cycles), whether tracing
        is on or not. Nothing is recorded: a run that goes on records each span once, when it
        ends (docs/emulator.md)."""
        n = self.trace_open_count
        start = _int("start", start, 0, n)
        count = n - start if count is None else _int("count", count, 0, n - start)
        out = np.zeros(count, dtype=TRACE_DTYPE)
        if count:
            total = ffi.new("unsigned long long *")
            self._check(lib.wse_trace_open(self._f, start, count,
                                           ffi.cast("wse_trace_event *", ffi.from_buffer(out)), total))
        return out

    def trace_open_events(self) -> list[tuple]:
        """trace_open_array as tuples (kind, x, y, a, b, t0, t1), like trace_events."""
        ev = self.trace_open_array()
        return list(zip(*(ev[k].tolist() for k in TRACE_DTYPE.names)))


def parse_grid(grid) -> tuple[int, int]:
    """(w, h) from "WxH" or a pair."""
    if isinstance(grid, str):
        parts = grid.lower().split("x")
        if len(parts) != 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
            raise E.BadArgError(f"bad grid {grid!r}: expected WxH, e.g. 64x64")
        w, h = int(parts[0]), int(parts[1])
    else:
        try:
            w, h = (int(v) for v in grid)
        except (TypeError, ValueError):
            raise E.BadArgError(f"bad grid {grid!r}: expected (w, h)") from None
    if not (1 <= w <= 4096 and 1 <= h <= 4096):
        raise E.BadArgError(f"grid {w}x{h} is out of range 1..4096")
    return w, h
