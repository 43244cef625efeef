; mathfn.s: apply one software math routine of kernels/lib to M fp32 inputs on each PE of a
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define W=2
;@ define H=2
;@ define M=16
;@ define FN=0
; W x H rectangle (no communication). Used to measure the routines' errors on the emulator
; (wse.kernels.lib.measure, tests/kernels/test_math.py).
;
; Defines: W, H, M (inputs per PE), FN: 0 exp_f32, 1 rcp_f32, 2 rsqrt_f32, 3 sincos_f32.
; Tasks: `main` (local, activated at load): for i < M: y[i] = f(x[i]) (and y2[i] = cos for
;   sincos); exit.
; Memory map (after the code): x, y, y2: f32[M]; the routine's constants.

.fabric W, H

.program mathfn
    .task main, local, start
    addi r10, r0, x
    addi r11, r0, y
    addi r13, r0, y2
    addi r12, r0, M
loop:
    ld32 r2, [r10]
    .if FN == 0
    call exp_f32
    .elif FN == 1
    call rcp_f32
    .elif FN == 2
    call rsqrt_f32
    .else
    call sincos_f32
    st32 r3, [r13]
    .endif
    st32 r2, [r11]
    addi r10, r10, 2
    addi r11, r11, 2
    addi r13, r13, 2
    addi r12, r12, -1
    bne  r12, r0, loop
    exit

    .if FN == 0
    .include "exp.inc"
    .elif FN == 1
    .include "rcp.inc"
    .elif FN == 2
    .include "rsqrt.inc"
    .else
    .include "sincos.inc"
    .endif

    .data
x:  .space M, f32
y:  .space M, f32
y2: .space M, f32
    .export x, y, y2
.endprogram

.place mathfn, 0, 0, W, H
