"""Counting the assembler's program walks (the costly step of assembling a layout: one walk per
distinct set of the per-PE values a program reads; the other PEs replay it). The layout tests
count walks instead of timing the assembler: speed is measured by wse-bench, never by a timed
test."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def counting_walks():
    """`with counting_walks() as walks:` ... `len(walks)` is the number of walks inside."""
    import wse.asm.assembler as A
    walks: list = []
    orig = A.ProgramWalk.__init__

    def counting(self, *a, **k):
        walks.append(1)
        orig(self, *a, **k)
    A.ProgramWalk.__init__ = counting
    try:
        yield walks
    finally:
        A.ProgramWalk.__init__ = orig
