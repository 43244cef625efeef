; elementwise.s: z = x OP y over a vector of N fp32 elements distributed over a W x H
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
;@ define OP=0
; rectangle of PEs (no communication).
;
; Defines (assembler -D / driver defines):
;   N      vector length; W, H  the rectangle (PEs); needs N >= W*H
;   OP     0 add   z = x + y
;          1 mul   z = x * y
;          2 scale z = alpha * x       (alpha: one fp32 per PE, written by the host)
;          3 residual add, in place: x = x + y (z is not used)
; Layout: PE index p = y*W + x (row-major). PE p holds elements [OFF, OFF + NL) where
;   NL = N / P + (p < N % P), OFF = p*(N / P) + min(p, N % P), in x[0:NL], y[0:NL].
;   Every PE reserves CMAX = ceil(N / P) elements per vector so the symbols have one size.
; Colors: none. Tasks: `main` (local, activated at load): one tensor op, then exit.
; Memory map (after the code): x: f32[CMAX], y: f32[CMAX], z: f32[CMAX], alpha: f32.
; Cost: one fp32 tensor op over NL elements: ceil(NL / SIMD width) cycles (wse3: 4 per cycle).

.fabric W, H

.program ew
    .include "../lib/spread.inc"      ; CMAX, and this PE's piece: NL elements

    .task main, local, start
    ldsd a0, dx
    ldsd b0, dy
    .if OP == 0
        ldsd d0, dz
        fadds d0, a0, b0
    .elif OP == 1
        ldsd d0, dz
        fmuls d0, a0, b0
    .elif OP == 2
        ldsd d0, dz
        ld32 r2, [alpha]
        fmuls d0, a0, r2
    .elif OP == 3
        ldsd d0, dx
        fadds d0, a0, b0
    .else
        .error "OP must be 0..3"
    .endif
    exit

    .data
x:      .space CMAX, f32
y:      .space CMAX, f32
z:      .space CMAX, f32
alpha:  .f32 1.0
    .export x, y, z, alpha
    .dsd dx, mem1d, base=x, len=NL
    .dsd dy, mem1d, base=y, len=NL
    .dsd dz, mem1d, base=z, len=NL
.endprogram

.place ew, 0, 0, W, H
