"""Load and validate the ISA table (isa.toml).

The table is validated as it is loaded, in the spirit of riscv-opcodes: every bit of every
encoding is assigned exactly once, every fixed value fits its range, every field exists, and no
two encodings can match the same word unless they are declared aliases. A violation raises
:class:`IsaError`; nothing here exits the process.
"""
from __future__ import annotations

import functools
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


class IsaError(Exception):
    """The ISA table is inconsistent. The message names the instruction and the problem."""


FIELD_KINDS = {"u", "s", "gpr", "dsr", "dsr_d", "dsr_a", "dsr_b", "color", "task", "ut", "act"}
ELEM_TYPES = {"h": 1, "s": 2, "u16": 1, "u32": 2}  # element size in 16-bit words
TENSOR_FORMS = {
    ("dd", "da", "db"): "vv",
    ("dd", "da", "rs"): "vs",
    ("dd", "da"): "v",
    ("dd", "rs"): "s",
    ("dd", "da", "db", "rs"): "vvs",
}
# The deepest queue a preset may ask for: the emulator core's per-color rings hold this many
# wavelets (csrc/wse_internal.h QCAP, from WSE_MAX_QUEUE_DEPTH in the generated header; a power
# of two).
MAX_QUEUE_DEPTH = 8
# The DSR files in `dsr` field order: a `dsr` field holds file * DSRS_PER_FILE + index.
DSR_FILES = ("dsr_d", "dsr_a", "dsr_b")
DSRS_PER_FILE = 8
PRESET_KEYS = ("clock_hz", "sram_bytes", "sram_banks", "colors", "task_ids", "microthreads",
               "iq_depth", "oq_depth", "router_depth", "hop_latency", "task_switch", "simd")


@dataclass(frozen=True)
class Field:
    name: str
    hi: int
    lo: int
    kind: str
    doc: str

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1

    @property
    def signed(self) -> bool:
        return self.kind == "s"

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lo

    @property
    def range(self) -> tuple[int, int]:
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1

    def extract(self, word: int) -> int:
        v = (word >> self.lo) & ((1 << self.width) - 1)
        if self.signed and v >> (self.width - 1):
            v -= 1 << self.width
        return v

    def insert(self, value: int) -> int:
        return (value & ((1 << self.width) - 1)) << self.lo


@dataclass(frozen=True)
class Operand:
    """One syntactic operand. kind is 'field', 'mem' (register + offset) or 'async'."""
    kind: str
    fields: tuple[str, ...]

    @property
    def text(self) -> str:
        if self.kind == "mem":
            return f"[{self.fields[0]} + {self.fields[1]}]"
        if self.kind == "async":
            return "[async utN [activate|unblock T]]"
        return self.fields[0]


@dataclass(frozen=True)
class Insn:
    mnemonic: str
    key: str              # unique name of this encoding, e.g. "faddh.vs"
    operands: tuple[Operand, ...]
    fixed: tuple[tuple[int, int, int], ...]   # (hi, lo, value)
    cls: str
    sem: str
    sync: bool
    types: tuple[str | None, str | None, str | None] | None  # tensor ops: dst, src0, src1
    form: str | None      # tensor ops: vv, vs, v, s, vvs
    mask: int
    match: int
    aliases: tuple[str, ...] = ()

    @property
    def opcode(self) -> int:
        return (self.match >> 24) & 0xFF

    @property
    def is_tensor(self) -> bool:
        return self.types is not None

    @property
    def field_names(self) -> tuple[str, ...]:
        out: list[str] = []
        for op in self.operands:
            out.extend(op.fields)
        return tuple(out)

    @property
    def c_name(self) -> str:
        return self.key.upper().replace(".", "_")


@dataclass(frozen=True)
class Pseudo:
    mnemonic: str
    operands: tuple[str, ...]
    expand: tuple[str, ...]
    sem: str


@dataclass(frozen=True)
class RegFile:
    name: str
    count: int
    prefix: str
    doc: str
    aliases: dict = field(default_factory=dict)
    width: int | None = None


@dataclass(frozen=True)
class CostClass:
    name: str
    tensor: bool
    cycles: int | None
    doc: str


@dataclass(frozen=True)
class Preset:
    name: str
    doc: str
    clock_hz: int
    sram_bytes: int
    sram_banks: int
    colors: int
    task_ids: int
    microthreads: int
    iq_depth: tuple[int, ...]
    oq_depth: tuple[int, ...]
    router_depth: int
    hop_latency: int
    task_switch: int
    simd: dict

    @property
    def sram_words(self) -> int:
        return self.sram_bytes // 2

    def tensor_cycles(self, cls: str, n: int, unit_stride: bool = True) -> int:
        width = self.simd[cls] if unit_stride else 1
        return max(1, math.ceil(n / width))


