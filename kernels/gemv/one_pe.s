; one_pe.s: y = A x + b on a single PE with everything in memory (tutorial step 1).
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define MB=8
;@ define NB=6
;
; Defines: MB, NB: A is MB x NB, stored column-major (column j at A + j*MB).
; Tasks:   main (local, activated at load): for j = 0 .. NB-1: y += fp32(A[:, j]) * x[j];
;          then exit.
; Registers: r1 = x[j], r2 = columns left, r3 = address of x[j].
; DSRs:    d0 = a0 = y, b0 = column j of A.
; Memory map: A fp16[MB*NB], x fp32[NB] (host), y fp32[MB] (host writes b; the result).
.ifndef MB
.error "define MB and NB"
.endif

    .task main, local, start
    .dsd dy, mem1d, base=y, len=MB
    .dsd dcol, mem1d, base=A, len=MB
main:
    ldsd d0, dy
    ldsd a0, dy
    ldsd b0, dcol
    addi r3, r0, x
    addi r2, r0, NB
loop:
    ld32 r1, [r3]                ; r1 = x[j] (fp32 bits)
    fmachs d0, a0, b0, r1        ; y = y + fp32(A[:, j]) * x[j]
    dsdaddi b0, MB               ; next column
    addi r3, r3, 2               ; next x (two 16-bit words)
    addi r2, r2, -1
    bne r2, r0, loop
    exit

    .data
A:  .space MB * NB, f16
x:  .zero NB, f32
y:  .zero MB, f32
    .export A, x, y
