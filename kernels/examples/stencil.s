; stencil.s: a 1D three-point stencil over a row of P PEs with halo exchange.
;
;   out[i] = u[i-1] - 2 u[i] + u[i+1]   over the whole vector u of P*N fp32 (u = 0 outside)
;
;   wse-as kernels/examples/stencil.s -o stencil.wso -D P=4 -D N=8
;   (the host writes u into `buf`, runs, reads `out`: tests/test_cookbook.py, docs/cookbook.md)
;
;@ define P=4
;@ define N=8
;
; Defines: P   PEs in the row (the fabric is P x 1)
;          N   elements of u per PE: PE x holds u[x*N .. x*N + N-1]
; Layout:  one program, `stencil`, on the whole row. Each PE sends its first element West
;          and its last element East, receives its neighbours' into its halo words, then
;          computes its N outputs with two tensor ops.
; Colors:  East-bound: PE x sends on 0 + x % 2, receives from the West on 0 + (x+1) % 2;
;          West-bound: PE x sends on 2 + x % 2, receives from the East on 2 + (x+1) % 2.
;          (a checkerboard: one color cannot carry "West neighbour -> my CE" and
;          "my CE -> East neighbour" on the same PE, because a route sends every wavelet
;          that enters it to the same ports.)
; Tasks:   main (local, activated at load): send the edges, receive the halos (synchronous
;          fabric reads of one element each), compute, exit.
; DSRs:    d0/a0/b0 the stencil; d1/a1 the halo receives.
; Memory:  buf  f32[N+2]  buf[0] = left halo, buf[1..N] = u (host), buf[N+1] = right halo
;          out  f32[N]    the result
.ifndef P
.error "define P and N (see the header)"
.endif

.fabric P, 1

E0 = 0                                  ; East-bound colors 0, 1
W0 = 2                                  ; West-bound colors 2, 3

.program stencil
    EOUT = E0 + pe_x % 2
    EIN  = E0 + (pe_x + 1) % 2
    WOUT = W0 + pe_x % 2
    WIN  = W0 + (pe_x + 1) % 2
    HAS_W = pe_x > 0                    ; a West neighbour
    HAS_E = pe_x < rect_w - 1           ; an East neighbour

    .if HAS_E
        .route EOUT, ramp -> east       ; my last element goes East
        .route WIN, east -> ramp        ; the East neighbour's first element comes in
    .endif
    .if HAS_W
        .route WOUT, ramp -> west
        .route EIN, west -> ramp
    .endif

    .task main, local, start
    .dsd dleft,  mem1d, base=buf, len=N         ; u[i-1]   (words: an f32 is 2 words)
    .dsd dmid,   mem1d, base=buf + 2, len=N     ; u[i]
    .dsd dright, mem1d, base=buf + 4, len=N     ; u[i+1]
    .dsd dout,   mem1d, base=out, len=N
    .if HAS_W
    .dsd lin,    fabin, color=EIN, len=1
    .dsd lhalo,  mem1d, base=buf, len=1
    .endif
    .if HAS_E
    .dsd rin,    fabin, color=WIN, len=1
    .dsd rhalo,  mem1d, base=buf + 2 * (N + 1), len=1
    .endif

main:
    .if HAS_W
    ld32 r2, [buf + 2]                  ; u[0] -> West
    send WOUT, r2
    .endif
    .if HAS_E
    ld32 r2, [buf + 2 * N]              ; u[N-1] -> East
    send EOUT, r2
    .endif
    .if HAS_W
    ldsd d1, lhalo
    ldsd a1, lin
    fmovs d1, a1                        ; wait for the West neighbour's last element
    .endif
    .if HAS_E
    ldsd d1, rhalo
    ldsd a1, rin
    fmovs d1, a1                        ; and the East neighbour's first
    .endif
    ldsd d0, dout
    ldsd a0, dleft
    ldsd b0, dright
    fadds d0, a0, b0                    ; out = u[i-1] + u[i+1]
    ldsd a0, dout
    ldsd b0, dmid
    li r3, -2.0
    fmacs d0, a0, b0, r3                ; out = out + u[i] * -2.0
    exit

    .data
buf: .zero N + 2, f32
out: .zero N, f32
    .export buf, out
.endprogram

.place stencil, 0, 0, P, 1
