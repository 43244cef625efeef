"""Large placements assemble fast: the program is walked once per distinct set of per-PE values."""
from __future__ import annotations

from wse.asm import assemble_text
from wse.isa import objfile as of

from walks import counting_walks

GEMV = """
.fabric N, N
.program gemv, MB = 32
    .if pe_y == 0
        .route 0, ramp -> ramp | south
    .elif pe_y == rect_h - 1
        .route 0, north -> ramp
    .else
        .route 0, north -> ramp | south
    .endif
    .if pe_x < rect_w - 1
        .route 1 + pe_x % 2, ramp -> east
    .endif
    .if pe_x > 0
        .route 1 + (pe_x + 1) % 2, west -> ramp
    .endif
    .task xtask, data, color=0
xtask:
    fmachs d0, a0, b0, r1
    dsdaddi b0, MB
    exit
    .data
A:  .space MB * MB, f16
y:  .zero MB, f32
    .export A, y
.endprogram
.place gemv, 0, 0, N, N
"""


def _walks(src, **kw) -> tuple[bytes, int]:
    """The object, and how many times a program was walked (counted, not timed)."""
    with counting_walks() as walks:
        data = assemble_text(src, "gemv.s", **kw)
    return data, len(walks)


def test_64x64_walks_once_per_distinct_pe_and_dedupes():
    data, walks = _walks(GEMV, defines={"N": 64})
    obj = of.read(data)
    assert len(obj.images) == 3 * 4      # 3 row kinds x (first, odd, even, last) columns
    assert walks <= 3 * 4, walks          # not 4096


def test_128x128_walks_as_few_times():
    data, walks = _walks(GEMV, defines={"N": 128})
    assert of.read(data).width == 128 and walks <= 3 * 4, walks


def test_per_pe_values_are_not_mixed_up():
    src = """
.fabric 16, 16
.program p
    addi r1, r0, (pe_x * 3 + pe_y) % 5
    exit
.endprogram
.place p, 0, 0, 16, 16
"""
    obj = of.read(assemble_text(src))
    for y in range(16):
        for x in range(16):
            assert obj.image_at(x, y).code[0] == 0x18100000 | ((x * 3 + y) % 5)
    assert len(obj.images) == 5


def test_fast_replay_matches_the_evaluator(monkeypatch):
    """The compiled replay closures give the same images as the tree-walking evaluator, and so
    the same warnings: the mangled condition leaves some PEs without the route that takes their
    West neighbour's partial sums, which wse-as reports with the PEs it concerns."""
    import warnings
    import wse.asm.assembler as A
    from wse.asm import AssemblyWarning
    src = GEMV.replace(".if pe_x > 0", ".if pe_x > 0 && (pe_y * 3 - pe_x) / 2 % 3 != 1 ? 1 : pe_x >= 2")

    def run():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AssemblyWarning)
            data = assemble_text(src, "g.s", defines={"N": 12})
        return data, [str(w.message) for w in caught]
    fast, fast_warnings = run()
    monkeypatch.setattr(A, "compile_expr", lambda *a: None)
    slow, slow_warnings = run()
    assert fast == slow
    assert fast_warnings == slow_warnings and len(fast_warnings) == 1
    assert "(program `gemv`), which have no route for color 1" in fast_warnings[0]
