"""Hypothesis properties of the assembler (profile from tests/conftest.py)."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from wse.asm import AssemblyError, assemble_text, disassemble
from wse.isa import load, objfile as of
from wse.isa.codec import decode, encode, format_insn

ISA = load()
INSNS = list(ISA.insns)


@st.composite
def insn_words(draw):
    """A random valid instruction word, from the table: random field values, then encode."""
    insn = draw(st.sampled_from(INSNS))
    vals = {}
    for name in insn.field_names:
        f = ISA.fields[name]
        lo, hi = f.range
        if f.kind == "color":
            hi = ISA.max_colors - 1
        if f.kind == "dsr":
            hi = ISA.n_dsrs - 1
        vals[name] = draw(st.integers(lo, hi))
    if "act" in vals:
        if vals["act"] == 0:
            vals["ut"] = vals["tid"] = 0
        elif vals["act"] == 1:
            vals["tid"] = 0
    return insn, encode(insn, vals, ISA)


@given(insn_words())
def test_every_instruction_round_trips_through_the_text_path(iw):
    """encode -> format_insn -> wse-as -> the same word (branch targets printed as `.+N`,
    which is fine even when the target is outside the code: the assembler does not check it)."""
    insn, word = iw
    d = decode(word, ISA)
    assert d is not None and d.insn.key == insn.key
    text = format_insn(d, pc=0, isa=ISA)
    # a jump/branch target must land inside the code for the object file to be valid: pad
    # the program with nops so that every target 0..n-1 exists.
    pad = 0
    if "off16" in d.values:
        pad = max(0, d.values["off16"])
        pre = max(0, -d.values["off16"])
    else:
        pre = 0
    if "tgt24" in d.values:
        pad = max(pad, d.values["tgt24"])
    if pad > 70000 or pre > 70000:
        return   # the object would be larger than SRAM; the word itself was checked above
    src = "    nop\n" * pre + "    " + text + "\n" + "    nop\n" * pad
    if "dsdidx" in d.values:
        src = f"    .dsd t, mem1d, base=0, len=1\n" + src
    try:
        obj = of.read(assemble_text(src))
    except AssemblyError as e:
        if "does not fit in SRAM" in str(e) or "DSD" in str(e):
            return
        raise
    assert obj.images[0].code[pre] == word, (text, hex(word), hex(obj.images[0].code[pre]))


SIMPLE = ["nop", "exit", "add r1, r2, r3", "addi r4, r4, -7", "ori r5, r5, 0xbeef", "lui r6, 0x1234",
          "ld16 r1, [r2 + 3]", "st32 r3, [r0 + buf]", "li r7, 2.5", "fadds d0, a0, b0",
          "fmacs d1, a1, b1, r2 async ut3 activate t1", "send 4, r1", "activate t1", "ldsd d0, v",
          "beq r1, r0, .+1", "call fn"]


@st.composite
def programs(draw):
    n_pes_x = draw(st.integers(1, 3))
    body = []
    for _ in range(draw(st.integers(0, 12))):
        body.append("    " + draw(st.sampled_from(SIMPLE)))
    vals = draw(st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=5))
    cond = draw(st.sampled_from(["pe_x == 0", "pe_x % 2", "1", "0"]))
    color = draw(st.integers(0, 23))
    src = [f".fabric {n_pes_x}, 1", ".program p, K = 3",
           f"    .route {color}, west -> ramp | east, iq={color % 8}",
           "    .task t1, local, start", "    .dsd v, mem1d, base=buf, len=2",
           "t1:", f"    .if {cond}", "    addi r1, r0, K + pe_x", "    .endif", *body,
           "fn: exit", "    .data", "buf: .f32 " + ", ".join(repr(float(v)) for v in vals),
           "    .u16 1, 2, 3", "    .export buf", ".endprogram",
           f".place p, 0, 0, {n_pes_x}, 1, K = {draw(st.integers(-100, 100))}"]
    return "\n".join(src) + "\n"


@pytest.mark.filterwarnings("ignore::wse.asm.AssemblyWarning")   # (a random `send 4` may have no
@given(programs())                                                 # route: wse-as says so, rightly)
def test_random_program_survives_objdump_round_trip(src):
    data = assemble_text(src, "gen.s")
    text = disassemble(data)
    assert assemble_text(text, "dis.s") == data
    # and a second round is a fixed point of the printer
    assert disassemble(assemble_text(text, "dis.s")) == text


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_only_produces_diagnostics(text):
    try:
        assemble_text(text, "fuzz.s")
    except AssemblyError as e:
        assert e.diagnostics and "error" in str(e)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_only_produce_diagnostics(data):
    try:
        assemble_text(data, "fuzz.s")
    except AssemblyError as e:
        assert e.diagnostics


TOKENS = ["addi", "r1", ",", "r0", "5", "[", "]", "+", "-", "(", ")", ".if", ".endif", ".macro",
          ".endm", "m", ":", "lbl", "=", "1.5", "\n", ".data", ".f32", ".program", ".endprogram",
          ".place", "p", "0", ".rep", ".endr", "pe_x", "async", "ut1", "activate", "->", "west",
          ".route", ".task", "data", "color=", '"s"', ".include", "*", "<<", "?", ";", "0x"]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_random_token_soup_only_produces_diagnostics(toks):
    try:
        assemble_text(" ".join(toks), "soup.s")
    except AssemblyError as e:
        assert e.diagnostics


# the pieces of a line: names, numbers, registers, strings, every punctuation and operator of the
# grammar, directives, keywords
_PIECES = ["x", "r1", "d0", "ut1", "4", "0x10", "1.5", '"s"', ",", ":", "(", ")", "[", "]", "=", "->",
           "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "<", ">", "==", "!=", "<=", ">=", "&&",
           "||", "?", "!", "~", ".", ".zero", ".task", ".route", ".dsd", "add", "async", "west", "ramp"]


@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8))
def test_a_syntax_error_names_what_may_come_in_plain_words(pieces):
    """A syntax error says what could come instead in the author's words: quoted tokens, "a
    name", "an operator", never the grammar's terminal names (COMMA, AMPERSAND, __ANON_0)."""
    line = "    " + " ".join(pieces)
    try:
        assemble_text(line + "\n")
        return
    except AssemblyError as e:
        msg = str(e).splitlines()[0]
    if "syntax error: unexpected" not in msg or "; expected " not in msg:
        return
    expected = msg.split("; expected ", 1)[1]
    assert not re.search(r"\b[A-Z][A-Z_]{2,}\b|__", expected), msg


