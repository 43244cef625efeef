"""A hand-picked mutation survey of the assembler (asm/) and the ISA package (isa/).

    python tests/mutation/asm_mutants.py [--only NAME]... [--json] [--list]

Each mutant below is one small, plausible bug: an exact snippet of a source file (which must
occur exactly once, so the list goes stale loudly when the code changes), its replacement, and
why it matters. For each one the runner copies the Python packages to a temporary folder the way
csrc/build_sanitized.sh does (isa/ asm/ emu/ kernels/ cli/ into OUT/wse, OUT first on
PYTHONPATH; the emulator core is the already-built emu/_core*.so, copied, since these mutants do
not touch C), applies the mutant, and runs its pytest subset with `-x`. A failing run kills the
mutant. Before any mutant runs, the unmutated copy must pass every subset used (else the figures
would mean nothing).

Outcomes: killed (a test failed), survived (every test passed: a gap, unless the mutant is
marked equivalent), equivalent (survived, and its entry says why it cannot change behaviour),
invalid (the mutated package does not even import or assemble `nop`: the mutant is not a
plausible bug, and is not counted as killed).

Mutants of isa/isa.toml would make the generated files (csrc/wse_isa.h, docs/isa.md) stale, which
tests/isa/test_table.py::test_generated_files_are_fresh catches without saying anything about the
behaviour; `regen=True` marks a mutant whose generated files are taken as regenerated: the two
tests that compare them with the table are deselected, so the rest of the suite has to find it.

The hypothesis profile is the derandomized "ci" one (CI=true), so the figures are reproducible.
Not collected by pytest (no test_ prefix); the figures are quoted in docs/assembly.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("isa", "asm", "emu", "kernels", "cli")

ASM = ["tests/asm", "tests/isa"]
ISA = ["tests/isa", "tests/asm"]
# objfile reader mutants: also the test that feeds the C loader and objfile.read the same
# corrupted files (it is the reader's own test, living in tests/emu)
OBJ = ["tests/isa", "tests/asm", "tests/emu/test_loader_agreement.py"]
FRESHNESS = ["tests/isa/test_table.py::test_generated_files_are_fresh",
             "tests/isa/test_table.py::test_generated_header_lists_every_encoding_once"]


@dataclass
class Mutant:
    name: str
    file: str                       # relative to the repository root
    edits: list                     # [(old, new)], each old occurring exactly once
    why: str
    tests: list = field(default_factory=lambda: list(ASM))
    equivalent: str | None = None   # why it cannot change behaviour (expected to survive)
    regen: bool = False             # isa.toml: take the generated files as regenerated


def M(name, file, old, new, why, **kw):
    return Mutant(name, file, [(old, new)], why, **kw)


MUTANTS = [
    # ---------------------------------------------------------------- expressions: grammar
    M("sum-right-assoc", "asm/wse.lark",
      '?sum: prod | sum "+" prod -> add | sum "-" prod   -> sub',
      '?sum: prod | prod "+" sum -> add | prod "-" sum   -> sub',
      "`-` must associate to the left: 10 - 3 - 2 is 5, not 9"),
    Mutant("shift-above-sum", "asm/wse.lark", [
        ('?shift: sum | shift "<<" sum -> shl | shift ">>" sum -> shr',
         '?shift: sum | shift "+" sum -> add | shift "-" sum -> sub'),
        ('?sum: prod | sum "+" prod -> add | sum "-" prod   -> sub',
         '?sum: prod | sum "<<" prod -> shl | sum ">>" prod   -> shr')],
      "C precedence: `1 << 2 + 1` is 8 (+ binds tighter than <<), not 5"),
    Mutant("eq-above-rel", "asm/wse.lark", [
        ('?eq: rel | eq "==" rel -> eq | eq "!=" rel        -> ne',
         '?eq: rel | eq "<" rel -> lt | eq "<=" rel -> le | eq ">" rel -> gt | eq ">=" rel -> ge'),
        ('?rel: shift | rel "<" shift -> lt | rel "<=" shift -> le\n    | rel ">" shift -> gt | rel ">=" shift        -> ge',
         '?rel: shift | rel "==" shift -> eq | rel "!=" shift        -> ne')],
      "C precedence: `1 < 2 == 1` is (1 < 2) == 1 = 1; with == binding tighter it is 0"),
    Mutant("bxor-above-band", "asm/wse.lark", [
        ('?bxor: band | bxor "^" band                       -> bxor',
         '?bxor: band | bxor "&" band                       -> band'),
        ('?band: eq | band "&" eq                           -> band',
         '?band: eq | band "^" eq                           -> bxor')],
      "C precedence: `6 ^ 3 & 5` is 6 ^ (3 & 5) = 7, not (6 ^ 3) & 5 = 5"),
    # ---------------------------------------------------------------- expressions: evaluation
    M("div-floors", "asm/expr.py",
      "            q = abs(a) // abs(b)\n            return q if (a < 0) == (b < 0) else -q",
      "            return a // b",
      "integer `/` truncates toward zero (-7 / 2 = -3), as documented; Python's // floors (-4)"),
    M("mod-sign-of-divisor", "asm/expr.py",
      "            r = abs(a) % abs(b)\n            return -r if a < 0 else r",
      "            r = abs(a) % abs(b)\n            return -r if b < 0 else r",
      "`%` has the sign of the dividend: -7 % 2 = -1, 7 % -2 = 1"),
    M("and-not-short-circuit", "asm/expr.py",
      "return int(bool(self.ev(node.a, scope, dot)) and bool(self.ev(node.b, scope, dot)))",
      "return int(bool(self.ev(node.a, scope, dot)) & bool(self.ev(node.b, scope, dot)))",
      "`defined(N) && N > 3` must not evaluate N when it is not defined"),
    M("int-bits-off-by-one", "asm/expr.py",
      "    def check_int(self, v, pos):\n        if isinstance(v, int) and v.bit_length() > INT_BITS:",
      "    def check_int(self, v, pos):\n        if isinstance(v, int) and v.bit_length() >= INT_BITS:",
      "integers are limited to 256 bits: 2**255 (256 bits) is legal, 2**256 overflows"),
    M("hi16-range-off-by-one", "asm/expr.py",
      "if not -(1 << 31) <= v < (1 << 32):",
      "if not -(1 << 31) <= v <= (1 << 32):",
      "hi16/lo16 (and so `li`) take 32-bit values: 0x100000000 must be an error, not silently 0"),
    M("hi16-shift", "asm/expr.py",
      'return (v >> 16) if fn == "hi16" else (v & 0xFFFF)',
      'return (v >> 15) if fn == "hi16" else (v & 0xFFFF)',
      "hi16 is bits 31..16; `li` is lui hi16 + ori lo16"),
    M("ceil-div-negative", "asm/expr.py",
      "return -((-a) // b)",
      "return (a + b - 1) // b",
      "ceil_div rounds up for every sign: ceil_div(7, -2) = -3 (the + b - 1 idiom gives -2)"),
    M("log2-zero", "asm/expr.py",
      "if v <= 0 or v & (v - 1):",
      "if v < 0 or v & (v - 1):",
      "log2(0) is an error (0 is not a power of two), not -1"),
    M("shr-clamp", "asm/expr.py",
      "                return a >> min(b, INT_BITS + 1)",
      "                return a >> min(b, INT_BITS + 2)",
      "`>>` clamps huge counts so that `1 >> (1 << 200)` does not build a huge shift",
      equivalent="every value is at most 257 bits (literals and the results of + - * << are "
                 "checked to 256 bits; ~ of a 256-bit value takes 257): a shift by 257 or by 258 "
                 "gives the same 0 or -1"),
    M("int-floors", "asm/expr.py",
      "                return int(v)\n            return v",
      "                return math.floor(v)\n            return v",
      "int() truncates toward zero: int(-1.5) = -1"),
    M("cond-swapped", "asm/expr.py",
      "return self.ev(node.a if c else node.b, scope, dot)",
      "return self.ev(node.b if c else node.a, scope, dot)",
      "c ? a : b picks a when c is true"),
    M("builtins-before-args", "asm/expr.py",
      "    def lookup(self, node: Name, scope: Scope, dot):\n        n = node.name\n        r = scope.find(n) if scope is not None else None",
      "    def lookup(self, node: Name, scope: Scope, dot):\n        n = node.name\n        if self.builtins is not None and n in self.builtins:\n            self.dep = True\n"
      "            return self.builtins[n]\n        r = scope.find(n) if scope is not None else None",
      "symbol resolution order: a macro argument (or any symbol in scope) is found before a "
      "program parameter or per-PE built-in of the same name"),
    M("lazy-memo-drops-dep", "asm/expr.py",
      "                if m is not None:\n                    if m[1]:\n                        self.dep = True\n",
      "                if m is not None:\n",
      "a memoized constant that read a per-PE value must mark the reading expression PE-dependent, "
      "or the layout replay reuses another PE's image"),
    M("is-defined-no-builtins", "asm/expr.py",
      "        return self.builtins is not None and name in self.builtins",
      "        return False",
      "defined(N) of a program parameter N is true inside the program"),
    # ---------------------------------------------------------------- syntax / diagnostics
    M("token-col-off-by-one", "asm/syntax.py",
      "return Pos(self.file, self.line, t.column, max(1, (t.end_column or t.column + 1) - t.column))",
      "return Pos(self.file, self.line, t.column + 1, max(1, (t.end_column or t.column + 1) - t.column))",
      "error locations: a diagnostic at a token (a mnemonic, a name) names its column"),
    M("tree-span-off-by-one", "asm/syntax.py",
      "return Pos(self.file, self.line, m.column, max(1, m.end_column - m.column))",
      "return Pos(self.file, self.line, m.column, max(1, m.end_column - m.column + 1))",
      "error locations: the caret under an operand expression covers exactly that expression"),
    M("eol-col", "asm/syntax.py",
      "col = tok.end_column if tok.end_column else len(text.rstrip()) + 1",
      "col = len(text.rstrip()) + 1",
      "a line that ends too early is marked just past its last token, not past a trailing "
      "comment (this survey found that bug: the old code is this mutant)"),
    M("escape-hex-wrong-base", "asm/syntax.py",
      "out.append(chr(int(s[i + 2:i + 4], 16)))",
      "out.append(chr(int(s[i + 2:i + 4], 16) & 0x7F))",
      "`\\xNN` is the character with code NN, for every NN up to 0xff"),
    # ---------------------------------------------------------------- .rep / .if / macros
    M("rep-var-from-one", "asm/assembler.py",
      'inner.syms[var] = Sym("const", i, s.args[1].pos)',
      'inner.syms[var] = Sym("const", i + 1, s.args[1].pos)',
      ".rep COUNT, VAR counts VAR = 0, 1, ..."),
    M("rep-zero-refused", "asm/assembler.py",
      'what="repeat count", lo=0, hi=MAX_STATEMENTS',
      'what="repeat count", lo=1, hi=MAX_STATEMENTS',
      ".rep 0 is legal and repeats nothing (a count computed from a parameter can be 0)"),
    M("if-float-sign", "asm/assembler.py",
      "                if isinstance(c, float):\n                    c = c != 0.0",
      "                if isinstance(c, float):\n                    c = c > 0.0",
      "a float condition is true when it is non-zero: `.if -0.5` is taken"),
    M("macro-default-scope", "asm/assembler.py",
      "margs[pn] = (default, default_scope(m.scope, m.params, i,",
      "margs[pn] = (default, default_scope(scope, m.params, i,",
      "a macro's default is evaluated where the macro is defined, not where it is invoked"),
    # ---------------------------------------------------------------- layout and data
    M("label-before-f32-not-aligned", "asm/assembler.py",
      "and ELEM_WORDS[nxt.type] == 2 and addr % 2:",
      "and ELEM_WORDS[nxt.type] == 3 and addr % 2:",
      "a label just before 32-bit data is aligned with it (it must name the data's address)"),
    M("org-same-address-refused", "asm/assembler.py",
      "if it.count < addr:",
      "if it.count <= addr:",
      "`.org` to the current address is legal (only backwards is refused)"),
    M("sram-exactly-full-refused", "asm/assembler.py",
      "        if mem_words > mem_limit:\n            self.sram_error",
      "        if mem_words >= mem_limit:\n            self.sram_error",
      "an image that uses exactly all of SRAM fits"),
    M("task-id-range", "asm/assembler.py",
      'what="task id", lo=0,\n                                         hi=preset.task_ids - 1)',
      'what="task id", lo=0,\n                                         hi=preset.task_ids)',
      "task ids are 0..63: id=64 is an assembler error, not a file the readers refuse"),
    M("route-color-range", "asm/assembler.py",
      'color = self.int_value(s.args[0], scope, what="color", lo=0, hi=preset.colors - 1)',
      'color = self.int_value(s.args[0], scope, what="color", lo=0, hi=preset.colors)',
      "colors are 0..23: `.route 24, ...` is an error"),
    M("route-five-positions", "asm/assembler.py",
      "if len(positions) == 4:",
      "if len(positions) == 5:",
      "a route has at most 4 switch positions"),
    M("route-default-queue", "asm/assembler.py",
      "iq = oq = color % 8",
      "iq = oq = color % 4",
      "a route's queues default to color mod 8"),
    M("route-ports-east-west", "asm/expr.py",
      'PORTS = {"north": 1, "east": 2, "south": 4, "west": 8, "ramp": 16}',
      'PORTS = {"north": 1, "east": 8, "south": 4, "west": 2, "ramp": 16}',
      "route port encoding: NORTH 1, EAST 2, SOUTH 4, WEST 8, RAMP 16 (object-format.md)"),
    M("ports-printed-east-west", "asm/objdump.py",
      "names = [n for i, n in enumerate(PORT_NAMES) if mask & (1 << i)]",
      "names = [n for i, n in enumerate(PORT_NAMES) if mask & (1 << (i ^ 1 if i < 4 else i))]",
      "wse-objdump prints each port bit under its own name (a swap would re-assemble to other routes)"),
    M("local-name-refused-if-outer", "asm/assembler.py",
      "old = scope.syms.get(name)",
      "old = (lambda r: r[1] if r is not None and r[0] == 'sym' else None)(scope.find(name))",
      "symbol resolution: a label or constant local to a .rep iteration or a macro expansion may "
      "take a name an outer scope has (it shadows it there)"),
    M("dsd-default-strides", "asm/assembler.py",
      "                strides[i] = min(acc, 0x7FFF)   # (a dimension of length 1 never moves: any stride)\n"
      "                acc *= lens[i]",
      "                acc *= lens[i]\n"
      "                strides[i] = min(acc, 0x7FFF)   # (a dimension of length 1 never moves: any stride)",
      "a mem4d DSD without stride= is contiguous: len=[2, 3] gives stride=[1, 2]"),
    M("dsd-default-stride-limit", "asm/assembler.py",
      "if acc > 0x7FFF and lens[i] > 1:",
      "if acc > 0x7FFF and lens[i] > 2:",
      "a dense mem4d whose stride would pass 32767 in a dimension longer than 1 is refused, not "
      "capped (the capped layout is not the one written)"),
    M("dsd-mem1d-stride-range", "asm/assembler.py",
      'st = self.int_value(kw["stride"].value, scope, what="stride", lo=-0x8000, hi=0x7FFF)',
      'st = self.int_value(kw["stride"].value, scope, what="stride", lo=-0x8000, hi=0x8000)',
      "strides are i16: stride=32768 is an assembler error, not a crash in the writer"),
    M("dsd-mem4d-len-range", "asm/assembler.py",
      "hi=0xFFFFFFFF if i == 0 else 0xFFFF)",
      "hi=0xFFFFFFFF if i == 0 else 0x10000)",
      "len1..len3 are u16 fields: 65536 is an error, not a crash in the writer"),
    M("branch-offset", "asm/assembler.py",
      "            off = v - pc\n",
      "            off = v - pc - 1\n",
      "a branch encodes target - pc"),
    M("branch-target-past-end", "asm/assembler.py",
      "if fname in (\"off16\", \"tgt24\") and not 0 <= v < len(self.code):",
      "if fname in (\"off16\", \"tgt24\") and not 0 <= v <= len(self.code):",
      "a branch or jump to one past the last instruction is an error"),
    M("send-color-range", "asm/assembler.py",
      "        if f.kind == \"color\":\n            hi = self.s.preset.colors - 1",
      "        if f.kind == \"color\":\n            hi = self.s.preset.colors",
      "a color operand out of range is reported by the assembler, with the legal range"),
    # ---------------------------------------------------------------- isa: table and codec
    M("signed-range-off-by-one", "isa/table.py",
      "return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1",
      "return -(1 << (self.width - 1)), (1 << (self.width - 1))",
      "imm16 is -32768..32767: 32768 must be refused, not encoded as -32768", tests=ISA),
    M("no-sign-extension", "isa/table.py",
      "if self.signed and v >> (self.width - 1):",
      "if self.signed and v >> self.width:",
      "decode sign-extends signed fields (a branch back, a negative immediate)", tests=ISA),
    M("insert-no-mask", "isa/table.py",
      "return (value & ((1 << self.width) - 1)) << self.lo",
      "return value << self.lo",
      "a negative field value must not spill into the bits above its field", tests=ISA),
    M("decode-dsr-24", "isa/codec.py",
      'if "dsr" in values and values["dsr"] >= isa.n_dsrs:',
      'if "dsr" in values and values["dsr"] > isa.n_dsrs:',
      "DSR numbers are 0..23 (d0-d7, a0-a7, b0-b7): a word naming DSR 24 is illegal", tests=ISA),
    M("decode-color-24", "isa/codec.py",
      'if "color" in values and values["color"] >= isa.max_colors:',
      'if "color" in values and values["color"] > isa.max_colors:',
      "colors are 0..23: a word with color 24 is illegal", tests=ISA),
    M("decode-async-tid", "isa/codec.py",
      '                if values["act"] == 1 and values["tid"]:\n                    return None',
      '',
      "an async op without an action has tid 0; a word with another tid is illegal", tests=ISA),
    M("imm16-field-narrower", "isa/isa.toml",
      'imm16  = { bits = "15..0"',
      'imm16  = { bits = "14..0"',
      "bit-field placement: imm16 is bits 15..0 (the table's own validation refuses this one as "
      "it loads, bit 15 being assigned to nothing: invalid)", tests=ISA, regen=True),
    Mutant("async-fields-moved", "isa/isa.toml", [
        ('act    = { bits = "10..9"', 'act    = { bits = "7..6"'),
        ('ut     = { bits = "8..6"', 'ut     = { bits = "10..8"')],
      "bit-field placement: act is bits 10..9 and ut 8..6 (this table passes the validation and "
      "encodes and decodes consistently; only the words themselves tell)", tests=ISA, regen=True),
    M("imm16-unsigned", "isa/isa.toml",
      'imm16  = { bits = "15..0",  kind = "s"',
      'imm16  = { bits = "15..0",  kind = "u"',
      "imm16 is signed: decode sign-extends it, and -1 is a legal immediate",
      tests=ISA, regen=True),
    # ---------------------------------------------------------------- isa: the disassembler
    M("disasm-mem-sign", "isa/codec.py",
      'sign = "-" if o < 0 else "+"',
      'sign = "+"',
      "the disassembler prints [rN - k] for a negative offset (with +, it re-assembles to -k)",
      tests=ISA),
    M("disasm-mem-plus-negative", "isa/codec.py",
      'parts.append(f"[r{d.values[r]} {sign} {abs(o)}]" if o else f"[r{d.values[r]}]")',
      'parts.append(f"[r{d.values[r]} + {o}]")',
      "the disassembler's memory operand text: `[r1 + -5]` and `[r1 + 0]` assemble to the same "
      "words as `[r1 - 5]` and `[r1]`, so the objdump round trip cannot see this; but the text is "
      "also what the reference emulator's fault reports show, in the documented form", tests=ISA),
    M("disasm-branch-sign", "isa/codec.py",
      'parts.append(f".{v:+d}")',
      'parts.append(f".+{v}")',
      "the disassembler's branch offsets: `.+-3` assembles as `.-3` does (the round trip cannot "
      "see it), but `.-3` is the documented form, which reports show", tests=ISA),
    M("disasm-act-names", "isa/codec.py",
      'ACT_NAMES = {2: "activate", 3: "unblock"}',
      'ACT_NAMES = {2: "unblock", 3: "activate"}',
      "the async clause prints the action the word encodes", tests=ISA),
    # ---------------------------------------------------------------- isa: the object file
    M("read-version-newer-only", "isa/objfile.py",
      "    if version != VERSION:\n        raise ObjectFormatError(f\"object format version",
      "    if version > VERSION:\n        raise ObjectFormatError(f\"object format version",
      "an older version is refused with the advice to re-assemble", tests=OBJ),
    M("read-size-short-only", "isa/objfile.py",
      "    if size != len(data):",
      "    if size > len(data):",
      "the header's size is the file's size: trailing bytes are refused", tests=OBJ),
    M("read-no-section-alignment", "isa/objfile.py",
      "if off % 4 or off < 32 + 12 * nsec or off + ln > len(data):",
      "if off < 32 + 12 * nsec or off + ln > len(data):",
      "every section starts at a multiple of 4", tests=OBJ),
    M("read-task-id-64", "isa/objfile.py",
      "if tid >= ntid or tid in seen:",
      "if tid > ntid or tid in seen:",
      "task ids are 0..63", tests=OBJ),
    M("read-symbol-odd-32bit", "isa/objfile.py",
      "if value + count * e > words or (e == 2 and value % 2):",
      "if value + count * e > words:",
      "32-bit data symbols lie at even word addresses", tests=OBJ),
    M("read-images-padding", "isa/objfile.py",
      "    if r.pos + 3 < r.end:",
      "    if r.pos + 4 < r.end:",
      "IMAGES may end with up to 3 bytes of padding, no more", tests=OBJ),
    M("read-route-unused-positions", "isa/objfile.py",
      "            if any(p[2 * npos:]):",
      "            if any(p[2 * npos + 2:]):",
      "a route's unused switch positions are 0, 0", tests=OBJ),
    M("write-crc-from-header", "isa/objfile.py",
      "obj.height, len(sections), total, zlib.crc32(payload), 0)",
      "obj.height, len(sections), total, zlib.crc32(payload[4:]), 0)",
      "the CRC-32 covers every byte after the header", tests=OBJ),
]


def copy_packages(out: Path) -> None:
    (out / "wse").mkdir(parents=True)
    for pkg in PACKAGES:
        src = ROOT / pkg
        if src.is_dir():
            shutil.copytree(src, out / "wse" / pkg,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if not list((out / "wse" / "emu").glob("_core*.so")):
        sys.exit("asm_mutants: no emu/_core*.so: build it first "
                 "(python setup.py build_ext --inplace)")


def env_for(out: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(out) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["CI"] = "true"                       # the derandomized hypothesis profile
    env["PYTHONDONTWRITEBYTECODE"] = "1"     # a mutant of the same size and mtime must not reuse a .pyc
    env.pop("HYPOTHESIS_PROFILE", None)
    return env


def pytest_cmd(m_tests, deselect=()) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *m_tests]
    for d in deselect:
        cmd += ["--deselect", d]
    return cmd


SMOKE = ("import wse.asm, wse.isa, sys; "
         "assert wse.asm.__file__.startswith(sys.argv[1]), wse.asm.__file__; "
         "assert wse.isa.__file__.startswith(sys.argv[1]), wse.isa.__file__; "
         "wse.asm.assemble_text('nop\\n')")


def apply(m: Mutant, out: Path) -> tuple[Path, str]:
    path = out / "wse" / m.file
    text = path.read_text(encoding="utf-8")
    new = text
    for old, rep in m.edits:
        n = new.count(old)
        if n != 1:
            raise SystemExit(f"asm_mutants: mutant {m.name}: the snippet occurs {n} times in {m.file} "
                             f"(it must occur exactly once; update the mutant):\n{old}")
        new = new.replace(old, rep)
    path.write_text(new, encoding="utf-8")
    return path, text


def run_one(m: Mutant, out: Path, env: dict) -> dict:
    path, original = apply(m, out)
    t0 = time.perf_counter()
    try:
        smoke = subprocess.run([sys.executable, "-c", SMOKE, str(out)], env=env, cwd=ROOT,
                               capture_output=True, text=True)
        if smoke.returncode:
            status, detail = "invalid", (smoke.stderr.strip().splitlines() or ["?"])[-1]
        else:
            p = subprocess.run(pytest_cmd(m.tests, FRESHNESS if m.regen else ()), env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=900)
            if p.returncode == 0:
                status, detail = ("equivalent" if m.equivalent else "survived"), ""
            elif p.returncode == 1:
                failed = [ln for ln in p.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
                status, detail = "killed", (failed[0] if failed else "")
            else:
                status, detail = "error", p.stdout[-2000:] + p.stderr[-2000:]
    except subprocess.TimeoutExpired:
        status, detail = "killed", "timeout (900 s)"
    finally:
        path.write_text(original, encoding="utf-8")
    if m.equivalent and status == "killed":
        detail = "marked equivalent but killed: " + detail
    return {"name": m.name, "file": m.file, "status": status, "detail": detail,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], help="run only this mutant (repeatable)")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = ap.parse_args(argv)
    names = [m.name for m in MUTANTS]
    assert len(set(names)) == len(names), "mutant names repeat"
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:32} {m.file:18} {m.why}")
        return 0
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    unknown = set(args.only) - set(names)
    if unknown:
        ap.error(f"unknown mutant(s): {', '.join(sorted(unknown))}")
    log = sys.stderr if args.json else sys.stdout
    with tempfile.TemporaryDirectory(prefix="wse-asm-mut-") as tmp:
        out = Path(tmp)
        copy_packages(out)
        env = env_for(out)
        # every snippet is where the mutant expects it (before spending time on any run)
        for m in chosen:
            path, original = apply(m, out)
            path.write_text(original, encoding="utf-8")
        # the unmutated copy passes every subset the chosen mutants use
        smoke = subprocess.run([sys.executable, "-c", SMOKE, str(out)], env=env, cwd=ROOT,
                               capture_output=True, text=True)
        if smoke.returncode:
            print(smoke.stderr, file=sys.stderr)
            sys.exit("asm_mutants: the unmutated copy fails the smoke check (import wse.asm from the "
                     "temporary folder, assemble `nop`): is the venv active?")
        subsets = []
        for m in chosen:
            key = (tuple(m.tests), m.regen)
            if not any(set(t) == set(key[0]) and r == key[1] for t, r in subsets):
                subsets.append(key)
        for tests, regen in subsets:
            print(f"baseline: {' '.join(tests)}" + (" (generated-file tests deselected)" if regen else ""),
                  file=log, flush=True)
            p = subprocess.run(pytest_cmd(list(tests), FRESHNESS if regen else ()), env=env, cwd=ROOT,
                               capture_output=True, text=True)
            if p.returncode:
                print(p.stdout[-4000:], p.stderr[-2000:], file=sys.stderr)
                sys.exit(f"asm_mutants: the unmutated copy fails {' '.join(tests)}")
        results = []
        for m in chosen:
            r = run_one(m, out, env)
            results.append(r)
            print(f"{r['status']:10} {m.name:32} {r['seconds']:6.1f}s  {r['detail'][:100]}",
                  file=log, flush=True)
    counts = {k: sum(r["status"] == k for r in results)
              for k in ("killed", "survived", "equivalent", "invalid", "error")}
    summary = (f"{len(results)} mutants: {counts['killed']} killed, {counts['survived']} survived, "
               f"{counts['equivalent']} equivalent, {counts['invalid']} invalid"
               + (f", {counts['error']} errors" if counts["error"] else ""))
    if args.json:
        print(json.dumps({"counts": counts, "total": len(results), "results": results}, indent=1))
    else:
        print(summary)
        for r in results:
            if r["status"] in ("survived", "error") or r["detail"].startswith("marked equivalent"):
                print(f"  {r['status']}: {r['name']}")
    bad = counts["survived"] + counts["error"] + sum(r["detail"].startswith("marked equivalent")
                                                    for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
