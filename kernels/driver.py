"""Shared host-side driver for the hand-written kernels (``wse.kernels.driver``).

A kernel is a ``.s`` file whose layout is parameterised by assembler defines (grid size,
problem size, ...). A driver assembles it for one problem, writes the inputs into PE memory by
symbol, runs the fabric until it is idle and reads the outputs back::

    from wse.kernels.driver import kernel_source, run_kernel, split_vector, row_of

    chunks = split_vector(x, 4)                       # 4 padded pieces
    r = run_kernel(kernel_source("gemv/gemv.s"), defines={"KX": 4, ...},
                   inputs={"x": row_of(chunks, y=0)}, outputs=["y"])
    r.outputs["y"][(3, 0)]    # the array the PE (3, 0) holds in its symbol y
    r.cycles                  # cycles of the run

The API is small and stable:

- ``kernel_source(rel)``: the path of a kernel file in this package (works in an editable
  install and from a wheel);
- ``assemble(source, defines, arch)``: the object file's bytes (cached per source text and
  defines); ``load_object(bytes)`` parses it;
- ``run_kernel(source, defines, inputs, outputs, arch=, launch=, max_cycles=, backend=)``
  -> ``KernelRun`` (outputs, cycles, stats, fabric, obj);
- ``Result(out, cycles, run)``: what every kernel driver returns; ``SizeError``: the
  ValueError a driver raises for a problem the kernel cannot hold (checked before assembling);
- array helpers: ``split_vector``/``join_vector`` (1-D over PEs, zero padding),
  ``split_blocks``/``join_blocks`` (2-D blocks, row- or column-major per PE), ``row_of``,
  ``col_of``, ``rect``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

import numpy as np

Coord = tuple[int, int]
PerPe = Mapping[Coord, np.ndarray] | np.ndarray


# ---------------------------------------------------------------------------------------------
# Checking what the drivers are given (every driver goes through these: a bad argument is a
# ValueError/TypeError that names it, not an error from deep inside numpy or a hang)
def check_int(what: str, v, lo: int | None = None, hi: int | None = None) -> int:
    """``v`` as an int (a Python or numpy integer; floats, bools and strings are refused, not
    truncated) in lo..hi."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {v!r}")
    v = int(v)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = f"{lo if lo is not None else '..'}..{hi if hi is not None else ''}"
        raise ValueError(f"{what} must be in {rng}, got {v}")
    return v


def check_grid(grid, what: str = "grid") -> tuple[int, int]:
    """(w, h) from a pair of positive integers."""
    try:
        w, h = grid
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a pair (w, h), got {grid!r}") from None
    return check_int(f"{what} width", w, 1, 4096), check_int(f"{what} height", h, 1, 4096)


