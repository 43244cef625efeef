"""The object file format (.wso): data model, canonical writer and validating reader.

docs/object-format.md describes the bytes. The writer is canonical: the same model always
gives the same bytes, images are deduplicated and numbered by first appearance in a row-major
scan of the fabric, and placement rectangles are row runs merged downwards. So assembling the
output of wse-objdump reproduces the file byte for byte.
"""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field

from .codec import decode
from .table import DSR_FILES, Isa, load

MAGIC = b"WSEO"
VERSION = 3
ARCHES = ("wse2", "wse3")
SEC_STRTAB, SEC_IMAGES, SEC_PLACEMENT, SEC_SYMBOLS, SEC_LINES, SEC_EXPANSIONS = 1, 2, 3, 4, 5, 6
SECTION_NAMES = {1: "STRTAB", 2: "IMAGES", 3: "PLACEMENT", 4: "SYMBOLS", 5: "LINES", 6: "EXPANSIONS"}
N_SECTIONS = len(SECTION_NAMES)
# the name of iteration N of a .rep in Line.via (the object stores macro "" and N)
REP_RE = re.compile(r"\.rep\[(0|[1-9][0-9]{0,9})\]\Z")
PORTS = {"north": 1, "east": 2, "south": 4, "west": 8, "ramp": 16}
TASK_KINDS = ("local", "data", "control")
SYM_TYPES = {1: "f16", 2: "f32", 3: "u16", 4: "u32", 5: "task"}
SYM_CODES = {v: k for k, v in SYM_TYPES.items()}
DSD_MEM1D, DSD_MEM4D, DSD_FABIN, DSD_FABOUT = 1, 2, 3, 4
HEADER = struct.Struct("<4sHHB3sHHIIII")
# what the versions a reader refuses lacked (its message says, with "re-assemble the source")
OLD_VERSIONS = {1: "; version 1 had no EXPANSIONS and no DSD names", 2: "; version 2 had no DSD names"}
assert HEADER.size == 32
# the names the assembler reserves besides the registers and microthreads (asm/expr.py): the
# per-PE built-ins and the float constants
BUILTIN_NAMES = ("pe_x", "pe_y", "abs_x", "abs_y", "rect_w", "rect_h", "fabric_w", "fabric_h")
FLOAT_NAMES = ("inf", "nan")


def reserved_names(isa: Isa | None = None) -> frozenset[str]:
    """The names the assembler cannot define (registers with their aliases, DSRs, microthreads,
    built-ins, inf and nan). A symbol or task cannot have one, so both readers refuse a symbol
    named so: wse-objdump could not print it back as source."""
    isa = isa or load()
    names = set(BUILTIN_NAMES) | set(FLOAT_NAMES)
    for rf in ("gpr",) + DSR_FILES:
        f = isa.regfiles[rf]
        names |= {f"{f.prefix}{i}" for i in range(f.count)} | set(f.aliases)
    names |= {f"ut{i}" for i in range(isa.max_microthreads)}
    return frozenset(names)


class ObjectFormatError(ValueError):
    """The bytes are not a valid object file; the message says where and why."""


@dataclass(frozen=True)
class Dsd:
    kind: int
    color: int = 0
    base: int = 0
    lens: tuple[int, int, int, int] = (0, 1, 1, 1)
    strides: tuple[int, int, int, int] = (1, 0, 0, 0)
    ndim: int = 1
    # the name it was declared with (`.dsd NAME`); "" for a DSD without one. The emulators name
    # it in fault and hang reports of the DSRs loaded from it
    name: str = ""

    @property
    def count(self) -> int:
        n = 1
        for i in range(self.ndim):
            n *= self.lens[i]
        return n


@dataclass(frozen=True)
class Task:
    id: int
    kind: int          # 0 local, 1 data, 2 control
    entry: int
    color: int = 255
    activated: bool = False
    blocked: bool = False


@dataclass(frozen=True)
class Route:
    color: int
    positions: tuple[tuple[int, int], ...]   # (rx mask, tx mask), 1..4 of them
    iq: int = 0
    oq: int = 0


@dataclass(frozen=True, order=True)
class Symbol:
    name: str
    type: str          # f16 f32 u16 u32 task
    value: int         # word address, or task id
    count: int = 0


