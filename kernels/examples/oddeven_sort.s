; oddeven_sort.s: odd-even transposition sort of P fp32 keys along a row of P PEs, one each.
;
;   after the run, key on PE x is the x-th smallest key (ascending West -> East)
;
;   wse-as kernels/examples/oddeven_sort.s -o sort.wso -D P=6 --arch wse3
;   (the host writes key, runs, reads key: tests/test_examples.py checks it against np.sort)
;
;@ define P=6
;
; Defines: P   PEs in the row (the fabric is P x 1), and keys
; Layout:  one program, `oets`, on the whole row. P phases; in phase p, PE x pairs with its
;          East neighbour if (x + p) is even, else with its West neighbour (a PE at an end of
;          the row with no partner sits the phase out). Both partners send their key to each
;          other; the West one keeps the smaller, the East one the larger. After P phases the
;          row is sorted (Knuth, TAOCP 5.3.4, exercise 37).
; Colors:  East-bound: PE x sends on 0 + x % 2, receives from the West on 0 + (x+1) % 2;
;          West-bound: PE x sends on 2 + x % 2, receives from the East on 2 + (x+1) % 2.
;          Every PE sends before it receives, at most one wavelet per color per phase, which
;          fits in its output queue, so no PE waits for its partner to receive first. A PE
;          that runs ahead (it sat a phase out) sends into the queue; wavelets of one color
;          keep their order, so each receive gets the partner's key of the same phase.
; Tasks:   main (local, activated at load): the P phases, one loop; then exit.
; Registers: r2 = my key, r3 = the partner's, r5 = phases left, r6 = 0: partner East, 1: West.
; DSRs:    d0 = tmp, a0 = the fabin of the partner's color (one element, synchronous).
; Memory:  key  f32  the key (host writes it; the result)
;          tmp  f32  the partner's key, as the fabric read writes it
; Cost:    about 12 cycles per phase, 12 P in all (P=6: 75 cycles on wse3; P=32: 387).
; Keys:    finite fp32 (minf/maxf of a NaN give NaN on both sides: a NaN would be copied).
.ifndef P
.error "define P (see the header)"
.endif
.if P < 1
.error "P must be at least 1"
.endif

.fabric P, 1

E0 = 0                                  ; East-bound colors 0, 1
W0 = 2                                  ; West-bound colors 2, 3

.program oets
    EOUT = E0 + pe_x % 2
    EIN  = E0 + (pe_x + 1) % 2
    WOUT = W0 + pe_x % 2
    WIN  = W0 + (pe_x + 1) % 2
    HAS_W = pe_x > 0
    HAS_E = pe_x < rect_w - 1

    .if HAS_E
        .route EOUT, ramp -> east       ; my key to the East partner
        .route WIN, east -> ramp        ; its key to me
    .endif
    .if HAS_W
        .route WOUT, ramp -> west
        .route EIN, west -> ramp
    .endif

    .task main, local, start
    .if HAS_W
    .dsd fromw, fabin, color=EIN, len=1
    .endif
    .if HAS_E
    .dsd frome, fabin, color=WIN, len=1
    .endif
    .dsd dtmp, mem1d, base=tmp, len=1

main:
    ld32 r2, [key]
    addi r5, r0, P                      ; phases left
    addi r6, r0, pe_x % 2               ; phase 0: even x pair East, odd x West
    ldsd d0, dtmp
phase:
    bne r6, r0, west
    .if HAS_E
    send EOUT, r2
    ldsd a0, frome
    fmovs d0, a0                        ; wait for the East partner's key
    ld32 r3, [tmp]
    minf r2, r2, r3                     ; the West one keeps the smaller
    .endif
    b next
west:
    .if HAS_W
    send WOUT, r2
    ldsd a0, fromw
    fmovs d0, a0                        ; wait for the West partner's key
    ld32 r3, [tmp]
    maxf r2, r2, r3                     ; the East one keeps the larger
    .endif
next:
    xori r6, r6, 1                      ; the partner alternates
    addi r5, r5, -1
    bne r5, r0, phase
    st32 r2, [key]
    exit

    .data
key: .f32 0.0
tmp: .f32 0.0
    .export key
.endprogram

.place oets, 0, 0, P, 1
