"""The assembler: layout pass, per-PE program instantiation (memoized), encoding, images.

Structure
- Session: reads and parses files (each once), runs the layout pass over the top level
  (constants, macros, .fabric, .program, .place), then instantiates every placed PE.
- ProgramWalk: one program for one PE. Pass 1 walks the statements (conditions, macros, .rep,
  includes) and records code items, data items, tasks, routes, DSDs; pass 2 lays out data,
  assigns task ids and evaluates every operand and value, then builds the Image.
- Memoization: while a walk runs, every expression evaluation that read a per-PE built-in
  (pe_x, abs_y, a placement parameter, ...) is appended to a trace as (expression, scope, value).
  The walk is a deterministic function of those values, so a trie keyed by them maps a PE to
  an image: a new PE replays the recorded expressions with its own built-ins and, if it follows
  an existing path to a leaf, reuses that image without walking the program again.
  A named constant computed from per-PE values (`IDX = pe_y * rect_w + pe_x`) is recorded as
  a definition step, without its value: a replay evaluates it into an environment, and each
  later expression that reads it is recorded with its own value. So PEs whose constants differ
  but whose code and data come out the same (`NL = N / PES + (IDX < N % PES)`, with N a
  multiple of PES) still share an image.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace

from wse.isa import load
from wse.isa import objfile as of
from wse.isa.codec import encode as isa_encode

from .diag import AsmError, AssemblyError, Diagnostic, Pos, fmt_int, fmt_range
from .expr import (BUILTIN_NAMES, DSR, GPR, INT_BITS, NUMBERED, PORTS, RESERVED, UT_PREFIX, UTS, Ev, PeDep,
                   Scope, Sym,
                   Undefined, compile_expr, default_scope, f16_bits, f32_bits, fast_key, suggest, vkey)
from .syntax import (Arrow, Bin, Bracket, Call, IfBlock, Kw, MacroBlock, Name, Num, ProgramBlock,
                     RepBlock, SourceFile, Stmt, Str, Un, parse_line, read_source)

MAX_MACRO_DEPTH = 64
# record PE-dependent named constants as definition steps (see the docstring); False records
# their values, as before (for measuring the difference)
LAZY_PE_CONSTS = True
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _no_nul(a, what: str) -> None:
    """The object file stores NUL-terminated strings: one holding a NUL would read back cut."""
    if "\0" in a.value:
        raise AsmError(f"{what} cannot contain NUL (\\x00): the object file stores NUL-terminated "
                       f"strings", a.pos)


MAX_INCLUDE_DEPTH = 64
MAX_STATEMENTS = 2_000_000
# the walk of a program stops when its code alone is this many times the SRAM (it cannot fit)
# or when errors equal to ones already found have come this many times
MAX_ERROR_REPEATS = 10_000
CODE_STOP_FACTOR = 4
MAX_FABRIC = 4096
ELEM_WORDS = {"f16": 1, "u16": 1, "f32": 2, "u32": 2}
TASK_KINDS = {"local": 0, "data": 1, "control": 2}
DSD_KINDS = {"mem1d": 1, "mem4d": 2, "fabin": 3, "fabout": 4}
# what an object file's DSD name may be (wse.isa.objfile checks the same)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
FIELD_DESC = {"gpr": "a register (r0-r15)", "dsr": "a DSR (d0-d7, a0-a7, b0-b7)",
              "dsr_d": "a destination DSR (d0-d7)", "dsr_a": "a source-0 DSR (a0-a7)",
              "dsr_b": "a source-1 DSR (b0-b7)", "mem": "a memory operand [rN + offset]",
              "expr": "an expression"}
LAYOUT_ONLY = {".fabric", ".place", ".arch"}
PROGRAM_ONLY = {".text", ".data", ".f16", ".f32", ".u16", ".u32", ".fill", ".zero", ".space",
                ".align", ".org", ".task", ".route", ".dsd", ".export", ".loc"}
ALL_DIRECTIVES = sorted(LAYOUT_ONLY | PROGRAM_ONLY | {".equ", ".include", ".error", ".if", ".ifdef",
                        ".ifndef", ".elif", ".else", ".endif", ".macro", ".endm", ".rep", ".endr",
                        ".program", ".endprogram", ".endp"})


class CachedImage(of.Image):
    """An Image whose dedup key is computed once (many PEs share one image object)."""

    def key(self):
        k = self.__dict__.get("_key")
        if k is None:
            k = super().key()
            self.__dict__["_key"] = k
        return k


class Stop(Exception):
    """Abort a walk (too many statements)."""


@dataclass
class MacroDef:
    name: str
    params: list          # [(name, default ast or None, pos)]
    body: list
    scope: Scope
    pos: Pos
    pseudo: bool = False


@dataclass
class ProgramInfo:
    name: str
    image_name: str
    params: list          # [(name, default ast or None, pos)]
    body: list
    scope: Scope
    pos: Pos
    trie: object = None
    n_pes: int = 0
    plain: bool = False     # the implicit `main` of a file without .program


@dataclass
class Placement:
    prog: ProgramInfo
    x: int
    y: int
    w: int
    h: int
    params: dict
    pos: Pos


class TrieNode:
    __slots__ = ("step", "children", "leaf")

    def __init__(self):
        self.step = None
        self.children = {}
        self.leaf = None


def _pseudo_macros() -> dict:
    isa = load()
    out = {}
    for name, p in isa.pseudos.items():
        body = []
        for i, line in enumerate(p.expand, 1):
            body.extend(parse_line(line, f"<pseudo {name}>", i))
        out[name] = MacroDef(name, [(o, None, None) for o in p.operands], body, None, None, True)
    return out


_PSEUDOS = None


def pseudos():
    global _PSEUDOS
    if _PSEUDOS is None:
        _PSEUDOS = _pseudo_macros()
    return _PSEUDOS


# =============================================================================================
class Walker:
    """Common statement walking: blocks, constants, macros, includes, .error."""

    mode = "?"

    def __init__(self, session: "Session", builtins):
        self.s = session
        self.ev = Ev(builtins)
        self.errors: list[Diagnostic] = []
        self.error_keys: set = set()    # (file, line, col, message) of self.errors
        self.error_repeats = 0          # errors not kept: equal to one in self.errors
        # the walk stopped at a limit that costs seconds to reach (the statement limit, code or
        # data far past the SRAM, repeated errors): the other PEs of a layout are not walked
        self.costly_stop = False
        self.warnings: list[Diagnostic] = []
        self.notes: list[str] = []          # macro / include context, innermost last
        self.macro_stack: list[str] = []
        # the invocations of the (non-pseudo) macros being expanded, outermost first: (macro,
        # file, line, col); recorded with each instruction (LINES, EXPANSIONS)
        self.expansions: list[tuple[str, str, int, int]] = []
        self.include_stack: list[str] = []
        self.pseudo_pos: Pos | None = None  # position of the pseudo-instruction being expanded
        self.trace = None
        self.count = 0
        self.n_pe_defs = 0      # PE-dependent constant definitions recorded so far
        self.last_pe_def = None  # PeDep of the last value(..., defining=True), if PE-dependent
        # names declared inside a `.rep` iteration or a macro expansion (local to it), for the
        # note of a lookup that fails after it: name -> the note (the first, innermost one)
        self.local_names: dict[str, str] = {}

    # -- errors ----------------------------------------------------------------------------
    def fix_pos(self, pos):
        if pos is None or pos.file.startswith("<pseudo"):
            return self.pseudo_pos
        return pos

    def error(self, e_or_msg, pos=None, notes=None, ctx=None):
        if isinstance(e_or_msg, AsmError):
            msg, pos, extra = e_or_msg.message, e_or_msg.pos, e_or_msg.notes
        else:
            msg, extra = e_or_msg, []
        pos = self.fix_pos(pos)
        # the same error again (a bad statement in a `.rep` body, once per iteration): only the
        # first is reported (Session.fail keeps the first of equal keys), so keep only that one;
        # 2,000,000 copies cost 20 s and a gigabyte (found by fuzzing)
        key = (pos.file, pos.line, pos.col, msg) if pos is not None else (None, None, None, msg)
        if key in self.error_keys:
            self.error_repeats += 1
            if self.error_repeats == MAX_ERROR_REPEATS:
                # a `.rep` of up to 2,000,000 iterations that fails in each one: walking the rest
                # only repeats the errors already found (tens of seconds); stop and say so
                self.errors.append(self.s.diag(
                    f"stopped after {MAX_ERROR_REPEATS} repeats of errors already reported (a `.rep` or "
                    f"macro that fails in every iteration?); the rest of the program was not checked",
                    pos, list(reversed(self.notes))))
                self.costly_stop = True
                raise Stop()
            return
        self.error_keys.add(key)
        allnotes = list(extra) + list(notes or []) + list(reversed(ctx if ctx is not None else self.notes))
        self.errors.append(self.s.diag(msg, pos, allnotes))

    def warn(self, msg, pos, notes=None, ctx=None):
        """A warning: the source assembles, but part of it cannot do what it says."""
        pos = self.fix_pos(pos)
        allnotes = list(notes or []) + list(reversed(ctx if ctx is not None else self.notes))
        d = self.s.diag(msg, pos, allnotes)
        d.severity = "warning"
        self.warnings.append(d)

    # -- values ----------------------------------------------------------------------------
    def value(self, expr, scope, dot=None, defer_ok=False, defining=False):
        """`defining`: the value of a named constant; if it is PE-dependent, the trace gets a
        definition step (key ("def",)) and self.last_pe_def its PeDep."""
        ev = self.ev
        saved = ev.dep
        ev.dep = False
        self.last_pe_def = None
        try:
            v = ev.ev(expr, scope, dot)
        except Undefined as e:
            if ev.dep and not defer_ok and self.trace is not None:
                self.trace.append((expr, scope, dot, ("err", e.message), defining))
            ev.dep = saved or ev.dep
            if not defer_ok:
                raise self.undefined_error(e, scope) from None
            raise
        except AsmError as e:
            if ev.dep and self.trace is not None:
                self.trace.append((expr, scope, dot, ("err", e.message), defining))
            ev.dep = saved or ev.dep
            raise
        except RecursionError:
            raise AsmError("expression is nested too deeply", getattr(expr, "pos", None)) from None
        if ev.dep and self.trace is not None:
            if defining:
                self.trace.append((expr, scope, dot, ("def",), True))
                self.last_pe_def = PeDep(self.n_pe_defs)
                self.n_pe_defs += 1
            else:
                self.trace.append((expr, scope, dot, vkey(v), False))
        ev.dep = saved or ev.dep
        return v

    def local_note(self, name) -> list:
        """For a name that is not found: where it was declared local to a `.rep` iteration or a
        macro expansion of this walk (or of the top level), if it was."""
        n = self.local_names.get(name)
        if n is None and self.s.layout_local_names is not self.local_names:
            n = self.s.layout_local_names.get(name)
        return [n] if n is not None else []

    def note_locals(self, scope: Scope, note):
        """Record the names an iteration or expansion declared in its own scope (note(name)
        gives the note for one)."""
        for name in scope.syms:
            if name not in self.local_names:
                self.local_names[name] = note(name)

    def undefined_error(self, e: Undefined, scope):
        if e.message.startswith("unknown symbol") and e.name in PORTS:
            return AsmError(f"`{e.name}` is a port name, which means something only inside a `.route`'s "
                            f"RX -> TX; compute a port set there, e.g. `.route C, west -> ramp | "
                            f"(pe_x < W - 1 ? east : 0)`", e.pos, e.notes)
        if e.message.startswith("unknown symbol"):
            cands = set(scope.names()) if scope is not None else set()
            if self.ev.builtins:
                cands |= set(self.ev.builtins)
            cands |= set(BUILTIN_NAMES) if self.mode == "program" else set()
            cands.discard(e.name)      # never "did you mean" the name itself
            s = suggest(e.name, cands)
            return AsmError(e.message + (f"; {s}" if s else ""), e.pos, e.notes + self.local_note(e.name))
        return AsmError(e.message, e.pos, e.notes)

    def int_value(self, expr, scope, dot=None, what="value", lo=None, hi=None):
        v = self.value(expr, scope, dot)
        if isinstance(v, float):
            raise AsmError(f"{what} must be an integer, got the float {v!r}", self.fix_pos(expr.pos))
        if lo is not None and not lo <= v <= hi:
            raise AsmError(f"{what} {fmt_int(v)} is out of range; legal: {fmt_range(lo, hi)}",
                           self.fix_pos(expr.pos))
        return v

    # -- definitions -----------------------------------------------------------------------
    def check_name(self, name, pos):
        if name in RESERVED:
            raise AsmError(f"`{name}` is a reserved name (a register or built-in) and cannot be "
                           f"defined", pos)

    def define(self, scope: Scope, name: str, sym: Sym, pos: Pos):
        self.check_name(name, pos)
        old = scope.syms.get(name)
        if old is not None:
            raise AsmError(f"`{name}` is already defined", pos,
                           [f"first defined at {old.pos}"] if old.pos else [])
        outer = scope.parent
        while outer is not None:   # a -D definition must not be silently shadowed
            o = outer.syms.get(name)
            if o is not None and o.pos is not None and o.pos.file == "<command line>":
                raise AsmError(f"`{name}` is defined on the command line (-D {name}={o.value}) "
                               f"and again here", pos,
                               [f"to give a default that -D can override, write "
                                f"`.ifndef {name}` ... `.endif` around this definition"])
            outer = outer.parent

        if self.ev.builtins is not None and name in self.ev.builtins:
            raise AsmError(f"`{name}` is a parameter of this program and cannot be redefined", pos)
        sym.pos = pos
        scope.syms[name] = sym

    def arg_name(self, node, scope):
        """The name a directive declares or exports, with macro arguments substituted: inside a
        macro, `NAME:`, `NAME = ...`, `.equ NAME`, `.task NAME` / `.dsd NAME` / `.export NAME`
        act on the name the caller passed for the parameter NAME. Returns (Name node, the scope
        the name belongs to)."""
        depth = 0
        while type(node) is Name and scope is not None and depth < 64:
            r = scope.find(node.name)
            if r is None or r[0] != "arg":
                break
            ast, scope = r[1]
            if type(ast) is not Name:
                raise AsmError(f"`{node.name}` stands for a name here, but the macro was given "
                               f"an expression for it", node.pos)
            node = ast
            depth += 1
        return node, scope

    def define_const(self, scope, name, expr, pos, dot=None):
        """NAME = EXPR: EXPR is evaluated in scope; inside a macro, a NAME that is one of its
        parameters defines the name the caller passed, in the caller's scope (as labels,
        `.task` and `.dsd` do; see arg_name)."""
        nm, nscope = self.arg_name(Name(name, pos), scope)
        try:
            v = self.value(expr, scope, dot, defer_ok=True, defining=LAZY_PE_CONSTS)
            sym = Sym("const", v, extra=self.last_pe_def)
        except Undefined:
            sym = Sym("lazy", None, extra=(expr, scope, dot))
        self.define(nscope, nm.name, sym, nm.pos)

    # -- walking ---------------------------------------------------------------------------
    def walk(self, blocks, scope):
        for b in blocks:
            self.count += 1
            if self.count > MAX_STATEMENTS:
                self.error(f"too many statements executed (more than {MAX_STATEMENTS}); is a "
                           f"`.rep` count too large?", b.pos if not isinstance(b, Stmt) else b.namepos)
                self.costly_stop = True
                raise Stop()
            try:
                if isinstance(b, Stmt):
                    self.stmt(b, scope)
                elif isinstance(b, IfBlock):
                    self.if_block(b, scope)
                elif isinstance(b, RepBlock):
                    self.rep_block(b, scope)
                elif isinstance(b, ProgramBlock):
                    self.program_block(b, scope)
                elif isinstance(b, MacroBlock):
                    self.macro_def(b, scope)
            except AsmError as e:
                self.error(e)

    def if_block(self, b: IfBlock, scope):
        for s, body in b.branches:
            if s.name in (".ifdef", ".ifndef"):
                if len(s.args) != 1 or type(s.args[0]) is not Name:
                    raise AsmError(f"`{s.name}` takes one name", s.namepos)
                d = self.ev.is_defined(s.args[0].name, scope)
                c = d if s.name == ".ifdef" else not d
            else:
                if len(s.args) != 1:
                    raise AsmError(f"`{s.name}` takes one condition", s.namepos)
                c = self.value(s.args[0], scope)
                if isinstance(c, float):
                    c = c != 0.0
            if c:
                self.walk(body, scope)
                return
        if b.else_body is not None:
            self.walk(b.else_body, scope)

    def rep_block(self, b: RepBlock, scope):
        s = b.stmt
        if not 1 <= len(s.args) <= 2:
            raise AsmError("`.rep` takes a count and an optional variable name: .rep COUNT [, VAR]", s.namepos)
        n = self.int_value(s.args[0], scope, what="repeat count", lo=0, hi=MAX_STATEMENTS)
        var = None
        if len(s.args) == 2:
            if type(s.args[1]) is not Name:
                raise AsmError("the `.rep` variable must be a name", s.args[1].pos)
            var = s.args[1].name
            self.check_name(var, s.args[1].pos)
        if not b.body:
            # nothing to repeat: an empty body counts no statement against the limit, so the loop
            # would only burn time (`.rep 2000000` around another empty `.rep 2000000` never ended)
            return
        for i in range(n):
            inner = Scope(scope)
            if var:
                inner.syms[var] = Sym("const", i, s.args[1].pos)
            # the iteration is part of where its code comes from (LINES, EXPANSIONS; notes)
            self.notes.append(f"in iteration {i} of the `.rep` at {s.namepos}")
            self.expansions.append((f".rep[{i}]", s.namepos.file, s.namepos.line, s.namepos.col))
            try:
                self.walk(b.body, inner)
            finally:
                self.expansions.pop()
                self.notes.pop()
                self.note_locals(inner, lambda name: (
                    f"`{name}` is the variable of the `.rep` at {s.namepos}, defined only inside its body"
                    if name == var else
                    f"`{name}` was declared inside the `.rep` at {s.namepos} (local to each iteration); "
                    f"declare it before the `.rep` to use it after"))

    def macro_def(self, b: MacroBlock, scope):
        s = b.stmt
        if not s.args or type(s.args[0]) is not Name:
            raise AsmError("`.macro` needs a name: .macro NAME [, PARAM [= DEFAULT]]...", s.namepos)
        name = s.args[0].name
        isa = load()
        if name in isa.by_mnemonic or name in isa.pseudos:
            raise AsmError(f"macro `{name}` would hide the instruction `{name}`", s.args[0].pos)
        params = []
        seen = set()
        for a in s.args[1:]:
            if type(a) is Name:
                pn, default = a.name, None
            elif type(a) is Kw:
                pn, default = a.name, a.value
            else:
                raise AsmError("a macro parameter must be a name or NAME=DEFAULT", a.pos)
            if pn in seen:
                raise AsmError(f"parameter `{pn}` is listed twice", a.pos)
            seen.add(pn)
            params.append((pn, default, a.pos))
        self.define(scope, name, Sym("macro", extra=MacroDef(name, params, b.body, scope, s.namepos)),
                    s.args[0].pos)

    def program_block(self, b, scope):
        raise AsmError("`.program` is only allowed at the top level of the main file", b.stmt.namepos)

    def expand_macro(self, m: MacroDef, s: Stmt, scope):
        if s.async_ is not None:
            raise AsmError(f"`{m.name}` takes no async clause", s.async_.pos)
        margs = {}
        pos_args = [a for a in s.args if type(a) is not Kw]
        kw_args = [a for a in s.args if type(a) is Kw]
        first_kw = next((i for i, a in enumerate(s.args) if type(a) is Kw), None)
        if first_kw is not None and any(type(a) is not Kw for a in s.args[first_kw:]):
            raise AsmError("positional arguments must come before NAME=VALUE arguments", s.namepos)
        kind = "pseudo-instruction" if m.pseudo else "macro"
        if len(pos_args) > len(m.params):
            want = ", ".join(p[0] for p in m.params) or "no operands"
            raise AsmError(f"{kind} `{m.name}` takes {len(m.params)} operand"
                           f"{'s' if len(m.params) != 1 else ''} ({want}), got {len(s.args)}",
                           pos_args[len(m.params)].pos)
        for (pn, _, _), a in zip(m.params, pos_args):
            margs[pn] = (a, scope)
        names = [p[0] for p in m.params]
        for k in kw_args:
            if k.name not in names:
                sg = suggest(k.name, names)
                raise AsmError(f"{kind} `{m.name}` has no parameter `{k.name}`" + (f"; {sg}" if sg else ""),
                               k.namepos)
            if k.name in margs:
                raise AsmError(f"parameter `{k.name}` is given twice", k.namepos)
            margs[k.name] = (k.value, scope)
        for i, (pn, default, _) in enumerate(m.params):
            if pn not in margs:
                if default is None:
                    want = ", ".join(p[0] for p in m.params)
                    raise AsmError(f"{kind} `{m.name}` needs the operand `{pn}` ({m.name} {want})", s.namepos)
                # evaluated where the macro is defined, with the parameters before it (given or
                # by their own defaults) as in the body
                margs[pn] = (default, default_scope(m.scope, m.params, i, f"macro `{m.name}`",
                                                    earlier_args={p[0]: margs[p[0]] for p in m.params[:i]}))
        if len(self.macro_stack) >= MAX_MACRO_DEPTH:
            chain = " -> ".join(self.macro_stack[-6:] + [m.name])
            raise AsmError(f"macro expansion is nested too deeply (more than {MAX_MACRO_DEPTH} levels; "
                           f"recursive macro?): ... -> {chain}", s.namepos)
        inner = Scope(scope, margs=margs)
        if m.pseudo:
            saved = self.pseudo_pos
            self.pseudo_pos = s.namepos if self.pseudo_pos is None else self.pseudo_pos
            self.macro_stack.append(m.name)
            try:
                self.walk(m.body, inner)
            finally:
                self.macro_stack.pop()
                self.pseudo_pos = saved
            return
        self.macro_stack.append(m.name)
        self.notes.append(f"in expansion of macro `{m.name}` at {s.namepos}")
        self.expansions.append((m.name, s.namepos.file, s.namepos.line, s.namepos.col))
        try:
            self.walk(m.body, inner)
        finally:
            self.expansions.pop()
            self.notes.pop()
            self.macro_stack.pop()
            self.note_locals(inner, lambda name: (
                f"`{name}` was declared inside macro `{m.name}` (its expansion at {s.namepos}), local to "
                f"each expansion; declare it outside the macro, or name it after a parameter of "
                f"`{m.name}` so that it declares the name the caller passes"))

    def include(self, s: Stmt, scope):
        if len(s.args) != 1 or type(s.args[0]) is not Str:
            raise AsmError('`.include` takes one string: .include "file"', s.namepos)
        name = s.args[0].value
        sf, real = self.s.find_include(name, s.namepos, s.args[0].pos)
        if real in self.include_stack:
            chain = " -> ".join(self.s.display.get(p, p) for p in self.include_stack + [real])
            raise AsmError(f"include cycle: {chain}", s.args[0].pos)
        if len(self.include_stack) >= MAX_INCLUDE_DEPTH:
            raise AsmError(f"includes are nested too deeply (the limit is {MAX_INCLUDE_DEPTH} files, "
                           f"counting the main file)", s.args[0].pos)
        if sf.errors:
            return   # reported once by the session
        self.include_stack.append(real)
        self.notes.append(f"in file included from {s.namepos}")
        try:
            self.walk(sf.blocks, scope)
        finally:
            self.notes.pop()
            self.include_stack.pop()

    def common_stmt(self, s: Stmt, scope) -> bool:
        """Statements handled the same at the top level and in programs. True if handled."""
        if s.kind == "assign":
            self.define_const(scope, s.name, s.value, s.namepos, self.dot_now())
            return True
        if s.kind == "insn":
            r = scope.find(s.name)
            if r is not None and r[0] == "sym" and r[1].kind == "macro":
                self.expand_macro(r[1].extra, s, scope)
                return True
            return False
        n = s.name
        if n == ".equ":
            if len(s.args) != 2 or type(s.args[0]) is not Name:
                raise AsmError("`.equ` takes a name and a value: .equ NAME, EXPR", s.namepos)
            self.define_const(scope, s.args[0].name, s.args[1], s.args[0].pos, self.dot_now())
            return True
        if n == ".include":
            self.include(s, scope)
            return True
        if n == ".error":
            if len(s.args) != 1 or type(s.args[0]) is not Str:
                raise AsmError('`.error` takes one string: .error "message"', s.namepos)
            # it stops the walk: what follows usually uses what the check found missing (the
            # `.ifndef N` / `.error "define N"` guard), and every use would add an error of its own
            self.error(AsmError(s.args[0].value, s.namepos))
            raise Stop()
        if n in (".elif", ".else", ".endif", ".endm", ".endr", ".endprogram", ".endp"):
            raise AsmError(f"unexpected `{n}`", s.namepos)
        return False

    def dot_now(self):
        return None

    def unknown_directive(self, s: Stmt):
        sg = suggest(s.name, ALL_DIRECTIVES)
        raise AsmError(f"unknown directive `{s.name}`" + (f"; {sg}" if sg else ""), s.namepos)


# =============================================================================================
class LayoutWalk(Walker):
    """The top level of a file with .program blocks: constants, macros, the layout."""

    mode = "layout"

    def __init__(self, session):
        super().__init__(session, None)

    def stmt(self, s: Stmt, scope):
        if self.common_stmt(s, scope):
            return
        if s.kind == "label":
            raise AsmError(f"label `{s.name}` is outside any `.program`", s.namepos)
        if s.kind == "insn":
            raise AsmError(f"instruction `{s.name}` is outside any `.program`", s.namepos,
                           ["code belongs inside `.program NAME` ... `.endprogram`"])
        n = s.name
        if n == ".arch":
            self.s.set_arch_from_source(s)
        elif n == ".fabric":
            if len(s.args) != 2:
                raise AsmError("`.fabric` takes a width and a height: .fabric W, H", s.namepos)
            w = self.int_value(s.args[0], scope, what="fabric width", lo=1, hi=MAX_FABRIC)
            h = self.int_value(s.args[1], scope, what="fabric height", lo=1, hi=MAX_FABRIC)
            if self.s.fabric is not None:
                raise AsmError("`.fabric` is given twice", s.namepos, [f"first at {self.s.fabric_pos}"])
            self.s.fabric, self.s.fabric_pos = (w, h), s.namepos
        elif n == ".place":
            self.place(s, scope)
        elif n in PROGRAM_ONLY:
            raise AsmError(f"`{n}` is only allowed inside a `.program`", s.namepos)
        else:
            self.unknown_directive(s)

    def program_block(self, b: ProgramBlock, scope):
        s = b.stmt
        if self.notes and any(x.startswith("in expansion") for x in self.notes):
            pass
        if not s.args or type(s.args[0]) is not Name:
            raise AsmError('`.program` needs a name: .program NAME [, "image name"] [, PARAM [= DEFAULT]]...',
                           s.namepos)
        name = s.args[0].name
        image_name = name
        rest = s.args[1:]
        if rest and type(rest[0]) is Str:
            _no_nul(rest[0], "an image name")
            image_name = rest[0].value
            rest = rest[1:]
        params = []
        seen = set()
        for a in rest:
            if type(a) is Name:
                pn, d = a.name, None
            elif type(a) is Kw:
                pn, d = a.name, a.value
            else:
                raise AsmError("a program parameter must be a name or NAME=DEFAULT", a.pos)
            self.check_name(pn, a.pos)
            if pn in seen:
                raise AsmError(f"parameter `{pn}` is listed twice", a.pos)
            seen.add(pn)
            params.append((pn, d, a.pos))
        if name in self.s.programs:
            raise AsmError(f"program `{name}` is already defined", s.args[0].pos,
                           [f"first defined at {self.s.programs[name].pos}"])
        self.s.programs[name] = ProgramInfo(name, image_name, params, b.body, scope, s.args[0].pos)

    def place(self, s: Stmt, scope):
        if not s.args or type(s.args[0]) is not Name:
            raise AsmError("`.place` takes a program name and a position: .place NAME, X, Y [, W, H] "
                           "[, PARAM=VALUE]...", s.namepos)
        pname = s.args[0].name
        prog = self.s.programs.get(pname)
        if prog is None:
            sg = suggest(pname, self.s.programs)
            raise AsmError(f"unknown program `{pname}`" + (f"; {sg}" if sg else
                           " (a `.program` must come before its `.place`)"), s.args[0].pos)
        pos_args = [a for a in s.args[1:] if type(a) is not Kw]
        kws = [a for a in s.args[1:] if type(a) is Kw]
        if len(pos_args) not in (2, 4):
            raise AsmError("`.place` needs X, Y and optionally W, H", s.namepos)
        x = self.int_value(pos_args[0], scope, what="x", lo=0, hi=MAX_FABRIC - 1)
        y = self.int_value(pos_args[1], scope, what="y", lo=0, hi=MAX_FABRIC - 1)
        w = h = 1
        if len(pos_args) == 4:
            w = self.int_value(pos_args[2], scope, what="width", lo=1, hi=MAX_FABRIC)
            h = self.int_value(pos_args[3], scope, what="height", lo=1, hi=MAX_FABRIC)
        params = {}
        names = [p[0] for p in prog.params]
        for k in kws:
            if k.name not in names:
                sg = suggest(k.name, names)
                raise AsmError(f"program `{pname}` has no parameter `{k.name}`" +
                               (f"; {sg}" if sg else f" (its parameters: {', '.join(names) or 'none'})"),
                               k.namepos)
            if k.name in params:
                raise AsmError(f"parameter `{k.name}` is given twice", k.namepos)
            params[k.name] = self.value(k.value, scope)
        for i, (pn, d, ppos) in enumerate(prog.params):
            if pn not in params:
                if d is None:
                    raise AsmError(f"program `{pname}` needs the parameter `{pn}` (no default)", s.namepos,
                                   [f"`{pn}` is declared at {ppos}"])
                # evaluated where the program is defined, with the parameters before it (given
                # here or by their own defaults)
                sc = default_scope(prog.scope, prog.params, i, f"program `{pname}`",
                                   earlier_syms={p: Sym("const", params[p], pp) for p, _, pp in prog.params[:i]})
                try:
                    params[pn] = self.value(d, sc)
                except AsmError as e:
                    if "per-PE value" in e.message:
                        e.notes.append(f"a default is one value for the whole `.place`: compute what "
                                       f"depends on the PE inside the program (`{pn}_PE = ...`)")
                    e.notes.append(f"the default of `{pn}`, for the `.place` at {s.namepos}")
                    raise
        self.s.placements.append(Placement(prog, x, y, w, h, params, s.namepos))


# =============================================================================================
@dataclass
class CodeItem:
    insn: object           # None: an instruction that failed in pass 1 (holds its place)
    ops: list
    asy: object
    scope: Scope
    pc: int
    pos: Pos
    ctx: tuple
    loc: object            # Line position tuple (file, line, col, forced)


@dataclass
class DataItem:
    kind: str              # elems, fill, zero, space, align, org, label
    type: str = "u16"
    count: int = 0
    values: list = field(default_factory=list)    # asts (elems) or [ast] (fill)
    scope: Scope = None
    pos: Pos = None
    ctx: tuple = ()
    sym: Sym = None
    addr: int = 0


@dataclass
class RouteSource:
    """A route of an image and where it was written: the `.route` and each position's TX."""
    route: of.Route
    pos: Pos
    tx_pos: list
    ctx: tuple


