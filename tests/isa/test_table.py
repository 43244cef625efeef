"""The ISA table: validation, encode/decode, generated files, the layering rule."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from wse.isa import IsaError, decode, encode, format_insn, load, parse
from wse.isa.codec import EncodeError
from wse.isa.gen import outputs
from wse.isa.table import table_path

ROOT = Path(__file__).resolve().parents[2]
ISA = load()
TEXT = table_path().read_text()


def test_table_loads_and_covers_the_required_operations():
    mnems = set(ISA.by_mnemonic)
    required = """fmovh fmovs faddh fadds fsubh fsubs fmulh fmuls fmach fmacs fmachs fmaxh fmaxs
        fnegh fnegs fabsh fabss fh2s fs2h add16 sub16 and16 or16 xor16 sll16 slr16 sar16 mov16
        mov32 ldsd activate block unblock exit send sendc rdcyc addf mulf beq ld32 st32""".split()
    assert not set(required) - mnems
    # no exp, divide or sqrt instruction: kernels do those in software
    assert not {m for m in mnems if re.search(r"exp|div|sqrt", m)}
    assert ISA.presets["wse2"].sram_bytes == 48 * 1024 and ISA.presets["wse2"].sram_banks == 8
    assert ISA.presets["wse3"].colors == 24 and ISA.presets["wse3"].task_ids == 64
    assert ISA.presets["wse2"].simd["h_arith"] == 4 and ISA.presets["wse3"].simd["h_arith"] == 8


def _mutate(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


@pytest.mark.parametrize("old,new,message", [
    ('fixed = "31..24=0x08, 11..0=0"', 'fixed = "31..24=0x08, 11..1=0"', r"insn add .*bits \[0\] are not assigned"),
    ('fixed = "31..24=0x08, 11..0=0"', 'fixed = "31..24=0x08, 12..0=0"', r"insn add .*bit 12 is assigned twice"),
    ('fixed = "31..24=0x08, 11..0=0"', 'fixed = "31..24=0x108, 11..0=0"', r"does not fit bits 31..24"),
    ('fixed = "31..24=0x09, 11..0=0"', 'fixed = "31..24=0x08, 11..0=0"', r"encodings add and sub overlap"),
    ('ops = "r1, r2, r3"\nfixed = "31..24=0x08', 'ops = "r1, r2, r9"\nfixed = "31..24=0x08', r"operand field 'r9' is not in \[fields\]"),
    ('cls = "h_arith"\nt = "h,h,-"\nsem = "dst = src0"', 'cls = "h_arith"\nt = "h,q,-"\nsem = "dst = src0"', r"t must be three of"),
    ("h_max = 1\n", "", r"simd widths must name exactly the tensor classes"),
    ('op     = { bits = "31..24"', 'op     = { bits = "32..24"', r"31 >= HI >= LO >= 0"),
    ('m = "nop"', 'm = "Nop"', r"mnemonic 'Nop'"),
    # the core's queue rings hold 8 wavelets: a deeper queue would overrun them
    ("iq_depth = [8, 8, 4, 4, 4, 4, 4, 4]", "iq_depth = [9, 8, 4, 4, 4, 4, 4, 4]",
     r"preset wse3: iq_depth must be 8 depths in 1\.\.8 \(the emulator core's queue rings"),
    ("router_depth = 4\nhop_latency = 2\ntask_switch = 1\n[presets.wse3.simd]",
     "router_depth = 16\nhop_latency = 2\ntask_switch = 1\n[presets.wse3.simd]", r"preset wse3: router_depth must be in 1\.\.8"),
    # a preset's counts must fit the fields that name them and the core's bit masks
    ("sram_banks = 8\ncolors = 24\ntask_ids = 64\nmicrothreads = 8\niq_depth = [8",
     "sram_banks = 8\ncolors = 32\ntask_ids = 64\nmicrothreads = 8\niq_depth = [8",
     r"preset wse3: colors = 32 must be in 1\.\.31"),
    ("colors = 24\ntask_ids = 64\nmicrothreads = 8\niq_depth = [6", "colors = 24\ntask_ids = 65\nmicrothreads = 8\niq_depth = [6",
     r"preset wse2: task_ids = 65 must be in 1\.\.64"),
    ("task_ids = 64\nmicrothreads = 8\niq_depth = [6", "task_ids = 64\nmicrothreads = 9\niq_depth = [6",
     r"preset wse2: microthreads = 9 must be in 1\.\.8"),
    ('[regfiles.dsr_a]\ncount = 8', '[regfiles.dsr_a]\ncount = 4', r"register file dsr_a: count must be 8"),
])
def test_validation_errors_are_typed_and_located(old, new, message):
    with pytest.raises(IsaError, match=message):
        parse(_mutate(old, new))


def test_invalid_toml_is_an_isa_error_not_a_crash():
    with pytest.raises(IsaError, match="not valid TOML"):
        parse("[[insn]\nm=")


def _values(insn, draw):
    vals = {}
    for name in insn.field_names:
        f = ISA.fields[name]
        lo, hi = f.range
        if f.kind in ("color", "dsr"):
            hi = 23
        vals[name] = draw(st.integers(lo, hi))
    if "act" in vals:
        if vals["act"] == 0:
            vals["ut"] = vals["tid"] = 0
        elif vals["act"] == 1:
            vals["tid"] = 0
    return vals


@given(st.data())
def test_every_encoding_round_trips(data):
    insn = data.draw(st.sampled_from(ISA.insns))
    vals = _values(insn, data.draw)
    word = encode(insn, vals)
    assert 0 <= word < 1 << 32
    d = decode(word)
    assert d is not None and d.insn is insn and d.values == vals
    text = format_insn(d)
    assert text.split()[0] == insn.mnemonic


@given(st.integers(0, 2**32 - 1))
def test_decode_is_total_and_exact(word):
    d = decode(word)
    if d is not None:
        assert encode(d.insn, d.values) == word


def test_out_of_range_values_name_the_range():
    with pytest.raises(ValueError, match=r"imm16 = 40000 is out of range; legal: -32768..32767"):
        encode(ISA.by_key["addi"], {"r1": 1, "r2": 2, "imm16": 40000})
    with pytest.raises(ValueError, match=r"color = 24 is out of range; legal: 0..23"):
        encode(ISA.by_key["send"], {"color": 24, "rq": 1})


def test_generated_files_are_fresh():
    stale = [p for p, text in outputs(ROOT).items() if not p.exists() or p.read_text() != text]
    assert not stale, f"stale generated files {stale}: run python -m wse.isa --write"


def test_generated_header_lists_every_encoding_once():
    header = (ROOT / "csrc" / "wse_isa.h").read_text()
    listing = header.split("#define WSE_INSN_LIST(X)")[1].split("\n\n")[0]
    for insn in ISA.insns:
        assert listing.count(f"X({insn.c_name},") == 1


def _imports(folder: str) -> set[str]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(("." * node.level) + node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("folder,forbidden", [
    ("isa", ("wse.asm", "wse.emu", "wse.kernels", "wse.cli")),
    ("asm", ("wse.emu", "wse.kernels")),
    ("emu", ("wse.asm", "wse.kernels")),
    # the console scripts' plumbing: launch.py imports each tool by name, inside its entry point
    ("cli", ("wse.asm", "wse.emu", "wse.kernels")),
])
def test_layering(folder, forbidden):
    bad = {m for m in _imports(folder) if m.startswith(forbidden) or
           any(m.lstrip(".").startswith(f.split(".")[1]) and m.startswith("..") for f in forbidden)}
    assert not bad, f"{folder}/ imports {sorted(bad)}"


@pytest.mark.parametrize("kind", ["dsr", "color"])
def test_a_dsr_or_color_past_23_is_an_illegal_word(kind):
    """The 5-bit dsr and color fields hold 0..31, but DSRs (d0-d7, a0-a7, b0-b7) and colors are
    0..23: decode refuses a word with 24..31 there, at exactly 24 (the random words of
    test_decode_is_total_and_exact rarely land on these opcodes)."""
    insns = [i for i in ISA.insns if any(ISA.fields[n].kind == kind for n in i.field_names)]
    assert insns
    for insn in insns:
        name = next(n for n in insn.field_names if ISA.fields[n].kind == kind)
        f = ISA.fields[name]
        word = encode(insn, {n: 23 if n == name else 0 for n in insn.field_names})
        assert decode(word) is not None and decode(word)[name] == 23
        for v in (24, 31):
            bad = (word & ~f.mask) | (v << f.lo)
            assert decode(bad) is None, (insn.key, v)


def test_the_color_and_dsr_limits_come_from_the_table():
    """No count is written twice: with 16 colors in both presets, encode and decode take color 16
    as out of range; the DSR count is the register files' (3 x 8)."""
    assert (ISA.max_colors, ISA.max_task_ids, ISA.max_microthreads, ISA.n_dsrs) == (24, 64, 8, 24)
    small = parse(TEXT.replace("colors = 24", "colors = 16"))
    assert small.max_colors == 16 and small.n_dsrs == 24
    send = small.by_key["send"]
    assert decode(encode(send, {"color": 15, "rq": 1}, small), small)["color"] == 15
    with pytest.raises(EncodeError, match=r"color = 16 is out of range; legal: 0\.\.15"):
        encode(send, {"color": 16, "rq": 1}, small)
    word = encode(send, {"color": 16, "rq": 1})           # legal in the real table
    assert decode(word) is not None and decode(word, small) is None


