; scan.s: an inclusive prefix sum (scan) of fp32 values along a row of P PEs.
;
;   x[i] = x[0] + x[1] + ... + x[i]   over the whole vector x of P*N fp32, in place
;
;   wse-as kernels/examples/scan.s -o scan.wso -D P=4 -D N=5 --arch wse3
;   (the host writes x, runs, reads x back: tests/test_examples.py checks it against numpy)
;
;@ define P=4
;@ define N=5
;
; Defines: P   PEs in the row (the fabric is P x 1)
;          N   elements per PE: PE x holds x[x*N .. x*N + N-1]
; Layout:  one program, `scan`, on the whole row. Every PE first scans its own chunk with one
;          tensor op (a recurrence: fadds of x[1:N] from x[0:N-1] and x[1:N], which reads what
;          the op itself wrote one element before). Then the carries ripple West -> East: PE 0
;          sends its last element East; every other PE waits for the carry from the West (the
;          sum of everything before its chunk), adds it to its N elements, and sends its new
;          last element East.
; Colors:  PE x sends East on 0 + x % 2 and receives from the West on 0 + (x+1) % 2 (a
;          checkerboard: one color cannot carry both on one PE).
; Tasks:   main  (local, activated at load): the local scan; PE 0 sends its total.
;          carry (data, PEs x > 0, on the West color): r1 = the carry; x += r1, send the total.
;          A data task runs only after main has exited (tasks run to completion), so the
;          carry is never added to an unscanned chunk.
; DSRs:    d0/a0/b0 (both tasks).
; Memory:  x  f32[N]  the chunk (host writes it; the result, in place)
; Cost:    the local scan runs at one element per cycle (a recurrence: timing.md,
;          *Instruction costs*), N - 1 cycles; then each PE adds its carry in ceil(N / width)
;          cycles and forwards it: about 9 + ceil(N / 4) cycles per PE on wse3
;          (P=4, N=5: 39 cycles; P=16, N=64: 428).
; Numerics: PE x's result is (its own sequential sum) + (the last result of PE x-1), in fp32:
;          not the same rounding as one sequential sum over all P*N (numpy's cumsum), but
;          the same as numpy computing it in that order (tests/test_examples.py).
.ifndef P
.error "define P and N (see the header)"
.endif
.if N < 1 || P < 1
.error "P and N must be at least 1"
.endif

.fabric P, 1

C0 = 0                                  ; East-bound colors 0, 1

.program scan
    COUT = C0 + pe_x % 2
    CIN  = C0 + (pe_x + 1) % 2
    HAS_W = pe_x > 0
    HAS_E = pe_x < rect_w - 1

    .if HAS_E
        .route COUT, ramp -> east       ; my total goes East
    .endif
    .if HAS_W
        .route CIN, west -> ramp        ; the carry from the West comes in
    .endif

    .task main, local, start
    .if HAS_W
    .task carry, data, color=CIN
    .endif
    .dsd dtail, mem1d, base=x + 2, len=N - 1    ; x[1..N-1] (words: an f32 is 2 words)
    .dsd dhead, mem1d, base=x, len=N - 1        ; x[0..N-2]
    .dsd dall,  mem1d, base=x, len=N

main:
    ldsd d0, dtail
    ldsd a0, dhead
    ldsd b0, dtail
    fadds d0, a0, b0                    ; x[i] = x[i-1] + x[i], i = 1 .. N-1, in order
    .if !HAS_W && HAS_E
    ld32 r2, [x + 2 * (N - 1)]          ; PE 0: my total -> East
    send COUT, r2
    .endif
    exit

    .if HAS_W
carry:                                  ; r1 = the sum of everything West of me
    ldsd d0, dall
    ldsd a0, dall
    fadds d0, a0, r1                    ; x += carry
    .if HAS_E
    ld32 r2, [x + 2 * (N - 1)]          ; my new total -> East
    send COUT, r2
    .endif
    exit
    .endif

    .data
x: .zero N, f32
    .export x
.endprogram

.place scan, 0, 0, P, 1
