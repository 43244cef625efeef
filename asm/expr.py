"""Symbols, scopes and the expression evaluator (no eval: a tree walk over the AST)."""
from __future__ import annotations

import difflib
import math
import struct

from wse.isa import load
from wse.isa.table import DSR_FILES
from wse.isa.objfile import BUILTIN_NAMES, reserved_names

from .diag import AsmError, fmt_int
from .syntax import Bin, Call, Cond, Dot, Kw, Name, Node, Num, Str, Un, Bracket, Arrow

INT_BITS = 256
PORTS = {"north": 1, "east": 2, "south": 4, "west": 8, "ramp": 16}


def _regs():
    isa = load()
    gpr = {}
    rf = isa.regfiles["gpr"]
    for i in range(rf.count):
        gpr[f"{rf.prefix}{i}"] = i
    for a, i in rf.aliases.items():
        gpr[a] = int(i)
    dsr = {}
    for fi, fname in enumerate(DSR_FILES):
        f = isa.regfiles[fname]
        for i in range(f.count):
            dsr[f"{f.prefix}{i}"] = (fi, i)
    return gpr, dsr


GPR, DSR = _regs()
UTS = {f"ut{i}": i for i in range(load().max_microthreads)}


def _numbered():
    """The register files an operand can name by number, `PREFIX(EXPR)` (e.g. `a(i)` in a .rep
    whose VAR is i): prefix -> (kind, DSR file index or None, count)."""
    isa = load()
    out = {isa.regfiles["gpr"].prefix: ("gpr", None, isa.regfiles["gpr"].count)}
    for fi, fname in enumerate(DSR_FILES):
        f = isa.regfiles[fname]
        out[f.prefix] = ("dsr", fi, f.count)
    return out


NUMBERED = _numbered()
UT_PREFIX = "ut"
# GPR, DSR and UTS names, inf, nan and the built-ins; the object readers refuse a symbol named so
RESERVED = reserved_names()
FUNCS = ("hi16", "lo16", "f32bits", "f16bits", "min", "max", "abs", "log2", "ceil_div", "int",
         "float", "defined", "taskid")


class Undefined(AsmError):
    """A name is not (yet) defined."""

    def __init__(self, name: str, pos, message: str | None = None):
        super().__init__(message or f"unknown symbol `{name}`", pos)
        self.name = name


class Sym:
    """kind: const, lazy, label (code), dlabel (data), task, dsd, macro; param_after: in the
    scope of a parameter's default, that parameter or one listed after it (extra: see
    default_scope), which a default cannot use."""
    __slots__ = ("kind", "value", "pos", "extra")

    def __init__(self, kind, value=None, pos=None, extra=None):
        self.kind, self.value, self.pos, self.extra = kind, value, pos, extra


class PeDep:
    """`Sym.extra` of a constant whose value was computed from per-PE values: the `i`-th such
    definition of the walk. Reading it counts as reading a per-PE value (so the expression that
    reads it is recorded, not the definition's value); a replay finds its value as env[i]."""
    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i


def default_scope(parent, params, i, owner, earlier_syms=None, earlier_args=None):
    """The scope the default of parameter i of `params` ([(name, default, pos)]) is evaluated
    in: parent (where the macro or program is defined) with the parameters listed before it
    (a program's as values, `earlier_syms` {name: Sym}; a macro's as arguments, `earlier_args`
    {name: (ast, scope)}), and the parameter itself and those after it as `param_after`
    symbols: a default cannot use them, and saying so is clearer than `unknown symbol`.
    owner names the declaration: "macro `m`" or "program `p`"."""
    this = params[i][0]
    syms = {pn: Sym("param_after", None, ppos, (this, owner)) for pn, _, ppos in params[i:]}
    syms.update(earlier_syms or {})
    return Scope(parent, margs=earlier_args, syms=syms)