def host_array(what: str, x, dtype, shape: tuple | None = None) -> np.ndarray:
    """``x`` as a C-contiguous array of ``dtype``, refusing what the conversion would change
    silently: non-numbers (None, strings, objects), complex numbers, and finite values that
    overflow fp16/fp32 to infinity. ``shape``: the expected shape, None entries free (a
    1-D ``shape=(n,)`` also refuses (n, 1) and scalars)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be a real numeric array, got {arr.dtype} data")
    if shape is not None:
        if arr.ndim != len(shape) or any(e is not None and g != e for g, e in zip(arr.shape, shape)):
            want = "(" + ", ".join("any" if e is None else str(e) for e in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{what} has shape {arr.shape}; expected {want}")
    dt = np.dtype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=dt)
    if dt.kind == "f" and arr.size:
        bad = np.isinf(out) & (np.isfinite(arr) if arr.dtype.kind == "f" else True)
        if bad.any():
            v = arr.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]].item()
            raise ValueError(f"{what}: {v!r} overflows {dt.name} to infinity (largest finite "
                             f"{float(np.finfo(dt).max):g})")
    return out



# ---------------------------------------------------------------------------------------------
# Locating and assembling kernels
def kernel_source(rel: str) -> Path:
    """Path of a kernel source shipped in wse.kernels, e.g. ``kernel_source("gemv/gemv.s")``."""
    p = Path(__file__).parent / rel
    if not p.is_file():
        raise FileNotFoundError(f"no kernel {rel!r} in {Path(__file__).parent}")
    return p


def _define_items(defines: Mapping[str, object] | None) -> tuple:
    """Hashable defines for the assembly cache. Numbers pass through as numbers (the assembler
    takes ints and floats: -D EPS=1e-5); numpy scalars become Python numbers."""
    out = []
    for k, v in (defines or {}).items():
        if isinstance(v, (bool, np.bool_)):
            v = int(v)
        elif isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
        elif not isinstance(v, (int, float)):
            v = str(v)
        out.append((str(k), v))
    return tuple(sorted(out))


@functools.lru_cache(maxsize=64)
def _assemble_cached(text: str, filename: str, items: tuple, arch: str) -> bytes:
    from wse.asm import assemble_text
    return bytes(assemble_text(text, filename=filename, defines=dict(items), arch=arch))


def assemble(source: str | Path, defines: Mapping[str, object] | None = None,
             arch: str = "wse3") -> bytes:
    """Assemble a kernel with layout defines; returns the object file's bytes (cached per
    source text, defines and arch). `source` is a path to a .s file (`.include` is searched
    beside it) or the assembly text itself (a str with a newline; `.include` is searched in
    the current folder, and diagnostics name it `<source>`)."""
    if isinstance(source, str) and "\n" in source:
        return _assemble_cached(source, "<source>", _define_items(defines), arch)
    p = Path(source)
    if not p.is_file():
        raise FileNotFoundError(f"no kernel file {str(p)!r}: pass the path of a .s file, or the "
                                f"assembly text itself")
    return _assemble_cached(p.read_text(), str(p), _define_items(defines), arch)


def load_object(data: bytes):
    """The parsed ObjectFile (for symbol and placement queries)."""
    from wse.isa import objfile
    return objfile.read(bytes(data))


# ---------------------------------------------------------------------------------------------
# Running
@dataclass
class KernelRun:
    outputs: dict[str, dict[Coord, np.ndarray]]
    cycles: int
    stats: dict = field(default_factory=dict)
    fabric: object = field(default=None, repr=False)
    obj: object = field(default=None, repr=False)     # (its repr is the whole object file)


def make_fabric(data: bytes, obj, arch: str, backend: str | None = None):
    """A loaded fabric. backend: "c" (wse.emu.Fabric, the C core), "reference"
    (wse.emu.reference.ReferenceFabric, the slow executable spec) or None: the WSE_EMU
    environment variable if set, else the C core when it is importable, else the reference.
    Both implement docs/timing.md exactly, so results and cycles are the same."""
    import os
    backend = backend or os.environ.get("WSE_EMU") or "auto"
    if backend not in ("c", "reference", "auto"):
        raise ValueError(f"backend {backend!r}: one of 'c', 'reference' (or None for the default)")
    F = None
    if backend in ("c", "auto"):
        try:
            from wse.emu import Fabric as F
        except ImportError:
            if backend == "c":
                raise
    if F is None:
        from wse.emu.reference import ReferenceFabric as F
    fab = F(obj.width, obj.height, arch)
    fab.load(data)
    return fab


def run_kernel(source: str | Path, defines: Mapping[str, object] | None = None,
               inputs: Mapping[str, PerPe] | None = None,
               outputs: Iterable[str] | Mapping[str, Iterable[Coord]] = (), *,
               arch: str = "wse3", launch: str | None = None,
               max_cycles: int | None = None, backend: str | None = None) -> KernelRun:
    """Assemble `source` with `defines`, write `inputs`, run until idle, read `outputs`.

    source: a path to a .s file, or the assembly text itself (see :func:`assemble`).
    inputs: symbol -> {(x, y): array}, or symbol -> one array for every PE that exports the
    symbol; each array is converted to the symbol's type and written from the symbol's first
    element (it may be shorter than the symbol).
    outputs: symbol names (read on every PE that exports them) or symbol -> PEs.
    launch: a task name to activate on every PE that has it (the kernels in this package
    activate their entry task at load and need none).
    A fault, hang or watchdog raises the emulator's exception (its message is the report).
    """
    data = assemble(source, defines, arch)
    obj = load_object(data)
    fab = make_fabric(data, obj, arch, backend)
    for sym, per_pe in (inputs or {}).items():
        if not isinstance(per_pe, Mapping):
            pes = obj.pes_with(sym)
            if not pes:
                raise KeyError(f"no PE exports the symbol {sym!r}")
            per_pe = {c: per_pe for c in pes}
        for c in per_pe:
            if not (isinstance(c, tuple) and len(c) == 2):
                raise TypeError(f"inputs[{sym!r}]: keys are (x, y) PE coordinates, got {c!r}")
        _write_per_pe(fab, sym, per_pe)
    if launch is not None:
        fab.launch(launch)
    c0 = fab.cycle
    fab.run(max_cycles=max_cycles)
    cycles = fab.cycle - c0
    if isinstance(outputs, str):
        raise TypeError(f"outputs must be a list of symbol names (or symbol -> PEs), got the str "
                        f"{outputs!r}: write [{outputs!r}]")
    if isinstance(outputs, Mapping):
        want = {k: list(v) for k, v in outputs.items()}
    else:
        want = {k: obj.pes_with(k) for k in outputs}
        missing = [k for k, pes in want.items() if not pes]
        if missing:
            raise KeyError(f"no PE exports the symbol {missing[0]!r}")
    out: dict[str, dict[Coord, np.ndarray]] = {}
    for sym, pes in want.items():
        out[sym] = _read_per_pe(fab, sym, pes)
    stats = {"backend": type(fab).__name__}
    if hasattr(fab, "stats"):
        st = fab.stats() if callable(fab.stats) else fab.stats
        stats.update(dict(st) if isinstance(st, Mapping) else dict(getattr(st, "__dict__", {})))
    return KernelRun(out, int(cycles), stats, fab, obj)


def _bounding_rect(pes) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) when the PEs are exactly a full rectangle, else None."""
    pes = list(pes)
    if not pes:
        return None
    xs = [x for x, _ in pes]
    ys = [y for _, y in pes]
    x0, y0 = min(xs), min(ys)
    w, h = max(xs) - x0 + 1, max(ys) - y0 + 1
    if w * h != len(pes) or len(set(pes)) != len(pes):
        return None
    return x0, y0, w, h


