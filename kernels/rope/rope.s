; rope.s: rotary position embedding on adjacent pairs (x[2i], x[2i+1]) of a vector of N fp32
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define N=100
;@ define W=3
;@ define H=2
; elements (N even; e.g. the heads of q or k concatenated) distributed over a W x H rectangle:
;   y[2i]   = x[2i]*cos(a_i) - x[2i+1]*sin(a_i)
;   y[2i+1] = x[2i]*sin(a_i) + x[2i+1]*cos(a_i),   a_i = pos * theta^(-2j/head_dim), j = i mod head_dim/2
;
; sin/cos are COMPUTED IN SOFTWARE on the PE from the position (kernels/lib/sincos.inc); only
; the frequencies come from a table in SRAM, written once by the host: for each local pair,
; v = freq * 2/pi (quarter turns per position) as four fp32 pieces c0+c1+c2+c3 (c0..c2 hold 7
; significant bits each, c3 the rest), so that pos*c0, pos*c1, pos*c2 are exact for
; pos < 2^17 and the angle reduction loses nothing:
;   for each piece: p = pos*c; k = round(p) (1.5*2^23 trick); acc += p - k; n += k
;   k = round(acc); n += k; acc -= k  ->  angle = (n + acc) quarter turns, acc in [-1/2, 1/2]
;   r = acc * fp32(pi/2); (sin, cos) = sincos_f32_core(r, n mod 4).
; The position is one u32 `pos` per PE, written by the host for each decode step.
;
; Defines: N (even), W, H (N/2 >= W*H).
; Layout: pairs are spread like elements elsewhere: PE p = y*W + x holds NP = N/2/P +
;   (p < (N/2)%P) pairs, pair offset p*((N/2)/P) + min(p, (N/2)%P); x[0:2NP], freq[0:4NP],
;   y[0:2NP]; CMAXP = ceil(N/2/P) pairs reserved.
; Colors: none. Tasks: `main` (local, activated at load): the loop over pairs; exit.
; Memory map (after the code): x: f32[2*CMAXP], y: f32[2*CMAXP], freq: f32[4*CMAXP],
;   pos: u32, the sincos constants, kc: f32[2] = (1.5*2^23, pi/2).
; Cost: ~95 cycles per pair (reduction ~35, sincos ~45, rotation ~10).

.fabric W, H
PES = W * H
NPAIR = N / 2
CMAXP = ceil_div(NPAIR, PES)
.if N % 2
    .error "rope.s needs an even N"
.endif
.if NPAIR < PES
    .error "rope.s needs N/2 >= W*H"
.endif

.program rope
    IDX = pe_y * rect_w + pe_x
    NP = NPAIR / PES + ((IDX < NPAIR % PES) ? 1 : 0)

    .task main, local, start
    ld32 r13, [pos]
    i2f  r13, r13                     ; pos as fp32 (exact below 2^24)
    addi r10, r0, x
    addi r11, r0, freq
    addi r1, r0, y
    addi r12, r0, NP
pair:
    mov  r14, r0                      ; n = 0 (quarter turns)
    mov  r8, r0                       ; acc = +0
    ld32 r7, [kc + 0]                 ; 1.5*2^23
    .rep 4, J
    ld32 r3, [r11 + 2 * J]
    mulf r3, r13, r3                  ; p = pos * c_J
    addf r4, r3, r7
    sub  r5, r4, r7                   ; k = round(p)
    add  r14, r14, r5
    subf r4, r4, r7
    subf r3, r3, r4                   ; p - k (exact)
    addf r8, r8, r3                   ; acc += p - k
    .endr
    addf r4, r8, r7
    sub  r5, r4, r7
    add  r14, r14, r5
    subf r4, r4, r7
    subf r8, r8, r4                   ; acc in [-1/2, 1/2]
    ld32 r3, [kc + 2]                 ; pi/2
    mulf r2, r8, r3                   ; r (radians)
    mov  r3, r14
    call sincos_f32_core              ; r2 = sin, r3 = cos
    ld32 r4, [r10]                    ; x0
    ld32 r5, [r10 + 2]                ; x1
    mulf r6, r4, r3
    mulf r7, r5, r2
    subf r6, r6, r7                   ; x0*cos - x1*sin
    mulf r7, r4, r2
    mulf r8, r5, r3
    addf r7, r7, r8                   ; x0*sin + x1*cos
    st32 r6, [r1]
    st32 r7, [r1 + 2]
    addi r10, r10, 4
    addi r1, r1, 4
    addi r11, r11, 8
    addi r12, r12, -1
    bne  r12, r0, pair
    exit

    .include "../lib/sincos.inc"

    .data
x:      .space 2 * CMAXP, f32
y:      .space 2 * CMAXP, f32
freq:   .space 4 * CMAXP, f32
pos:    .u32 0
kc:     .f32 12582912.0, 1.5707963267948966
    .export x, y, freq, pos
.endprogram

.place rope, 0, 0, W, H
