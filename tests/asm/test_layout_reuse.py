"""Image reuse across PEs (the trie of recorded per-PE evaluations) gives every PE the image a
walk of its own would give."""
from __future__ import annotations

from wse.asm import assemble_text
from wse.isa import objfile as of

ADDI_R1 = 0x18100000        # addi r1, r0, 0
NOP = 0x01000000
EXIT = 0x02000000


def test_memoized_lazy_constant_read_again_is_per_pe():
    """A lazy constant (defined before a name it uses) that depends on pe_x is evaluated once
    per walk and memoized; a second read must still count as reading a per-PE value, else
    PEs 1-3 (which agree on `L > 3`) got PE 0's `addi r1, r0, 0`."""
    src = """
.fabric 8, 1
.program p
L = pe_x + LATER
LATER = 0
    .if L > 3
    nop
    .endif
    addi r1, r0, L
    exit
.endprogram
.place p, 0, 0, 8, 1
"""
    obj = of.read(assemble_text(src))
    for x in range(8):
        want = ([NOP] if x > 3 else []) + [ADDI_R1 | x, EXIT]
        assert list(obj.image_at(x, 0).code) == want, x
