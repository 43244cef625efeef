"""Parsing: source text -> statements (one per line, via the Lark grammar wse.lark) -> blocks.

Every node carries a Pos. Errors are collected (one per bad line), never raised one at a time.
"""
from __future__ import annotations

import functools
from pathlib import Path

import lark
from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from .diag import AsmError, Pos

MAX_EXPR_DEPTH = 200
MAX_BLOCK_DEPTH = 100
MAX_LINE_CHARS = 100_000
MAX_SOURCE_BYTES = 64 << 20     # a source or included file (docs/assembly.md, Limits)


def read_source(path) -> bytes:
    """The bytes of a source file, at most MAX_SOURCE_BYTES of them: a larger file (or one that
    never ends, /dev/zero, a FIFO) raises ValueError with the message, without being read to
    the end. OSError when it cannot be read."""
    from wse.cli.files import read_limited, size_text
    with open(path, "rb") as fh:
        data = read_limited(fh, MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"the file is larger than {size_text(MAX_SOURCE_BYTES)}, the most wse-as reads "
                         f"of a source file: is it a source file?")
    return data


# --- AST ------------------------------------------------------------------------------------
class Node:
    __slots__ = ("pos",)


class Num(Node):
    __slots__ = ("value", "text")

    def __init__(self, value, pos, text=""):
        self.value, self.pos, self.text = value, pos, text


class Name(Node):
    __slots__ = ("name",)

    def __init__(self, name, pos):
        self.name, self.pos = name, pos


class Dot(Node):
    __slots__ = ()

    def __init__(self, pos):
        self.pos = pos


class Un(Node):
    __slots__ = ("op", "a")

    def __init__(self, op, a, pos):
        self.op, self.a, self.pos = op, a, pos


class Bin(Node):
    __slots__ = ("op", "a", "b")

    def __init__(self, op, a, b, pos):
        self.op, self.a, self.b, self.pos = op, a, b, pos


class Cond(Node):
    __slots__ = ("c", "a", "b")

    def __init__(self, c, a, b, pos):
        self.c, self.a, self.b, self.pos = c, a, b, pos


class Call(Node):
    __slots__ = ("fn", "args")

    def __init__(self, fn, args, pos):
        self.fn, self.args, self.pos = fn, args, pos


class Str(Node):
    __slots__ = ("value",)

    def __init__(self, value, pos):
        self.value, self.pos = value, pos


class Bracket(Node):
    __slots__ = ("items",)

    def __init__(self, items, pos):
        self.items, self.pos = items, pos


class Arrow(Node):
    __slots__ = ("a", "b")

    def __init__(self, a, b, pos):
        self.a, self.b, self.pos = a, b, pos


class Kw(Node):
    __slots__ = ("name", "value", "namepos")

    def __init__(self, name, value, pos, namepos):
        self.name, self.value, self.pos, self.namepos = name, value, pos, namepos


class AsyncClause:
    __slots__ = ("ut", "utpos", "action", "actpos", "task", "pos", "utnum")

    def __init__(self, ut, utpos, action, actpos, task, pos, utnum=None):
        self.ut, self.utpos, self.action, self.actpos, self.task, self.pos = ut, utpos, action, actpos, task, pos
        self.utnum = utnum      # the N of `async ut(N)` (an expression), else None


class Stmt:
    """One statement. kind: 'label', 'insn', 'dir', 'assign'."""
    __slots__ = ("kind", "name", "namepos", "args", "async_", "pos", "value")

    def __init__(self, kind, name, namepos, args=(), async_=None, pos=None, value=None):
        self.kind, self.name, self.namepos = kind, name, namepos
        self.args, self.async_, self.pos, self.value = list(args), async_, pos or namepos, value

    def __repr__(self):
        return f"Stmt({self.kind} {self.name} @{self.namepos})"


# Block structure
class IfBlock:
    __slots__ = ("branches", "else_body", "end", "pos")

    def __init__(self, first):
        self.branches = [(first, [])]   # (stmt, body): .if/.ifdef/.ifndef/.elif
        self.else_body = None
        self.end = None
        self.pos = first.namepos


class MacroBlock:
    __slots__ = ("stmt", "body", "pos")

    def __init__(self, stmt):
        self.stmt, self.body, self.pos = stmt, [], stmt.namepos


class RepBlock(MacroBlock):
    __slots__ = ()


class ProgramBlock(MacroBlock):
    __slots__ = ()


OPENERS = {".if": IfBlock, ".ifdef": IfBlock, ".ifndef": IfBlock, ".macro": MacroBlock,
           ".rep": RepBlock, ".program": ProgramBlock}
