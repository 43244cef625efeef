"""wse.isa: the one source of truth for the instruction set.

`load()` returns the validated table from isa.toml. The encoder, decoder and disassembler
(`wse.isa.codec`), the object file format (`wse.isa.objfile`) and the generated files
(`python -m wse.isa --write`) all derive from it. This package imports nothing from wse.asm or
wse.emu.
"""
from .table import Isa, IsaError, Insn, Field, Preset, load, parse
from .codec import Decoded, EncodeError, decode, encode, format_insn, disassemble
from . import objfile

__all__ = ["Isa", "IsaError", "Insn", "Field", "Preset", "load", "parse", "Decoded",
           "EncodeError", "decode", "encode", "format_insn", "disassemble", "objfile"]