@dataclass(frozen=True, order=True)
class Line:
    pc: int
    file: str
    line: int
    col: int
    # the macro expansions and .rep iterations the instructions come from, innermost first:
    # (name, file, line, col) of each invocation or .rep directive, the name being the macro's
    # or ".rep[N]" for iteration N; () outside both
    via: tuple[tuple[str, str, int, int], ...] = ()


@dataclass
class Image:
    name: str
    code: list[int] = field(default_factory=list)
    mem_words: int = 0
    chunks: list[tuple[int, list[int]]] = field(default_factory=list)
    dsds: list[Dsd] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    def key(self) -> tuple:
        """Identity for deduplication: two images with equal keys are stored once."""
        return (self.name, tuple(self.code), self.mem_words,
                tuple((a, tuple(w)) for a, w in self.chunks), tuple(self.dsds),
                tuple(self.tasks), tuple(self.routes), tuple(sorted(self.symbols)),
                tuple(self.lines))

    def symbol(self, name: str) -> Symbol | None:
        for s in self.symbols:
            if s.name == name:
                return s
        return None


@dataclass
class ObjectFile:
    arch: str
    width: int
    height: int
    images: list[Image]
    placement: list[tuple[int, int, int, int, int]]  # x, y, w, h, image index

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_pe_images(cls, arch: str, width: int, height: int,
                       pe_images: dict[tuple[int, int], Image]) -> "ObjectFile":
        """Build the canonical object from one Image per placed PE ((x, y) -> Image)."""
        index: dict[tuple, int] = {}
        images: list[Image] = []
        grid = [[-1] * width for _ in range(height)]
        for y in range(height):
            for x in range(width):
                img = pe_images.get((x, y))
                if img is None:
                    continue
                k = img.key()
                if k not in index:
                    index[k] = len(images)
                    images.append(img)
                grid[y][x] = index[k]
        return cls(arch, width, height, images, rects_from_grid(grid))

    def pe_grid(self) -> list[list[int]]:
        grid = [[-1] * self.width for _ in range(self.height)]
        for x, y, w, h, img in self.placement:
            for yy in range(y, y + h):
                for xx in range(x, x + w):
                    grid[yy][xx] = img
        return grid

    def image_at(self, x: int, y: int) -> Image | None:
        for rx, ry, w, h, img in self.placement:
            if rx <= x < rx + w and ry <= y < ry + h:
                return self.images[img]
        return None

    def pes_with(self, symbol: str) -> list[tuple[int, int]]:
        """The placed PEs (x, y) whose image has the symbol `symbol` (a data symbol or a task),
        in row-major order: what wse.emu.Fabric.pes_with gives once this object is loaded,
        without loading it. One pass over the placement rectangles (not over the fabric)."""
        has = [img.symbol(symbol) is not None for img in self.images]
        first: dict[tuple[int, int], bool] = {}
        for x, y, w, h, img in self.placement:        # (a PE in two rectangles: the first, as image_at)
            for yy in range(y, y + h):
                for xx in range(x, x + w):
                    first.setdefault((xx, yy), has[img])
        return sorted((pe for pe, hit in first.items() if hit), key=lambda pe: (pe[1], pe[0]))

    # -- bytes --------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        return write(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> "ObjectFile":
        return read(data)


def rects_from_grid(grid: list[list[int]]) -> list[tuple[int, int, int, int, int]]:
    """Row runs of equal image, merged downwards; sorted by (y, x)."""
    open_rects: dict[tuple[int, int, int], list[int]] = {}  # (x0, w, img) -> [x, y, w, h, img]
    done: list[list[int]] = []
    for y, row in enumerate(grid):
        runs = []
        x = 0
        while x < len(row):
            if row[x] < 0:
                x += 1
                continue
            x0 = x
            while x < len(row) and row[x] == row[x0]:
                x += 1
            runs.append((x0, x - x0, row[x0]))
        still: dict[tuple[int, int, int], list[int]] = {}
        for run in runs:
            r = open_rects.pop(run, None)
            if r is not None and r[1] + r[3] == y:
                r[3] += 1
            else:
                r = [run[0], y, run[1], 1, run[2]]
                done.append(r)
            still[run] = r
        open_rects = still
    return sorted((tuple(r) for r in done), key=lambda r: (r[1], r[0]))


