"""wse-objdump: print an object file as assembly that wse-as turns back into the same bytes
(for a file in a form wse-as never writes, into an equivalent one: the same
wse.isa.objfile.loaded_form; docs/object-format.md, "Forms wse-as never writes").

Every image becomes a `.program` (named after the image; `image_N` plus the image name as a
string when names repeat), followed by the `.place` lines of the PLACEMENT section. Code is
printed with `.loc` lines that reproduce the LINES section, branch targets as `.+N`, data
chunks as `.org` + `.u16` words (chunks that overlap, go back or are empty: the words they leave in
SRAM), exported symbols as constants plus `.export NAME, TYPE, COUNT`.
"""
from __future__ import annotations

import re

from wse.isa import load
from wse.isa import objfile as of
from wse.isa.codec import decode, format_insn

from .diag import AssemblyError, Diagnostic
from .expr import RESERVED

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
PORT_NAMES = ("north", "east", "south", "west", "ramp")
KIND_NAMES = {0: "local", 1: "data", 2: "control"}


def quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def ports(mask: int) -> str:
    if mask == 0:
        return "0"
    names = [n for i, n in enumerate(PORT_NAMES) if mask & (1 << i)]
    return "|".join(names)


def _ok_ident(name: str) -> bool:
    return bool(_IDENT.match(name)) and name not in RESERVED


class _Names:
    def __init__(self, taken):
        self.taken = set(taken)

    def fresh(self, base):
        n = base
        i = 0
        while n in self.taken or not _ok_ident(n):
            i += 1
            n = f"{base}_{i}"
        self.taken.add(n)
        return n


def disassemble(data: bytes) -> str:
    try:
        obj = of.read(bytes(data))
    except of.ObjectFormatError as e:
        raise AssemblyError([Diagnostic(None, None, None, 0, f"not a valid object file: {e}")]) from None
    isa = load()
    out = [f"; wse-objdump: {len(obj.images)} image(s), fabric {obj.width}x{obj.height}, arch {obj.arch}",
           f".arch {obj.arch}", f".fabric {obj.width}, {obj.height}", ""]
    counts = {}
    for img in obj.images:
        counts[img.name] = counts.get(img.name, 0) + 1
    prog_names = _Names(set())
    labels = []
    for i, img in enumerate(obj.images):
        if counts[img.name] == 1 and _ok_ident(img.name) and img.name not in prog_names.taken:
            lab = prog_names.fresh(img.name)
        else:
            lab = prog_names.fresh(f"image_{i}")
        labels.append(lab)
        out.extend(_image(img, i, lab, isa))
        out.append("")
    for x, y, w, h, i in obj.placement:
        out.append(f".place {labels[i]}, {x}, {y}, {w}, {h}")
    return "\n".join(out) + "\n"


def _image(img: of.Image, index: int, label: str, isa) -> list[str]:
    head = f".program {label}"
    if label != img.name:
        head += f", {quote(img.name)}"
    out = [head, f"    ; image {index}: {len(img.code)} instructions, {img.mem_words} words of SRAM"]
    sym_names = {s.name for s in img.symbols}
    names = _Names(sym_names)
    task_sym = {}
    for s in img.symbols:
        if s.type == "task" and s.value not in task_sym and any(t.id == s.value for t in img.tasks):
            task_sym[s.value] = s.name
    task_names = {}
    for t in img.tasks:
        task_names[t.id] = task_sym.get(t.id) or names.fresh(f"task_{t.id}")
    for t in img.tasks:
        parts = [task_names[t.id], KIND_NAMES[t.kind]]
        if t.kind == 1:
            parts.append(f"color={t.color}")
        parts.append(f"id={t.id}")
        parts.append(f"entry={t.entry}")
        if t.activated:
            parts.append("start")
        if t.blocked:
            parts.append("blocked")
        out.append("    .task " + ", ".join(parts))
    for r in img.routes:
        pos = ", ".join(f"{ports(rx)} -> {ports(tx)}" for rx, tx in r.positions)
        out.append(f"    .route {r.color}, {pos}, iq={r.iq}, oq={r.oq}")
    # each DSD under its own name; one the program cannot declare as is (a name that repeats in
    # the image, as a macro's local DSD does, or none) under a fresh one, with name="..." giving
    # the name the object stores
    dsd_names = {}
    for k, d in enumerate(img.dsds):
        if d.name and _ok_ident(d.name) and d.name not in names.taken:
            nm = names.fresh(d.name)
            extra = ""
        else:
            nm = names.fresh(d.name or f"dsd_{k}")
            extra = f", name={quote(d.name)}"
        dsd_names[k] = nm
        if d.kind in (of.DSD_FABIN, of.DSD_FABOUT):
            kind = "fabin" if d.kind == of.DSD_FABIN else "fabout"
            out.append(f"    .dsd {nm}, {kind}, color={d.color}, len={d.lens[0]}{extra}")
        elif d.kind == of.DSD_MEM1D:
            out.append(f"    .dsd {nm}, mem1d, base={d.base:#x}, len={d.lens[0]}, stride={d.strides[0]}{extra}")
        else:
            lens = ", ".join(str(v) for v in d.lens[:d.ndim])
            st = ", ".join(str(v) for v in d.strides[:d.ndim])
            out.append(f"    .dsd {nm}, mem4d, base={d.base:#x}, len=[{lens}], stride=[{st}]{extra}")
    # code with .loc
    line_at = {}
    for ln in img.lines:
        line_at[ln.pc] = ln
    if img.code and 0 not in line_at:
        out.append("    .loc")
    for pc, w in enumerate(img.code):
        ln = line_at.get(pc)
        if ln is not None:
            if not ln.file:
                out.append("    .loc")
            else:
                via = "".join(f", {quote(m)}, {quote(f)}, {li}, {co}" for m, f, li, co in ln.via)
                out.append(f"    .loc {quote(ln.file)}, {ln.line}, {ln.col}{via}")
        d = decode(w, isa)
        text = format_insn(d, pc, task_names=task_names, isa=isa, dsd_names=dsd_names) if d else f".word {w:#010x}"
        out.append(f"    {text:<40} ; {pc}: {w:#010x}")
    # data: the chunks as they are when wse-as could have written them; else (chunks that
    # overlap, go back, or are empty: another writer's) the words they leave in SRAM
    chunks = img.chunks if of.chunks_as_written(img) else of.memory_runs(img)
    if chunks or img.mem_words > 2 * len(img.code):
        out.append("    .data")
    if chunks is not img.chunks:
        out.append(f"    ; {len(img.chunks)} data chunks that overlap, go back or are empty: the words they "
                   f"leave in SRAM")
    for addr, words in chunks:
        out.append(f"    .org {addr:#x}")
        for i in range(0, len(words), 8):
            out.append("    .u16 " + ", ".join(f"{v:#06x}" for v in words[i:i + 8]))
    end = max([2 * len(img.code)] + [a + len(w) for a, w in chunks])
    if img.mem_words > end:
        out.append(f"    .org {img.mem_words:#x}")
    for s in sorted(img.symbols, key=lambda s: s.name):
        if s.type == "task" and task_sym.get(s.value) == s.name:
            out.append(f"    .export {s.name}")
        else:
            out.append(f"    {s.name} = {s.value:#x}")
            out.append(f"    .export {s.name}, {s.type}, {s.count}")
    out.append(".endprogram")
    return out