_REG = re.compile(r"\b(r|d|a|b|ut)(\d+)\b")


@given(insn_words(), st.data())
def test_registers_named_by_number_assemble_as_their_names(iw, data):
    """Every register operand of a random instruction written as PREFIX(EXPR) (`r(3)`, `a(i + 1)`
    with i a .rep VAR, `ut(K - 2)` with K a -D define) assembles to the same word as its name."""
    insn, word = iw
    d = decode(word, ISA)
    text = format_insn(d, pc=0, isa=ISA)
    if "off16" in d.values or "tgt24" in d.values:
        return            # branch targets: the round trip above covers them; here, registers

    def numbered(m):
        n = int(m.group(2))
        form = data.draw(st.sampled_from(["{n}", "i + {n}", "K * {n} - {m}", "({n} << 2) / 4 + i"]))
        return f"{m.group(1)}({form.format(n=n, m=3 * n)})"
    ntext, count = _REG.subn(numbered, text)
    if count == 0:
        return
    dsd = "    .dsd t, mem1d, base=0, len=1\n" if "dsdidx" in d.values else ""
    plain = dsd + "    " + text + "\n"
    rep = dsd + ".rep 1, i\n    " + ntext + "\n.endr\n"
    try:
        want = of.read(assemble_text(plain)).images[0].code[0]
    except AssemblyError as e:
        assert "DSD" in str(e)
        return
    got = of.read(assemble_text(rep, defines={"K": 4})).images[0].code[0]
    event("checked")
    assert got == want == word, (text, ntext)
