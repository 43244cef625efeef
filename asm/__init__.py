"""wse.asm: the assembler (`wse-as`) and the object-file printer (`wse-objdump`).

    assemble_text(text, filename="<string>", include_dirs=(), defines={}, arch=None) -> bytes
    assemble_file(path, include_dirs=(), defines={}, arch=None) -> bytes
    disassemble(obj_bytes) -> str        # assembly that assembles back to the same bytes
    AssemblyError                        # .diagnostics: list[Diagnostic]; str() renders them
    AssemblyWarning                      # issued with warnings.warn; .diagnostic

The language is described in docs/assembly.md. Opcode tables come from wse.isa.load().
This package does not import wse.emu.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .diag import AssemblyError, AssemblyWarning, Diagnostic

__all__ = ["assemble_text", "assemble_file", "disassemble", "AssemblyError", "AssemblyWarning",
           "Diagnostic"]


def _check_defines(defines):
    out = {}
    for k, v in dict(defines or {}).items():
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, (int, float)):
            raise AssemblyError([Diagnostic(None, None, None, 0,
                                            f"-D {k}: the value must be a number, got {v!r}")])
        out[str(k)] = v
    return out


def _warn(session, data: bytes) -> bytes:
    """Issue the session's warnings (once each, in source order) and return the object."""
    import warnings
    seen = set()
    for d in sorted(session.warnings, key=lambda d: (d.file or "", d.line or 0, d.col or 0)):
        if d.key() not in seen:
            seen.add(d.key())
            warnings.warn(AssemblyWarning(d), stacklevel=3)
    return data


def _run(fn):
    old = sys.getrecursionlimit()
    if old < 20000:
        sys.setrecursionlimit(20000)
    try:
        return fn()
    finally:
        if old < 20000:
            sys.setrecursionlimit(old)


def assemble_text(text: str, filename: str = "<string>", include_dirs=(), defines=None,
                  arch: str | None = None) -> bytes:
    """Assemble source text into the bytes of an object file. Raises AssemblyError."""
    from .assembler import Session
    if arch is not None and arch not in ("wse2", "wse3"):
        raise AssemblyError([Diagnostic(None, None, None, 0,
                                        f"unknown arch {arch!r}; expected wse2 or wse3")])
    s = Session(include_dirs, _check_defines(defines), arch)
    if isinstance(text, (bytes, bytearray)):
        text = s.decode(bytes(text), filename)
    return _warn(s, _run(lambda: s.assemble(text, filename)))


def assemble_file(path, include_dirs=(), defines=None, arch: str | None = None) -> bytes:
    """Assemble a file. Its name as given is the file name in diagnostics and LINES."""
    from .assembler import Session
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise AssemblyError([Diagnostic(name, None, None, 0,
                                        f"cannot read {name}: {e.strerror or e}")]) from None
    if arch is not None and arch not in ("wse2", "wse3"):
        raise AssemblyError([Diagnostic(None, None, None, 0,
                                        f"unknown arch {arch!r}; expected wse2 or wse3")])
    s = Session(include_dirs, _check_defines(defines), arch)
    text = s.decode(data, name)
    return _warn(s, _run(lambda: s.assemble(text, name)))


def disassemble(obj_bytes: bytes) -> str:
    """Print an object file as assembly that wse-as turns back into the same bytes."""
    from .objdump import disassemble as _dis
    return _dis(obj_bytes)
