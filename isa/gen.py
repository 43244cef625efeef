"""Emitters: every file derived from isa.toml.

`python -m wse.isa --write` writes them; `python -m wse.isa --check` fails when a committed
one differs from what the table gives now.
"""
from __future__ import annotations

from pathlib import Path

from . import objfile
from .table import DSRS_PER_FILE, MAX_QUEUE_DEPTH, Isa, load

BANNER = "generated from isa/isa.toml by `python -m wse.isa --write`; do not edit"
ACT = {0: "sync", 1: "async", 2: "async, then activate", 3: "async, then unblock"}
TYPE_CODE = {None: 0, "h": 1, "s": 2, "u16": 3, "u32": 4}
FORM_CODE = {None: 0, "vv": 1, "vs": 2, "v": 3, "s": 4, "vvs": 5}


def c_header(isa: Isa) -> str:
    L: list[str] = []
    w = L.append
    w(f"/* {BANNER}. */")
    w("#ifndef WSE_ISA_H")
    w("#define WSE_ISA_H")
    w("#include <stdint.h>")
    w("")
    w(f"#define WSE_ISA_VERSION {isa.version}")
    w(f"#define WSE_NUM_INSNS {len(isa.insns)}")
    w("")
    w("/* Encoding fields: WSE_F_<NAME>(word) extracts (sign-extended when signed). */")
    for f in isa.fields.values():
        m = (1 << f.width) - 1
        if f.signed:
            w(f"#define WSE_F_{f.name.upper()}(w) ((int32_t)((((uint32_t)(w) >> {f.lo}) & {m:#x}u) ^ {1 << (f.width - 1):#x}u) - {1 << (f.width - 1):#x})")
        else:
            w(f"#define WSE_F_{f.name.upper()}(w) (((uint32_t)(w) >> {f.lo}) & {m:#x}u)")
    w("")
    w("/* Opcodes (bits 31..24), one per encoding. */")
    w("enum wse_opcode {")
    for i in isa.insns:
        w(f"    WSE_OP_{i.c_name} = {i.opcode:#04x},")
    w("};")
    w("")
    w("/* Cost classes. */")
    w("enum wse_class {")
    for n, c in enumerate(isa.classes.values()):
        w(f"    WSE_CLS_{c.name.upper()} = {n},")
    w(f"    WSE_NUM_CLASSES = {len(isa.classes)}")
    w("};")
    w("")
    w("/* Element types of tensor operands. */")
    w("enum wse_etype { WSE_T_NONE = 0, WSE_T_H = 1, WSE_T_S = 2, WSE_T_U16 = 3, WSE_T_U32 = 4 };")
    w("/* Tensor operand forms. */")
    w("enum wse_form { WSE_FORM_NONE = 0, WSE_FORM_VV = 1, WSE_FORM_VS = 2, WSE_FORM_V = 3, "
      "WSE_FORM_S = 4, WSE_FORM_VVS = 5 };")
    w("")
    w("/* X(NAME, opcode, mask, match, class, sync, form, tdst, tsrc0, tsrc1, mnemonic)")
    w("   The core defines one case per NAME; a missing one is a build error (-Wswitch-enum). */")
    w("#define WSE_INSN_LIST(X) \\")
    cls_index = {c: n for n, c in enumerate(isa.classes)}
    for i in isa.insns:
        t = i.types or (None, None, None)
        w(f"    X({i.c_name}, {i.opcode:#04x}, {i.mask:#010x}u, {i.match:#010x}u, {cls_index[i.cls]}, "
          f"{int(i.sync)}, {FORM_CODE[i.form]}, {TYPE_CODE[t[0]]}, {TYPE_CODE[t[1]]}, {TYPE_CODE[t[2]]}, "
          f"\"{i.mnemonic}\") \\")
    w("")
    w("/* X(NAME, operands): the operand syntax of each encoding, for the C disassembler.")
    w("   Comma-separated tokens: a field name, \"mem\" for \"[r2 + imm16]\", or \"async\" for the")
    w("   optional async clause (act, ut, tid). */")
    w("#define WSE_INSN_OPERANDS(X) \\")
    for i in isa.insns:
        toks = []
        for op in i.operands:
            toks.append("mem" if op.kind == "mem" else "async" if op.kind == "async" else op.fields[0])
        w(f"    X({i.c_name}, \"{','.join(toks)}\") \\")
    w("")
    w("/* Architecture presets. */")
    w("typedef struct wse_preset {")
    w("    const char *name;")
    w("    uint64_t clock_hz;")
    w("    uint32_t sram_words, sram_banks, colors, task_ids, microthreads;")
    w("    uint8_t iq_depth[8], oq_depth[8];")
    w("    uint32_t router_depth, hop_latency, task_switch;")
    w("    uint32_t simd[WSE_NUM_CLASSES]; /* 0 for scalar classes */")
    w("    uint32_t scalar_cycles[WSE_NUM_CLASSES]; /* 0 for tensor classes */")
    w("} wse_preset;")
    w("")
    w(f"#define WSE_MAX_QUEUE_DEPTH {MAX_QUEUE_DEPTH}   /* iq, oq and router depths of every preset */")
    w(f"#define WSE_MAX_COLORS {isa.max_colors}   /* the most colors of any preset */")
    w(f"#define WSE_MAX_TASK_IDS {isa.max_task_ids}   /* the most task ids of any preset */")
    w(f"#define WSE_MAX_MICROTHREADS {isa.max_microthreads}   /* the most microthreads of any preset */")
    w(f"#define WSE_NUM_DSRS {isa.n_dsrs}   /* a dsr field: file * {DSRS_PER_FILE} + index */")
    w(f"#define WSE_NUM_PRESETS {len(isa.presets)}")
    w("#define WSE_PRESETS_INIT { \\")
    for p in isa.presets.values():
        simd = ", ".join(str(p.simd.get(c, 0)) for c in isa.classes)
        scyc = ", ".join(str(isa.classes[c].cycles or 0) for c in isa.classes)
        w(f"    {{ \"{p.name}\", {p.clock_hz}ull, {p.sram_words}, {p.sram_banks}, {p.colors}, "
          f"{p.task_ids}, {p.microthreads}, {{{', '.join(map(str, p.iq_depth))}}}, "
          f"{{{', '.join(map(str, p.oq_depth))}}}, {p.router_depth}, {p.hop_latency}, "
          f"{p.task_switch}, {{{simd}}}, {{{scyc}}} }}, \\")
    w("}")
    w("")
    w("/* DSD kinds, ports, task kinds and object-format constants (docs/object-format.md). */")
    for k in isa.dsd_kinds.values():
        w(f"#define WSE_DSD_{k.name.upper()} {k.code}")
    for name, bit in objfile.PORTS.items():
        w(f"#define WSE_PORT_{name.upper()} {bit}")
    for n, name in enumerate(objfile.TASK_KINDS):
        w(f"#define WSE_TASK_{name.upper()} {n}")
    w(f"#define WSE_OBJ_MAGIC \"{objfile.MAGIC.decode()}\"")
    w(f"#define WSE_OBJ_VERSION {objfile.VERSION}")
    for code, name in objfile.SECTION_NAMES.items():
        w(f"#define WSE_SEC_{name} {code}")
    for code, name in objfile.SYM_TYPES.items():
        w(f"#define WSE_SYM_{name.upper()} {code}")
    w("")
    w("/* The names the assembler reserves (registers, DSRs, microthreads, built-ins, inf, nan),")
    w("   sorted by strcmp: a reader refuses a symbol named so (objfile.reserved_names). */")
    names = sorted(objfile.reserved_names(isa), key=str.encode)
    w(f"#define WSE_NUM_RESERVED_NAMES {len(names)}")
    w("#define WSE_RESERVED_NAMES_INIT { \\")
    for k in range(0, len(names), 10):
        w("    " + " ".join(f'"{n}",' for n in names[k:k + 10]) + " \\")
    w("}")
    w("")
    w("#endif /* WSE_ISA_H */")
    return "\n".join(L) + "\n"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a bare `|` (`r2 | r3`, `|x|`) would end the cell, and
    GFM takes `\\|` as a literal bar in code spans too."""
    return text.replace("|", "\\|")


def _encoding_diagram(isa: Isa, insn) -> str:
    segs = []
    for hi, lo, name in sorted(_segments(isa, insn), reverse=True):
        segs.append(f"{hi}..{lo} {name}" if hi != lo else f"{hi} {name}")
    return " &#124; ".join(segs)


def _segments(isa: Isa, insn):
    out = []
    for n in insn.field_names:
        f = isa.fields[n]
        out.append((f.hi, f.lo, n))
    # fixed ranges: reconstruct from mask runs not covered by fields
    covered = 0
    for n in insn.field_names:
        covered |= isa.fields[n].mask
    b = 31
    while b >= 0:
        if (insn.mask >> b) & 1 and not (covered >> b) & 1:
            hi = b
            while b >= 0 and (insn.mask >> b) & 1 and not (covered >> b) & 1 and not (b == 23 and hi >= 24):
                b -= 1
            lo = b + 1
            val = (insn.match >> lo) & ((1 << (hi - lo + 1)) - 1)
            out.append((hi, lo, f"={val:#x}" if hi >= 24 else f"={val}"))
        else:
            b -= 1
    return out


def isa_doc(isa: Isa) -> str:
    L: list[str] = []
    w = L.append
    w(f"<!-- {BANNER} -->")
    w("# ISA reference")
    w("")
    w("Every instruction is one 32-bit word. This page is generated from `isa/isa.toml`, the one "
      "table from which the assembler, the disassembler and the C core's decoder are also derived. "
      "The execution and timing rules are in [timing.md](timing.md).")
    w("")
    w("## Register files")
    w("")
    w("| file | registers | notes |")
    w("|---|---|---|")
    for r in isa.regfiles.values():
        al = ", ".join(f"{k} = {r.prefix}{v}" for k, v in r.aliases.items())
        w(f"| {r.name} | {r.prefix}0-{r.prefix}{r.count - 1} | {_cell(r.doc)}{' Aliases: ' + al + '.' if al else ''} |")
    w("")
    w("## DSD kinds")
    w("")
    w("| kind | code | meaning |")
    w("|---|---|---|")
    for k in isa.dsd_kinds.values():
        w(f"| {k.name} | {k.code} | {_cell(k.doc)} |")
    w("")
    w("## Architecture presets")
    w("")
    names = list(isa.presets)
    w("| parameter | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))
    rows = [("clock (Hz)", "clock_hz"), ("SRAM bytes", "sram_bytes"), ("SRAM banks", "sram_banks"),
            ("colors", "colors"), ("task ids", "task_ids"), ("microthreads", "microthreads"),
            ("input queue depths q0-q7", "iq_depth"), ("output queue depths q0-q7", "oq_depth"),
            ("router buffer per color", "router_depth"), ("hop latency (cycles)", "hop_latency"),
            ("task switch (cycles)", "task_switch")]
    for label, attr in rows:
        vals = [getattr(isa.presets[n], attr) for n in names]
        vals = [" ".join(map(str, v)) if isinstance(v, tuple) else f"{v:,}" for v in vals]
        w(f"| {label} | " + " | ".join(vals) + " |")
    for c in isa.classes.values():
        if c.tensor:
            w(f"| SIMD width: {c.name} ({_cell(c.doc)}) | " + " | ".join(str(isa.presets[n].simd[c.name]) for n in names) + " |")
    w("")
    w("## Cost classes")
    w("")
    w("| class | cost | covers |")
    w("|---|---|---|")
    for c in isa.classes.values():
        cost = f"{c.cycles} cycle" if not c.tensor else "max(1, ceil(n / SIMD width)) cycles"
        w(f"| {c.name} | {cost} | {_cell(c.doc)} |")
    w("")
    w("The tensor costs are those of an op over memory operands that are all unit-stride; with any "
      "other memory operand the width is 1, and an op with a fabric operand takes at least one cycle "
      "per element, as the wavelets come (timing.md, *Instruction costs*).")
    w("")
    w("## Encoding fields")
    w("")
    w("| field | bits | kind | meaning |")
    w("|---|---|---|---|")
    for f in isa.fields.values():
        w(f"| {f.name} | {f.hi}..{f.lo} | {f.kind} | {_cell(f.doc)} |")
    w("")
    w("## Instructions")
    w("")
    w("Operand forms of tensor ops: `vv` vector-vector, `vs` vector-scalar (a register broadcast), "
      "`v` unary, `s` fill from a register, `vvs` multiply-accumulate with a scalar. Each may end "
      "with `async utN [activate T | unblock T]`. **sync** marks instructions that a run of local "
      "instructions stops before: each executes at its own cycle as the first instruction of the next run, which "
      "goes on after it (timing.md, *Runs of local instructions* and *Clarifications*). "
      "In assembly a branch's `off16` operand is the target instruction (a label or an index): the "
      "assembler encodes target - pc (assembly.md). Every floating-point result that is a NaN is the "
      "canonical NaN (0x7e00, 0x7fc00000), moves through fp ops included; `mov32`/`mov16` copy bits "
      "(timing.md, *Clarifications*). A 16-bit integer op's scalar is the low 16 bits of `rs`; an fp16 "
      "op's scalar is `rs` as fp32, and fp16 ops compute in fp32 and round the result to fp16 (two "
      "roundings when the fp32 result was inexact). `ut` must be 0 in a "
      "synchronous op and `tid` 0 unless the op activates or unblocks a task; the loaders refuse "
      "other values.")
    w("")
    w("| mnemonic | operands | opcode | class | types (dst, src0, src1) | encoding | semantics |")
    w("|---|---|---|---|---|---|---|")
    for i in isa.insns:
        ops = ", ".join(op.text for op in i.operands if op.kind != "async")
        if any(op.kind == "async" for op in i.operands):
            ops += " [async utN ...]"
        types = ", ".join(t or "-" for t in i.types) if i.types else ""
        sync = " **sync**" if i.sync else ""
        w(f"| `{i.mnemonic}` | `{ops}` | {i.opcode:#04x} | {i.cls}{sync} | {types} | "
          f"{_encoding_diagram(isa, i)} | {_cell(i.sem)} |")
    w("")
    w("## Pseudo-instructions")
    w("")
    w("| pseudo | operands | expands to | meaning |")
    w("|---|---|---|---|")
    for p in isa.pseudos.values():
        w(f"| `{p.mnemonic}` | `{', '.join(p.operands)}` | `{_cell('; '.join(p.expand))}` | {_cell(p.sem)} |")
    return "\n".join(L) + "\n"


def outputs(root: Path, isa: Isa | None = None) -> dict[Path, str]:
    isa = isa or load()
    return {
        root / "csrc" / "wse_isa.h": c_header(isa),
        root / "docs" / "isa.md": isa_doc(isa),
    }