def _write_per_pe(fab, sym: str, per_pe: Mapping[Coord, np.ndarray]) -> None:
    """One transfer for a full rectangle of equal-length arrays (the common case), else one
    per PE."""
    arrays = {c: np.asarray(a).reshape(-1) for c, a in per_pe.items()}
    r = _bounding_rect(arrays)
    if r is not None and len({a.shape for a in arrays.values()}) == 1:
        x0, y0, w, h = r
        first = next(iter(arrays.values()))
        block = np.empty((h, w, first.size), dtype=first.dtype)
        for (x, y), a in arrays.items():
            block[y - y0, x - x0] = a
        fab.write(sym, block, rect=r)
        return
    for (x, y), a in arrays.items():
        fab.write(sym, a, rect=(x, y, 1, 1))


def _read_per_pe(fab, sym: str, pes) -> dict[Coord, np.ndarray]:
    pes = list(pes)
    r = _bounding_rect(pes)
    if r is not None:
        x0, y0, _, _ = r
        block = np.asarray(fab.read(sym, rect=r))
        return {(x, y): block[y - y0, x - x0] for x, y in pes}
    return {(x, y): np.asarray(fab.read(sym, rect=(x, y, 1, 1)))[0, 0] for x, y in pes}


# ---------------------------------------------------------------------------------------------
# The one result type of the library's drivers, and their size checks
class Result(NamedTuple):
    """What every driver of the kernel library returns (a tuple: ``out, cycles, run = ...``).

    out: the answer as a numpy array in the caller's layout (argmax: the pair (value, index));
    cycles: cycles of the run, from launch to idle; run: the :class:`KernelRun` (the fabric,
    stats and the raw outputs per PE)."""
    out: object
    cycles: int
    run: "KernelRun"

    @property
    def y(self):
        """``out`` under the GEMV drivers' old name (GemvResult.y)."""
        return self.out

    @property
    def pes(self) -> int:
        """PEs of the rectangle the kernel ran on."""
        obj = self.run.obj
        return obj.width * obj.height


