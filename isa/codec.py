"""Encode and decode instruction words, and print them as assembly (the disassembler).

Everything here is driven by the table in isa.toml: there is no second list of formats.
"""
from __future__ import annotations

from dataclasses import dataclass

from .table import DSR_FILES, DSRS_PER_FILE, Insn, Isa, load


class EncodeError(ValueError):
    """A value does not fit its field. The message gives the value and the legal range."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


ACT_NAMES = {2: "activate", 3: "unblock"}


@dataclass(frozen=True)
class Decoded:
    insn: Insn
    values: dict  # field name -> int

    def __getitem__(self, name: str) -> int:
        return self.values[name]


def _fmt_range(lo: int, hi: int) -> str:
    return f"{lo}..{hi} ({lo:#x}..{hi:#x})" if hi > 9 else f"{lo}..{hi}"


def encode(insn: Insn, values: dict, isa: Isa | None = None) -> int:
    """Encode `insn` with field values (field name -> int). Missing async fields are 0."""
    isa = isa or load()
    word = insn.match
    for name in insn.field_names:
        f = isa.fields[name]
        v = values.get(name, 0 if name in ("act", "ut", "tid") else None)
        if v is None:
            raise EncodeError(f"{insn.key}: operand {name} is missing", name)
        lo, hi = f.range
        if f.kind == "color":
            hi = min(hi, isa.max_colors - 1)
        elif f.kind == "dsr":
            hi = min(hi, isa.n_dsrs - 1)
        if not lo <= v <= hi:
            raise EncodeError(f"{insn.mnemonic}: {name} = {v} is out of range; legal: "
                              f"{_fmt_range(lo, hi)}", name)
        word |= f.insert(v)
    act = values.get("act", 0)
    if "act" in insn.field_names:
        if act == 0 and (values.get("ut", 0) or values.get("tid", 0)):
            raise EncodeError(f"{insn.mnemonic}: a synchronous op has no microthread or task", "ut")
        if act == 1 and values.get("tid", 0):
            raise EncodeError(f"{insn.mnemonic}: an async op without an action has no task", "tid")
    return word


def decode(word: int, isa: Isa | None = None) -> Decoded | None:
    """Decode a 32-bit word; None when no instruction matches (an illegal instruction)."""
    isa = isa or load()
    for insn in isa.candidates(word):
        if word & insn.mask == insn.match:
            values = {n: isa.fields[n].extract(word) for n in insn.field_names}
            if "act" in values:
                if values["act"] == 0 and (values["ut"] or values["tid"]):
                    return None
                if values["act"] == 1 and values["tid"]:
                    return None
            if "color" in values and values["color"] >= isa.max_colors:
                return None
            if "dsr" in values and values["dsr"] >= isa.n_dsrs:
                return None
            return Decoded(insn, values)
    return None


def dsr_name(v: int, isa: Isa | None = None) -> str:
    """The assembly name of `dsr` field value v (file * DSRS_PER_FILE + index), e.g. a3."""
    isa = isa or load()
    return f"{isa.regfiles[DSR_FILES[v // DSRS_PER_FILE]].prefix}{v % DSRS_PER_FILE}"


def format_insn(d: Decoded, pc: int | None = None, task_names: dict | None = None,
                labels: dict | None = None, isa: Isa | None = None,
                dsd_names: dict | None = None) -> str:
    """Print one decoded instruction as assembly that re-assembles to the same word.

    labels maps instruction index -> label text for branch and jump targets; task_names maps
    task id -> name; dsd_names maps DSD table index -> name (the `ldsd` operand).
    """
    isa = isa or load()
    task_names = task_names or {}
    labels = labels or {}
    dsd_names = dsd_names or {}
    parts: list[str] = []
    suffix = ""
    for op in d.insn.operands:
        if op.kind == "mem":
            r, off = op.fields
            o = d.values[off]
            sign = "-" if o < 0 else "+"
            parts.append(f"[r{d.values[r]} {sign} {abs(o)}]" if o else f"[r{d.values[r]}]")
            continue
        if op.kind == "async":
            act, ut, tid = d.values["act"], d.values["ut"], d.values["tid"]
            if act:
                suffix = f" async ut{ut}"
                if act >= 2:
                    suffix += f" {ACT_NAMES[act]} {task_names.get(tid, tid)}"
            continue
        name = op.fields[0]
        f = isa.fields[name]
        v = d.values[name]
        if f.kind == "gpr":
            parts.append(f"r{v}")
        elif f.kind == "dsr":
            parts.append(dsr_name(v, isa))
        elif f.kind in DSR_FILES:
            parts.append(f"{isa.regfiles[f.kind].prefix}{v}")
        elif f.kind == "task":
            parts.append(str(task_names.get(v, v)))
        elif name == "dsdidx":
            parts.append(str(dsd_names.get(v, v)))
        elif name == "off16" and pc is not None and (pc + v) in labels:
            parts.append(labels[pc + v])
        elif name == "off16":
            parts.append(f".{v:+d}")  # "." is this instruction's index
        elif name == "tgt24" and v in labels:
            parts.append(labels[v])
        elif f.kind == "u" and name in ("uimm16",) and v > 9:
            parts.append(f"{v:#x}")
        else:
            parts.append(str(v))
    text = d.insn.mnemonic
    if parts:
        text += " " + ", ".join(parts)
    return text + suffix


def disassemble(word: int, pc: int | None = None, **kw) -> str:
    d = decode(word)
    if d is None:
        return f".word {word:#010x}  ; illegal instruction"
    return format_insn(d, pc, **kw)
