; attn_decode.s: attention decode for one KV head (GQA group) on a chain of P PEs.
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define P=4
;@ define S=8
;@ define HD=16
;@ define G=2
;@ define SCALE_BITS=0x3e800000
;
; Defines:
;   P     chain length (PEs, a 1 x P column; PE m = pe_y)
;   S     KV slots per PE (position p lives on PE p % P, slot p / P)
;   HD    head dim;  G  query heads sharing this KV head (1..8)
;   SCALE_BITS   fp32 bits of head_dim ** -0.5
;
; One step: the host (or the QKV row end) streams the packet [pos (u32), q_0 .. q_{G-1} (HD
; fp32 each), k (HD), v (HD)] into PE 0 from the North on C_IN; it is multicast down the chain.
; Every PE:
;   1. appends k, v if it owns pos (K stored [HD][S], V stored [S][HD], fp32);
;   2. per head: s[0:n] = sum_d K[d, 0:n] * q[d] (fmacs per d, in order), s *= scale, local max
;      by a stride-0 fmaxs (sequential);
;   3. chain max North -> South on C_D0/C_D1 (checkerboard), the chain end multicasts the G
;      maxima back North on C_MB;
;   4. per head: e = exp(s - M) (vector software exp, docs/decode.md), l = sum e (stride-0
;      fadds, in slot order), o = sum_slot V[slot] * e[slot] (fmacs per slot, in order);
;   5. [l_0..l_{G-1}, o_0 .. o_{G-1}] added down the chain on C_D0/C_D1 (in + local);
;      the chain end computes out_h = o_h * recip(l_h) (scalar Newton) into `out`.
; n = number of this PE's positions <= pos (computed without a divide: (pos-m)*MAGIC >> 20).
; The whole step is one data task on C_IN (payload pos); nothing waits when no packet comes.
;
; Numerics: exactly wse.kernels.llm.fabric_model.FabricModel._attention (bit for bit).

.ifndef P
.error "define P, S, HD, G and SCALE_BITS"
.endif
.if G > 8 || G < 1
.error "G must be 1..8"
.endif

C_IN = 0
C_D0 = 1
C_D1 = 2
C_MB = 3
NQKV = (G + 2) * HD
NRED = G + G * HD
DIVMAGIC = ceil_div(1 << 20, P)

; R = the DSD D with its length set to n = r10, one element per position that this PE holds
; up to pos (ldsd_at_n: and its base set to the word address in the register BASE)
.macro ldsd_n, R, D
    ldsd R, D
    dsdlen R, r10
.endm
.macro ldsd_at_n, R, D, BASE
    ldsd R, D
    dsdbase R, BASE
    dsdlen R, r10
.endm

; one Horner step of e^r's polynomial, element by element: p = p * r + C (the fp32 bits C in
; r3; d7 = a7 = p, b5 = r)
.macro horner, C
    li r3, C
    fmuls d7, a7, b5
    fadds d7, a7, r3
.endm

.fabric 1, P

.program attn
    M = pe_y
    LAST = pe_y == P - 1
    ; ---- routes ---------------------------------------------------------------------------
    .if P == 1
        .route C_IN, north -> ramp
    .elif pe_y == P - 1
        .route C_IN, north -> ramp
    .else
        .route C_IN, north -> ramp | south
    .endif
    .if P > 1
        .if pe_y < P - 1
            .route C_D0 + pe_y % 2, ramp -> south
        .endif
        .if pe_y > 0
            .route C_D0 + (pe_y + 1) % 2, north -> ramp
        .endif
        .if pe_y == P - 1
            .route C_MB, ramp -> north
        .elif pe_y == 0
            .route C_MB, south -> ramp
        .else
            .route C_MB, south -> ramp | north
        .endif
    .endif

    .task step, data, color=C_IN

    ; ---- DSDs ----------------------------------------------------------------------------
    .dsd d_pkt_in, fabin, color=C_IN, len=NQKV
    .dsd d_qkv, mem1d, base=qkv, len=NQKV
    .dsd d_knew, mem1d, base=qkv + 2 * G * HD, len=HD
    .dsd d_vnew, mem1d, base=qkv + 2 * (G + 1) * HD, len=HD
    .dsd d_kcol, mem1d, base=K, len=HD, stride=S
    .dsd d_vrow, mem1d, base=V, len=HD
    .dsd d_krow, mem1d, base=K, len=S
    .dsd d_sc, mem1d, base=sc, len=S
    .dsd d_acc, mem1d, base=mx, len=S, stride=0
    .dsd d_mx, mem1d, base=mx, len=G
    .dsd d_M, mem1d, base=Mx, len=G
    .dsd d_red, mem1d, base=red, len=NRED
    .dsd d_o, mem1d, base=red, len=HD
    .if LAST
    .dsd d_out, mem1d, base=out, len=HD
    .endif
    .dsd d_u, mem1d, base=ub, len=S
    .dsd d_n, mem1d, base=nb, len=S
    .dsd d_p, mem1d, base=pb, len=S
    .dsd d_ulo, mem1d, base=ub, len=S, stride=2
    .dsd d_phi, mem1d, base=pb + 1, len=S, stride=2
    .dsd d_t16, mem1d, base=t16, len=S
    .if P > 1
        .if pe_y < P - 1
            .dsd d_mx_out, fabout, color=C_D0 + pe_y % 2, len=G
            .dsd d_red_out, fabout, color=C_D0 + pe_y % 2, len=NRED
        .endif
        .if pe_y > 0
            .dsd d_mx_in, fabin, color=C_D0 + (pe_y + 1) % 2, len=G
            .dsd d_red_in, fabin, color=C_D0 + (pe_y + 1) % 2, len=NRED
        .endif
        .if pe_y == P - 1
            .dsd d_mb_out, fabout, color=C_MB, len=G
        .else
            .dsd d_mb_in, fabin, color=C_MB, len=G
        .endif
    .endif