def param_after_message(name, extra):
    this, owner = extra
    if name == this:
        return (f"the default of `{this}` uses `{this}` itself",
                [f"a default can use the parameters listed before it in {owner} and the constants "
                 f"defined outside it, not its own parameter"])
    return (f"the default of `{this}` uses `{name}`, a parameter listed after it",
            [f"a default can use only the parameters listed before it in {owner}: list `{name}` "
             f"before `{this}`"])


class Scope:
    __slots__ = ("syms", "parent", "margs")

    def __init__(self, parent=None, margs=None, syms=None):
        self.syms = syms if syms is not None else {}
        self.parent = parent
        self.margs = margs

    def find(self, name):
        """('arg', (ast, scope)) | ('sym', Sym) | None."""
        s = self
        while s is not None:
            if s.margs is not None and name in s.margs:
                return "arg", s.margs[name]
            sym = s.syms.get(name)
            if sym is not None:
                return "sym", sym
            s = s.parent
        return None

    def names(self):
        out = set()
        s = self
        while s is not None:
            out.update(s.syms)
            if s.margs:
                out.update(s.margs)
            s = s.parent
        return out


def suggest(name: str, candidates) -> str:
    m = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{m[0]}`?" if m else ""


def f32_bits(v, pos) -> int:
    try:
        return struct.unpack("<I", struct.pack("<f", float(v)))[0]
    except (OverflowError, struct.error):
        raise AsmError(f"{v!r} is out of range for fp32 (largest finite: 3.4028234663852886e38)", pos) from None


def f16_bits(v, pos) -> int:
    try:
        return struct.unpack("<H", struct.pack("<e", float(v)))[0]
    except (OverflowError, struct.error):
        raise AsmError(f"{v!r} is out of range for fp16 (largest finite: 65504.0)", pos) from None


def vkey(v):
    if isinstance(v, float):
        return ("f", struct.pack("<d", v))
    return (type(v).__name__, v)


class Ev:
    """Evaluates expressions. `builtins` holds the per-PE values (None outside a program);
    looking one up sets `dep`, which is how PE-dependent evaluations are recorded."""

    def __init__(self, builtins: dict | None):
        self.builtins = builtins
        self.dep = False
        self.memo: dict = {}
        # name -> task Sym (or None); set by the program assembler so taskid(NAME) works
        self.task_lookup = None
        self.active: set = set()
        # in a replay: builtins plus {i: value of the i-th PE-dependent constant definition}
        self.pe_env: dict | None = None

    def check_int(self, v, pos):
        if isinstance(v, int) and v.bit_length() > INT_BITS:
            raise AsmError(f"integer overflow: the result needs more than {INT_BITS} bits", pos)
        return v

    def want_int(self, v, pos, what="an integer"):
        if isinstance(v, float):
            raise AsmError(f"expected {what}, got the float {v!r}", pos)
        return v

    @staticmethod
    def arg_pos(node, scope):
        """The position of what `node` stands for: through macro and pseudo-instruction
        parameters to the caller's expression (`li r3, 1e40`: the literal, not `li`)."""
        for _ in range(100):
            if type(node) is not Name or scope is None:
                break
            r = scope.find(node.name)
            if r is None or r[0] != "arg":
                break
            node, scope = r[1]
        return node.pos

    def lookup(self, node: Name, scope: Scope, dot):
        n = node.name
        r = scope.find(n) if scope is not None else None
        if r is not None:
            kind, x = r
            if kind == "arg":
                ast, sc = x
                return self.ev(ast, sc, dot)
            sym = x
            k = sym.kind
            if k in ("const", "label", "dsd"):
                if k == "const" and type(sym.extra) is PeDep:
                    self.dep = True
                    if self.pe_env is not None:
                        return self.pe_env[sym.extra.i]
                return sym.value
            if k == "lazy":
                # memoized with whether it read a per-PE value: every read of it must set `dep`
                # again, or an expression using a memoized PE-dependent value goes unrecorded
                key = id(sym)
                m = self.memo.get(key)
                if m is not None:
                    if m[1]:
                        self.dep = True
                    return m[0]
                if key in self.active:
                    raise AsmError(f"`{n}` is defined in terms of itself", node.pos)
                self.active.add(key)
                saved = self.dep
                self.dep = False
                try:
                    ast, sc, d = sym.extra
                    v = self.ev(ast, sc, d)
                finally:
                    self.active.discard(key)
                    dep = self.dep
                    self.dep = saved or dep
                self.memo[key] = (v, dep)
                return v
            if k in ("dlabel", "task"):
                if sym.value is None:
                    what = "data label" if k == "dlabel" else "task"
                    raise Undefined(n, node.pos, f"{what} `{n}` has no value yet here (data addresses "
                                    f"and task ids are known only after the layout; they cannot decide "
                                    f"conditions, counts or sizes)")
                return sym.value
            if k == "macro":
                raise AsmError(f"`{n}` is a macro, not a value", node.pos)
            if k == "param_after":
                msg, notes = param_after_message(n, sym.extra)
                raise AsmError(msg, node.pos, notes)
            raise AsmError(f"`{n}` cannot be used as a value", node.pos)
        b = self.builtins
        if b is not None and n in b:
            self.dep = True
            return b[n]
        if n == "inf":
            return math.inf
        if n == "nan":
            return math.nan
        if n in BUILTIN_NAMES:
            raise AsmError(f"`{n}` is a per-PE value, only available inside a `.program`", node.pos)
        if n in GPR or n in DSR:
            raise AsmError(f"register `{n}` cannot be used in an expression here", node.pos)
        if n in UTS:
            raise AsmError(f"microthread `{n}` can only be used in an async clause", node.pos)
        raise Undefined(n, node.pos)

    def ev(self, node: Node, scope: Scope, dot):
        t = type(node)
        if t is Num:
            return node.value
        if t is Name:
            return self.lookup(node, scope, dot)
        if t is Bin:
            return self.binop(node, scope, dot)
        if t is Un:
            v = self.ev(node.a, scope, dot)
            op = node.op
            if op == "-":
                return self.check_int(-v, node.pos)
            if op == "+":
                return v
            if op == "!":
                return int(not v)
            return ~self.want_int(v, node.a.pos, "an integer operand for `~`")
        if t is Dot:
            if dot is None:
                raise AsmError("`.` (the current location) has no value here", node.pos)
            if callable(dot):
                return dot()
            return dot
        if t is Cond:
            c = self.ev(node.c, scope, dot)
            return self.ev(node.a if c else node.b, scope, dot)
        if t is Call:
            return self.call(node, scope, dot)
        if t is Str:
            raise AsmError("a string cannot be used as a number", node.pos)
        if t is Bracket:
            raise AsmError("a bracketed list cannot be used as a number here", node.pos)
        if t is Arrow:
            raise AsmError("`->` is only allowed in `.route`", node.pos)
        if t is Kw:
            raise AsmError(f"`{node.name}=` is not expected here", node.namepos)
        raise AsmError("not an expression", node.pos)

    def binop(self, node: Bin, scope, dot):
        op = node.op
        if op == "&&":
            return int(bool(self.ev(node.a, scope, dot)) and bool(self.ev(node.b, scope, dot)))
        if op == "||":
            return int(bool(self.ev(node.a, scope, dot)) or bool(self.ev(node.b, scope, dot)))
        a = self.ev(node.a, scope, dot)
        b = self.ev(node.b, scope, dot)
        pos = node.pos
        if op == "+":
            return self.check_int(a + b, pos)
        if op == "-":
            return self.check_int(a - b, pos)
        if op == "*":
            return self.check_int(a * b, pos)
        if op == "/":
            if b == 0:
                raise AsmError("division by zero", node.b.pos)
            if isinstance(a, float) or isinstance(b, float):
                return a / b
            q = abs(a) // abs(b)
            return q if (a < 0) == (b < 0) else -q
        if op == "%":
            self.want_int(a, node.a.pos)
            self.want_int(b, node.b.pos)
            if b == 0:
                raise AsmError("division by zero (in `%`)", node.b.pos)
            r = abs(a) % abs(b)
            return -r if a < 0 else r
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return int({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                        ">=": a >= b}[op])
        a = self.want_int(a, node.a.pos, f"an integer operand for `{op}`")
        b = self.want_int(b, node.b.pos, f"an integer operand for `{op}`")
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        if op in ("<<", ">>"):
            if b < 0:
                raise AsmError(f"negative shift count {b}", node.b.pos)
            if op == ">>":
                return a >> min(b, INT_BITS + 1)
            if b > INT_BITS:
                raise AsmError(f"shift count {fmt_int(b)} is too large (the limit is {INT_BITS})", node.b.pos)
            return self.check_int(a << b, pos)
        raise AsmError(f"unknown operator {op}", pos)

    def call(self, node: Call, scope, dot):
        fn = node.fn
        args = node.args
        pos = node.pos
        if fn == "defined":
            if len(args) != 1 or type(args[0]) is not Name:
                raise AsmError("`defined` takes one name: defined(NAME)", pos)
            return int(self.is_defined(args[0].name, scope))
        if fn == "taskid":
            if len(args) != 1 or type(args[0]) is not Name:
                raise AsmError("`taskid` takes one task name: taskid(NAME)", pos)
            name = args[0].name
            sym = self.task_lookup(name) if self.task_lookup else None
            if sym is None:
                raise AsmError(f"`{name}` is not a task of this program (taskid() gives the id of a "
                               f"task declared with .task)", args[0].pos)
            if sym.value is None:
                raise Undefined(name, args[0].pos, f"the id of task `{name}` is known only after "
                                f"the layout; it cannot decide conditions, counts or sizes")
            return sym.value
        if fn in NUMBERED or fn == UT_PREFIX:
            raise AsmError(f"`{fn}(N)` names a {'microthread' if fn == UT_PREFIX else 'register'} by "
                           f"number (an instruction's operand), not a value", pos)
        if fn not in FUNCS:
            s = suggest(fn, FUNCS)
            raise AsmError(f"unknown function `{fn}`" + (f"; {s}" if s else
                           f" (known: {', '.join(FUNCS)})"), pos)
        vals = [self.ev(a, scope, dot) for a in args]

        def arity(n):
            if len(vals) != n:
                raise AsmError(f"`{fn}` takes {n} argument{'s' if n != 1 else ''}, got {len(vals)}", pos)

        if fn in ("hi16", "lo16"):
            arity(1)
            v = vals[0]
            where = self.arg_pos(args[0], scope)
            if isinstance(v, float):
                v = f32_bits(v, where)
            if not -(1 << 31) <= v < (1 << 32):
                raise AsmError(f"value {fmt_int(v)} does not fit 32 bits; legal: "
                               f"-2147483648..4294967295 (-0x80000000..0xffffffff)", where)
            v &= 0xFFFFFFFF
            return (v >> 16) if fn == "hi16" else (v & 0xFFFF)
        if fn == "f32bits":
            arity(1)
            return f32_bits(vals[0], args[0].pos)
        if fn == "f16bits":
            arity(1)
            return f16_bits(vals[0], args[0].pos)
        if fn in ("min", "max"):
            if not vals:
                raise AsmError(f"`{fn}` needs at least one argument", pos)
            return min(vals) if fn == "min" else max(vals)
        if fn == "abs":
            arity(1)
            return abs(vals[0])
        if fn == "log2":
            arity(1)
            v = self.want_int(vals[0], args[0].pos)
            if v <= 0 or v & (v - 1):
                raise AsmError(f"log2 needs a power of two; got {fmt_int(v)}", args[0].pos)
            return v.bit_length() - 1
        if fn == "ceil_div":
            arity(2)
            a = self.want_int(vals[0], args[0].pos)
            b = self.want_int(vals[1], args[1].pos)
            if b == 0:
                raise AsmError("division by zero (in ceil_div)", args[1].pos)
            return -((-a) // b)
        if fn == "int":
            arity(1)
            v = vals[0]
            if isinstance(v, float):
                if math.isnan(v) or math.isinf(v):
                    raise AsmError(f"int() of {v!r}", args[0].pos)
                return int(v)
            return v
        if fn == "float":
            arity(1)
            try:
                return float(vals[0])
            except OverflowError:
                raise AsmError("float() of an integer that is too large", args[0].pos) from None
        raise AsmError(f"unknown function `{fn}`", pos)

    def is_defined(self, name, scope) -> bool:
        r = scope.find(name) if scope is not None else None
        if r is not None:
            return r[0] == "arg" or r[1].kind != "param_after"
        return self.builtins is not None and name in self.builtins


# --- fast replay --------------------------------------------------------------------------
class _NoFast(Exception):
    pass


def _tdiv(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a / b
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _tmod(a, b):
    if isinstance(a, float) or isinstance(b, float):
        raise _NoFast()
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _intop(f):
    def g(a, b):
        if isinstance(a, float) or isinstance(b, float):
            raise _NoFast()
        return f(a, b)
    return g


def _shl(a, b):
    if isinstance(a, float) or isinstance(b, float) or not 0 <= b <= INT_BITS:
        raise _NoFast()
    return a << b


def _shr(a, b):
    if isinstance(a, float) or isinstance(b, float) or b < 0:
        raise _NoFast()
    return a >> min(b, INT_BITS + 1)


_BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _tdiv, "%": _tmod, "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b), ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b), "&": _intop(lambda a, b: a & b), "|": _intop(lambda a, b: a | b),
    "^": _intop(lambda a, b: a ^ b), "<<": _shl, ">>": _shr,
}


def compile_expr(node, scope, builtin_names, depth=0):
    """A closure f(builtins) computing `node` like Ev.ev, for the subset of expressions that
    replay needs to be fast; None when the expression has something it does not handle (the
    caller then uses Ev). The closure raises _NoFast (or any exception) to ask for Ev."""
    if depth > 60:
        return None
    t = type(node)
    if t is Num:
        v = node.value
        return lambda b: v
    if t is Name:
        n = node.name
        r = scope.find(n) if scope is not None else None
        if r is not None:
            kind, x = r
            if kind == "arg":
                return compile_expr(x[0], x[1], builtin_names, depth + 1)
            if x.kind == "const" and type(x.extra) is PeDep:
                i = x.extra.i
                return lambda b: b[i]
            if x.kind in ("const", "label", "dsd", "dlabel", "task") and x.value is not None:
                v = x.value
                return lambda b: v
            return None
        if n in builtin_names:
            return lambda b: b[n]
        return None
    if t is Bin:
        fa = compile_expr(node.a, scope, builtin_names, depth + 1)
        fb = compile_expr(node.b, scope, builtin_names, depth + 1)
        if fa is None or fb is None:
            return None
        if node.op == "&&":
            return lambda b: int(bool(fa(b)) and bool(fb(b)))
        if node.op == "||":
            return lambda b: int(bool(fa(b)) or bool(fb(b)))
        op = _BINOPS.get(node.op)
        if op is None:
            return None
        return lambda b: op(fa(b), fb(b))
    if t is Un:
        fa = compile_expr(node.a, scope, builtin_names, depth + 1)
        if fa is None:
            return None
        if node.op == "-":
            return lambda b: -fa(b)
        if node.op == "+":
            return fa
        if node.op == "!":
            return lambda b: int(not fa(b))
        return lambda b: ~_intop(lambda x, y: x)(fa(b), 0)
    if t is Cond:
        fc = compile_expr(node.c, scope, builtin_names, depth + 1)
        fa = compile_expr(node.a, scope, builtin_names, depth + 1)
        fb = compile_expr(node.b, scope, builtin_names, depth + 1)
        if fc is None or fa is None or fb is None:
            return None
        return lambda b: fa(b) if fc(b) else fb(b)
    return None


def fast_key(f, b):
    """vkey of f(b), or None when the fast path cannot decide (then use Ev)."""
    try:
        v = f(b)
    except Exception:
        return None
    if isinstance(v, int) and v.bit_length() > INT_BITS:
        return None
    return vkey(v)
