"""wse.asm: the assembler (`wse-as`) and the object-file printer (`wse-objdump`).

    assemble_text(text, filename="<string>", include_dirs=(), defines={}, arch=None) -> bytes
    assemble_file(path, include_dirs=(), defines={}, arch=None) -> bytes
        include_dirs: a folder or a list of folders; defines: {name: int | float}
    disassemble(obj_bytes) -> str        # assembly that assembles back to the same bytes
    AssemblyError                        # .diagnostics: list[Diagnostic]; str() renders them
    AssemblyWarning                      # issued with warnings.warn; .diagnostic

The language is described in docs/assembly.md. Opcode tables come from wse.isa.load().
This package does not import wse.emu.
"""
from __future__ import annotations

import os
import re
import sys

from .diag import AssemblyError, AssemblyWarning, Diagnostic

__all__ = ["assemble_text", "assemble_file", "disassemble", "AssemblyError", "AssemblyWarning",
           "Diagnostic"]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _fail(message: str):
    raise AssemblyError([Diagnostic(None, None, None, 0, message)])


def _check_defines(defines):
    """defines as {name: int | float}: a mapping or (name, value) pairs; each name must be an
    identifier of the language (else the source could never use it) and each value a number.
    Pairs may name a constant twice only with the same value: a later one never silently wins."""
    try:
        if hasattr(defines, "items"):
            items = list(defines.items())
        else:
            items = [tuple(p) for p in (defines or ())]
            if any(len(p) != 2 for p in items):
                raise ValueError
    except (TypeError, ValueError):
        _fail(f"defines must be a dict of name -> number (e.g. {{'N': 8}}), got {defines!r}")
    out = {}
    for k, v in items:
        if not isinstance(k, str) or not _NAME.match(k):
            _fail(f"-D {k}: {k!r} is not a name (a letter or _, then letters, digits or _), "
                  f"so no source could use it")
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, (int, float)):
            _fail(f"-D {k}: the value must be a number (int or float), got {v!r}")
        if k in out and (type(out[k]), out[k]) != (type(v), v):
            _fail(f"-D {k}={v!r}: {k} is already defined as {out[k]!r} by an earlier -D; give each "
                  f"name one value")
        out[k] = v
    return out


def _check_include_dirs(include_dirs):
    """One folder (str or Path) or an iterable of them, as a list (a str is one folder, not a
    sequence of one-letter folders)."""
    if include_dirs is None:
        return []
    if isinstance(include_dirs, (str, os.PathLike)):
        return [include_dirs]
    if isinstance(include_dirs, bytes):
        _fail(f"include_dirs must be a folder (str or Path) or a list of them, got {include_dirs!r}")
    try:
        dirs = list(include_dirs)
    except TypeError:
        _fail(f"include_dirs must be a folder (str or Path) or a list of them, got {include_dirs!r}")
    for d in dirs:
        if not isinstance(d, (str, os.PathLike)):
            _fail(f"include_dirs must be folders (str or Path); got {d!r} among them")
    return dirs


def _check_arch(arch):
    if arch is not None and arch not in ("wse2", "wse3"):
        _fail(f"unknown arch {arch!r}; expected wse2 or wse3")


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
    """Assemble source text (str, or bytes in UTF-8) into the bytes of an object file.

    filename names the text in diagnostics and in the object's LINES; include_dirs is a folder
    or a list of folders searched by ``.include`` (after the current folder); defines maps
    names to numbers, as ``wse-as -D NAME=VALUE`` does; arch ("wse2" or "wse3") overrides the
    source's ``.arch``. Raises AssemblyError (``.diagnostics``); warnings are issued as
    AssemblyWarning through the warnings module."""
    from .assembler import Session
    if not isinstance(text, (str, bytes, bytearray)):
        hint = "; for a file use assemble_file(path)" if isinstance(text, os.PathLike) else ""
        raise TypeError(f"assemble_text takes the source text (str or bytes), got "
                        f"{type(text).__name__}{hint}")
    _check_arch(arch)
    s = Session(_check_include_dirs(include_dirs), _check_defines(defines), arch)
    if isinstance(text, (bytes, bytearray)):
        text = s.decode(bytes(text), filename)
    return _warn(s, _run(lambda: s.assemble(text, filename)))


def assemble_file(path, include_dirs=(), defines=None, arch: str | None = None) -> bytes:
    """Assemble a file (str or Path). Its name as given is the file name in diagnostics and
    LINES; the other arguments are assemble_text's. Raises AssemblyError."""
    from .assembler import Session
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"assemble_file takes a path (str or Path), got {type(path).__name__}"
                        + ("; for source text use assemble_text(text)"
                           if isinstance(path, (bytes, bytearray)) else ""))
    name = str(path)
    from .syntax import read_source
    try:
        data = read_source(path)
    except OSError as e:
        raise AssemblyError([Diagnostic(name, None, None, 0,
                                        f"cannot read {name}: {e.strerror or e}")]) from None
    except ValueError as e:      # larger than the limit
        raise AssemblyError([Diagnostic(name, None, None, 0, str(e))]) from None
    _check_arch(arch)
    s = Session(_check_include_dirs(include_dirs), _check_defines(defines), arch)
    text = s.decode(data, name)
    return _warn(s, _run(lambda: s.assemble(text, name)))


def disassemble(obj_bytes: bytes) -> str:
    """Print an object file as assembly that wse-as turns back into the same bytes."""
    from .objdump import disassemble as _dis
    return _dis(obj_bytes)
