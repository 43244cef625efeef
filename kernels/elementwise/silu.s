; silu.s: SiLU z = x / (1 + exp(-x)) (GLU = 0) or SwiGLU z = silu(x) * y (GLU = 1) over a
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
;@ define GLU=1
; vector of N fp32 elements distributed over a W x H rectangle (no communication).
;
; Defines: N, W, H (N >= W*H), GLU (0 or 1).
; Layout: as elementwise.s: PE p = y*W + x holds NL = N/P + (p < N%P) elements in x[0:NL]
;   (and the up projection in y[0:NL] for SwiGLU); CMAX = ceil(N/P) reserved per vector.
; Colors: none. Tasks: `main` (local, activated at load): a scalar loop over the NL elements:
;   e = exp_f32(-x); d = 1 + e; z = x * rcp_f32(d) [* y]; exit.
;   exp and the reciprocal are the software routines of kernels/lib (exp.inc, rcp.inc):
;   x < -88.72 gives e = inf, d = inf, 1/d = 0 and z = -0, as x / (1 + exp(-x)) does in fp32.
; Memory map (after the code): x, y, z: f32[CMAX]; the constant tables of exp.inc and rcp.inc.
; Cost: ~92 cycles per element on wse3, SwiGLU ~95 (measured: silu on one PE, N=1024 -> 2048
;   adds 92.0 cycles per element; N=2048 takes 188,421): exp ~41 and rcp ~39 per call
;   (docs/math.md), the rest (1 + e, the product, loads, stores, loop) ~12.

.fabric W, H

.program silu
    .include "../lib/spread.inc"      ; CMAX, and this PE's piece: NL elements

    .task main, local, start
    addi r10, r0, x
    addi r11, r0, z
    addi r12, r0, NL
    .if GLU
    addi r13, r0, y
    .endif
loop:
    ld32 r2, [r10]
    negf r2, r2
    call exp_f32
    lui  r3, 0x3f80                   ; 1.0
    addf r2, r2, r3
    call rcp_f32
    ld32 r3, [r10]
    mulf r2, r3, r2
    .if GLU
    ld32 r3, [r13]
    mulf r2, r2, r3
    addi r13, r13, 2
    .endif
    st32 r2, [r11]
    addi r10, r10, 2
    addi r11, r11, 2
    addi r12, r12, -1
    bne  r12, r0, loop
    exit

    .include "../lib/exp.inc"
    .include "../lib/rcp.inc"

    .data
x:  .space CMAX, f32
y:  .space CMAX, f32
z:  .space CMAX, f32
    .export x, y, z
.endprogram

.place silu, 0, 0, W, H