; r1 = pos (payload of the first wavelet). Registers: r10 = n (local positions <= pos),
; r13 = head, r5 = &s_h.
step:
    ldsd d0, d_qkv
    ldsd a0, d_pkt_in
    mov32 d0, a0                    ; q, k, v
    st32 r1, [r0 + posv]
    ; ---- n and the append -------------------------------------------------------------------
    mov r10, r0
    addi r2, r0, M
    blt r1, r2, no_pos
    sub r3, r1, r2                  ; pos - m
    li r4, DIVMAGIC
    mul r5, r3, r4
    srli r5, r5, 20                 ; q = (pos - m) / P
    addi r4, r0, P
    mul r6, r5, r4
    sub r6, r3, r6                  ; remainder
    addi r10, r5, 1
    bne r6, r0, no_pos
    ldsd d1, d_kcol                 ; K[:, q] (stride S)
    add r7, r5, r5
    dsdadd d1, r7
    ldsd a1, d_knew
    fmovs d1, a1
    ldsd d1, d_vrow                 ; V[q, :]
    addi r4, r0, 2 * HD
    mul r7, r5, r4
    dsdadd d1, r7
    ldsd a1, d_vnew
    fmovs d1, a1
no_pos:
    ; ---- scores and local maxima --------------------------------------------------------------
    mov r13, r0
h_scores:
    addi r4, r0, 2 * S
    mul r5, r13, r4
    addi r5, r5, sc                 ; &s_h
    add r6, r13, r13
    addi r6, r6, mx                 ; &mx_h
    li r3, 0xFF800000               ; -inf
    st32 r3, [r6 + 0]
    beq r10, r0, h_scores_next
    ldsd_at_n d2, d_sc, r5
    ldsd_at_n a2, d_sc, r5
    fmovs d2, r0                    ; s = 0
    ldsd_n b1, d_krow
    addi r4, r0, 2 * HD
    mul r12, r13, r4
    addi r12, r12, qkv              ; &q_h[0]
    addi r11, r0, HD
d_loop:
    ld32 r3, [r12 + 0]
    fmacs d2, a2, b1, r3            ; s = s + K[d, 0:n] * q[d]
    dsdaddi b1, 2 * S
    addi r12, r12, 2
    addi r11, r11, -1
    bne r11, r0, d_loop
    li r3, SCALE_BITS
    fmuls d2, a2, r3
    ldsd_at_n d3, d_acc, r6
    ldsd_at_n a3, d_acc, r6
    ldsd_at_n b2, d_sc, r5
    fmaxs d3, a3, b2                ; mx_h = max(mx_h, s[i]) in order
h_scores_next:
    addi r13, r13, 1
    addi r4, r0, G
    bne r13, r4, h_scores

    ; ---- chain max ---------------------------------------------------------------------------
    .if P == 1
    ldsd d0, d_M
    ldsd a0, d_mx
    fmovs d0, a0
    .elif pe_y == 0
    ldsd d0, d_mx_out
    ldsd a0, d_mx
    fmovs d0, a0
    ldsd d0, d_M
    ldsd a0, d_mb_in
    fmovs d0, a0
    .elif pe_y < P - 1
    ldsd d0, d_mx_out
    ldsd a0, d_mx_in
    ldsd b0, d_mx
    fmaxs d0, a0, b0
    ldsd d0, d_M
    ldsd a0, d_mb_in
    fmovs d0, a0
    .else
    ldsd d0, d_M
    ldsd a0, d_mx_in
    ldsd b0, d_mx
    fmaxs d0, a0, b0
    ldsd d0, d_mb_out
    ldsd a0, d_M
    fmovs d0, a0
    .endif

    ; ---- exp, sums and weighted V -----------------------------------------------------------
    mov r13, r0
