; argmax.s: the largest value of a vector of N fp32 elements distributed over a W x H
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
; rectangle and its index; ties go to the lowest index (as numpy.argmax). NaNs are ignored
; (comparisons with NaN are false) unless every element is NaN (then index 0 is returned).
;
; Defines: N, W, H (N >= W*H).
; Layout: PE p = y*W + x holds NL = N/P + (p < N%P) elements of x (elements OFF .. OFF+NL-1,
;   OFF = p*(N/P) + min(p, N%P)) in x[0:NL]; CMAX = ceil(N/P).
; Colors: the scalar all-reduce of kernels/lib/allreduce1.inc (18-22, see rmsnorm.s) in its
;   pair form: two wavelets (value, index) per hop.
; Tasks: `main` (local, activated at load):
;   1. local scan: (v, i) = (x[0], 0); for each later element, take it if x[k] > v (strictly,
;      so the first of equal values stays); i += OFF;
;   2. all-reduce of the pairs (kernels/lib/allreduce1.inc ar1_argmax: the pair from East or
;      South always has higher indices, so it is taken only when strictly greater);
;   3. every PE stores (value, index) in result; exit.
; Memory map (after the code): x: f32[CMAX]; value: f32; index: u32; ar1_buf: u32[2].
; Cost: ~6 cycles per local element + the pair all-reduce.

.fabric W, H
PES = W * H
CMAX = ceil_div(N, PES)
.if N < PES
    .error "argmax.s needs N >= W*H"
.endif
.include "../lib/allreduce1.inc"

.program argmax
    IDX = pe_y * rect_w + pe_x
    NL = N / PES + ((IDX < N % PES) ? 1 : 0)
    OFF = IDX * (N / PES) + min(IDX, N % PES)
    ar1_routes

    .task main, local, start
    addi r10, r0, x
    ld32 r2, [r10]                    ; v = x[0]
    mov  r5, r0                       ; i = 0
    addi r11, r0, 1                   ; k = 1
    addi r12, r0, NL
    beq  r11, r12, done
scan:
    addi r10, r10, 2
    ld32 r3, [r10]
    flt  r4, r2, r3
    beq  r4, r0, next
    mov  r2, r3
    mov  r5, r11
next:
    addi r11, r11, 1
    bne  r11, r12, scan
done:
    li   r3, OFF
    add  r5, r5, r3
    ar1_argmax
    st32 r2, [value]
    st32 r5, [index]
    exit

    .data
x:      .space CMAX, f32
value:  .f32 0.0
index:  .u32 0
    .export x, value, index
    .include "../lib/allreduce1_data.inc"
.endprogram

.place argmax, 0, 0, W, H