# ---------------------------------------------------------------------------------------------
class _Strtab:
    def __init__(self):
        self.data = bytearray(b"\0")
        self.index = {"": 0}

    def add(self, s: str) -> int:
        if "\0" in s:
            # a reader would see the string end at the NUL
            raise ValueError(f"a string of the object file cannot contain NUL: {s!r}")
        if s not in self.index:
            self.index[s] = len(self.data)
            self.data += s.encode("utf-8") + b"\0"
        return self.index[s]


def _pad4(b: bytearray) -> None:
    while len(b) % 4:
        b.append(0)


def _image_bytes(img: Image, st: _Strtab) -> bytes:
    out = bytearray()
    out += struct.pack("<II", st.add(img.name), img.mem_words)
    out += struct.pack("<I", len(img.code))
    out += struct.pack(f"<{len(img.code)}I", *img.code)
    out += struct.pack("<I", len(img.chunks))
    for addr, words in img.chunks:
        out += struct.pack("<II", addr, len(words))
        out += struct.pack(f"<{len(words)}H", *words)
        if len(words) % 2:
            out += b"\0\0"
    out += struct.pack("<I", len(img.dsds))
    for d in img.dsds:
        out += struct.pack("<BBBxII3H2x4hI", d.kind, d.color, d.ndim, d.base, d.lens[0],
                           d.lens[1], d.lens[2], d.lens[3], *d.strides,
                           st.add(d.name) if d.name else 0)
    out += struct.pack("<I", len(img.tasks))
    for t in img.tasks:
        flags = (1 if t.activated else 0) | (2 if t.blocked else 0)
        out += struct.pack("<BBBBI", t.id, t.kind, t.color, flags, t.entry)
    out += struct.pack("<I", len(img.routes))
    for r in img.routes:
        pos = list(r.positions) + [(0, 0)] * (4 - len(r.positions))
        out += struct.pack("<BBBB8B", r.color, len(r.positions), r.iq, r.oq,
                           *[v for p in pos for v in p])
    return bytes(out)


def write(obj: ObjectFile) -> bytes:
    """The canonical bytes of an object file."""
    st = _Strtab()
    images = bytearray(struct.pack("<I", len(obj.images)))
    for img in obj.images:
        b = _image_bytes(img, st)
        images += struct.pack("<I", len(b)) + b
    place = bytearray(struct.pack("<I", len(obj.placement)))
    for x, y, w, h, i in obj.placement:
        place += struct.pack("<HHHHI", x, y, w, h, i)
    syms = []
    for i, img in enumerate(obj.images):
        for s in sorted(img.symbols, key=lambda s: s.name):
            syms.append((i, s))
    symb = bytearray(struct.pack("<I", len(syms)))
    for i, s in syms:
        symb += struct.pack("<IIIIB3x", st.add(s.name), i, s.value, s.count, SYM_CODES[s.type])
    lines = []
    for i, img in enumerate(obj.images):
        for ln in sorted(img.lines, key=lambda ln: ln.pc):
            lines.append((i, ln))
    # EXPANSIONS: each distinct invocation chain once, a chain's outer invocations before it
    # (so a record's parent has a smaller index), in the order the LINES records first need them
    sites: dict[tuple, int] = {}
    expb = bytearray()

    def site(chain: tuple) -> int:
        if not chain:
            return 0
        parent = site(chain[1:])
        name, file, line, col = chain[0]
        rep = REP_RE.match(name)
        macro, it = ("", int(rep.group(1))) if rep else (name, 0)
        rec = (macro, file, line, col, parent, it)
        if rec not in sites:
            sites[rec] = len(sites) + 1
            expb.extend(struct.pack("<IIIIII", st.add(macro), st.add(file), line, col, parent, it))
        return sites[rec]

    lineb = bytearray(struct.pack("<I", len(lines)))
    for i, ln in lines:
        lineb += struct.pack("<IIIIII", i, ln.pc, st.add(ln.file), ln.line, ln.col, site(ln.via))
    expb[:0] = struct.pack("<I", len(sites))
    strtab = bytearray(st.data)
    _pad4(strtab)
    sections = [(SEC_STRTAB, strtab), (SEC_IMAGES, images), (SEC_PLACEMENT, place),
                (SEC_SYMBOLS, symb), (SEC_LINES, lineb), (SEC_EXPANSIONS, expb)]
    body = bytearray()
    table = bytearray()
    offset = 32 + 12 * len(sections)
    for kind, data in sections:
        table += struct.pack("<III", kind, offset + len(body), len(data))
        body += data
        _pad4(body)
    payload = bytes(table + body)
    total = 32 + len(payload)
    header = HEADER.pack(MAGIC, VERSION, 0, ARCHES.index(obj.arch), b"\0\0\0", obj.width,
                         obj.height, len(sections), total, zlib.crc32(payload), 0)
    return header + payload