@dataclass
class SendSource:
    """Code a task can reach that sends on a constant color through this PE's RAMP."""
    what: str              # "`send` on color 3", ... or the `ldsd` of a fabout DSD
    color: int
    pos: Pos
    ctx: tuple
    fabout: bool = False


@dataclass
class LintInfo:
    """Attached to each CachedImage (as `.lint`; not part of the object file)."""
    prog: str
    routes: dict           # color -> RouteSource
    sends: list            # [SendSource]


class ProgramWalk(Walker):
    mode = "program"

    def __init__(self, session, prog: ProgramInfo, builtins, trace, pe):
        super().__init__(session, builtins)
        self.prog = prog
        self.trace = trace
        self.pe = pe
        self.code: list[CodeItem] = []
        self.data: list[DataItem] = []
        self.data_words = 0            # the words of the data items so far (data_added)
        self.tasks = []
        self.routes = []
        self.dsds = []
        self.exports = []
        self.section = "text"
        self.loc = None
        self.loc_fresh = False
        self.task_syms: dict[str, Sym] = {}
        self.ev.task_lookup = self.task_syms.get

    def dot_now(self):
        if self.section == "text":
            return len(self.code)
        item = DataItem("label")
        self.data.append(item)
        return lambda: item.addr

    def ctx(self):
        return tuple(self.notes)

    # -- pass 1 ----------------------------------------------------------------------------
    def stmt(self, s: Stmt, scope):
        if s.kind == "insn":
            try:
                if not self.common_stmt(s, scope):
                    self.instruction(s, scope)
            except AsmError:
                # the instruction (or macro invocation) is there, it just failed: hold its place
                # in the code, so that what follows from it not being there is not reported too
                # (a task whose only code it is "has no code", a label after it "is outside the
                # code"); the walk has errors, so no image is made and nothing encodes it
                self.code.append(CodeItem(None, [], None, scope, len(self.code),
                                          self.pseudo_pos or s.namepos, self.ctx(), (None, False)))
                raise
            return
        if self.common_stmt(s, scope):
            return
        if s.kind == "label":
            # a label named after a macro parameter defines the caller's name (arg_name)
            nm, nscope = self.arg_name(Name(s.name, s.namepos), scope)
            if self.section == "text":
                self.define(nscope, nm.name, Sym("label", len(self.code)), nm.pos)
            else:
                sym = Sym("dlabel", None, extra=nm.name)
                self.define(nscope, nm.name, sym, nm.pos)
                self.data.append(DataItem("label", sym=sym, pos=s.namepos))
            return
        n = s.name
        h = getattr(self, "d_" + n[1:], None)
        if h is not None and n in PROGRAM_ONLY:
            h(s, scope)
        elif n == ".arch" and self.prog.plain:
            pass    # a file without .program: read before the walk (Session._scan_arch)
        elif n in LAYOUT_ONLY:
            raise AsmError(f"`{n}` is only allowed at the top level, outside `.program`", s.namepos)
        else:
            self.unknown_directive(s)

    def d_text(self, s, scope):
        self.noargs(s)
        self.section = "text"

    def d_data(self, s, scope):
        self.noargs(s)
        self.section = "data"

    def noargs(self, s):
        if s.args:
            raise AsmError(f"`{s.name}` takes no arguments", s.args[0].pos)

    def need_data(self, s):
        if self.section != "data":
            raise AsmError(f"`{s.name}` belongs in the data section (write `.data` first)", s.namepos)

    def _elems(self, s, scope, typ):
        self.need_data(s)
        if not s.args:
            raise AsmError(f"`{s.name}` needs at least one value", s.namepos)
        for a in s.args:
            if type(a) in (Str, Kw, Bracket, Arrow):
                raise AsmError(f"`{s.name}` takes numbers", a.pos)
        self.data.append(DataItem("elems", typ, len(s.args), list(s.args), scope, s.namepos, self.ctx()))
        self.data_added(len(s.args) * ELEM_WORDS[typ], s)

    def d_f16(self, s, scope):
        self._elems(s, scope, "f16")

    def d_f32(self, s, scope):
        self._elems(s, scope, "f32")

    def d_u16(self, s, scope):
        self._elems(s, scope, "u16")

    def d_u32(self, s, scope):
        self._elems(s, scope, "u32")

    def _type_arg(self, a, s):
        if type(a) is not Name or a.name not in ELEM_WORDS:
            raise AsmError(f"expected an element type (f16, f32, u16, u32)", a.pos)
        return a.name

    def _count(self, a, scope, typ):
        limit = self.s.preset.sram_words // ELEM_WORDS[typ]
        return self.int_value(a, scope, what="count", lo=0, hi=limit)

    def d_fill(self, s, scope):
        self.need_data(s)
        if len(s.args) not in (2, 3):
            raise AsmError("`.fill` takes TYPE, COUNT [, VALUE]", s.namepos)
        typ = self._type_arg(s.args[0], s)
        n = self._count(s.args[1], scope, typ)
        vals = [s.args[2]] if len(s.args) == 3 else [Num(0, s.namepos)]
        self.data.append(DataItem("fill", typ, n, vals, scope, s.namepos, self.ctx()))
        self.data_added(n * ELEM_WORDS[typ], s)

    def _res(self, s, scope, kind):
        self.need_data(s)
        if len(s.args) not in (1, 2):
            raise AsmError(f"`{s.name}` takes COUNT [, TYPE]", s.namepos)
        typ = self._type_arg(s.args[1], s) if len(s.args) == 2 else "u16"
        n = self._count(s.args[0], scope, typ)
        self.data.append(DataItem(kind, typ, n, [], scope, s.namepos, self.ctx()))
        self.data_added(n * ELEM_WORDS[typ], s)

    def data_added(self, words, s):
        """Count the words of a data item; when the data alone is CODE_STOP_FACTOR times the
        SRAM it can never fit, and going on (a `.rep` of up to 2,000,000 items) costs tens of
        seconds and gigabytes for an error already known: say so here and stop the walk."""
        self.data_words += words
        limit = self.s.preset.sram_words
        if self.data_words <= CODE_STOP_FACTOR * limit:
            return
        where = f"PE ({self.pe[0]}, {self.pe[1]})" if self.pe else "its PE"
        notes = [f"program `{self.prog.name}` is declared at {self.prog.pos}"] if not self.prog.plain else []
        notes.append("make the arrays smaller (or f16 instead of f32), or spread the data over more PEs "
                     "(each PE has its own SRAM)")
        self.error(f"program `{self.prog.name}` does not fit in SRAM on {where}: with this item its data alone is "
                   f"{self.data_words} words, more than {CODE_STOP_FACTOR} times the {limit} words "
                   f"({self.s.preset.sram_bytes} bytes) of a {self.s.arch} PE, so the assembler stopped here",
                   s.namepos, notes)
        self.costly_stop = True
        raise Stop()

    def d_zero(self, s, scope):
        self._res(s, scope, "zero")

    def d_space(self, s, scope):
        self._res(s, scope, "space")

    def d_align(self, s, scope):
        self.need_data(s)
        if len(s.args) != 1:
            raise AsmError("`.align` takes one number of words", s.namepos)
        n = self.int_value(s.args[0], scope, what="alignment", lo=1, hi=self.s.preset.sram_words)
        self.data.append(DataItem("align", count=n, pos=s.namepos))

    def d_org(self, s, scope):
        self.need_data(s)
        if len(s.args) != 1:
            raise AsmError("`.org` takes one word address", s.namepos)
        a = self.int_value(s.args[0], scope, what="address", lo=0, hi=self.s.preset.sram_words)
        self.data.append(DataItem("org", count=a, pos=s.args[0].pos))

    def d_task(self, s, scope):
        if len(s.args) < 2 or type(s.args[0]) is not Name or type(s.args[1]) is not Name:
            raise AsmError("`.task` takes a name and a kind: .task NAME, data|local|control "
                           "[, color=C] [, id=N] [, entry=E] [, start] [, blocked]", s.namepos)
        nm = self.arg_name(s.args[0], scope)[0]
        name = nm.name
        kind = s.args[1].name
        if kind not in TASK_KINDS:
            sg = suggest(kind, TASK_KINDS)
            raise AsmError(f"unknown task kind `{kind}`; expected data, local or control" +
                           (f" ({sg})" if sg else ""), s.args[1].pos)
        opts = {}
        flags = set()
        for a in s.args[2:]:
            if type(a) is Kw and a.name in ("color", "id", "entry"):
                if a.name in opts:
                    raise AsmError(f"`{a.name}=` is given twice", a.namepos)
                opts[a.name] = a.value
            elif type(a) is Name and a.name in ("start", "blocked"):
                flags.add(a.name)
            else:
                what = a.name if type(a) in (Kw, Name) else "this"
                raise AsmError(f"unexpected `{what}` in `.task`; expected color=, id=, entry=, start or "
                               f"blocked", a.namepos if type(a) is Kw else a.pos)
        if kind == "data" and "color" not in opts:
            raise AsmError(f"data task `{name}` needs `color=C` (the color whose wavelets run it)", s.namepos)
        if kind != "data" and "color" in opts:
            raise AsmError(f"only a data task has a color; `{name}` is a {kind} task", opts["color"].pos)
        if kind == "data" and "start" in flags:
            raise AsmError(f"data task `{name}` cannot be `start`: it runs once per wavelet of its color, "
                           f"not when activated (activated, it would wait for a wavelet that may never come)",
                           s.namepos)
        self.check_name(name, nm.pos)
        if name in self.task_syms:
            raise AsmError(f"task `{name}` is already declared", nm.pos,
                           [f"first declared at {self.task_syms[name].pos}"])
        sym = Sym("task", None, nm.pos)
        self.task_syms[name] = sym
        self.tasks.append(dict(name=name, sym=sym, kind=kind, opts=opts, flags=flags, scope=scope,
                               pc=len(self.code), pos=s.namepos, ctx=self.ctx()))

    def d_route(self, s, scope):
        if len(s.args) < 2:
            raise AsmError("`.route` takes a color and 1 to 4 `RX -> TX` positions: "
                           ".route C, west -> ramp|east [, iq=Q] [, oq=Q]", s.namepos)
        self.routes.append(dict(stmt=s, scope=scope, ctx=self.ctx()))

    def d_dsd(self, s, scope):
        if len(s.args) < 2 or type(s.args[0]) is not Name or type(s.args[1]) is not Name:
            raise AsmError("`.dsd` takes a name and a kind: .dsd NAME, mem1d|mem4d|fabin|fabout, ...",
                           s.namepos)
        kind = s.args[1].name
        if kind not in DSD_KINDS:
            sg = suggest(kind, DSD_KINDS)
            raise AsmError(f"unknown DSD kind `{kind}`; expected mem1d, mem4d, fabin or fabout" +
                           (f" ({sg})" if sg else ""), s.args[1].pos)
        nm, nscope = self.arg_name(s.args[0], scope)
        self.define(nscope, nm.name, Sym("dsd", len(self.dsds)), nm.pos)
        self.dsds.append(dict(stmt=s, kind=kind, scope=scope, ctx=self.ctx()))

    def d_export(self, s, scope):
        if not s.args:
            raise AsmError("`.export` takes names: .export NAME [, NAME]... or .export NAME, TYPE, COUNT",
                           s.namepos)
        if len(s.args) == 3 and type(s.args[1]) is Name and s.args[1].name in ("f16", "f32", "u16", "u32", "task"):
            nm, nscope = self.arg_name(s.args[0], scope)
            self.exports.append((nm, s.args[1].name, s.args[2], nscope if nm is not s.args[0] else scope, self.ctx()))
            return
        for a in s.args:
            if type(a) is not Name:
                raise AsmError("`.export` takes names", a.pos)
            nm, nscope = self.arg_name(a, scope)
            self.exports.append((nm, None, None, nscope, self.ctx()))

    def d_loc(self, s, scope):
        if not s.args:
            self.loc = ("none",)
            self.loc_fresh = True
            return
        usage = ('`.loc` takes "file", LINE, COL, then for each macro expansion or .rep iteration the '
                 'code comes from (innermost first) "macro" or ".rep[N]", "file", LINE, COL; or nothing, '
                 'for no line information')
        if len(s.args) < 3 or (len(s.args) - 3) % 4 or type(s.args[0]) is not Str:
            raise AsmError(usage, s.namepos)
        # the object stores "" for code without a position (a bare `.loc`), and NUL-terminated
        # strings: a file name that is empty or holds a NUL would not read back
        if not s.args[0].value:
            raise AsmError("`.loc`: the file name is empty; a bare `.loc` marks code without a position",
                           s.args[0].pos)
        line = self.int_value(s.args[1], scope, what="line", lo=0, hi=0xFFFFFFFF)
        col = self.int_value(s.args[2], scope, what="column", lo=0, hi=0xFFFFFFFF)
        via = []
        for k in range(3, len(s.args), 4):
            m, f, ln, cl = s.args[k:k + 4]
            for a in (m, f):
                if type(a) is not Str or not a.value:
                    raise AsmError(usage, a.pos)
            rep = of.REP_RE.match(m.value)
            if not IDENT_RE.match(m.value) and not rep:
                raise AsmError(f"`.loc`: {m.value!r} is neither a macro name (an identifier) nor "
                               f"`.rep[N]` (iteration N of a .rep)", m.pos)
            if rep and int(rep.group(1)) > 0xFFFFFFFF:
                raise AsmError(f"`.loc`: the iteration in {m.value!r} is out of range; legal: "
                               f"0..4294967295", m.pos)
            _no_nul(f, "`.loc`: a file name")
            via.append((m.value, f.value,
                        self.int_value(ln, scope, what="line", lo=0, hi=0xFFFFFFFF),
                        self.int_value(cl, scope, what="column", lo=0, hi=0xFFFFFFFF)))
        _no_nul(s.args[0], "`.loc`: a file name")
        self.loc = (s.args[0].value, line, col, tuple(via))
        self.loc_fresh = True

    # -- instructions ----------------------------------------------------------------------
    def microthread(self, a, scope) -> int:
        """The microthread of an async clause: `utN`, `ut(N)`, or a macro parameter that the
        caller gave either as."""
        node = Call(a.ut, [a.utnum], a.utpos) if a.utnum is not None else Name(a.ut, a.utpos)
        for _ in range(MAX_MACRO_DEPTH):
            r = scope.find(node.name) if type(node) is Name else None
            if r is None or r[0] != "arg":
                break
            node, scope = r[1]
        if type(node) is Call and node.fn == UT_PREFIX:
            return self.reg_number(node, scope, len(UTS), "the microthreads")
        if type(node) is Name and node.name in UTS:
            return UTS[node.name]
        got = node.name if type(node) is Name else f"{node.fn}(...)" if type(node) is Call else \
            (self.src_text(node.pos) or "an expression")
        sg = suggest(got, UTS) if type(node) is Name else None
        raise AsmError(f"expected a microthread ut0..ut{len(UTS) - 1} or ut(N) after `async`, got `{got}`" +
                       (f"; {sg}" if sg else ""), node.pos if node.pos else a.utpos)

    def reg_number(self, call, scope, count: int, what: str) -> int:
        """The N of `PREFIX(N)`, a register named by number: a constant expression (a .rep VAR, a
        macro parameter, a -D define) in 0..count-1."""
        if len(call.args) != 1:
            raise AsmError(f"`{call.fn}(N)` names {what} by number: it takes one argument, got "
                           f"{len(call.args)}", call.pos)
        arg = call.args[0]
        n = self.value(arg, scope)
        if isinstance(n, float):
            raise AsmError(f"`{call.fn}(N)`: N must be an integer, got the float {n!r}", arg.pos)
        if not 0 <= n < count:
            raise AsmError(f"`{call.fn}({n if abs(n) < 1 << 20 else fmt_int(n)})`: {what} are "
                           f"{call.fn}0..{call.fn}{count - 1}", arg.pos)
        return n

    def numbered(self, a, scope):
        """A register named by number, `r(N)`, `d(N)`, `a(N)`, `b(N)`: ("gpr", n) or ("dsr",
        (file, n)); None when `a` is not such a call."""
        if type(a) is not Call or a.fn not in NUMBERED:
            return None
        kind, fi, count = NUMBERED[a.fn]
        what = "the general registers" if kind == "gpr" else f"the DSRs of file {a.fn}"
        n = self.reg_number(a, scope, count, what)
        return (kind, n if kind == "gpr" else (fi, n))

    def classify(self, a, scope, depth=0):
        """-> (kind, payload, pos). kinds: gpr, dsr, mem, expr."""
        t = type(a)
        if t is Call:
            r = self.numbered(a, scope)
            if r is not None:
                return (r[0], r[1], a.pos)
        if t is Name:
            r = scope.find(a.name)
            if r is not None and r[0] == "arg" and depth < MAX_MACRO_DEPTH:
                ast, sc = r[1]
                return self.classify(ast, sc, depth + 1)
            if r is None or r[0] != "sym":
                if a.name in GPR:
                    return ("gpr", GPR[a.name], a.pos)
                if a.name in DSR:
                    return ("dsr", DSR[a.name], a.pos)
            return ("expr", (a, scope), a.pos)
        if t is Bracket:
            if len(a.items) != 1:
                raise AsmError("a memory operand holds one address: [rN + offset]", a.pos)
            reg, off = self.split_mem(a.items[0], scope)
            return ("mem", (reg, off, scope), a.pos)
        if t in (Str, Kw, Arrow):
            raise AsmError("this kind of operand is not allowed in an instruction", a.pos)
        return ("expr", (a, scope), a.pos)

    def reg_of(self, a, scope):
        if type(a) is Name:
            r = scope.find(a.name)
            if r is not None and r[0] == "arg":
                return self.reg_of(r[1][0], r[1][1])
            if r is None and a.name in GPR:
                return GPR[a.name]
            if r is None and a.name in DSR:
                raise AsmError(f"`{a.name}` is a DSR; a memory operand needs a general register", a.pos)
        if type(a) is Call and a.fn in NUMBERED:
            kind, n = self.numbered(a, scope)
            if kind != "gpr":
                raise AsmError(f"`{a.fn}(...)` is a DSR; a memory operand needs a general register", a.pos)
            return n
        return None

    def split_mem(self, a, scope):
        r = self.reg_of(a, scope)
        if r is not None:
            return r, None
        if type(a) is Bin and a.op in ("+", "-"):
            r, rest = self.split_mem(a.a, scope)
            if r is not None:
                if rest is None:
                    off = a.b if a.op == "+" else Un("-", a.b, a.b.pos)
                else:
                    off = Bin(a.op, rest, a.b, a.pos)
                return r, off
        return 0, a

    def op_kind(self, insn_op, isa):
        if insn_op.kind == "mem":
            return "mem", None
        f = isa.fields[insn_op.fields[0]]
        if f.kind in ("gpr",):
            return "gpr", None
        if f.kind == "dsr":
            return "dsr", None
        if f.kind in ("dsr_d", "dsr_a", "dsr_b"):
            return "dsr", "dab".index(f.kind[-1])
        return "expr", None

    def instruction(self, s: Stmt, scope):
        isa = load()
        forms = isa.by_mnemonic.get(s.name)
        if forms is None:
            m = pseudos().get(s.name)
            if m is not None:
                self.check_pseudo(m, s, scope)
                self.expand_macro(m, s, scope)
                return
            r = scope.find(s.name)
            if r is not None and r[0] == "arg":
                raise AsmError(f"`{s.name}` is a macro parameter, not an instruction", s.namepos)
            cands = set(isa.mnemonics) | {n for n in scope.names()
                                          if (scope.find(n) or ("", None))[0] == "sym"
                                          and scope.find(n)[1].kind == "macro"}
            sg = suggest(s.name, cands)
            raise AsmError(f"unknown instruction `{s.name}`" + (f"; {sg}" if sg else ""), s.namepos)
        if self.section != "text":
            raise AsmError(f"instruction `{s.name}` in the data section (write `.text` first)", s.namepos)
        ops = [self.classify(a, scope) for a in s.args]
        chosen = None
        for insn in forms:
            plain = [o for o in insn.operands if o.kind != "async"]
            if len(plain) != len(ops):
                continue
            ok = True
            for o, got in zip(plain, ops):
                want, file_ = self.op_kind(o, isa)
                if got[0] != want or (file_ is not None and got[1][0] != file_):
                    ok = False
                    break
            if ok:
                chosen = insn
                break
        if chosen is None:
            raise self.no_form(s, forms, ops, isa)
        has_async = any(o.kind == "async" for o in chosen.operands)
        if s.async_ is not None and not has_async:
            raise AsmError(f"`{s.name}` takes no async clause (only tensor ops do)", s.async_.pos)
        if self.loc is not None:
            loc = self.loc if self.loc[0] != "none" else None
            loc = (loc, self.loc_fresh)
            self.loc_fresh = False
        else:
            p = self.pseudo_pos or s.namepos
            loc = ((p.file, p.line, p.col, tuple(reversed(self.expansions))), False)
        self.code.append(CodeItem(chosen, ops, s.async_, scope, len(self.code),
                                  self.pseudo_pos or s.namepos, self.ctx(), loc))
        if len(self.code) > CODE_STOP_FACTOR * self.s.preset.sram_words // 2:
            self.code_far_past_sram()

    def code_far_past_sram(self):
        """The code alone is CODE_STOP_FACTOR times the SRAM: it can never fit, and going on (a
        `.rep` of up to 2,000,000 instructions) costs tens of seconds and gigabytes for an error
        already known. Say so at the first instruction past the end, and stop the walk."""
        preset = self.s.preset
        limit = preset.sram_words
        n = len(self.code)
        it = self.code[limit // 2]
        where = f"PE ({self.pe[0]}, {self.pe[1]})" if self.pe else "its PE"
        notes = []
        if not self.prog.plain:
            notes.append(f"program `{self.prog.name}` is declared at {self.prog.pos}")
        notes.append("make the code shorter (a loop instead of a long .rep, a routine called instead of a "
                     "macro expanded many times)")
        self.error(f"program `{self.prog.name}` does not fit in SRAM on {where}: its code alone is more than "
                   f"{2 * (n - 1)} words ({n - 1} instructions), {CODE_STOP_FACTOR} times the {limit} words "
                   f"({preset.sram_bytes} bytes) of a {self.s.arch} PE, so the assembler stopped there; this "
                   f"instruction, pc {limit // 2}, is the first past the end", it.pos, notes, ctx=it.ctx)
        self.costly_stop = True
        raise Stop()

    # What to write instead of a pseudo-instruction given an operand of another kind:
    # (pseudo, operand index, kind given) -> hint, formatted with the operands as written.
    PSEUDO_HINTS = {
        ("mov", 1, "expr"): "to load a constant, use `li {0}, {1}`",
        ("mov", 1, "mem"): "to load from memory, use `ld32 {0}, {1}` (`ld16` for a 16-bit word)",
        ("li", 1, "gpr"): "to copy a register, use `mov {0}, {1}`",
        ("li", 1, "mem"): "to load from memory, use `ld32 {0}, {1}` (`ld16` for a 16-bit word)",
        ("b", 0, "gpr"): "to jump to the instruction index held in a register, use `jr {0}`",
        ("ret", 0, "gpr"): "`ret` returns through lr (r15); to jump to the index held in `{0}`, use `jr {0}`",
    }

    def check_pseudo(self, m: MacroDef, s: Stmt, scope):
        """Check a pseudo-instruction's operands as the user wrote them, so that an error names
        the pseudo-instruction and its usage (not the instructions it expands to, e.g. `addi`
        for `mov`), with what to write instead where there is an obvious alternative."""
        isa = load()
        usage = f"usage: {s.name} " + ", ".join(p[0] for p in m.params) if m.params else f"usage: {s.name}"
        if self.section != "text":
            raise AsmError(f"instruction `{s.name}` in the data section (write `.text` first)", s.namepos)
        if s.async_ is not None:
            raise AsmError(f"`{s.name}` takes no async clause (only tensor ops do)", s.async_.pos, [usage])
        ops = [self.classify(a, scope) for a in s.args]     # refuses NAME=VALUE, strings, arrows

        def text(i):
            return self.src_text(s.args[i].pos)

        def hint(i, kind):
            h = self.PSEUDO_HINTS.get((s.name, i, kind))
            texts = [text(j) for j in range(len(s.args))]
            if h is None or None in texts:
                return []
            a = s.args[i]
            if kind == "expr" and type(a) is Name and scope.find(a.name) is None \
                    and a.name not in BUILTIN_NAMES:
                return []       # an unknown name (`r16`): `li` would not help
            return [h.format(*texts)]

        n = len(m.params)
        if len(ops) != n:
            p = ops[n][2] if len(ops) > n else s.namepos
            extra = hint(0, ops[0][0]) if len(ops) > n and n == 0 else []
            raise AsmError(f"`{s.name}` takes {n} operand{'s' if n != 1 else ''}, got {len(ops)}", p,
                           [usage] + extra)
        for i, ((pn, _, _), got) in enumerate(zip(m.params, ops)):
            f = isa.fields.get(pn)
            want = "gpr" if f is not None and f.kind == "gpr" else "expr"
            if got[0] != want:
                gdesc = f"{'dab'[got[1][0]]}-register" if got[0] == "dsr" else \
                    {"gpr": "register", "mem": "memory operand", "expr": "expression"}[got[0]]
                raise AsmError(f"operand `{pn}` of `{s.name}` must be {FIELD_DESC[want]}, got {_article(gdesc)}",
                               got[2], [usage] + hint(i, got[0]))

    def src_text(self, p):
        """The source text at a position (an operand as written), or None."""
        lines = self.s.texts.get(p.file) if p is not None else None
        if lines is None or not 1 <= p.line <= len(lines):
            return None
        t = lines[p.line - 1][p.col - 1:p.col - 1 + p.span].strip()
        return t or None

    def mem_hint(self, got) -> list:
        """A memory operand written without brackets (`st32 r1, total`, `ld32 r1, r4`): how to
        write it, with the operand as written."""
        t = self.src_text(got[2]) if got[0] in ("expr", "gpr") else None
        if t is None:
            return []
        if got[0] == "gpr":
            return [f"write the memory operand in brackets: `[{t}]` for the address in `{t}` "
                    f"(`[{t} + OFFSET]` adds an offset to it)"]
        return [f"write the memory operand in brackets: `[{t}]` for the address `{t}` "
                f"(`[rN + {t}]` adds register rN to it)"]

    def no_form(self, s, forms, ops, isa):
        def desc(o):
            k = o[0]
            if k == "dsr":
                return f"{'dab'[o[1][0]]}-register"
            return {"gpr": "register", "mem": "memory operand", "expr": "expression"}[k]

        def form_text(insn):
            parts = [o.text for o in insn.operands if o.kind != "async"]
            tail = " [async utN [activate|unblock TASK]]" if any(o.kind == "async" for o in insn.operands) else ""
            return (f"{insn.mnemonic} " + ", ".join(parts) if parts else insn.mnemonic) + tail

        got = ", ".join(desc(o) for o in ops) or "no operands"
        if len(forms) == 1:
            insn = forms[0]
            plain = [o for o in insn.operands if o.kind != "async"]
            if len(plain) != len(ops):
                p = ops[len(plain)][2] if len(ops) > len(plain) else s.namepos
                return AsmError(f"`{s.name}` takes {len(plain)} operand{'s' if len(plain) != 1 else ''}, "
                                f"got {len(ops)}", p, [f"usage: {form_text(insn)}"])
            for o, g in zip(plain, ops):
                want, file_ = self.op_kind(o, isa)
                if g[0] != want or (file_ is not None and g[1][0] != file_):
                    f = isa.fields.get(o.fields[0]) if o.kind == "field" else None
                    wdesc = FIELD_DESC.get("mem" if o.kind == "mem" else
                                           (f.kind if f and f.kind in FIELD_DESC else "expr"))
                    return AsmError(f"operand `{o.text}` of `{s.name}` must be {wdesc}, got {_article(desc(g))}",
                                    g[2], [f"usage: {form_text(insn)}"] +
                                    (self.mem_hint(g) if o.kind == "mem" else []))
        return AsmError(f"no form of `{s.name}` takes ({got})", s.namepos,
                        ["the forms are: " + "; ".join(form_text(i) for i in forms)])

    # -- pass 2 ----------------------------------------------------------------------------
    def finish(self):
        """Layout, values, encoding. Returns a CachedImage (errors go to self.errors)."""
        isa = load()
        preset = self.s.preset
        n_code = len(self.code)
        mem_limit = preset.sram_words
        # data layout
        addr = 2 * n_code
        hi = addr
        chunks = []
        cur = None          # [start, words(list of (item, index) or int)]
        elems = []          # (item, element index, address) to evaluate
        items = self.data
        owner = None        # the data label the next items belong to: (name, pos)
        usage = {}          # owner (or (None, pos) for an unlabelled item) -> words
        over = None         # the first item that reaches past SRAM: (item, start, end, owner)
        for i, it in enumerate(items):
            k = it.kind
            if k == "label":
                nxt = next((x for x in items[i + 1:] if x.kind != "label"), None)
                if nxt is not None and nxt.kind in ("elems", "fill", "zero", "space") \
                        and ELEM_WORDS[nxt.type] == 2 and addr % 2:
                    addr += 1
                    cur = None
                it.addr = addr
                if it.sym is not None:
                    it.sym.value = addr
                    owner = (it.sym.extra, it.pos)
                continue
            if k == "align":
                if addr % it.count:
                    addr += it.count - addr % it.count
                    cur = None
                hi = max(hi, addr)
                owner = None
                continue
            if k == "org":
                if it.count < addr:
                    self.error(f"`.org {fmt_int(it.count)}` would move the data address backwards "
                               f"(it is already {fmt_int(addr)}; code ends at {fmt_int(2 * n_code)})", it.pos)
                    continue
                addr = it.count
                hi = max(hi, addr)
                cur = None
                owner = None
                continue
            ew = ELEM_WORDS[it.type]
            if ew == 2 and addr % 2:
                addr += 1
                cur = None
            it.addr = addr
            size = it.count * ew
            usage[owner or (None, it.pos)] = usage.get(owner or (None, it.pos), 0) + size
            if over is None and addr + size > mem_limit:
                over = (it, addr, addr + size, owner)
            if addr + size > mem_limit + 2:
                addr += size
                hi = max(hi, addr)
                continue
            if k == "space":
                addr += size
                cur = None
            else:
                if cur is None or cur[0] + len(cur[1]) != addr:
                    cur = [addr, []]
                    chunks.append(cur)
                for j in range(it.count):
                    if k == "zero":
                        cur[1].extend([0] * ew)
                    else:
                        elems.append((it, j, len(cur[1]), cur))
                        cur[1].extend([0] * ew)
                addr += size
            hi = max(hi, addr)
        mem_words = max(hi, 2 * n_code)
        if mem_words > mem_limit:
            self.sram_error(n_code, mem_words, over, usage)
            return None

        # tasks: explicit ids first, then the lowest free ids in declaration order
        taken = {}
        for t in self.tasks:
            t["id"] = None
            if "id" in t["opts"]:
                try:
                    tid = self.int_value(t["opts"]["id"], t["scope"], what="task id", lo=0,
                                         hi=preset.task_ids - 1)
                except AsmError as e:
                    self.error(e, ctx=t["ctx"])
                    continue
                if tid in taken:
                    self.error(f"task id {tid} is already used by task `{taken[tid]}`", t["opts"]["id"].pos,
                               ctx=t["ctx"])
                    continue
                taken[tid] = t["name"]
                t["id"] = tid
        free = (i for i in range(preset.task_ids) if i not in taken)
        for t in self.tasks:
            if t["id"] is None and "id" not in t["opts"]:
                tid = next(free, None)
                if tid is None:
                    self.error(f"no free task id for `{t['name']}` (ids 0..{preset.task_ids - 1} are all used)",
                               t["pos"], ctx=t["ctx"])
                    continue
                t["id"] = tid
                taken[tid] = t["name"]
            if t["id"] is not None:
                t["sym"].value = t["id"]
        task_recs = []
        task_meta = []          # (task dict, its record), for the warnings below
        data_colors = {}
        for t in self.tasks:
            if t["id"] is None:
                continue
            try:
                color = 255
                if "color" in t["opts"]:
                    color = self.int_value(t["opts"]["color"], t["scope"], what="color", lo=0,
                                           hi=preset.colors - 1)
                    if color in data_colors:
                        raise AsmError(f"color {color} already runs data task `{data_colors[color]}`",
                                       t["opts"]["color"].pos)
                    data_colors[color] = t["name"]
                entry = t["pc"]
                t["entry_from"] = "next"
                r = t["scope"].find(t["name"])
                if r is not None and r[0] == "sym" and r[1].kind == "label":
                    entry = r[1].value
                    t["entry_from"] = "label"
                if "entry" in t["opts"]:
                    t["entry_from"] = "entry"
                    entry = self.int_value(t["opts"]["entry"], t["scope"], dot=t["pc"], what="entry",
                                           lo=0, hi=max(0, n_code - 1))
                if entry >= n_code:
                    raise AsmError(f"task `{t['name']}` has no code: no instruction follows it", t["pos"])
                task_recs.append(of.Task(t["id"], TASK_KINDS[t["kind"]], entry, color,
                                         "start" in t["flags"], "blocked" in t["flags"]))
                task_meta.append((t, task_recs[-1]))
            except AsmError as e:
                self.error(e, ctx=t["ctx"])

        routes = []
        seen_colors = {}
        route_src = {}          # color -> RouteSource, for the checks against the layout
        for r in self.routes:
            try:
                rt = self.route(r, preset)
                if rt.color in seen_colors:
                    first_pos, first = seen_colors[rt.color]
                    raise AsmError(f"color {rt.color} is routed twice", r["stmt"].args[0].pos,
                                   [f"first routed at {first_pos}", _route_twice_hint(first, rt)])
                seen_colors[rt.color] = (r["stmt"].namepos, rt)
                routes.append(rt)
                st = r["stmt"]
                route_src[rt.color] = RouteSource(rt, st.namepos, [a.b.pos for a in st.args if type(a) is Arrow],
                                                  r["ctx"])
            except AsmError as e:
                self.error(e, ctx=r["ctx"])

        # a data task runs only for wavelets its color's route delivers to the RAMP
        ramp_colors = {rt.color for rt in routes if any(tx & 16 for _, tx in rt.positions)}
        for t, rec in task_meta:
            if rec.kind == 1 and rec.color not in ramp_colors and not self.errors:
                self.warn(f"data task `{t['name']}` never runs here: no route of color {rec.color} "
                          f"delivers to the RAMP on this PE", t["pos"],
                          [f"add `.route {rec.color}, <port> -> ramp` on the PEs that should run it, "
                           f"or declare the task only there (`.if`)"], ctx=t["ctx"])
            if t["entry_from"] == "next" and not self.errors:
                other = next((o for o, r in task_meta if o is not t and r.entry == rec.entry
                              and o["entry_from"] != "next"), None)
                if other is not None:
                    self.warn(f"task `{t['name']}` has no label `{t['name']}:` and no `entry=`, so it "
                              f"enters at the next instruction, which is the entry of task "
                              f"`{other['name']}`", t["pos"],
                              [f"put `{t['name']}:` before its code, or write `entry={other['name']}` "
                               f"to share that code on purpose"], ctx=t["ctx"])

        dsds = []
        for d in self.dsds:
            try:
                dsds.append(self.dsd(d, preset))
            except AsmError as e:
                self.error(e, ctx=d["ctx"])
                dsds.append(None)
                continue
            x = dsds[-1]
            if x.kind in (of.DSD_MEM1D, of.DSD_MEM4D) and not self.errors:
                nd = x.ndim if x.kind == of.DSD_MEM4D else 1
                lo = hi = x.base            # its extent in words, were its elements 16-bit
                for k in range(nd):
                    if x.lens[k] > 0:
                        step = (x.lens[k] - 1) * x.strides[k]
                        lo, hi = lo + min(0, step), hi + max(0, step)
                if all(x.lens[k] > 0 for k in range(nd)) and (lo < 0 or hi >= preset.sram_words):
                    st = d["stmt"]
                    nm = self.arg_name(st.args[0], d["scope"])[0]       # (the caller's name in a macro)
                    self.warn(f"DSD `{nm.name if type(nm) is Name else '?'}` reaches word "
                              f"{lo if lo < 0 else hi}, outside SRAM (0..{preset.sram_words - 1}): "
                              f"an op over it as declared faults", st.namepos,
                              ["change its base, len or stride, or ignore this if the code sets them "
                               "with dsdbase/dsdlen before using it"], ctx=d["ctx"])

        code = []
        for it in self.code:
            if it.insn is None:         # an instruction that failed in pass 1 (reported there)
                code.append(0)
                continue
            self.pseudo_pos = it.pos
            try:
                code.append(self.encode(it, isa))
            except AsmError as e:
                self.error(e, ctx=it.ctx)
                code.append(0)

        succ = []
        if not self.errors:
            succ = self.flow_warnings(code, task_meta, isa)
            self.blocked_warnings(code, task_meta, isa)

        self.pseudo_pos = None
        for it, j, off, ch in elems:
            try:
                ast = it.values[0] if it.kind == "fill" else it.values[j]
                dot = it.addr + j * ELEM_WORDS[it.type]
                v = self.value(ast, it.scope, dot)
                ws = self.elem_words(v, it.type, ast)
                ch[1][off:off + len(ws)] = ws
            except AsmError as e:
                self.error(e, ctx=it.ctx)

        symbols = []
        seen_syms = set()
        for a, typ, cnt, scope, ctx in self.exports:
            try:
                sym = self.export(a, typ, cnt, scope, items, mem_words)
                if sym is None:
                    continue
                if sym.name in seen_syms:
                    raise AsmError(f"`{sym.name}` is exported twice", a.pos)
                seen_syms.add(sym.name)
                symbols.append(sym)
            except AsmError as e:
                self.error(e, ctx=ctx)
        # every named task is in the symbol table, exported or not: the host launches tasks by
        # name and fault/hang reports name the task
        for t in self.tasks:
            if t["id"] is not None and t["name"] not in seen_syms:
                seen_syms.add(t["name"])
                symbols.append(of.Symbol(t["name"], "task", t["id"], 0))

        lines = []
        prev = None
        for it in self.code:
            loc, forced = it.loc
            if loc is None:
                # after a bare .loc: an empty-file record ends the previous record's range
                # (without it, these instructions would report the previous position)
                if prev is not None:
                    lines.append(of.Line(it.pc, "", 0, 0))
                prev = None
                continue
            if forced or loc != prev:
                lines.append(of.Line(it.pc, loc[0], loc[1], loc[2], loc[3]))
            prev = loc
        if self.errors:
            return None
        img = CachedImage(self.prog.image_name)
        img.code = code
        img.mem_words = mem_words
        img.chunks = [(a, list(w)) for a, w in chunks if w]
        img.dsds = dsds
        img.tasks = task_recs
        img.routes = routes
        img.symbols = symbols
        img.lines = lines
        img.lint = self.lint_info(code, succ, task_meta, dsds, route_src, isa)
        return img

    def sram_error(self, n_code, mem_words, over, usage):
        """The program does not fit in SRAM: say so where it crosses the end (the first
        instruction past it, or the data item that reaches past it), by how much, and what
        takes the space."""
        preset = self.s.preset
        limit = preset.sram_words
        where = f"PE ({self.pe[0]}, {self.pe[1]})" if self.pe else "its PE"
        msg = (f"program `{self.prog.name}` does not fit in SRAM on {where}: it needs {mem_words} "
               f"words, {mem_words - limit} more than the {limit} words ({preset.sram_bytes} bytes) "
               f"of a {self.s.arch} PE")
        pos, ctx = self.prog.pos, ()
        if 2 * n_code > limit:
            it = self.code[limit // 2]
            msg += (f"; the code alone is {2 * n_code} words ({n_code} instructions), and this "
                    f"instruction, pc {limit // 2}, is the first past the end")
            pos, ctx = it.pos, it.ctx
        elif over is not None:
            it, start, end, own = over          # (.align and .org cannot go past the end alone)
            d = f".{it.type}" if it.kind == "elems" else f".{it.kind}"
            name = f"`{own[0]}` " if own else ""
            msg += (f"; {name}(`{d}`, {end - start} words at {start}..{end - 1}) reaches past "
                    f"the end, word {limit - 1}")
            pos, ctx = it.pos, it.ctx
        gap = mem_words - 2 * n_code - sum(usage.values())
        top = sorted(usage.items(), key=lambda kv: -kv[1])
        big = [f"`{o[0]}` {w} words ({o[1]})" if o[0] else f"{w} words at {o[1]}" for o, w in top[:3]]
        if len(top) > 3:
            big.append(f"{len(top) - 3} more ({sum(w for _, w in top[3:])} words)")
        notes = [f"the space: {2 * n_code} words of code ({n_code} instruction{'s' if n_code != 1 else ''}) and "
                 f"{mem_words - 2 * n_code} words of data" +
                 (f" ({gap} of them gaps left by alignment, .align or .org)" if gap else "") +
                 (f"; the largest: {', '.join(big)}" if big else "")]
        if not self.prog.plain and pos is not self.prog.pos:
            notes.append(f"program `{self.prog.name}` is declared at {self.prog.pos}")
        notes.append("make the arrays smaller (or f16 instead of f32), or spread the data over more PEs "
                     "(each PE has its own SRAM)" if 2 * n_code <= limit else
                     "make the code shorter (a loop instead of a long .rep, a routine called instead of a "
                     "macro expanded many times)")
        self.error(msg, pos, notes, ctx=ctx)

    def lint_info(self, code, succ, task_meta, dsds, route_src, isa):
        """What Session.fabric_warnings needs of this image, with source positions: its routes,
        and the sends that surely run here (`send`/`sendc`, and `ldsd` of a fabout DSD into a
        destination DSR, which a tensor op then writes). Those are the sends in code reached from
        the tasks that surely run on this PE: the `start` tasks, the data tasks whose color a
        route delivers to the RAMP, and the tasks that such code activates by name (`activate`,
        `async ... activate`). A task that only a control wavelet or the host activates may be
        meant for other PEs of the program (a program often declares every task everywhere), so
        its code is not judged."""
        f_color, f_dsr, f_idx = isa.fields["color"], isa.fields["dsr"], isa.fields["dsdidx"]
        f_tid, f_act = isa.fields["tid"], isa.fields["act"]
        ramp_colors = {c for c, r in route_src.items() if any(tx & 16 for _, tx in r.route.positions)}
        by_id = {rec.id: rec for _, rec in task_meta}
        live = {rec.id for rec in by_id.values()
                if rec.activated or rec.kind == 1 and rec.color in ramp_colors}
        todo = [by_id[i].entry for i in live]
        reachable = set()
        while todo and succ:
            pc = todo.pop()
            if pc >= len(code) or pc in reachable:
                continue
            reachable.add(pc)
            insn, w = self.code[pc].insn, code[pc]
            tid = None
            if insn.mnemonic == "activate":
                tid = f_tid.extract(w)
            elif any("act" in o.fields for o in insn.operands) and f_act.extract(w) == 2:
                tid = f_tid.extract(w)
            if tid in by_id and tid not in live:
                live.add(tid)
                todo.append(by_id[tid].entry)
            todo.extend(succ[pc])
        sends = []
        for pc in sorted(reachable):
            it, w = self.code[pc], code[pc]
            mn = it.insn.mnemonic
            if mn in ("send", "sendc"):
                c = f_color.extract(w)
                sends.append(SendSource(f"`{mn}` on color {c}", c, it.pos, it.ctx))
            elif mn == "ldsd" and f_dsr.extract(w) < 8:         # d0-d7: a destination
                k = f_idx.extract(w)
                d = dsds[k] if k < len(dsds) else None
                if d is not None and d.kind == of.DSD_FABOUT:
                    nm = self.arg_name(self.dsds[k]["stmt"].args[0], self.dsds[k]["scope"])[0]
                    nm = nm.name if type(nm) is Name else str(k)
                    what = (f"`ldsd d{f_dsr.extract(w)}, {nm}` loads a fabout DSD on color {d.color} "
                            f"for a tensor op to write")
                    sends.append(SendSource(what, d.color, it.pos, it.ctx, fabout=True))
        return LintInfo(self.prog.name, route_src, sends)

    def blocked_warnings(self, code, task_meta, isa):
        """A task declared `blocked` runs only once this PE's own code unblocks it: no control
        wavelet, other PE or host call clears the bit. When no `unblock` and no async op's
        `unblock` in the image names its id, it never runs (a hang, or a silent no-op)."""
        blocked = [(t, rec) for t, rec in task_meta if rec.blocked]
        if not blocked:
            return
        f_tid, f_act = isa.fields["tid"], isa.fields["act"]
        freed = set()
        for it, w in zip(self.code, code):
            insn = it.insn
            if insn.mnemonic == "unblock" or (any("act" in o.fields for o in insn.operands)
                                              and f_act.extract(w) == 3):
                freed.add(f_tid.extract(w))
        for t, rec in blocked:
            if rec.id not in freed:
                self.warn(f"task `{t['name']}` is declared `blocked` and nothing in this program "
                          f"unblocks it, so it never runs here (only this PE's own `unblock` or "
                          f"`async ... unblock` clears the bit)", t["pos"],
                          [f"add `unblock {t['name']}` where it may start (or `async utN unblock "
                           f"{t['name']}` on the op it waits for), or drop `blocked`"], ctx=t["ctx"])

    def flow_warnings(self, code, task_meta, isa):
        """Warnings about where the tasks' code can go, from the encoded code: code that can run
        past the end, and a task falling through into another task's entry. Only paths from the
        task entries are followed (a conditional branch both ways, a call into the callee and,
        if the callee can return, on after the call; `jr` targets are unknown and end a path),
        so code reached only through `jr` is not judged. Kept conservative: code that tasks
        share on purpose (`entry=`, a task's own loop, a shared `exit`) is not warned about.
        Returns the successors of each pc (for the checks of sends against the routes)."""
        n = len(code)
        if not n or not task_meta:
            return []
        f_r1, f_r2, f_off, f_tgt = (isa.fields[k] for k in ("r1", "r2", "off16", "tgt24"))
        succ, ends = [], []      # ends[pc]: never goes on to pc + 1 (exit, trap, jmp, jr, b)
        for pc, (it, w) in enumerate(zip(self.code, code)):
            mn = it.insn.mnemonic
            if mn in ("exit", "trap", "jr"):
                succ.append(())
                ends.append(True)
            elif mn in ("jmp", "call"):     # (a call goes on at pc + 1 if its callee returns:
                succ.append((f_tgt.extract(w),))  # added below)
                ends.append(True)
            elif mn in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
                t = pc + f_off.extract(w)
                if f_r1.extract(w) != f_r2.extract(w):
                    succ.append((t, pc + 1))
                    ends.append(False)
                elif mn in ("beq", "bge", "bgeu"):     # r == r: always taken (`b` is beq r0, r0)
                    succ.append((t,))
                    ends.append(True)
                else:                                  # r != r, r < r: never taken
                    succ.append((pc + 1,))
                    ends.append(False)
            else:
                succ.append((pc + 1,))
                ends.append(False)
        # a callee returns if its own code (its calls stepped over, when they return) reaches a
        # `jr` (ret); a call of one that cannot (it ends in `exit`) does not go on at pc + 1
        calls = {pc: succ[pc][0] for pc, it in enumerate(self.code) if it.insn.mnemonic == "call"}
        returns = set()
        grew = True
        while grew:
            grew = False
            for t in set(calls.values()) - returns:
                seen, todo = {t}, [t]
                while todo:
                    q = todo.pop()
                    if self.code[q].insn.mnemonic == "jr":
                        returns.add(t)
                        grew = True
                        break
                    nxt = ((q + 1,) if calls[q] in returns else ()) if q in calls else succ[q]
                    for r in nxt:
                        if r < n and r not in seen:
                            seen.add(r)
                            todo.append(r)
        for pc in calls:
            if calls[pc] in returns:
                succ[pc] = (succ[pc][0], pc + 1)
                ends[pc] = False
        entries = {}             # entry pc -> [task dict, ...] entering there
        for t, rec in task_meta:
            entries.setdefault(rec.entry, []).append(t)

        def reach(start):
            """The pcs a task entering at `start` can execute before it reaches another task's
            entry (where its path is judged by the fall-through warning, not followed on)."""
            seen, todo = {start}, [start]
            while todo:
                for q in succ[todo.pop()]:
                    if q < n and q not in seen and q not in entries:
                        seen.add(q)
                        todo.append(q)
            return seen
        reached = {e: reach(e) for e in entries}

        def names(ts):
            return " and ".join(f"`{t['name']}`" for t in ts)

        last = n - 1
        if not ends[last]:
            runners = [t for e, ts in entries.items() if last in reached[e] for t in ts]
            if runners:
                it = self.code[last]
                self.warn(f"task {names(runners)} can run past the end of the code: "
                          f"`{it.insn.mnemonic}` at pc {last} is the last instruction and can go on "
                          f"to the next, pc {n}, which is outside the code (the emulator faults: "
                          f"\"pc {n} is outside the code\")", it.pos,
                          ["end the task with `exit` (or `jmp`/`jr`/`b` back into the code)"], ctx=it.ctx)
        for e, ts in sorted(entries.items()):
            prev = e - 1
            if prev < 0 or ends[prev] or self.code[e].insn.mnemonic == "exit":
                continue        # (falling onto a shared `exit` only ends the task, as meant)
            if any(t["entry_from"] == "entry" for t in ts) or prev in reached[e]:
                continue        # entered by entry=: shared on purpose; or its own code (a loop)
            from_ = [o for e2, os_ in entries.items() if e2 != e and prev in reached[e2] for o in os_]
            if not from_ or any(o["entry_from"] == "entry" for o in from_):
                continue        # (a task entering by entry= is laid out in shared code on purpose)
            it, at = self.code[prev], self.code[e].pos
            self.warn(f"task {names(from_)} falls through into the entry of task {names(ts)} at "
                      f"{at}: `{it.insn.mnemonic}` at pc {prev} can go on to the next instruction, "
                      f"so {names(from_)} runs {names(ts)}'s code; missing `exit`?", it.pos,
                      [f"end {names(from_)} with `exit`; if it should run that code, declare "
                       f"{names(ts)} with `entry=` to share it on purpose"], ctx=it.ctx)
        return succ

    def elem_words(self, v, typ, ast):
        pos = self.fix_pos(ast.pos)
        if typ == "f16":
            return [f16_bits(v, pos)]
        if typ == "f32":
            b = f32_bits(v, pos)
            return [b & 0xFFFF, b >> 16]
        if isinstance(v, float):
            raise AsmError(f"`.{typ}` needs an integer, got the float {v!r} (use .f16/.f32, or f32bits())", pos)
        if typ == "u16":
            if not -0x8000 <= v <= 0xFFFF:
                raise AsmError(f"value {fmt_int(v)} does not fit u16; legal: {fmt_range(-0x8000, 0xFFFF)}", pos)
            return [v & 0xFFFF]
        if not -0x80000000 <= v <= 0xFFFFFFFF:
            raise AsmError(f"value {fmt_int(v)} does not fit u32; legal: {fmt_range(-0x80000000, 0xFFFFFFFF)}", pos)
        v &= 0xFFFFFFFF
        return [v & 0xFFFF, v >> 16]

    def route(self, r, preset):
        s = r["stmt"]
        scope = r["scope"]
        color = self.int_value(s.args[0], scope, what="color", lo=0, hi=preset.colors - 1)
        port_scope = Scope(scope, syms={k: Sym("const", v) for k, v in PORTS.items()})
        positions = []
        iq = oq = color % 8
        given = set()
        for a in s.args[1:]:
            if type(a) is Arrow:
                if len(positions) == 4:
                    raise AsmError("a route has at most 4 switch positions", a.pos)
                rx = self.int_value(a.a, port_scope, what="rx port set", lo=0, hi=31)
                tx = self.int_value(a.b, port_scope, what="tx port set", lo=0, hi=31)
                positions.append((rx, tx))
            elif type(a) is Kw and a.name in ("iq", "oq"):
                if a.name in given:
                    raise AsmError(f"`{a.name}=` is given twice", a.namepos)
                given.add(a.name)
                q = self.int_value(a.value, scope, what=f"queue id ({a.name})", lo=0, hi=7)
                if a.name == "iq":
                    iq = q
                else:
                    oq = q
            else:
                raise AsmError("expected `RX -> TX` (e.g. `west -> ramp|east`) or iq=/oq=", a.pos)
        if not positions:
            raise AsmError("a route needs at least one `RX -> TX` position", s.namepos)
        return of.Route(color, tuple(positions), iq, oq)

    def dsd(self, d, preset):
        """The DSD table entry of a `.dsd`, named as declared (in a macro, the name the caller
        passed), or by its `name="..."` (wse-objdump writes one when the stored name cannot be
        the symbol: "" for a DSD without a name, or a name that repeats in the image)."""
        s = d["stmt"]
        kw = [a for a in s.args[2:] if type(a) is Kw and a.name == "name"]
        if len(kw) > 1:
            raise AsmError("`name=` is given twice", kw[1].namepos)
        if kw:
            v = kw[0].value
            if type(v) is not Str or (v.value and not _IDENT.match(v.value)):
                raise AsmError('`name=` takes a string that is an identifier or empty: the name the '
                               'object file stores for the DSD (name="" for none)', v.pos)
            name = v.value
        else:
            nm = self.arg_name(s.args[0], d["scope"])[0]
            name = nm.name if type(nm) is Name else ""
        return replace(self.dsd_fields(d, preset), name=name)

    def dsd_fields(self, d, preset):
        s = d["stmt"]
        scope = d["scope"]
        kind = d["kind"]
        kw = {}
        for a in s.args[2:]:
            if type(a) is not Kw:
                raise AsmError("DSD fields are given as NAME=VALUE (base=, len=, stride=, color=, "
                               "name=)", a.pos)
            if a.name == "name":
                continue
            if a.name in kw:
                raise AsmError(f"`{a.name}=` is given twice", a.namepos)
            kw[a.name] = a
        allowed = {"mem1d": ("base", "len", "stride"), "mem4d": ("base", "len", "stride"),
                   "fabin": ("color", "len"), "fabout": ("color", "len")}[kind]
        for k, a in kw.items():
            if k not in allowed:
                raise AsmError(f"a {kind} DSD has no field `{k}`; its fields: {', '.join(allowed)}, name",
                               a.namepos)
        for need in ("base", "len") if kind.startswith("mem") else ("color", "len"):
            if need not in kw:
                raise AsmError(f"a {kind} DSD needs `{need}=`", s.namepos)
        code = DSD_KINDS[kind]
        if kind in ("fabin", "fabout"):
            color = self.int_value(kw["color"].value, scope, what="color", lo=0, hi=preset.colors - 1)
            n = self.int_value(kw["len"].value, scope, what="length", lo=0, hi=0xFFFFFFFF)
            return of.Dsd(code, color, 0, (n, 1, 1, 1), (0, 0, 0, 0), 1)
        base = self.int_value(kw["base"].value, scope, what="base address", lo=0, hi=preset.sram_words - 1)
        if kind == "mem1d":
            n = self.int_value(kw["len"].value, scope, what="length", lo=0, hi=0xFFFFFFFF)
            st = 1
            if "stride" in kw:
                st = self.int_value(kw["stride"].value, scope, what="stride", lo=-0x8000, hi=0x7FFF)
            return of.Dsd(code, 0, base, (n, 1, 1, 1), (st, 0, 0, 0), 1)
        lv = kw["len"].value
        lens_ast = lv.items if type(lv) is Bracket else [lv]
        if not 1 <= len(lens_ast) <= 4:
            raise AsmError(f"a mem4d DSD has 1 to 4 dimensions, got {len(lens_ast)}", lv.pos)
        lens = [self.int_value(x, scope, what="length", lo=0 if i == 0 else 1,
                               hi=0xFFFFFFFF if i == 0 else 0xFFFF) for i, x in enumerate(lens_ast)]
        if "stride" in kw:
            sv = kw["stride"].value
            st_ast = sv.items if type(sv) is Bracket else [sv]
            if len(st_ast) != len(lens_ast):
                raise AsmError(f"{len(lens_ast)} lengths but {len(st_ast)} strides", sv.pos)
            strides = [self.int_value(x, scope, what="stride", lo=-0x8000, hi=0x7FFF) for x in st_ast]
        else:
            # dense by default: a dimension's stride is the product of the lengths below it
            strides = [1] * len(lens)
            acc = 1
            for i in range(len(lens)):
                if acc > 0x7FFF and lens[i] > 1:
                    raise AsmError(f"dimension {i} of this mem4d DSD would have the stride {acc} (the product "
                                   f"of the lengths below it, the dense layout), past the largest stride a DSD "
                                   f"holds, 32767 elements, and past SRAM; give shorter lengths, or `stride=[...]`",
                                   lens_ast[i].pos)
                strides[i] = min(acc, 0x7FFF)   # (a dimension of length 1 never moves: any stride)
                acc *= lens[i]
        nd = len(lens)
        return of.Dsd(code, 0, base, tuple(lens + [1] * (4 - nd)), tuple(strides + [0] * (4 - nd)), nd)

    def export(self, a, typ, cnt, scope, items, mem_words):
        if type(a) is not Name:
            raise AsmError("`.export` takes a name", a.pos)
        r = scope.find(a.name)
        tsym = self.task_syms.get(a.name)
        if typ is not None and tsym is not None:
            # the task's symbol is the task: a data (or other) symbol under its name would leave
            # the task without one (checked first: a task declared with entry= has no label)
            raise AsmError(f"`{a.name}` names a task, which is exported as `.export {a.name}` (every "
                           f"task is in the symbol table); export the value under another name", a.pos)
        if tsym is not None and typ is None:
            r = ("sym", tsym)
        if r is None or r[0] != "sym":
            sg = suggest(a.name, scope.names() | set(self.task_syms))
            raise AsmError(f"cannot export unknown symbol `{a.name}`" + (f"; {sg}" if sg else ""), a.pos,
                           self.local_note(a.name))
        sym = r[1]
        if typ is not None:
            v = self.int_value(a, scope, what="value", lo=0, hi=0xFFFFFFFF)
            c = self.int_value(cnt, scope, what="count", lo=0, hi=0xFFFFFFFF)
            return of.Symbol(a.name, typ, v, c)
        if sym.kind == "task":
            if sym.value is None:
                raise AsmError(f"task `{a.name}` has no id", a.pos)
            return of.Symbol(a.name, "task", sym.value, 0)
        if sym.kind != "dlabel":
            raise AsmError(f"`{a.name}` is a {'code label' if sym.kind == 'label' else sym.kind}; "
                           f"only data labels and tasks can be exported without a type "
                           f"(or write .export {a.name}, TYPE, COUNT)", a.pos)
        # the label's type and count: the data that follows it
        idx = next(i for i, it in enumerate(items) if it.sym is sym)
        typ = None
        count = 0
        for it in items[idx + 1:]:
            if it.kind == "label" and it.sym is not None:
                break
            if it.kind == "label":
                continue
            if it.kind in ("align", "org"):
                break
            if typ is None:
                typ = it.type
            if it.type != typ:
                break
            count += it.count
        if typ is None:
            if self.errors:
                # most likely its data directive was the error already reported (a count out of
                # range, say): one error, not a second one that follows from it
                return None
            raise AsmError(f"data label `{a.name}` has no data after it, so its type is unknown; "
                           f"write .export {a.name}, TYPE, COUNT", a.pos)
        return of.Symbol(a.name, typ, sym.value, count)

    def encode(self, it: CodeItem, isa):
        insn = it.insn
        values = {}
        plain = [o for o in insn.operands if o.kind != "async"]
        for o, (kind, payload, pos) in zip(plain, it.ops):
            if o.kind == "mem":
                reg, off, sc = payload
                values[o.fields[0]] = reg
                values[o.fields[1]] = 0 if off is None else self.field_value(off, sc, it.pc, o.fields[1], isa)
                continue
            fname = o.fields[0]
            if kind == "gpr":
                values[fname] = payload
            elif kind == "dsr":
                fi, idx = payload
                values[fname] = fi * 8 + idx if isa.fields[fname].kind == "dsr" else idx
            else:
                ast, sc = payload
                values[fname] = self.field_value(ast, sc, it.pc, fname, isa, activate=insn.mnemonic == "activate")
        if it.asy is not None:
            a = it.asy
            values["ut"] = self.microthread(a, it.scope)
            values["act"] = 1
            values["tid"] = 0
            if a.action is not None:
                if a.action not in ("activate", "unblock"):
                    sg = suggest(a.action, ("activate", "unblock"))
                    raise AsmError(f"expected `activate` or `unblock` after the microthread, got `{a.action}`" +
                                   (f"; {sg}" if sg else ""), a.actpos)
                values["act"] = 2 if a.action == "activate" else 3
                values["tid"] = self.field_value(a.task, it.scope, it.pc, "tid", isa, activate=a.action == "activate")
        try:
            return isa_encode(insn, values, isa)
        except Exception as e:   # EncodeError: should have been caught by field_value
            raise AsmError(str(e), it.pos) from None

    def task_name(self, ast, scope, depth=0):
        if type(ast) is Name:
            r = scope.find(ast.name)
            if r is not None and r[0] == "arg" and depth < MAX_MACRO_DEPTH:
                return self.task_name(r[1][0], r[1][1], depth + 1)
            if ast.name in self.task_syms:
                return self.task_syms[ast.name]
        return None

    def _named_operand(self, ast, scope, noun, declare, wrong_kinds, candidates):
        """A task or DSD operand given as a name (through macro arguments) must name one: a label,
        task or DSD of the other kind, or no symbol at all, is an error at the name."""
        nm, nsc = self.arg_name(ast, scope) if type(ast) is Name else (ast, scope)
        if type(nm) is not Name or nsc is None:
            return
        r = nsc.find(nm.name)
        kinds = {"label": "a code label", "dlabel": "a data label", "dsd": "a DSD", "task": "a task"}
        number = f"or give a {noun} {'id' if noun == 'task' else 'index'} as a number"
        if r is not None and r[0] == "sym" and r[1].kind in wrong_kinds:
            raise AsmError(f"`{nm.name}` is {kinds[r[1].kind]}, not {_article(noun)}: name {_article(noun)} "
                           f"declared with `{declare}` ({number})", self.fix_pos(nm.pos))
        if r is None and nm.name not in BUILTIN_NAMES:
            sg = suggest(nm.name, [c for c in candidates() if c != nm.name])
            raise AsmError(f"unknown {noun} `{nm.name}`" + (f"; {sg}" if sg else
                           f" (declare it with `{declare}`, {number})"), self.fix_pos(nm.pos),
                           self.local_note(nm.name))

    def field_value(self, ast, scope, pc, fname, isa, activate=False):
        f = isa.fields[fname]
        if f.kind == "task":
            t = self.task_name(ast, scope)
            if t is not None:
                if t.value is None:
                    raise AsmError(f"task `{ast.name}` has no id (see the error at its declaration)",
                                   self.fix_pos(ast.pos))
                if activate:
                    rec = next((r for r in self.tasks if r["sym"] is t), None)
                    if rec is not None and rec["kind"] == "data":
                        raise AsmError(f"`{rec['name']}` is a data task: it runs once per wavelet of its "
                                       f"color, and activating it would leave it waiting for one; activate "
                                       f"a local or control task", self.fix_pos(ast.pos))
                return t.value
            self._named_operand(ast, scope, "task", ".task", ("label", "dlabel", "dsd"),
                                lambda: self.task_syms)
        if fname == "dsdidx":
            self._named_operand(ast, scope, "DSD", ".dsd", ("label", "dlabel", "task"),
                                lambda: {n for n in scope.names() if (x := scope.find(n)) and x[0] == "sym"
                                         and x[1].kind == "dsd"})
        v = self.value(ast, scope, pc)
        pos = self.fix_pos(ast.pos)
        if isinstance(v, float):
            raise AsmError(f"{fname} must be an integer, got the float {v!r}" +
                           (" (li loads floats; other immediates take f32bits()/hi16()/lo16())"
                            if fname in ("imm16", "uimm16") else ""), pos)
        lo, hi = f.range
        if f.kind == "color":
            hi = self.s.preset.colors - 1
        if f.kind == "task":
            hi = self.s.preset.task_ids - 1
        if fname in ("off16", "tgt24") and not 0 <= v < len(self.code):
            raise AsmError(f"{'branch' if fname == 'off16' else 'jump'} target {fmt_int(v)} is outside "
                           f"the code: this program has instructions 0..{len(self.code) - 1}", pos)
        if fname == "off16":
            off = v - pc
            if not lo <= off <= hi:
                raise AsmError(f"branch target {fmt_int(v)} is too far from pc {pc}: offset {fmt_int(off)}; "
                               f"legal: {fmt_range(lo, hi)}", pos)
            return off
        what = {"color": "color", "task": "task id"}.get(f.kind, fname)
        if fname == "dsdidx" and lo <= v <= hi and v >= len(self.dsds):
            raise AsmError(f"DSD index {fmt_int(v)} is outside this program's DSD table "
                           + (f"(0..{len(self.dsds) - 1})" if self.dsds else "(it has no DSDs)"), pos)
        if not lo <= v <= hi:
            raise AsmError(f"{what} {fmt_int(v)} is out of range; legal: {fmt_range(lo, hi)}", pos)
        return v


# =============================================================================================
def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


# (port, dx, dy, the port of the neighbour that faces back), in the emulator's order N, E, S, W
NEIGHBOURS = ((1, 0, -1, 4), (2, 1, 0, 8), (4, 0, 1, 1), (8, -1, 0, 2))
PORT_NAMES = {1: "north", 2: "east", 4: "south", 8: "west", 16: "ramp"}


def _ports_text(mask: int) -> str:
    return "|".join(n for b, n in PORT_NAMES.items() if mask & b) or "0"


def _route_twice_hint(first: of.Route, second: of.Route) -> str:
    """What to write instead of two `.route`s of one color on one PE, with their ports."""
    c = first.color

    def pos_text(positions):
        return ", ".join(f"{_ports_text(rx)} -> {_ports_text(tx)}" for rx, tx in positions)
    both = first.positions + second.positions
    ways = []
    if len(both) <= 4:
        ways.append(f"to switch between these paths (each control wavelet that leaves the router "
                    f"advances the position: see Routes in docs/assembly.md), give them as positions "
                    f"of one route: `.route {c}, {pos_text(both)}`")
    else:
        ways.append(f"to switch between these paths, give them as positions of one route (a route has "
                    f"at most 4 positions; these two have {len(both)})")
    if len(first.positions) == 1 and len(second.positions) == 1:
        (rx1, tx1), (rx2, tx2) = both
        ways.append(f"to take both at once, merge their ports in one position: "
                    f"`.route {c}, {_ports_text(rx1 | rx2)} -> {_ports_text(tx1 | tx2)}` (every "
                    f"wavelet that enters leaves through all of TX)")
    ways.append("or route one of them on another color")
    return "a PE has one route per color: " + "; ".join(ways)


def _rx_text(positions) -> str:
    if len(positions) == 1:
        return _ports_text(positions[0][0])
    return ", ".join(f"{_ports_text(rx)} in position {k}" for k, (rx, _) in enumerate(positions))


def _pe_set(pes) -> str:
    """PEs in few words: `PE (3, 0)`, `PEs (1..7, 0)`, `PEs (0..3, 2..5)` (a full rectangle),
    or `PE (1, 0) and 41 more PEs`. pes is sorted (row by row)."""
    if len(pes) == 1:
        return f"PE ({pes[0][0]}, {pes[0][1]})"
    xs, ys = [p[0] for p in pes], [p[1] for p in pes]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if (x1 - x0 + 1) * (y1 - y0 + 1) == len(set(pes)):
        def span(a, b):
            return f"{a}..{b}" if a != b else f"{a}"
        return f"PEs ({span(x0, x1)}, {span(y0, y1)})"
    return f"PE ({pes[0][0]}, {pes[0][1]}) and {len(pes) - 1} more PEs"


class Session:
    def __init__(self, include_dirs=(), defines=None, arch=None):
        self.include_dirs = [str(d) for d in include_dirs]
        self.defines = dict(defines or {})
        self.cli_arch = arch
        self.arch = arch or "wse2"
        self.source_arch = None
        self.files: dict[str, SourceFile] = {}     # real path -> parsed
        self.display: dict[str, str] = {}          # real path -> display name
        self.texts: dict[str, list[str]] = {}      # display name -> lines
        self.errors: list[Diagnostic] = []
        self.costly_stop = False       # a program walk stopped at a costly limit (instantiate)
        self.warnings: list[Diagnostic] = []
        self.reported_files: set = set()
        self.fabric = None
        self.fabric_implicit = False        # no .fabric directive: the 1x1 default
        self.fabric_pos = None
        self.programs: dict[str, ProgramInfo] = {}
        self.placements: list[Placement] = []
        self.layout_local_names: dict[str, str] = {}   # the LayoutWalk's local_names
        self.isa = load()

    @property
    def preset(self):
        return self.isa.presets[self.arch]

    # -- diagnostics -----------------------------------------------------------------------
    def diag(self, msg, pos: Pos | None, notes=()):
        if pos is None:
            return Diagnostic(None, None, None, 0, msg, list(notes))
        lines = self.texts.get(pos.file)
        src = None
        if lines is not None and 1 <= pos.line <= len(lines):
            src = lines[pos.line - 1]
        return Diagnostic(pos.file, pos.line, pos.col, pos.span, msg, list(notes), src)

    def fail(self, diags):
        seen = set()
        out = []
        for d in diags:
            if d.key() in seen:
                continue
            seen.add(d.key())
            out.append(d)
        # report in source order (files in order of first appearance), whatever pass found them
        order: dict = {}
        for d in out:
            order.setdefault(d.file, len(order))
        out.sort(key=lambda d: (order[d.file], d.line or 0, d.col or 0))
        raise AssemblyError(out)

    # -- files -----------------------------------------------------------------------------
    def decode(self, data: bytes, name: str) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            before = data[:e.start]
            line = before.count(b"\n") + 1
            col = e.start - (before.rfind(b"\n") + 1) + 1
            text = data.decode("utf-8", errors="replace")
            self.texts[name] = text.split("\n")
            raise AssemblyError([self.diag(f"the file is not valid UTF-8 (byte {data[e.start]:#04x} "
                                           f"at offset {e.start})", Pos(name, line, col, 1))]) from None

    def load_text(self, text: str, name: str, real: str) -> SourceFile:
        if real in self.files:
            return self.files[real]
        self.texts[name] = text.split("\n")
        sf = SourceFile(name, text)
        self.files[real] = sf
        self.display[real] = name
        if sf.errors and real not in self.reported_files:
            self.reported_files.add(real)
            for e in sf.errors:
                self.errors.append(self.diag(e.message, e.pos, e.notes))
        return sf

    def find_include(self, name: str, at: Pos, argpos: Pos):
        cands = []
        if at.file and not at.file.startswith("<"):
            cands.append(os.path.join(os.path.dirname(at.file), name))
        else:
            cands.append(name)
        for d in self.include_dirs:
            cands.append(os.path.join(d, name))
        for c in cands:
            if os.path.isfile(c):
                real = os.path.realpath(c)
                if real in self.files:
                    return self.files[real], real
                try:
                    data = read_source(c)
                except OSError as e:
                    raise AsmError(f"cannot read `{c}`: {e.strerror}", argpos) from None
                except ValueError as e:      # larger than the limit
                    raise AsmError(f"cannot include `{c}`: {e}", argpos) from None
                disp = os.path.normpath(c)
                try:
                    text = self.decode(data, disp)
                except AssemblyError as e:
                    raise AsmError(e.diagnostics[0].message, Pos(disp, e.diagnostics[0].line,
                                                                 e.diagnostics[0].col, 1)) from None
                return self.load_text(text, disp, real), real
        where = ", ".join(c + (" (a folder, not a file)" if os.path.isdir(c) else "") for c in cands)
        raise AsmError(f"cannot find include file \"{name}\" (looked in: {where})", argpos,
                       ["add a search directory with -I DIR"])

    def set_arch_from_source(self, s: Stmt):
        if len(s.args) != 1 or type(s.args[0]) is not Name or s.args[0].name not in of.ARCHES:
            raise AsmError(f"`.arch` takes one of {', '.join(of.ARCHES)}", s.namepos)
        self.source_arch = s.args[0].name
        if self.cli_arch is None:
            self.arch = self.source_arch

    # -- the whole assembly ----------------------------------------------------------------
    def root_scope(self) -> Scope:
        root = Scope()
        for k, v in self.defines.items():
            if k in RESERVED:
                raise AssemblyError([Diagnostic(None, None, None, 0,
                                                f"-D {k}: `{k}` is a reserved name")])
            root.syms[k] = Sym("const", v, Pos("<command line>", 1, 1, 1))
        return root

    def assemble(self, text: str, filename: str) -> bytes:
        if not filename or "\0" in filename:
            # LINES names it: "" marks code without a position, and strings end at a NUL
            raise AssemblyError([Diagnostic(None, None, None, 0, f"the source file name {filename!r} "
                                            f"is empty or contains NUL")])
        real = "\0main:" + filename
        sf = self.load_text(text, filename, real)
        if self.errors:
            self.fail(self.errors)
        root = self.root_scope()
        layout_mode = self._has_layout(sf.blocks)
        if layout_mode:
            lw = LayoutWalk(self)
            self.layout_local_names = lw.local_names
            lw.include_stack.append(real)
            try:
                lw.walk(sf.blocks, Scope(root))
            except Stop:
                pass
            self.errors.extend(lw.errors)
            if self.errors:
                self.fail(self.errors)
            if self.fabric is None:
                self.fabric = (1, 1)
                self.fabric_implicit = True
            if not self.placements:
                self.fail([self.diag("nothing is placed: add `.place PROGRAM, X, Y [, W, H]`",
                                     Pos(filename, 1, 1, 1))])
        else:
            self._scan_arch(sf.blocks)
            prog = ProgramInfo("main", "main", [], sf.blocks, root, Pos(filename, 1, 1, 1), plain=True)
            self.programs["main"] = prog
            self.fabric = (1, 1)
            self.placements.append(Placement(prog, 0, 0, 1, 1, {}, Pos(filename, 1, 1, 1)))
        return self.instantiate(real)

    def _has_layout(self, blocks) -> bool:
        stack = list(blocks)
        while stack:
            b = stack.pop()
            if isinstance(b, ProgramBlock):
                return True
            if isinstance(b, Stmt) and b.kind == "dir" and b.name in (".place", ".fabric"):
                return True
            if isinstance(b, IfBlock):
                for _, body in b.branches:
                    stack.extend(body)
                if b.else_body:
                    stack.extend(b.else_body)
            elif isinstance(b, RepBlock):
                stack.extend(b.body)
        return False

    def _scan_arch(self, blocks):
        for b in blocks:
            if isinstance(b, Stmt) and b.kind == "dir" and b.name == ".arch":
                try:
                    self.set_arch_from_source(b)
                except AsmError as e:
                    self.fail([self.diag(e.message, e.pos)])

    def instantiate(self, real_main) -> bytes:
        W, H = self.fabric
        grid = {}
        diags = []
        # a program parameter named like a top-level constant or -D define would be shadowed by
        # it (names resolve through the scopes before the per-PE values): say so
        for prog in self.programs.values():
            for pn, _, ppos in prog.params:
                r = prog.scope.find(pn) if prog.scope is not None else None
                if r is not None and r[0] == "sym" and r[1].kind in ("const", "lazy"):
                    where = r[1].pos
                    src = (f"the define -D {pn}" if where is not None and where.file == "<command line>"
                           else f"the top-level constant at {where}" if where is not None else "a top-level constant")
                    diags.append(self.diag(
                        f"parameter `{pn}` of program `{prog.name}` has the name of {src}, which would "
                        f"hide it inside the program", ppos,
                        [f"rename the parameter or the constant (a `.ifndef {pn}` default at the top "
                         f"level does not give the parameter a default: write `.program {prog.name}, "
                         f"{pn} = VALUE`)"]))
        for pl in self.placements:
            if pl.x + pl.w > W or pl.y + pl.h > H:
                hint = ([f"the source has no `.fabric W, H` directive, so the fabric is 1x1: add "
                         f"`.fabric {max(W, pl.x + pl.w)}, {max(H, pl.y + pl.h)}` (or larger) before the placements"]
                        if self.fabric_implicit else [])
                diags.append(self.diag(f"placement of `{pl.prog.name}` at ({pl.x}, {pl.y}) size "
                                       f"{pl.w}x{pl.h} does not fit the {W}x{H} fabric", pl.pos, hint))
                continue
            pl.prog.n_pes += pl.w * pl.h
            for yy in range(pl.y, pl.y + pl.h):
                for xx in range(pl.x, pl.x + pl.w):
                    if (xx, yy) in grid:
                        other = grid[(xx, yy)]
                        diags.append(self.diag(f"PE ({xx}, {yy}) is placed twice: by `{pl.prog.name}` "
                                               f"and by `{other.prog.name}`", pl.pos,
                                               [f"the other placement is at {other.pos}"]))
                        break
                    grid[(xx, yy)] = pl
                else:
                    continue
                break
        if diags:
            self.fail(diags)
        pe_images = {}
        fails = []
        failed_leaves = set()
        for pl in self.placements:
            prog = pl.prog
            base = {"rect_w": pl.w, "rect_h": pl.h, "fabric_w": W, "fabric_h": H}
            base.update(pl.params)
            for yy in range(pl.h):
                for xx in range(pl.w):
                    b = dict(base)
                    b["pe_x"], b["pe_y"] = xx, yy
                    b["abs_x"], b["abs_y"] = pl.x + xx, pl.y + yy
                    leaf = self.image_for(prog, b, (pl.x + xx, pl.y + yy), real_main)
                    if isinstance(leaf, list):
                        if id(leaf) not in failed_leaves:
                            failed_leaves.add(id(leaf))
                            fails.extend(leaf)
                        if self.costly_stop:
                            # each PE would take as long to reach the same limit (a 64x64 layout:
                            # hours; found by fuzzing): report this one and stop
                            if fails and prog.n_pes > 1:
                                fails[-1].notes.append("the assembler stopped there: the PEs after this "
                                                       "one were not assembled")
                            self.fail(self.errors + fails)
                    else:
                        pe_images[(pl.x + xx, pl.y + yy)] = leaf
        if fails or self.errors:
            self.fail(self.errors + fails)
        self.fabric_warnings(pe_images, W, H)
        obj = of.ObjectFile.from_pe_images(self.arch, W, H, pe_images)
        return of.write(obj)

    def fabric_warnings(self, pe_images, W, H):
        """Warnings that need the whole layout, for route faults the emulator would report only
        when the first wavelet comes: a route's TX (in any position) that sends to a neighbour
        with no program, or to one whose route for the color never (in no position) accepts the
        port facing the sender; and a send (`send`, `sendc`, a fabout DSD) on a color whose
        route never takes the RAMP in RX. A port off the edge of the fabric sends to the host
        and is fine. PEs with the same finding at the same source are reported once, together."""
        per_image = {}          # id(image) -> (image, [PE, ...])
        for pe, img in pe_images.items():
            e = per_image.get(id(img))
            if e is None:
                e = per_image[id(img)] = (img, [])
            e[1].append(pe)
        groups = {}             # finding (hashable, see _finding_diag) -> [PE, ...]
        get = pe_images.get
        for img, pes in per_image.values():
            lint = getattr(img, "lint", None)
            if lint is None:
                continue
            for snd in lint.sends:
                mine = lint.routes.get(snd.color)
                if mine is None:
                    f = ("send_noroute", snd.pos, snd.ctx, snd.color, snd.what, snd.fabout, lint.prog, None)
                elif not any(rx & 16 for rx, _ in mine.route.positions):
                    f = ("send_noramp", snd.pos, snd.ctx, snd.color, snd.what, snd.fabout, lint.prog,
                         (mine.pos, mine.route.positions))
                else:
                    continue
                groups.setdefault(f, []).extend(pes)
            for port, dx, dy, opp in NEIGHBOURS:
                # the routes that send out of this port: (color, source, first position that does);
                # one whose RX is empty in every position never has a wavelet to send
                senders = []
                for color, src in lint.routes.items():
                    ps = src.route.positions
                    k = next((k for k, (_, tx) in enumerate(ps) if tx & port), None)
                    if k is not None and any(rx for rx, _ in ps):
                        senders.append((color, src, k))
                if not senders:
                    continue
                by_nb = {}      # id(neighbour image) or None (no program) -> (image, [PE, ...])
                for x, y in pes:
                    nx, ny = x + dx, y + dy
                    if 0 <= nx < W and 0 <= ny < H:         # (off the edge: to the host)
                        nb = get((nx, ny))
                        e = by_nb.get(id(nb) if nb is not None else None)
                        if e is None:
                            e = by_nb[id(nb) if nb is not None else None] = (nb, [])
                        e[1].append((x, y))
                for nb, nb_pes in by_nb.values():
                    nl = getattr(nb, "lint", None)
                    for color, src, k in senders:
                        where = (src.tx_pos[k], src.ctx, color, port, k if len(src.route.positions) > 1 else None)
                        if nb is None:
                            f = ("empty",) + where + (None, None)
                        else:
                            theirs = nl.routes.get(color) if nl is not None else None
                            if theirs is None:
                                f = ("noroute",) + where + (nb.name if nl is None else nl.prog, None)
                            elif not any(rx & opp for rx, _ in theirs.route.positions):
                                f = ("refuses",) + where + (nl.prog, (theirs.pos, theirs.route.positions))
                            else:
                                continue
                        groups.setdefault(f, []).extend(nb_pes)
        for f, pes in groups.items():
            self.warnings.append(self._finding_diag(f, pes))

    def _finding_diag(self, f, pes):
        """The warning for one finding of fabric_warnings and the PEs that have it. A finding is
        (kind, position, macro context, color, ...): for a route, the port, the switch position
        (None for a route of one position), the neighbour's program and its route's position and
        positions; for a send, what sends, whether it is a fabout DSD, the program and its route."""
        kind, pos, ctx = f[0], f[1], f[2]
        pes = sorted(pes, key=lambda p: (p[1], p[0]))
        ctx_notes = list(reversed(ctx))
        if kind.startswith("send"):
            _, _, _, color, what, fabout, prog, theirs = f
            who = _pe_set(pes)
            fault = "fabout" if fabout else "send"
            when = "the tensor op that writes it faults" if fabout else "it faults when it runs"
            if kind == "send_noroute":
                d = self.diag(f"{what}, but {who} (program `{prog}`) "
                              f"{'has' if len(pes) == 1 else 'have'} no route for color {color}: "
                              f"{when} (\"{fault} on color {color}, but the PE has no route for it\")", pos,
                              [f"add `.route {color}, ramp -> <ports>` to program `{prog}` on "
                               f"{_pe_set(pes)}, or {'give the DSD' if fabout else 'send on'} a routed "
                               f"color"] + ctx_notes)
            else:
                rpos, positions = theirs
                refusal = (f"fabout on color {color}, but RAMP is not in rx of the current position ..."
                           if fabout else f"send on color {color}, but the current route (position ...) "
                           f"does not receive from RAMP")
                d = self.diag(f"{what}, but the route of color {color} on {who} "
                              f"(program `{prog}`) never takes `ramp` in RX (RX {_rx_text(positions)}): "
                              f"{when} (\"{refusal}\")", pos,
                              [f"the route is at {rpos}: add `ramp` to the RX of the position in which "
                               f"this PE sends"] + ctx_notes)
            d.severity = "warning"
            return d
        _, _, _, color, port, k, prog, theirs = f
        dx, dy = next((dx, dy) for p, dx, dy, _ in NEIGHBOURS if p == port)
        opp = next(o for p, _, _, o in NEIGHBOURS if p == port)
        pname, oname = PORT_NAMES[port], PORT_NAMES[opp]
        nbs = [(x + dx, y + dy) for x, y in pes]
        src, dst = _pe_set(pes), _pe_set(nbs)
        if len(pes) > 1:
            dst = (f"their {pname} neighbours {dst.removeprefix('PEs ')}" if dst.startswith("PEs ")
                   else f"their {pname} neighbours (the first: {dst.split(' and ')[0]})")
        at = f" in position {k}" if k is not None else ""
        head = f"color {color} is routed {pname}{at} from {src} to {dst}"
        take = f"take `{pname}` out of this TX"
        many = len(pes) > 1
        if kind == "empty":
            d = self.diag(f"{head}, which {'have' if many else 'has'} no program: the first wavelet "
                          f"that leaves this way faults (\"wavelet reached an empty PE\")", pos,
                          [f"place a program on {_pe_set(nbs)}, or {take} (only a port "
                           f"that faces off the edge of the fabric sends to the host)"] + ctx_notes)
        elif kind == "noroute":
            d = self.diag(f"{head} (program `{prog}`), which {'have' if many else 'has'} no route for "
                          f"color {color}: the first wavelet faults there (\"... enters through "
                          f"{oname.upper()}, but this PE has no route for the color\")", pos,
                          [f"add `.route {color}, {oname} -> <ports>` to program `{prog}` on "
                           f"{_pe_set(nbs)}, or {take}"] + ctx_notes)
        else:
            rpos, positions = theirs
            d = self.diag(f"{head} (program `{prog}`), whose route for color {color} never accepts "
                          f"`{oname}` (RX {_rx_text(positions)}): the first wavelet faults there "
                          f"(\"... enters through {oname.upper()}, but the current route's rx does not "
                          f"include it\")", pos,
                          [f"that route is at {rpos}: add `{oname}` to the RX of the position that should "
                           f"receive from this PE, or {take}"] + ctx_notes)
        d.severity = "warning"
        return d

    def image_for(self, prog: ProgramInfo, builtins, pe, real_main):
        node = prog.trie
        env = None     # builtins + {i: value of the i-th PE-dependent constant}, once needed
        n_defs = 0
        while node is not None and node.leaf is None:
            expr, scope, dot, fast, defining = node.step
            if defining:
                # a PE-dependent constant: its value goes into env, the key says only "defined"
                if env is None:
                    env = dict(builtins)
                v = k = None
                if fast is not None:
                    try:
                        v = fast(env)
                        if isinstance(v, int) and v.bit_length() > INT_BITS:
                            v = None
                    except Exception:
                        v = None
                if v is None:
                    ev = Ev(builtins)
                    ev.pe_env = env
                    try:
                        v = ev.ev(expr, scope, dot)
                    except AsmError as e:
                        k = ("err", e.message)
                    except Exception:
                        k = ("exc",)
                if k is None:
                    env[n_defs] = v
                    n_defs += 1
                    k = ("def",)
            else:
                k = fast_key(fast, env if env is not None else builtins) if fast is not None else None
                if k is None:
                    ev = Ev(builtins)
                    ev.pe_env = env
                    try:
                        k = vkey(ev.ev(expr, scope, dot))
                    except AsmError as e:
                        k = ("err", e.message)
                    except Exception:
                        k = ("exc",)
            node = node.children.get(k)
        if node is not None:
            return node.leaf
        trace = []
        w = ProgramWalk(self, prog, builtins, trace, pe)
        w.include_stack.append(real_main)
        scope = Scope(prog.scope)
        try:
            w.walk(prog.body, scope)
            img = w.finish()
        except Stop:
            img = None
        if img is None:
            leaf = list(w.errors)
            if w.costly_stop:
                self.costly_stop = True
            if prog.n_pes > 1:
                for d in leaf:
                    d.notes.append(f"while assembling program `{prog.name}` for PE {pe} "
                                   f"(pe_x={builtins['pe_x']}, pe_y={builtins['pe_y']})")
        else:
            leaf = img
            for d in w.warnings:     # once per distinct image: the first PE that has it is named
                if prog.n_pes > 1:
                    d.notes.append(f"while assembling program `{prog.name}` for PE {pe} "
                                   f"(pe_x={builtins['pe_x']}, pe_y={builtins['pe_y']}), and every "
                                   f"PE that gets the same image")
                self.warnings.append(d)
        if prog.trie is None:
            prog.trie = TrieNode()
        node = prog.trie
        for expr, scope_, dot, k, defining in trace:
            if node.step is None:
                node.step = (expr, scope_, dot, compile_expr(expr, scope_, builtins), defining)
            nxt = node.children.get(k)
            if nxt is None:
                nxt = TrieNode()
                node.children[k] = nxt
            node = nxt
        node.leaf = leaf
        return leaf
