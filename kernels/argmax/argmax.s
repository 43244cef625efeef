; argmax.s: the largest value of a vector of N fp32 elements distributed over a W x H
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
; rectangle and its index; ties go to the lowest index (as numpy.argmax). NaNs are ignored,
; as numpy.nanargmax, on every grid; if every element is NaN the result is (x[0], 0) (numpy
; raises instead). -inf is a number: all -inf gives (-inf, 0). +0 and -0 compare equal (tie).
;
; Defines: N, W, H (N >= W*H).
; Layout: PE p = y*W + x holds NL = N/P + (p < N%P) elements of x (elements OFF .. OFF+NL-1,
;   OFF = p*(N/P) + min(p, N%P)) in x[0:NL]; CMAX = ceil(N/P).
; Colors: the scalar all-reduce of kernels/lib/allreduce1.inc (18-22, see rmsnorm.s) in its
;   pair form: two wavelets (value, index) per hop.
; Tasks: `main` (local, activated at load):
;   1. local scan: skip leading NaNs; (v, i) = (x[k], k) for the first x[k] that is a number
;      (all NaN: (x[0], 0)); for each later element, take it if x[k] > v (strictly, so the
;      first of equal values stays; false for a NaN x[k]); i += OFF;
;   2. all-reduce of the pairs (kernels/lib/allreduce1.inc ar1_argmax: the pair from East or
;      South always has higher indices, so it is taken only when strictly greater, or when
;      this PE's value is NaN (an all-NaN piece) and the incoming one is a number);
;   3. every PE stores (value, index) in result; exit.
; Memory map (after the code): x: f32[CMAX]; value: f32; index: u32; ar1_buf: u32[2].
; Cost: ~6 cycles per local element (~6 per leading NaN) + the pair all-reduce.

.fabric W, H
.include "../lib/allreduce1.inc"

.program argmax
    .include "../lib/spread.inc"      ; CMAX, and this PE's piece: NL elements
    OFF = IDX * (N / PES) + min(IDX, N % PES)   ; the index of its first element
    ar1_routes

    .task main, local, start
    addi r10, r0, x
    mov  r11, r0                      ; k = 0
    addi r12, r0, NL
skipnan:                              ; the first element that is a number starts the scan
    ld32 r3, [r10]
    feq  r4, r3, r3                   ; 0 when x[k] is NaN
    bne  r4, r0, found
    addi r10, r10, 2
    addi r11, r11, 1
    bne  r11, r12, skipnan
    addi r10, r0, x                   ; every local element is NaN: (x[0], 0)
    ld32 r2, [r10]
    mov  r5, r0
    b    done
found:
    mov  r2, r3                       ; v = x[k] (a number)
    mov  r5, r11                      ; i = k
    addi r11, r11, 1
    beq  r11, r12, done
scan:                                 ; flt is 0 for a NaN x[k]: NaNs are never taken
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