CLOSERS = {".endif": IfBlock, ".endm": MacroBlock, ".endr": RepBlock, ".endprogram": ProgramBlock,
           ".endp": ProgramBlock}
OPENER_OF = {IfBlock: ".if", MacroBlock: ".macro", RepBlock: ".rep", ProgramBlock: ".program"}
CLOSER_OF = {IfBlock: ".endif", MacroBlock: ".endm", RepBlock: ".endr", ProgramBlock: ".endprogram"}


# --- the Lark parser ------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    text = (Path(__file__).parent / "wse.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)


_TOKEN_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a float", "STRING": "a string",
    "DIRECTIVE": "a directive", "$END": "end of line",
}
# operators of expressions: where an expression may go on, Lark expects every one of them, so a
# message names them as one ("an operator") instead of listing a dozen
_OPERATORS = {"+", "-", "*", "/", "%", "&", "|", "^", "<", ">", "<<", ">>", "==", "!=", "<=", ">=",
              "&&", "||", "?", "!", "~"}
# the order they are listed in: separators first, what is expected most, "end of line" last
_FIRST = ("','", "':'", "'='")
_LAST = ("end of line",)


def _token_text(name: str) -> str | None:
    """How an expected terminal is named in a message: the text of a literal token ('->'), a
    description of a pattern (a name); None for one the parser ignores."""
    if name in _TOKEN_NAMES:
        return _TOKEN_NAMES[name]
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return None
    if isinstance(pattern, PatternStr):
        return pattern.value
    return None


def _expected(exp) -> str:
    """"; expected X, Y or Z" for Lark's expected terminals, in words a kernel author knows:
    literal tokens quoted, patterns described, the operators of an expression as "an operator"
    when several are possible."""
    texts = {t for t in (_token_text(e) for e in exp) if t}
    ops = {t for t in texts if t in _OPERATORS}
    shown = {t if t in _TOKEN_NAMES.values() else f"'{t}'" for t in texts - ops}
    if len(ops) < 3:
        shown |= {f"'{t}'" for t in ops}
    words = [t for t in _TOKEN_NAMES.values() if t in shown and t not in _LAST]
    names = ([t for t in _FIRST if t in shown] + words
             + sorted(t for t in shown if t not in _FIRST and t not in _LAST and t not in words)
             + [t for t in _LAST if t in shown])
    if len(ops) >= 3:
        names.append("an operator")
    if not names:
        return ""
    if len(names) > 10:
        names = names[:9] + ["..."]
    return "; expected " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1])


def _accepted(e: UnexpectedToken) -> set:
    """The terminals that could really come where e's token stands: the interactive parser tries
    each (e.expected, the LALR state's set, also holds tokens of merged states that cannot)."""
    try:
        return set(e.interactive_parser.accepts())
    except Exception:        # (any failure of the trial parse: the state's set is still right)
        return set(e.expected)


def _unescape(s: str, pos: Pos) -> str:
    out = []
    i = 1
    end = len(s) - 1
    while i < end:
        c = s[i]
        if c == "\\" and i + 1 < end:
            n = s[i + 1]
            if n in "\"\\":
                out.append(n)
                i += 2
            elif n == "n":
                out.append("\n")
                i += 2
            elif n == "t":
                out.append("\t")
                i += 2
            elif n == "x" and i + 3 < end + 1:
                try:
                    out.append(chr(int(s[i + 2:i + 4], 16)))
                except ValueError:
                    raise AsmError(f"bad escape {s[i:i + 4]!r} in string", pos) from None
                i += 4
            else:
                raise AsmError(f"unknown escape '\\{n}' in string (use \\\\, \\\", \\n, \\t or \\xNN)", pos)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _int_literal(text: str, pos: Pos) -> int:
    t = text.replace("_", "")
    try:
        if len(t) > 400:
            raise AsmError(f"integer literal is too long ({len(t)} digits); the assembler's "
                           f"integers are limited to 256 bits", pos)
        if t[:2] in ("0x", "0X"):
            v = int(t[2:], 16)
        elif t[:2] in ("0b", "0B"):
            v = int(t[2:], 2)
        else:
            v = int(t, 10)
    except ValueError:
        raise AsmError(f"malformed integer literal {text!r}", pos) from None
    if v.bit_length() > 256:
        raise AsmError(f"integer literal {text[:40]}{'...' if len(text) > 40 else ''} is too large "
                       f"(the assembler's integers are limited to 256 bits)", pos)
    return v


