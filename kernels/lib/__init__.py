"""Reusable software math for kernels (``wse.kernels.lib``).

The ``*.inc`` files are assembly include files (exp, reciprocal, rsqrt, sin/cos, the scalar
all-reduce over a rectangle); :mod:`wse.kernels.lib.model` is their bit-exact numpy model.
``LIB_DIR`` is the directory to pass to the assembler as an include directory.
"""
from pathlib import Path

LIB_DIR = Path(__file__).resolve().parent
