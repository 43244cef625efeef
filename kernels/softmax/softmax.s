; softmax.s: y = exp(x - max(x)) / sum(exp(x - max(x))) over a vector of N fp32 elements
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
; distributed over a W x H rectangle.
;
; Defines: N, W, H (N >= W*H).
; Layout: PE p = y*W + x holds NL = N/P + (p < N%P) elements of x (elements OFF .. OFF+NL-1,
;   OFF = p*(N/P) + min(p, N%P)) in x[0:NL]; the result in y[0:NL]; CMAX = ceil(N/P).
; Colors: the scalar all-reduce of kernels/lib/allreduce1.inc (18-22, see rmsnorm.s), used
;   twice in sequence (max, then sum): each PE reads exactly one wavelet per phase from each
;   neighbour, in FIFO order, so the phases cannot mix.
; Tasks: `main` (local, activated at load):
;   1. m = max of the PE's x (scalar maxf loop); m = all-reduce max;
;   2. y[i] = exp_f32(x[i] - m) (software exp, kernels/lib/exp.inc), s = sum of y[i];
;   3. s = all-reduce sum; r = rcp_f32(s) (software reciprocal, kernels/lib/rcp.inc);
;   4. y = y * r (fmuls vector-scalar); exit.
; Memory map (after the code): x, y: f32[CMAX]; stats: f32[2] = (global max, global sum);
;   ar1_buf: u32[2]; the exp and rcp constants.
; Cost: ~5 cycles per element (max) + ~45 per element (exp, sum) + two all-reduces + ~35.

.fabric W, H
.include "../lib/allreduce1.inc"

.program softmax
    .include "../lib/spread.inc"      ; CMAX, and this PE's piece: NL elements
    ar1_routes

    .task main, local, start
    addi r10, r0, x
    addi r12, r0, NL
    ld32 r2, [r10]                    ; m = x[0]
lmax:
    ld32 r3, [r10]
    maxf r2, r2, r3
    addi r10, r10, 2
    addi r12, r12, -1
    bne  r12, r0, lmax
    ar1_f32 1
    st32 r2, [stats + 0]
    mov  r13, r2                      ; m
    addi r10, r0, x
    addi r11, r0, y
    addi r12, r0, NL
    mov  r14, r0                      ; s = +0
lexp:
    ld32 r2, [r10]
    subf r2, r2, r13
    call exp_f32
    st32 r2, [r11]
    addf r14, r14, r2
    addi r10, r10, 2
    addi r11, r11, 2
    addi r12, r12, -1
    bne  r12, r0, lexp
    mov  r2, r14
    ar1_f32 0
    st32 r2, [stats + 2]
    call rcp_f32
    ldsd d0, dy
    ldsd a0, dy
    fmuls d0, a0, r2
    exit

    .include "../lib/exp.inc"
    .include "../lib/rcp.inc"

    .data
x:      .space CMAX, f32
y:      .space CMAX, f32
stats:  .f32 0.0, 0.0
    .export x, y, stats
    .dsd dy, mem1d, base=y, len=NL
    .include "../lib/allreduce1_data.inc"
.endprogram

.place softmax, 0, 0, W, H