def sram_overflow(e: Exception) -> str | None:
    """The first line of an assembler error that says the program does not fit a PE's SRAM (the
    drivers turn it into their SizeError), or None for any other error."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return first if "does not fit in SRAM" in str(e) else None


class SizeError(ValueError):
    """Valid arguments that the kernel cannot hold: too many elements for a PE's SRAM, too few
    for the grid, too many colors. The message names the argument, the limit and the fix; the
    drivers raise it before assembling (the assembler never sees a problem that cannot fit)."""


def sram_words(arch: str = "wse3") -> int:
    """Words (16-bit) of one PE's SRAM on ``arch``."""
    from wse.isa import load
    presets = load().presets
    if arch not in presets:
        raise ValueError(f"arch {arch!r}: one of {', '.join(sorted(presets))}")
    return presets[arch].sram_words


@functools.lru_cache(maxsize=256)
def _probe_words(rel: str, items: tuple, arch: str) -> int:
    data = assemble(kernel_source(rel), dict(items), arch)
    return max(img.mem_words for img in load_object(data).images)


def image_words(rel: str, defines: Mapping[str, object], arch: str = "wse3") -> int:
    """The SRAM words of the largest image of kernel ``rel`` assembled with ``defines``: code,
    constants and arrays (cached per defines). For a driver whose code grows with the problem
    (an unrolled loop), where :func:`fixed_words`' one-unit probe does not hold."""
    sram_words(arch)                  # an unknown arch is a ValueError naming it, not an assembler error
    return _probe_words(rel, _define_items(defines), arch)


def fixed_words(rel: str, defines: Mapping[str, object], per_unit: int, arch: str = "wse3") -> int:
    """The words a kernel's PE needs besides its per-element arrays (code, constants,
    buffers), on the PE that needs the most: the kernel is assembled with ``defines`` set for
    one unit per PE (a size that always fits), and ``per_unit`` (the words one unit adds to
    the arrays of the kernel's memory map) is taken off. A driver's limit is then
    ``(sram_words - fixed) // per_unit`` units per PE (cached per defines)."""
    return image_words(rel, defines, arch) - per_unit


def nbytes(words: int) -> str:
    """Words (16-bit) as bytes for messages: '49,160 bytes'."""
    return f"{2 * words:,} bytes"


# ---------------------------------------------------------------------------------------------
# Splitting arrays over PEs
def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def split_vector(v: np.ndarray, parts: int, chunk: int | None = None) -> list[np.ndarray]:
    """Cut v into `parts` pieces of `chunk` (default ceil(len/parts)) elements, zero padded."""
    v = np.asarray(v)
    if v.ndim != 1:
        raise ValueError(f"split_vector takes a 1-D vector, got shape {v.shape}")
    parts = check_int("parts", parts, 1)
    chunk = ceil_div(len(v), parts) if chunk is None else check_int("chunk", chunk, 0)
    if chunk * parts < len(v):
        raise ValueError(f"{parts} chunks of {chunk} cannot hold {len(v)} elements")
    p = np.zeros(chunk * parts, dtype=v.dtype)
    p[:len(v)] = v
    return [p[i * chunk:(i + 1) * chunk].copy() for i in range(parts)]