# ---------------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, data: bytes, start: int, end: int, what: str):
        self.data, self.pos, self.end, self.what = data, start, end, what

    def take(self, fmt: str):
        s = struct.Struct("<" + fmt)
        if self.pos + s.size > self.end:
            raise ObjectFormatError(f"{self.what}: truncated at byte {self.pos} "
                                    f"(needs {s.size} more bytes, section ends at {self.end})")
        v = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return v

    def count(self, size_each: int, label: str) -> int:
        (n,) = self.take("I")
        if n * size_each > self.end - self.pos:
            raise ObjectFormatError(f"{self.what}: {label} count {n} does not fit in the section")
        return n


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _ident(name: str, what: str) -> str:
    """A name wse-objdump prints as is must be one the assembler reads back."""
    if not _IDENT.match(name):
        raise ObjectFormatError(f"{what}: the name {name!r} is not an identifier")
    return name


def _string(strtab: bytes, off: int, what: str) -> str:
    if off >= len(strtab):
        raise ObjectFormatError(f"{what}: string offset {off} is outside STRTAB ({len(strtab)} bytes)")
    end = strtab.find(b"\0", off)
    if end < 0:
        raise ObjectFormatError(f"{what}: string at {off} is not NUL-terminated")
    try:
        return strtab[off:end].decode("utf-8")
    except UnicodeDecodeError:
        raise ObjectFormatError(f"{what}: string at {off} is not UTF-8") from None


def magic_error(head: bytes) -> ObjectFormatError:
    """The error for a file whose first bytes (head: up to 256 of them are looked at) are not
    the magic; when they are text, it says to assemble the source first."""
    hint = ""
    # (256 bytes may end inside a character: at most one replacement character)
    text = head[:256].decode("utf-8", errors="replace")
    if text and sum(c.isprintable() or c in "\t\r\n" for c in text.replace("\ufffd", "")) >= 0.95 * len(text):
        hint = "; it is text, perhaps assembly source: assemble it first (wse-as FILE.s -o FILE.wso)"
    return ObjectFormatError(f"bad magic {head[:4]!r}: not a wse object file (expected {MAGIC!r}){hint}")