h_soft:
    add r6, r13, r13
    addi r6, r6, red                ; &l_h
    st32 r0, [r6 + 0]
    addi r4, r0, 2 * HD
    mul r7, r13, r4
    addi r7, r7, red + 2 * G        ; &o_h
    ldsd d1, d_o
    dsdbase d1, r7
    fmovs d1, r0                    ; o_h = 0
    beq r10, r0, h_soft_next
    addi r4, r0, 2 * S
    mul r5, r13, r4
    addi r5, r5, sc                 ; &s_h
    ldsd_at_n d4, d_sc, r5
    ldsd_at_n a4, d_sc, r5
    ldsd_at_n b5, d_sc, r5
    add r8, r13, r13
    ld32 r3, [r8 + Mx]
    fsubs d4, a4, r3                ; x = s - M
    ldsd_n d5, d_u
    ldsd_n a5, d_u
    ldsd_n d6, d_n
    ldsd_n b4, d_n
    ldsd_n d7, d_p
    ldsd_n a7, d_p
    li r3, -87.0
    fmaxs d4, a4, r3
    fnegs d4, a4
    li r3, -88.0
    fmaxs d4, a4, r3
    fnegs d4, a4
    li r3, 0x3fb8aa3b               ; log2(e)
    fmuls d5, a4, r3
    li r3, 0x4b400000               ; 1.5 * 2^23
    fadds d5, a5, r3
    fsubs d6, a5, r3                ; n = round(x log2 e)
    li r3, 0xbf317200               ; -ln2_hi
    fmacs d4, a4, b4, r3
    li r3, 0xb5bfbe8e               ; -ln2_lo
    fmacs d4, a4, b4, r3            ; r
    li r3, 0x39500d01               ; 1/5040
    fmovs d7, r3
    horner 0x3ab60b61               ; 1/720
    horner 0x3c088889               ; 1/120
    horner 0x3d2aaaab               ; 1/24
    horner 0x3e2aaaab               ; 1/6
    horner 0x3f000000               ; 1/2
    horner 0x3f800000               ; 1
    fmuls d7, a7, b5                ; a last step with 1, still in r3
    fadds d7, a7, r3                ; p = e^r
    ldsd_n d3, d_t16
    ldsd_n a3, d_ulo
    addi r3, r0, 7
    sll16 d3, a3, r3                ; n << 7 (low half of u holds n)
    ldsd_n d2, d_phi
    ldsd_n a2, d_phi
    ldsd_n b3, d_t16
    add16 d2, a2, b3                ; p * 2^n
    ; l_h = sum e (in slot order)
    ldsd_at_n d3, d_acc, r6
    ldsd_at_n a3, d_acc, r6
    ldsd_n b2, d_p
    fadds d3, a3, b2
    ; o_h = sum_slot V[slot] * e[slot]
    ldsd d1, d_o
    dsdbase d1, r7
    ldsd a1, d_o
    dsdbase a1, r7
    ldsd b1, d_vrow
    addi r12, r0, pb
    mov r11, r10
slot_loop:
    ld32 r3, [r12 + 0]
    fmacs d1, a1, b1, r3
    dsdaddi b1, 2 * HD
    addi r12, r12, 2
    addi r11, r11, -1
    bne r11, r0, slot_loop
h_soft_next:
    addi r13, r13, 1
    addi r4, r0, G
    bne r13, r4, h_soft

    ; ---- chain sum of [l, o] -----------------------------------------------------------------
    .if P > 1
    .if pe_y == 0
    ldsd d0, d_red_out
    ldsd a0, d_red
    fmovs d0, a0
    .elif pe_y < P - 1
    ldsd d0, d_red_out
    ldsd a0, d_red_in
    ldsd b0, d_red
    fadds d0, a0, b0
    .else
    ldsd d0, d_red
    ldsd a0, d_red_in
    ldsd b0, d_red
    fadds d0, a0, b0
    .endif
    .endif

    ; ---- chain end: out_h = o_h / l_h ----------------------------------------------------------
    .if LAST
    mov r13, r0
h_out:
    add r6, r13, r13
    ld32 r2, [r6 + red]             ; l
    li r3, 0x7EF311C7
    sub r3, r3, r2                  ; y0
    li r9, 2.0
    addi r11, r0, 4
newton:
    mulf r4, r2, r3
    subf r4, r9, r4
    mulf r3, r3, r4
    addi r11, r11, -1
    bne r11, r0, newton
    addi r4, r0, 2 * HD
    mul r7, r13, r4
    addi r8, r7, red + 2 * G
    ldsd a1, d_o
    dsdbase a1, r8
    addi r8, r7, out
    ldsd d1, d_out
    dsdbase d1, r8
    fmuls d1, a1, r3
    addi r13, r13, 1
    addi r4, r0, G
    bne r13, r4, h_out
    .endif
    exit

    .data
posv: .zero 1, u32
qkv:  .zero NQKV, f32
mx:   .zero G, f32
Mx:   .zero G, f32
red:  .zero NRED, f32
ub:   .zero S, f32
nb:   .zero S, f32
pb:   .zero S, f32
t16:  .zero S, u16
sc:   .space G * S, f32
K:    .space HD * S, f32
V:    .space S * HD, f32
    .if LAST
out:  .zero G * HD, f32
    .export out
    .endif
    .export K, V, Mx, red, posv
.endprogram

.place attn, 0, 0, 1, P
