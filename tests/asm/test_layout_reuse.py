"""Image reuse across PEs (the trie of recorded per-PE evaluations) gives every PE the image a
walk of its own would give."""
from __future__ import annotations

from pathlib import Path

import pytest

from wse.asm import assemble_text
from wse.isa import objfile as of

from walks import counting_walks

ADDI_R1 = 0x18100000        # addi r1, r0, 0
NOP = 0x01000000
EXIT = 0x02000000
KERNELS = Path(__file__).resolve().parents[2] / "kernels"


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


def _fresh_per_pe(monkeypatch):
    """Make every PE walk its program from scratch (no image reuse): the reference."""
    import wse.asm.assembler as A
    orig = A.Session.image_for

    def fresh(self, prog, builtins, pe, real_main):
        prog.trie = None
        return orig(self, prog, builtins, pe, real_main)
    monkeypatch.setattr(A.Session, "image_for", fresh)


def _assemble(src, name="t.s", defines=None):
    import warnings
    from wse.asm import AssemblyWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        return assemble_text(src, name, defines=defines)


def test_pe_dependent_constant_that_does_not_change_the_output_is_shared():
    """`IDX` differs on every PE, but with N a multiple of the PE count `NL` does not: the PEs
    share one image (IDX's definition used to be recorded with its value, so 64 images were
    built for 1)."""
    src = """
.fabric 8, 8
.program p
    IDX = pe_y * rect_w + pe_x
    NL = N / 64 + ((IDX < N % 64) ? 1 : 0)
    addi r1, r0, NL
    exit
.endprogram
.place p, 0, 0, 8, 8
"""
    with counting_walks() as walks:
        obj = of.read(_assemble(src, defines={"N": 128}))
    assert len(walks) == 1
    assert {obj.image_at(x, y).code[0] for x in range(8) for y in range(8)} == {ADDI_R1 | 2}
    obj = of.read(_assemble(src, defines={"N": 130}))       # PEs 0, 1 get one more
    assert [obj.image_at(x, 0).code[0] & 0xFF for x in range(3)] == [3, 3, 2]


TRICKY = """
.fabric 6, 5
.macro put, v
    addi r2, r0, v
.endm
.program p, K = 2
    IDX = pe_y * rect_w + pe_x
    Q = IDX / 4
    R = IDX % 3 + LATER          ; lazy: LATER is defined below
    LATER = K
    BAD = 7 / (IDX % 5 == 4 ? 0 : 1)
    F = IDX * 0.5
    .if Q == 1
        nop
    .elif R > 3
        put R
    .endif
    .rep Q % 3, i
        J = i + IDX % 2
        addi r3, r0, J
    .endr
    put (IDX % 2) ? Q : R
    addi r4, r0, R
    .data
v:  .f32 F, F + 1
w:  .u16 IDX % 7
    .space (Q % 2) + 1, u16
    .export v
.endprogram
.place p, 0, 0, 6, 5, K = 3
"""


def test_tricky_pe_dependent_constants_match_per_pe_assembly(monkeypatch):
    """PE-dependent constants read in conditions, .rep counts and bodies, macro arguments, lazy
    constants, floats, data, and one whose definition fails on some PEs: the images (or the
    errors) are those of a walk per PE."""
    from wse.asm import AssemblyError

    def run(src):
        try:
            return _assemble(src)
        except AssemblyError as e:
            return str(e)
    ok = TRICKY.replace("    BAD = 7 / (IDX % 5 == 4 ? 0 : 1)\n", "")
    shared_ok, shared_bad = run(ok), run(TRICKY)
    assert isinstance(shared_ok, bytes) and "division by zero" in shared_bad
    assert len(of.read(shared_ok).images) > 4
    _fresh_per_pe(monkeypatch)
    assert run(ok) == shared_ok
    assert run(TRICKY) == shared_bad


VECTOR_KERNELS = [("softmax/softmax.s", {}), ("norm/rmsnorm.s", {"EPS_BITS": 0x3727C5AC}),
                  ("argmax/argmax.s", {}), ("elementwise/elementwise.s", {"OP": 1}),
                  ("elementwise/silu.s", {"GLU": 1}), ("rope/rope.s", {})]


@pytest.mark.parametrize("rel,extra", VECTOR_KERNELS, ids=[k for k, _ in VECTOR_KERNELS])
def test_vector_kernels_match_per_pe_assembly(monkeypatch, rel, extra):
    """The vector kernels (a per-PE `IDX` constant at the top) assemble to the bytes a walk
    per PE gives, with N a multiple of the PE count and not."""
    path = KERNELS / rel
    text = path.read_text()
    cases = [{"N": 12 * 64, "W": 8, "H": 8}, {"N": 12 * 64 + 10, "W": 8, "H": 8},
             {"N": 8 * 256, "W": 16, "H": 16}]
    shared = [_assemble(text, str(path), {**d, **extra}) for d in cases]
    _fresh_per_pe(monkeypatch)
    for d, data in zip(cases, shared):
        assert _assemble(text, str(path), {**d, **extra}) == data, d