def read(data: bytes, isa: Isa | None = None) -> ObjectFile:
    """Parse and validate an object file. Raises ObjectFormatError with the reason."""
    isa = isa or load()
    if len(data) < 32:
        raise ObjectFormatError(f"file is {len(data)} bytes, shorter than the 32-byte header")
    magic, version, flags, arch, res0, width, height, nsec, size, crc, res1 = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise magic_error(data)
    if version != VERSION:
        raise ObjectFormatError(f"object format version {version} is not supported (this is {VERSION}"
                                f"{OLD_VERSIONS.get(version, '')}); re-assemble the source with this wse-as")
    if flags or res0 != b"\0\0\0" or res1:
        raise ObjectFormatError("header: reserved fields or flags are not 0")
    if size != len(data):
        raise ObjectFormatError(f"header says {size} bytes but the file has {len(data)}")
    if zlib.crc32(data[32:]) != crc:
        raise ObjectFormatError("checksum mismatch: the file is corrupt")
    if arch >= len(ARCHES):
        raise ObjectFormatError(f"unknown arch code {arch}")
    if not (1 <= width <= 4096 and 1 <= height <= 4096):
        raise ObjectFormatError(f"fabric size {width}x{height} out of range 1..4096")
    if nsec != N_SECTIONS:
        raise ObjectFormatError(f"{nsec} sections; version {VERSION} has exactly {N_SECTIONS}")
    secs = {}
    r = _Reader(data, 32, len(data), "section table")
    for i in range(nsec):
        kind, off, ln = r.take("III")
        if kind != i + 1:
            raise ObjectFormatError(f"section {i} has kind {kind}, expected {i + 1} ({SECTION_NAMES[i + 1]})")
        if off % 4 or off < 32 + 12 * nsec or off + ln > len(data):
            raise ObjectFormatError(f"section {SECTION_NAMES[kind]} at {off}+{ln} is misaligned or outside the file")
        secs[kind] = (off, off + ln)
    strtab = data[secs[SEC_STRTAB][0]:secs[SEC_STRTAB][1]]
    if not strtab or strtab[0] != 0:
        raise ObjectFormatError("STRTAB: must start with the empty string")
    preset = isa.presets[ARCHES[arch]]
    words, ncol, ntid = preset.sram_words, preset.colors, preset.task_ids
    reserved = reserved_names(isa)

    # images
    r = _Reader(data, *secs[SEC_IMAGES], "IMAGES")
    n_img = r.count(4, "image")
    images = []
    for ii in range(n_img):
        (isz,) = r.take("I")
        what = f"image {ii}"
        if isz % 4 or r.pos + isz > r.end:
            raise ObjectFormatError(f"{what}: size {isz} is not a multiple of 4 or overruns IMAGES")
        ir = _Reader(data, r.pos, r.pos + isz, what)
        r.pos += isz
        name_off, mem_words = ir.take("II")
        img = Image(_string(strtab, name_off, what))
        img.mem_words = mem_words
        n_code = ir.count(4, "code")
        img.code = list(ir.take(f"{n_code}I")) if n_code else []
        code_words = 2 * n_code
        if mem_words > words or code_words > mem_words:
            raise ObjectFormatError(f"{what}: mem_words {mem_words} must be >= code ({code_words}) "
                                    f"and <= SRAM ({words} words)")
        ldsds = []          # (pc, DSD index) of each ldsd, checked once the DSD table is read
        for pc, w in enumerate(img.code):
            d = decode(w, isa)
            if d is None:
                raise ObjectFormatError(f"{what}: pc {pc}: illegal instruction word {w:#010x}")
            if "tgt24" in d.values and d.values["tgt24"] >= n_code:
                raise ObjectFormatError(f"{what}: pc {pc}: jump target {d.values['tgt24']} is outside the code ({n_code})")
            if "off16" in d.values and not 0 <= pc + d.values["off16"] < n_code:
                raise ObjectFormatError(f"{what}: pc {pc}: branch target {pc + d.values['off16']} is outside the code")
            if "dsdidx" in d.values:
                ldsds.append((pc, d.values["dsdidx"]))
        n_chunk = ir.count(8, "chunk")
        for _ in range(n_chunk):
            addr, n = ir.take("II")
            if addr < code_words or addr + n > mem_words:
                raise ObjectFormatError(f"{what}: data chunk [{addr}, {addr + n}) is outside "
                                        f"[{code_words}, {mem_words})")
            vals = list(ir.take(f"{n}H")) if n else []
            if n % 2:
                ir.take("2x")
            img.chunks.append((addr, vals))
        n_dsd = ir.count(32, "DSD")
        for di in range(n_dsd):
            kind, color, ndim, rz, base, l0, l1, l2, l3, rz2, s0, s1, s2, s3, noff = ir.take("BBBBII3HH4hI")
            if rz or rz2:
                raise ObjectFormatError(f"{what}: DSD {di}: reserved fields are not 0")
            if kind not in (1, 2, 3, 4):
                raise ObjectFormatError(f"{what}: DSD {di}: unknown kind {kind}")
            if not 1 <= ndim <= (4 if kind == DSD_MEM4D else 1):
                raise ObjectFormatError(f"{what}: DSD {di}: ndim {ndim} is invalid for its kind")
            if kind in (DSD_FABIN, DSD_FABOUT) and color >= ncol:
                raise ObjectFormatError(f"{what}: DSD {di}: color {color} is not 0..{ncol - 1}")
            lens, strides = (l0, l1, l2, l3), (s0, s1, s2, s3)
            fab = kind in (DSD_FABIN, DSD_FABOUT)
            if (any((k and lens[k] != 1) or strides[k] for k in range(ndim, 4))
                    or (fab and (base or s0)) or (not fab and color)):
                raise ObjectFormatError(f"{what}: DSD {di}: unused fields must be 0 (lengths 1)")
            if kind in (DSD_MEM1D, DSD_MEM4D) and base >= words:
                raise ObjectFormatError(f"{what}: DSD {di}: base {base} is outside SRAM")
            zero = next((k for k in range(1, ndim) if lens[k] == 0), None) if kind == DSD_MEM4D else None
            if zero is not None:
                raise ObjectFormatError(f"{what}: DSD {di}: dimension {zero} of the mem4d has length 0 (only "
                                        f"dimension 0 may: wse-as never writes that); re-assemble the "
                                        f"source with wse-as")
            name = ""
            if noff:
                # a name is a whole string (not the tail of another) and an identifier, so that
                # wse-objdump prints it back as source
                if noff >= len(strtab) or strtab[noff - 1] != 0:
                    raise ObjectFormatError(f"{what}: DSD {di}: name offset {noff} is not the start "
                                            f"of a string in STRTAB ({len(strtab)} bytes)")
                name = _ident(_string(strtab, noff, f"{what}: DSD {di}"), f"{what}: DSD {di}")
            img.dsds.append(Dsd(kind, color, base, (l0, l1, l2, l3), (s0, s1, s2, s3), ndim, name))
        # the table is fixed at load, so an ldsd past it could never load anything
        for pc, idx in ldsds:
            if idx >= n_dsd:
                raise ObjectFormatError(f"{what}: pc {pc}: ldsd loads DSD {idx}, past the image's DSD table "
                                        f"({n_dsd} entries): wse-as never writes that; re-assemble the "
                                        f"source with wse-as")
        n_task = ir.count(8, "task")
        seen = set()
        data_colors = set()
        for _ in range(n_task):
            tid, kind, color, fl, entry = ir.take("BBBBI")
            if tid >= ntid or tid in seen:
                raise ObjectFormatError(f"{what}: task id {tid} is out of range or listed twice")
            seen.add(tid)
            if kind > 2 or (color >= ncol if kind == 1 else color != 255) or fl & ~3:
                raise ObjectFormatError(f"{what}: task {tid}: bad kind/color/flags")
            if kind == 1 and fl & 1:
                raise ObjectFormatError(f"{what}: task {tid}: a data task cannot be activated at load (flags "
                                        f"bit 0): it runs once per wavelet of its color, and wse-as refuses "
                                        f"`start` on one; re-assemble the source with wse-as")
            if entry >= max(n_code, 1) or n_code == 0:
                raise ObjectFormatError(f"{what}: task {tid}: entry {entry} is outside the code")
            if kind == 1:
                if color in data_colors:
                    raise ObjectFormatError(f"{what}: task {tid}: color {color} already has a data task")
                data_colors.add(color)
            img.tasks.append(Task(tid, kind, entry, color, bool(fl & 1), bool(fl & 2)))
        n_route = ir.count(12, "route")
        seen = set()
        for _ in range(n_route):
            color, npos, iq, oq, *p = ir.take("BBBB8B")
            if color >= ncol or color in seen or not 1 <= npos <= 4 or iq > 7 or oq > 7:
                raise ObjectFormatError(f"{what}: route for color {color}: bad color, positions or queues")
            if any(v > 31 for v in p):
                raise ObjectFormatError(f"{what}: route for color {color}: port mask out of range")
            if any(p[2 * npos:]):
                raise ObjectFormatError(f"{what}: route for color {color}: unused positions must be 0")
            seen.add(color)
            img.routes.append(Route(color, tuple((p[2 * i], p[2 * i + 1]) for i in range(npos)), iq, oq))
        if ir.pos != ir.end:
            raise ObjectFormatError(f"{what}: {ir.end - ir.pos} unexpected bytes at the end of the record")
        images.append(img)
    if r.pos + 3 < r.end:
        raise ObjectFormatError(f"IMAGES: {r.end - r.pos} unexpected bytes at the end of the section")

    # placement
    r = _Reader(data, *secs[SEC_PLACEMENT], "PLACEMENT")
    n = r.count(12, "rectangle")
    placement = []
    taken = set()
    for _ in range(n):
        x, y, w, h, img = r.take("HHHHI")
        if img >= len(images) or w == 0 or h == 0 or x + w > width or y + h > height:
            raise ObjectFormatError(f"PLACEMENT: rectangle ({x},{y}) {w}x{h} -> image {img} is invalid")
        for yy in range(y, y + h):
            for xx in range(x, x + w):
                if (xx, yy) in taken:
                    raise ObjectFormatError(f"PLACEMENT: PE ({xx},{yy}) is placed twice")
                taken.add((xx, yy))
        placement.append((x, y, w, h, img))
    if r.pos != r.end:
        raise ObjectFormatError("PLACEMENT: unexpected bytes at the end of the section")

    r = _Reader(data, *secs[SEC_SYMBOLS], "SYMBOLS")
    n = r.count(20, "symbol")
    prev = None
    for _ in range(n):
        name, img, value, count, typ = r.take("IIIIB3x")
        if img >= len(images) or typ not in SYM_TYPES:
            raise ObjectFormatError(f"SYMBOLS: bad image {img} or type {typ}")
        sname = _ident(_string(strtab, name, "SYMBOLS"), "SYMBOLS")
        if sname in reserved:
            raise ObjectFormatError(f"SYMBOLS: the name '{sname}' is reserved (a register, microthread "
                                    f"or built-in): the assembler cannot define it")
        # strictly increasing (image, name): sorted, and no name twice in an image (a lookup by
        # name would find either)
        if prev is not None and (img, sname.encode()) <= prev:
            raise ObjectFormatError(f"SYMBOLS: entries are not sorted by (image, name), or a name repeats "
                                    f"in an image (image {img}, {sname!r})")
        prev = (img, sname.encode())
        if typ == SYM_CODES["task"]:
            if value >= ntid or count:
                raise ObjectFormatError(f"SYMBOLS: task symbol with id {value} and count {count} (must be 0)")
        else:
            e = 2 if SYM_TYPES[typ] in ("f32", "u32") else 1
            if value + count * e > words or (e == 2 and value % 2):
                raise ObjectFormatError(f"SYMBOLS: symbol at {value} with {count} elements is outside "
                                        f"SRAM or misaligned")
        images[img].symbols.append(Symbol(sname, SYM_TYPES[typ], value, count))
    if r.pos != r.end:
        raise ObjectFormatError("SYMBOLS: unexpected bytes at the end of the section")
    # every task has a task symbol naming it (wse-as names every task; wse-objdump declares a
    # task under its symbol, and a made-up name would add one)
    for ii, im in enumerate(images):
        named = {s.value for s in im.symbols if s.type == "task"}
        for t in sorted(t.id for t in im.tasks):
            if t not in named:
                raise ObjectFormatError(f"SYMBOLS: image {ii}: task {t} has no task symbol "
                                        f"(wse-as names every task)")

    # the invocation chains, read before LINES, which refers to them
    r = _Reader(data, *secs[SEC_EXPANSIONS], "EXPANSIONS")
    n = r.count(24, "expansion")
    chains: list[tuple] = [()]          # index 0: outside any macro
    for k in range(1, n + 1):
        m, f, line, col, parent, it = r.take("IIIIII")
        macro = _string(strtab, m, "EXPANSIONS")
        if macro:
            _ident(macro, "EXPANSIONS")
            if it:
                raise ObjectFormatError(f"EXPANSIONS: record {k} (macro {macro!r}) has iteration {it}, "
                                        f"not 0")
        fname = _string(strtab, f, "EXPANSIONS")
        if not fname:
            raise ObjectFormatError(f"EXPANSIONS: record {k} (macro {macro!r}) has no file")
        if parent >= k:
            raise ObjectFormatError(f"EXPANSIONS: record {k} names parent {parent}, which is not an "
                                    f"earlier record")
        chains.append(((macro or f".rep[{it}]", fname, line, col),) + chains[parent])
    if r.pos != r.end:
        raise ObjectFormatError("EXPANSIONS: unexpected bytes at the end of the section")

    r = _Reader(data, *secs[SEC_LINES], "LINES")
    n = r.count(24, "line")
    for _ in range(n):
        img, pc, f, line, col, via = r.take("IIIIII")
        if img >= len(images) or pc >= len(images[img].code):
            raise ObjectFormatError(f"LINES: image {img} pc {pc} does not exist")
        prev = images[img].lines
        if prev and prev[-1].pc >= pc:
            raise ObjectFormatError(f"LINES: image {img}: entries are not sorted by pc")
        fname = _string(strtab, f, "LINES")
        if not fname and (line or col):
            raise ObjectFormatError(f"LINES: image {img} pc {pc}: a record with no file has line and "
                                    f"column 0, not {line}:{col}")
        if via >= len(chains) or (via and not fname):
            raise ObjectFormatError(f"LINES: image {img} pc {pc}: expansion {via} does not exist "
                                    f"({len(chains) - 1} records) or the record has no file")
        images[img].lines.append(Line(pc, fname, line, col, chains[via]))
    if r.pos != r.end:
        raise ObjectFormatError("LINES: unexpected bytes at the end of the section")
    return ObjectFile(ARCHES[arch], width, height, images, placement)


