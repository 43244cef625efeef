"""Build PE images programmatically, without the assembler.

Used by tests, benchmarks and generated programs. Instructions are chosen from the ISA table
by mnemonic and the operand fields given, so there is no second list of encodings here::

    b = ImageBuilder("loop")
    y = b.alloc("y", "f32", 16, export=True)
    b.label("main")
    b.emit("addi", r1=1, r2=0, imm16=100)
    b.label("top")
    b.emit("addi", r1=1, r2=1, imm16=-1)
    b.emit("bne", r1=1, r2=0, target="top")
    b.emit("exit")
    b.task(8, "main", activated=True)
    img = b.build()
"""
from __future__ import annotations

import numpy as np

from .codec import encode
import re

from .objfile import (DSD_FABIN, DSD_FABOUT, DSD_MEM1D, DSD_MEM4D, Dsd, Image, Line, Route, Symbol, Task,
                      reserved_names)
from .table import Isa, load

_ASYNC = {"act", "ut", "tid"}
_ELEM_WORDS = {"f16": 1, "u16": 1, "f32": 2, "u32": 2}


class BuildError(ValueError):
    pass


class ImageBuilder:
    def __init__(self, name: str = "prog", isa: Isa | None = None, sram_words: int = 24576):
        self.isa = isa or load()
        self.name = name
        self.sram_words = sram_words
        self._code: list[tuple[str, dict, str | None]] = []  # key, values, target label
        self._labels: dict[str, int] = {}
        self._data: list[tuple[str, str, int, np.ndarray | None, bool]] = []
        self._dsds: list[tuple] = []
        self._tasks: list[tuple] = []
        self.routes: list[Route] = []

    # -- code ---------------------------------------------------------------------------------
    @property
    def pc(self) -> int:
        return len(self._code)

    def label(self, name: str) -> None:
        if name in self._labels:
            raise BuildError(f"label {name!r} defined twice")
        self._labels[name] = self.pc

    def emit(self, mnemonic: str, target: str | int | None = None, **fields) -> None:
        """Append one instruction. `target` (label or index) fills off16 or tgt24."""
        cands = self.isa.by_mnemonic.get(mnemonic)
        if not cands:
            raise BuildError(f"unknown mnemonic {mnemonic!r}")
        given = set(fields) - _ASYNC
        if target is not None:
            given |= {"off16"} if any("off16" in c.field_names for c in cands) else {"tgt24"}
        for c in cands:
            if set(c.field_names) - _ASYNC == given:
                self._code.append((c.key, dict(fields), target))
                return
        forms = [", ".join(f for f in c.field_names if f not in _ASYNC) for c in cands]
        raise BuildError(f"{mnemonic}: no encoding takes fields {sorted(given)}; forms: {forms}")

    # -- data ---------------------------------------------------------------------------------
    def alloc(self, name: str, type: str, count: int, init=None, export: bool = True) -> str:
        """Reserve `count` elements of `type` (f16 f32 u16 u32). Returns the name; the address
        is known after build() (see .addresses)."""
        if type not in _ELEM_WORDS:
            raise BuildError(f"type {type!r} is not one of {sorted(_ELEM_WORDS)}")
        arr = None
        if init is not None:
            dt = {"f16": np.float16, "f32": np.float32, "u16": np.uint16, "u32": np.uint32}[type]
            arr = np.broadcast_to(np.asarray(init, dtype=dt), (count,)).copy()
        self._data.append((name, type, count, arr, export))
        return name

    def dsd(self, kind: str, base: str | int = 0, length: int = 0, stride: int = 1,
            color: int = 0, lens=None, strides=None, offset: int = 0, name: str = "") -> int:
        """Add a DSD table entry; returns its index. base may name an alloc'd buffer; name is
        the one the object stores ("": none)."""
        self._dsds.append((kind, base, length, stride, color, lens, strides, offset, name))
        return len(self._dsds) - 1

    def task(self, tid: int, entry: str, kind: str = "local", color: int = 255,
             activated: bool = False, blocked: bool = False) -> None:
        self._tasks.append((tid, kind, entry, color, activated, blocked))

    def route(self, color: int, positions, iq: int | None = None, oq: int | None = None) -> None:
        """positions: list of (rx, tx) port masks, or a single (rx, tx)."""
        if positions and isinstance(positions[0], int):
            positions = [positions]
        self.routes.append(Route(color, tuple((int(a), int(b)) for a, b in positions),
                                 color % 8 if iq is None else iq, color % 8 if oq is None else oq))

    # -- build --------------------------------------------------------------------------------
    def build(self, file: str = "<builder>") -> Image:
        code_words = 2 * len(self._code)
        addr = code_words
        addresses: dict[str, int] = {}
        chunks = []
        symbols = []
        for name, type, count, arr, export in self._data:
            ew = _ELEM_WORDS[type]
            if ew == 2 and addr % 2:
                addr += 1
            addresses[name] = addr
            if arr is not None:
                words = arr.view(np.uint16).astype(int).tolist()
                chunks.append((addr, words))
            if export:
                symbols.append(Symbol(name, type, addr, count))
            addr += ew * count
        if addr > self.sram_words:
            raise BuildError(f"image {self.name} needs {addr} words; SRAM has {self.sram_words}")
        self.addresses = addresses

        code = []
        for pc, (key, values, target) in enumerate(self._code):
            insn = self.isa.by_key[key]
            values = dict(values)
            if target is not None:
                t = self._labels[target] if isinstance(target, str) else int(target)
                if "off16" in insn.field_names:
                    values["off16"] = t - pc
                else:
                    values["tgt24"] = t
            code.append(encode(insn, values, self.isa))

        kinds = {"mem1d": DSD_MEM1D, "mem4d": DSD_MEM4D, "fabin": DSD_FABIN, "fabout": DSD_FABOUT}
        dsds = []
        for kind, base, length, stride, color, lens, strides, offset, name in self._dsds:
            b = addresses[base] if isinstance(base, str) else int(base)
            b += offset
            k = kinds[kind]
            if k == DSD_MEM4D:
                nd = len(lens)
                if not 1 <= nd <= 4 or len(strides) != nd:
                    raise BuildError("mem4d needs 1..4 lens and as many strides")
                dsds.append(Dsd(k, 0, b, tuple(lens) + (1,) * (4 - nd),
                                tuple(strides) + (0,) * (4 - nd), nd, name))
            elif k == DSD_MEM1D:
                dsds.append(Dsd(k, 0, b, (length, 1, 1, 1), (stride, 0, 0, 0), 1, name))
            else:
                dsds.append(Dsd(k, color, 0, (length, 1, 1, 1), (0, 0, 0, 0), 1, name))
        tk = {"local": 0, "data": 1, "control": 2}
        tasks = [Task(tid, tk[kind], self._labels[entry] if isinstance(entry, str) else entry,
                      color if kind == "data" else 255, act, blk)
                 for tid, kind, entry, color, act, blk in self._tasks]
        for tid, *_ in self._tasks:
            symbols.append(Symbol(f"task{tid}", "task", tid, 0))
        for name, pc in self._labels.items():
            for tid, kind, entry, *_ in self._tasks:
                if entry == name:
                    symbols = [s for s in symbols if s.name != f"task{tid}"]
                    symbols.append(Symbol(name, "task", tid, 0))
        # an exported buffer or a task's entry label is a symbol: the readers refuse one the
        # assembler could not define (wse-objdump could not print it back), so say it here
        reserved = reserved_names(self.isa)
        for s in symbols:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s.name) or s.name in reserved:
                raise BuildError(f"symbol {s.name!r} (an exported buffer or a task's entry label) is not an "
                                 f"identifier or is a reserved name (a register, microthread or built-in)")
        lines = [Line(0, file, 1, 1)] if code else []
        return Image(self.name, code, max(addr, code_words), chunks, dsds, tasks,
                     sorted(self.routes, key=lambda r: r.color), symbols, lines)