def _float_literal(text: str, pos: Pos) -> float:
    t = text.replace("_", "")
    try:
        if t[:2].lower() == "0x":
            v = float.fromhex(t)
        else:
            if len(t) > 400:
                raise ValueError
            v = float(t)
    except (ValueError, OverflowError):
        raise AsmError(f"float literal {text[:40]!r} is out of range or malformed", pos) from None
    if v in (float("inf"), float("-inf")):
        raise AsmError(f"float literal {text[:40]} is too large (it overflows a double); "
                       f"use `inf` for infinity", pos)
    return v


class _Conv:
    """Lark tree -> AST, with positions made absolute (file, line)."""

    BIN = {"lor": "||", "land": "&&", "bor": "|", "bxor": "^", "band": "&", "eq": "==",
           "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "shl": "<<", "shr": ">>",
           "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
    UN = {"neg": "-", "pos": "+", "inv": "~", "not_": "!"}

    def __init__(self, file: str, line: int):
        self.file, self.line = file, line

    def pos_tok(self, t: Token) -> Pos:
        return Pos(self.file, self.line, t.column, max(1, (t.end_column or t.column + 1) - t.column))

    def pos_tree(self, t) -> Pos:
        if isinstance(t, Token):
            return self.pos_tok(t)
        m = t.meta
        if getattr(m, "empty", True):
            return Pos(self.file, self.line, 1, 1)
        return Pos(self.file, self.line, m.column, max(1, m.end_column - m.column))

    def expr(self, t) -> Node:
        if isinstance(t, Token):
            raise AsmError(f"unexpected {t!r}", self.pos_tok(t))
        d = t.data
        p = self.pos_tree(t)
        if d in self.BIN:
            return Bin(self.BIN[d], self.expr(t.children[0]), self.expr(t.children[1]), p)
        if d in self.UN:
            return Un(self.UN[d], self.expr(t.children[0]), p)
        if d == "int_":
            return Num(_int_literal(str(t.children[0]), p), p, str(t.children[0]))
        if d == "float_":
            return Num(_float_literal(str(t.children[0]), p), p, str(t.children[0]))
        if d == "name":
            return Name(str(t.children[0]), p)
        if d == "dot":
            return Dot(p)
        if d == "cond":
            return Cond(self.expr(t.children[0]), self.expr(t.children[1]), self.expr(t.children[2]), p)
        if d == "call":
            args = [self.expr(c) for c in t.children[1:] if c is not None]
            return Call(str(t.children[0]), args, p)
        if d == "string":
            return Str(_unescape(str(t.children[0]), p), p)
        if d == "bracket":
            return Bracket([self.expr(c) for c in t.children], p)
        if d == "arrow":
            return Arrow(self.expr(t.children[0]), self.expr(t.children[1]), p)
        if d == "kwarg":
            return Kw(str(t.children[0]), self.expr(t.children[1]), p, self.pos_tok(t.children[0]))
        raise AsmError(f"unexpected syntax {d}", p)

    def statements(self, tree: Tree) -> list[Stmt]:
        out = []
        for c in tree.children:
            if c is None:
                continue
            if c.data == "label":
                tok = c.children[0]
                out.append(Stmt("label", str(tok), self.pos_tok(tok)))
                continue
            d = c.data
            head = c.children[0]
            hp = self.pos_tok(head)
            if d == "assign":
                out.append(Stmt("assign", str(head), hp, pos=self.pos_tree(c), value=self.expr(c.children[1])))
                continue
            args = []
            if len(c.children) > 1 and c.children[1] is not None:
                args = [self.expr(a) for a in c.children[1].children]
            asy = None
            if d == "instruction" and len(c.children) > 2 and c.children[2] is not None:
                ac = c.children[2]
                ut, utnum, act, task = ac.children
                asy = AsyncClause(str(ut), self.pos_tok(ut), str(act) if act is not None else None,
                                  self.pos_tok(act) if act is not None else None,
                                  self.expr(task) if task is not None else None, self.pos_tree(ac),
                                  self.expr(utnum) if utnum is not None else None)
            kind = "dir" if d == "directive" else "insn"
            name = str(head).lower() if kind == "dir" else str(head)
            out.append(Stmt(kind, name, hp, args, asy, self.pos_tree(c)))
        return out


def _depth_ok(tree) -> bool:
    stack = [(tree, 1)]
    while stack:
        t, d = stack.pop()
        if d > MAX_EXPR_DEPTH:
            return False
        for c in t.children:
            if isinstance(c, Tree):
                stack.append((c, d + 1))
    return True


def parse_line(text: str, file: str, lineno: int) -> list[Stmt]:
    """Parse one line. Raises AsmError on a syntax error."""
    if len(text) > MAX_LINE_CHARS:
        raise AsmError(f"line is too long ({len(text)} characters; the limit is {MAX_LINE_CHARS})",
                       Pos(file, lineno, 1, 1))
    try:
        tree = parser().parse(text)
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else "?"
        shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
        raise AsmError(f"syntax error: unexpected character {shown}",
                       Pos(file, lineno, e.column, 1)) from None
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            # just past the last token (Lark gives $END its position): a trailing comment is
            # not where the line stops too early
            col = tok.end_column if tok.end_column else len(text.rstrip()) + 1
            raise AsmError("syntax error: unexpected end of line" + _expected(_accepted(e)),
                           Pos(file, lineno, col, 1)) from None
        raise AsmError(f"syntax error: unexpected {str(tok)!r}" + _expected(_accepted(e)),
                       Pos(file, lineno, tok.column, max(1, len(str(tok))))) from None
    except UnexpectedEOF as e:
        raise AsmError("syntax error: unexpected end of line", Pos(file, lineno, len(text) + 1, 1)) from None
    except (LarkError, RecursionError) as e:
        raise AsmError(f"syntax error: {type(e).__name__}", Pos(file, lineno, 1, 1)) from None
    if not _depth_ok(tree):
        raise AsmError(f"expression is nested too deeply (the limit is {MAX_EXPR_DEPTH} levels)",
                       Pos(file, lineno, 1, max(1, len(text.rstrip()))))
    return _Conv(file, lineno).statements(tree)


class SourceFile:
    """A parsed file: its lines (for diagnostics), its block tree and its syntax errors."""

    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text
        self.lines = text.split("\n")
        self.errors: list[AsmError] = []
        stmts: list[Stmt] = []
        for i, line in enumerate(self.lines, 1):
            s = line.strip()
            if not s or s[0] == ";":
                continue
            try:
                stmts.extend(parse_line(line, name, i))
            except AsmError as e:
                self.errors.append(e)
        self.blocks = self._build(stmts)

    def _build(self, stmts: list[Stmt]) -> list:
        root: list = []
        stack: list = []      # (block, body list being filled)
        cur = root
        skipped = 0
        for s in stmts:
            if s.kind == "dir" and s.name in OPENERS:
                if len(stack) >= MAX_BLOCK_DEPTH or skipped:
                    if not skipped:
                        self.errors.append(AsmError(f"blocks are nested too deeply (the limit is "
                                                    f"{MAX_BLOCK_DEPTH})", s.namepos))
                    skipped += 1
                    continue
                blk = OPENERS[s.name](s)
                cur.append(blk)
                stack.append(blk)
                cur = blk.branches[0][1] if isinstance(blk, IfBlock) else blk.body
                continue
            if skipped:
                if s.kind == "dir" and s.name in CLOSERS:
                    skipped -= 1
                continue
            if s.kind == "dir" and s.name in (".elif", ".else"):
                if not stack or not isinstance(stack[-1], IfBlock):
                    self.errors.append(AsmError(f"`{s.name}` without `.if`", s.namepos))
                    continue
                blk = stack[-1]
                if blk.else_body is not None:
                    self.errors.append(AsmError(f"`{s.name}` after `.else`", s.namepos,
                                                [f"the `.if` is at {blk.pos}"]))
                    continue
                if s.name == ".elif":
                    blk.branches.append((s, []))
                    cur = blk.branches[-1][1]
                else:
                    if s.args:
                        self.errors.append(AsmError("`.else` takes no arguments (did you mean `.elif`?)",
                                                    s.args[0].pos))
                    blk.else_body = []
                    cur = blk.else_body
                continue
            if s.kind == "dir" and s.name in CLOSERS:
                want = CLOSERS[s.name]
                if not stack or type(stack[-1]) is not want:
                    if stack:
                        top = stack[-1]
                        self.errors.append(AsmError(
                            f"`{s.name}` does not match the open `{OPENER_OF[type(top)]}`",
                            s.namepos, [f"the open `{OPENER_OF[type(top)]}` is at {top.pos}; "
                                        f"close it with `{CLOSER_OF[type(top)]}`"]))
                    else:
                        self.errors.append(AsmError(f"`{s.name}` without `{OPENER_OF[want]}`", s.namepos))
                    continue
                blk = stack.pop()
                if isinstance(blk, IfBlock):
                    blk.end = s
                cur = self._body_of(stack[-1]) if stack else root
                continue
            cur.append(s)
        for blk in reversed(stack):
            self.errors.append(AsmError(f"`{OPENER_OF[type(blk)]}` is never closed: missing "
                                        f"`{CLOSER_OF[type(blk)]}`", blk.pos))
        return root

    @staticmethod
    def _body_of(blk):
        if isinstance(blk, IfBlock):
            return blk.else_body if blk.else_body is not None else blk.branches[-1][1]
        return blk.body