def test_the_async_fields_of_a_word_are_checked():
    """act 0 (sync) has ut 0 and tid 0; act 1 (async, no action) has tid 0; the actions 2 and 3
    (activate, unblock) may name any task. Any other word is illegal."""
    insn = next(i for i in ISA.insns if "act" in i.field_names)
    base = {n: 0 for n in insn.field_names}
    for act, ut, tid, legal in [(0, 0, 0, True), (0, 1, 0, False), (0, 0, 1, False),
                                (1, 3, 0, True), (1, 3, 5, False),
                                (2, 3, 5, True), (3, 7, 63, True)]:
        word = insn.match
        for n, v in {**base, "act": act, "ut": ut, "tid": tid}.items():
            word |= ISA.fields[n].insert(v)
        d = decode(word)
        assert (d is not None) == legal, (act, ut, tid)
        if legal:
            assert (d["act"], d["ut"], d["tid"]) == (act, ut, tid)
            assert encode(insn, d.values) == word
        else:
            with pytest.raises(ValueError):
                encode(insn, {**base, "act": act, "ut": ut, "tid": tid})


@pytest.mark.parametrize("key, values, text", [
    ("ld32", {"r1": 1, "r2": 2, "imm16": -5}, "ld32 r1, [r2 - 5]"),
    ("ld32", {"r1": 1, "r2": 2, "imm16": 7}, "ld32 r1, [r2 + 7]"),
    ("ld32", {"r1": 1, "r2": 2, "imm16": 0}, "ld32 r1, [r2]"),
    ("beq", {"r1": 1, "r2": 2, "off16": -3}, "beq r1, r2, .-3"),
    ("beq", {"r1": 1, "r2": 2, "off16": 2}, "beq r1, r2, .+2"),
    ("ori", {"r1": 1, "r2": 2, "uimm16": 0xbeef}, "ori r1, r2, 0xbeef"),
    ("ori", {"r1": 1, "r2": 2, "uimm16": 9}, "ori r1, r2, 9"),
    ("faddh.vv", {"dd": 0, "da": 1, "db": 2, "act": 2, "ut": 3, "tid": 5},
     "faddh d0, a1, b2 async ut3 activate 5"),
    ("faddh.vv", {"dd": 0, "da": 1, "db": 2, "act": 3, "ut": 3, "tid": 5},
     "faddh d0, a1, b2 async ut3 unblock 5"),
])
def test_the_disassembler_prints_the_documented_forms(key, values, text):
    """The text of an instruction is what wse-objdump prints and what the reference emulator's
    fault and hang reports show (as the C core's disassembler does): the forms of
    docs/assembly.md, `[rN - k]` for a negative offset and `.-N` for a branch back, not merely
    text that assembles to the same word (`[rN + -k]`, `.+-N`)."""
    assert format_insn(decode(encode(ISA.by_key[key], values))) == text