def memory_runs(img: Image) -> list[tuple[int, list[int]]]:
    """The words the image's data chunks put in SRAM, as both loaders write them (chunk by chunk,
    in order: where chunks overlap, the later one's words are the ones left), as maximal runs of
    consecutive written words sorted by address. Chunks of 0 words write nothing. For the chunks
    wse-as writes (sorted, disjoint, none empty) the runs are the chunks, adjacent ones merged."""
    mem: dict[int, int] = {}
    for addr, words in img.chunks:
        for i, w in enumerate(words):
            mem[addr + i] = w
    runs: list[tuple[int, list[int]]] = []
    for a in sorted(mem):
        if runs and runs[-1][0] + len(runs[-1][1]) == a:
            runs[-1][1].append(mem[a])
        else:
            runs.append((a, [mem[a]]))
    return runs


def chunks_as_written(img: Image) -> bool:
    """Whether the chunks are as wse-as writes them: none empty, each after the end of the one
    before it (so `.org` + `.u16` lines reproduce them exactly)."""
    end = 0
    for addr, words in img.chunks:
        if not words or addr < end:
            return False
        end = addr + len(words)
    return True


def loaded_form(obj: ObjectFile) -> tuple:
    """What the emulators read of an object, with nothing else: the arch and fabric size, and
    for each placed PE its image's name, code, mem_words, the SRAM words its chunks set to a
    value other than 0 (SRAM starts as zeros), DSDs, tasks, routes, symbols, and the source
    position of each pc (file, line, col, via) or None. Two objects with equal forms run the
    same: images placed nowhere, how PEs share images, the order of placement rectangles, how
    chunks split or overlap, LINES records that change no pc's position and STRTAB bytes no
    field names make no difference to them. wse-objdump's listing re-assembles to an object
    with the same form (docs/object-format.md: the round trip)."""
    views = []
    for img in obj.images:
        mem = tuple((a + k, w) for a, ws in memory_runs(img) for k, w in enumerate(ws) if w)
        pos, k, cur = [], 0, None
        for pc in range(len(img.code)):
            while k < len(img.lines) and img.lines[k].pc <= pc:
                ln = img.lines[k]
                cur = (ln.file, ln.line, ln.col, ln.via) if ln.file else None
                k += 1
            pos.append(cur)
        views.append((img.name, tuple(img.code), img.mem_words, mem, tuple(img.dsds), tuple(img.tasks),
                      tuple(img.routes), tuple(sorted(img.symbols, key=lambda s: s.name)), tuple(pos)))
    pes = tuple(((x, y), views[i]) for y, row in enumerate(obj.pe_grid()) for x, i in enumerate(row) if i >= 0)
    return (obj.arch, obj.width, obj.height, pes)


def line_for(img: Image, pc: int) -> Line | None:
    """The source line covering pc (the last entry with entry.pc <= pc); None when there is
    none or it has an empty file (which marks instructions without a position: a bare .loc)."""
    best = None
    for ln in img.lines:
        if ln.pc <= pc:
            best = ln
        else:
            break
    return best if best is not None and best.file else None
