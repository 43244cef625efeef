; rmsnorm.s: y = (x * rsqrt(mean(x*x) + EPS)) * g over a vector of N fp32 elements
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
;@ define EPS_BITS=0x3727c5ac
; distributed over a W x H rectangle (the same operation order as the fp32 reference).
;
; Defines: N, W, H (N >= W*H), EPS_BITS (the fp32 bits of epsilon, e.g. 0x3727c5ac for 1e-5:
;   the shared driver passes defines as integers).
; Layout: PE p = y*W + x holds NL = N/P + (p < N%P) elements of x and of the gain g
;   (elements OFF .. OFF+NL-1, OFF = p*(N/P) + min(p, N%P)); CMAX = ceil(N/P) reserved.
; Colors: the scalar all-reduce of kernels/lib/allreduce1.inc: 18, 19 (row reduce, West,
;   alternating by column), 20, 21 (column-0 reduce, North, alternating by row), 22 (the
;   broadcast from (0,0): down column 0, then East along each row).
; Tasks: `main` (local, activated at load):
;   1. s = sum of x[i]*x[i] over the PE's elements (scalar loop, fp32, in index order);
;   2. s = all-reduce sum of s (every PE gets the same bits);
;   3. r = rsqrt_f32(s * fp32(1/N) + EPS)      (software rsqrt: kernels/lib/rsqrt.inc);
;   4. y = x * r (fmuls, vector-scalar), y = y * g (fmuls, vector-vector); exit.
; Memory map (after the code): x, g, y: f32[CMAX]; rinv: f32 (the r this PE used);
;   ar1_buf: u32[2]; the rsqrt constants.
; Cost: ~4 cycles per local element + the all-reduce ((W-1)+(H-1) hops each way) + ~70
;   (rsqrt) + 2*ceil(NL/4) (two vector ops on wse3).

.fabric W, H
.include "../lib/allreduce1.inc"

.program rmsnorm
    .include "../lib/spread.inc"      ; CMAX, and this PE's piece: NL elements
    ar1_routes

    .task main, local, start
    addi r10, r0, x
    addi r12, r0, NL
    mov  r2, r0                       ; s = +0
sumsq:
    ld32 r3, [r10]
    macf r2, r3, r3                   ; s = s + x*x (product rounded, then the sum)
    addi r10, r10, 2
    addi r12, r12, -1
    bne  r12, r0, sumsq
    ar1_f32 0
    ld32 r3, [consts + 0]             ; fp32(1/N)
    mulf r2, r2, r3
    ld32 r3, [consts + 2]             ; EPS
    addf r2, r2, r3
    call rsqrt_f32
    st32 r2, [rinv]
    ldsd d0, dy
    ldsd a0, dx
    fmuls d0, a0, r2
    ldsd a1, dy
    ldsd b1, dg
    fmuls d0, a1, b1
    exit

    .include "../lib/rsqrt.inc"

    .data
x:      .space CMAX, f32
g:      .space CMAX, f32
y:      .space CMAX, f32
rinv:   .f32 0.0
consts: .f32 1.0 / N
        .u32 EPS_BITS
    .export x, g, y, rinv
    .dsd dx, mem1d, base=x, len=NL
    .dsd dg, mem1d, base=g, len=NL
    .dsd dy, mem1d, base=y, len=NL
    .include "../lib/allreduce1_data.inc"
.endprogram

.place rmsnorm, 0, 0, W, H