def join_vector(chunks: Iterable[np.ndarray], n: int) -> np.ndarray:
    """Concatenate chunks and drop the padding beyond n elements."""
    n = check_int("n", n, 0)
    return np.concatenate([np.asarray(c).reshape(-1) for c in chunks])[:n]


def split_blocks(a: np.ndarray, kx: int, ky: int, order: str = "F",
                 mb: int | None = None, nb: int | None = None) -> dict[Coord, np.ndarray]:
    """Cut an M x N matrix into ky x kx blocks of mb x nb (zero padded); PE (px, py) gets
    block rows py, block column px, flattened column-major (order "F") or row-major ("C")."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"split_blocks takes a 2-D matrix, got shape {a.shape}")
    if order not in ("F", "C"):
        raise ValueError(f"order {order!r}: 'F' (column-major) or 'C' (row-major)")
    kx, ky = check_int("kx", kx, 1), check_int("ky", ky, 1)
    m, n = a.shape
    mb = ceil_div(m, ky) if mb is None else check_int("mb", mb, 1)
    nb = ceil_div(n, kx) if nb is None else check_int("nb", nb, 1)
    if mb * ky < m or nb * kx < n:
        raise ValueError(f"{ky} x {kx} blocks of {mb} x {nb} cannot hold a {m} x {n} matrix")
    p = np.zeros((mb * ky, nb * kx), dtype=a.dtype)
    p[:m, :n] = a
    blocks = p.reshape(ky, mb, kx, nb)
    # one transpose for all blocks: (ky, kx, nb, mb) flattens each block column-major
    flat = (blocks.transpose(0, 2, 3, 1) if order == "F" else blocks.transpose(0, 2, 1, 3))
    flat = np.ascontiguousarray(flat).reshape(ky, kx, mb * nb)
    return {(px, py): flat[py, px] for py in range(ky) for px in range(kx)}


def join_blocks(blocks: Mapping[Coord, np.ndarray], kx: int, ky: int, mb: int, nb: int,
                m: int, n: int, order: str = "F") -> np.ndarray:
    """Inverse of split_blocks."""
    if order not in ("F", "C"):
        raise ValueError(f"order {order!r}: 'F' (column-major) or 'C' (row-major)")
    kx, ky, mb, nb = (check_int(k, v, 1) for k, v in (("kx", kx), ("ky", ky), ("mb", mb), ("nb", nb)))
    m, n = check_int("m", m, 0, mb * ky), check_int("n", n, 0, nb * kx)
    missing = [(px, py) for py in range(ky) for px in range(kx) if (px, py) not in blocks]
    if missing:
        raise KeyError(f"no block for PE {missing[0]}")
    rows = []
    for py in range(ky):
        rows.append(np.concatenate([np.asarray(blocks[(px, py)]).reshape((mb, nb), order=order)
                                    for px in range(kx)], axis=1))
    return np.concatenate(rows, axis=0)[:m, :n]


def row_of(chunks: Iterable[np.ndarray], y: int = 0, x0: int = 0) -> dict[Coord, np.ndarray]:
    """Place chunk i on PE (x0 + i, y)."""
    return {(x0 + i, y): c for i, c in enumerate(chunks)}


def col_of(chunks: Iterable[np.ndarray], x: int = 0, y0: int = 0) -> dict[Coord, np.ndarray]:
    """Place chunk i on PE (x, y0 + i)."""
    return {(x, y0 + i): c for i, c in enumerate(chunks)}


def rect(w: int, h: int, x0: int = 0, y0: int = 0) -> list[Coord]:
    """The PEs of a w x h rectangle, row-major."""
    w, h = check_int("w", w, 0), check_int("h", h, 0)
    return [(x, y) for y in range(y0, y0 + h) for x in range(x0, x0 + w)]