@dataclass(frozen=True)
class DsdKind:
    name: str
    code: int
    doc: str


class Isa:
    """The validated instruction set."""

    def __init__(self, version, fields, regfiles, dsd_kinds, classes, presets, insns, pseudos,
                 source: str):
        self.version: int = version
        self.fields: dict[str, Field] = fields
        self.regfiles: dict[str, RegFile] = regfiles
        self.dsd_kinds: dict[str, DsdKind] = dsd_kinds
        self.classes: dict[str, CostClass] = classes
        self.presets: dict[str, Preset] = presets
        self.insns: tuple[Insn, ...] = insns
        self.pseudos: dict[str, Pseudo] = pseudos
        self.source = source
        # capacities the encodings, the object format and the emulator core are sized for: the
        # largest count of any preset (a loader checks an object against its own preset's count)
        self.max_colors = max(p.colors for p in presets.values())
        self.max_task_ids = max(p.task_ids for p in presets.values())
        self.max_microthreads = max(p.microthreads for p in presets.values())
        self.n_dsrs = sum(regfiles[f].count for f in DSR_FILES)
        self.by_key = {i.key: i for i in insns}
        self.by_mnemonic: dict[str, list[Insn]] = {}
        for i in insns:
            self.by_mnemonic.setdefault(i.mnemonic, []).append(i)
        self._by_opcode: dict[int, list[Insn]] = {}
        for i in insns:
            self._by_opcode.setdefault(i.opcode, []).append(i)

    def candidates(self, word: int) -> list[Insn]:
        return self._by_opcode.get((word >> 24) & 0xFF, [])

    @property
    def mnemonics(self) -> list[str]:
        return sorted(set(self.by_mnemonic) | set(self.pseudos))


_RANGE = re.compile(r"^\s*(\d+)\.\.(\d+)\s*=\s*(0x[0-9a-fA-F]+|0b[01]+|\d+)\s*$")
_BITS = re.compile(r"^(\d+)\.\.(\d+)$")


def _parse_bits(text: str, where: str) -> tuple[int, int]:
    m = _BITS.match(text.strip())
    if not m:
        raise IsaError(f"{where}: bit range {text!r} is not of the form HI..LO")
    hi, lo = int(m.group(1)), int(m.group(2))
    if not 31 >= hi >= lo >= 0:
        raise IsaError(f"{where}: bit range {text!r} must satisfy 31 >= HI >= LO >= 0")
    return hi, lo


def _parse_operands(text: str, fields: dict[str, Field], where: str) -> tuple[Operand, ...]:
    ops: list[Operand] = []
    text = text.strip()
    if not text:
        return ()
    for part in re.split(r",(?![^()]*\))", text):
        part = part.strip()
        m = re.fullmatch(r"mem\((\w+),(\w+)\)", part.replace(" ", ""))
        if m:
            ops.append(Operand("mem", (m.group(1), m.group(2))))
        elif part == "async":
            ops.append(Operand("async", ("act", "ut", "tid")))
        else:
            ops.append(Operand("field", (part,)))
    for op in ops:
        for f in op.fields:
            if f not in fields:
                raise IsaError(f"{where}: operand field {f!r} is not in [fields]")
    if any(op.kind == "async" for op in ops[:-1]):
        raise IsaError(f"{where}: the async clause must be the last operand")
    return tuple(ops)


def parse(text: str, source: str = "<isa>") -> Isa:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise IsaError(f"{source}: not valid TOML: {e}") from None

    # fields
    fields: dict[str, Field] = {}
    for name, spec in data.get("fields", {}).items():
        hi, lo = _parse_bits(spec.get("bits", ""), f"field {name}")
        kind = spec.get("kind")
        if kind not in FIELD_KINDS:
            raise IsaError(f"field {name}: unknown kind {kind!r} (one of {sorted(FIELD_KINDS)})")
        fields[name] = Field(name, hi, lo, kind, spec.get("doc", ""))
    if "op" not in fields or (fields["op"].hi, fields["op"].lo) != (31, 24):
        raise IsaError("field op must exist and be bits 31..24")

    regfiles = {}
    for name, spec in data.get("regfiles", {}).items():
        regfiles[name] = RegFile(name, int(spec["count"]), spec["prefix"], spec.get("doc", ""),
                                 dict(spec.get("aliases", {})), spec.get("width"))
    for need in ("gpr",) + DSR_FILES:
        if need not in regfiles:
            raise IsaError(f"register file {need!r} is missing")
    for name in DSR_FILES:
        if regfiles[name].count != DSRS_PER_FILE:
            raise IsaError(f"register file {name}: count must be {DSRS_PER_FILE} (a `dsr` field "
                           f"encodes file * {DSRS_PER_FILE} + index)")

    dsd_kinds = {n: DsdKind(n, int(s["code"]), s.get("doc", ""))
                 for n, s in data.get("dsd_kinds", {}).items()}
    classes = {n: CostClass(n, bool(s.get("tensor", False)), s.get("cycles"), s.get("doc", ""))
               for n, s in data.get("classes", {}).items()}

    presets = {}
    for name, spec in data.get("presets", {}).items():
        missing = [k for k in PRESET_KEYS if k not in spec]
        if missing:
            raise IsaError(f"preset {name}: missing {', '.join(missing)}")
        tensor_classes = {c for c, v in classes.items() if v.tensor}
        simd = dict(spec["simd"])
        if set(simd) != tensor_classes:
            raise IsaError(f"preset {name}: simd widths must name exactly the tensor classes "
                           f"{sorted(tensor_classes)}; got {sorted(simd)}")
        for q in ("iq_depth", "oq_depth"):
            if len(spec[q]) != 8 or any(not 1 <= d <= MAX_QUEUE_DEPTH for d in spec[q]):
                raise IsaError(f"preset {name}: {q} must be 8 depths in 1..{MAX_QUEUE_DEPTH} "
                               f"(the emulator core's queue rings hold {MAX_QUEUE_DEPTH} wavelets)")
        if not 1 <= int(spec["router_depth"]) <= MAX_QUEUE_DEPTH:
            raise IsaError(f"preset {name}: router_depth must be in 1..{MAX_QUEUE_DEPTH} "
                           f"(the emulator core's queue rings hold {MAX_QUEUE_DEPTH} wavelets)")
        presets[name] = Preset(name, spec.get("doc", ""), int(spec["clock_hz"]),
                               int(spec["sram_bytes"]), int(spec["sram_banks"]),
                               int(spec["colors"]), int(spec["task_ids"]),
                               int(spec["microthreads"]), tuple(spec["iq_depth"]),
                               tuple(spec["oq_depth"]), int(spec["router_depth"]),
                               int(spec["hop_latency"]), int(spec["task_switch"]), simd)
    if "wse2" not in presets or "wse3" not in presets:
        raise IsaError("presets wse2 and wse3 are required")
    # a preset's counts must fit the fields that name them and the emulator core's bit masks
    # (csrc/wse_internal.h: colors in a uint32_t mask that is rotated by the color count, so
    # fewer than 32; tasks in a uint64_t; microthreads in a uint8_t)
    for key, kind, core in (("colors", "color", 31), ("task_ids", "task", 64), ("microthreads", "ut", 8)):
        fbits = [f.width for f in fields.values() if f.kind == kind]
        cap = min([core] + [1 << b for b in fbits])
        for p in presets.values():
            if not 1 <= getattr(p, key) <= cap:
                raise IsaError(f"preset {p.name}: {key} = {getattr(p, key)} must be in 1..{cap} (what "
                               f"the {kind} fields and the emulator core's bit masks hold)")

    insns: list[Insn] = []
    keys: set[str] = set()
    raw = data.get("insn", [])
    counts: dict[str, int] = {}
    for spec in raw:
        counts[spec.get("m", "")] = counts.get(spec.get("m", ""), 0) + 1
    for idx, spec in enumerate(raw):
        m = spec.get("m")
        if not m or not re.fullmatch(r"[a-z][a-z0-9]*", m):
            raise IsaError(f"insn #{idx}: mnemonic {m!r} must be lower-case letters and digits")
        where = f"insn {m} (#{idx})"
        ops = _parse_operands(spec.get("ops", ""), fields, where)
        cls = spec.get("cls")
        if cls not in classes:
            raise IsaError(f"{where}: unknown class {cls!r}")
        owner = [None] * 32
        mask = match = 0
        for op in ops:
            for fname in op.fields:
                f = fields[fname]
                for b in range(f.lo, f.hi + 1):
                    if owner[b] is not None:
                        raise IsaError(f"{where}: bit {b} is assigned twice ({owner[b]} and {fname})")
                    owner[b] = fname
        for part in spec.get("fixed", "").split(","):
            if not part.strip():
                continue
            mm = _RANGE.match(part)
            if not mm:
                raise IsaError(f"{where}: fixed range {part.strip()!r} is not HI..LO=VALUE")
            hi, lo, val = int(mm.group(1)), int(mm.group(2)), int(mm.group(3), 0)
            if not 31 >= hi >= lo >= 0:
                raise IsaError(f"{where}: fixed range {part.strip()!r} out of 31..0")
            if val >= 1 << (hi - lo + 1):
                raise IsaError(f"{where}: value {val:#x} does not fit bits {hi}..{lo} "
                               f"(max {(1 << (hi - lo + 1)) - 1:#x})")
            for b in range(lo, hi + 1):
                if owner[b] is not None:
                    raise IsaError(f"{where}: bit {b} is assigned twice ({owner[b]} and fixed {hi}..{lo})")
                owner[b] = f"fixed {hi}..{lo}"
            w = (1 << (hi - lo + 1)) - 1
            mask |= w << lo
            match |= val << lo
        unassigned = [b for b in range(32) if owner[b] is None]
        if unassigned:
            raise IsaError(f"{where}: bits {unassigned[::-1]} are not assigned")
        if (mask >> 24) & 0xFF != 0xFF:
            raise IsaError(f"{where}: the opcode bits 31..24 must be fixed")
        types = None
        form = None
        if classes[cls].tensor:
            t = spec.get("t")
            if not t:
                raise IsaError(f"{where}: a tensor op needs t = 'dst,src0,src1' element types")
            parts = [p.strip() for p in t.split(",")]
            if len(parts) != 3 or any(p != "-" and p not in ELEM_TYPES for p in parts):
                raise IsaError(f"{where}: t must be three of {sorted(ELEM_TYPES)} or '-'")
            types = tuple(None if p == "-" else p for p in parts)
            plain = tuple(op.fields[0] for op in ops if op.kind == "field")
            form = TENSOR_FORMS.get(plain)
            if form is None:
                raise IsaError(f"{where}: tensor operands {plain} are not a known form")
            if not ops or ops[-1].kind != "async":
                raise IsaError(f"{where}: a tensor op must end with the async clause")
        elif "t" in spec:
            raise IsaError(f"{where}: only tensor ops have element types")
        key = m if counts[m] == 1 else f"{m}.{form or idx}"
        if key in keys:
            raise IsaError(f"{where}: duplicate encoding name {key}")
        keys.add(key)
        insns.append(Insn(m, key, ops, (), cls, spec.get("sem", ""),
                          bool(spec.get("sync", False)), types, form, mask, match,
                          tuple(spec.get("aliases", ()))))

    # overlap check
    by_op: dict[int, list[Insn]] = {}
    for i in insns:
        by_op.setdefault(i.opcode, []).append(i)
    for group in by_op.values():
        for a_i, a in enumerate(group):
            for b in group[a_i + 1:]:
                if (a.match ^ b.match) & a.mask & b.mask == 0:
                    if b.key in a.aliases or a.key in b.aliases:
                        continue
                    raise IsaError(f"encodings {a.key} and {b.key} overlap: a word can match both "
                                   f"(opcode {a.opcode:#04x}); list them as aliases or change one")

    pseudos = {}
    mnems = {i.mnemonic for i in insns}
    for spec in data.get("pseudo", []):
        m = spec["m"]
        if m in mnems:
            raise IsaError(f"pseudo {m}: shadows a real instruction")
        for line in spec["expand"]:
            head = line.split()[0]
            if head not in mnems:
                raise IsaError(f"pseudo {m}: expansion uses unknown instruction {head!r}")
        pseudos[m] = Pseudo(m, tuple(p.strip() for p in spec.get("ops", "").split(",") if p.strip()),
                            tuple(spec["expand"]), spec.get("sem", ""))

    return Isa(int(data.get("version", 0)), fields, regfiles, dsd_kinds, classes, presets,
               tuple(insns), pseudos, source)


def table_path() -> Path:
    return Path(str(resources.files("wse.isa").joinpath("isa.toml")))


@functools.lru_cache(maxsize=1)
def load() -> Isa:
    """The project's ISA, loaded and validated once."""
    path = table_path()
    return parse(path.read_text(encoding="utf-8"), str(path))
