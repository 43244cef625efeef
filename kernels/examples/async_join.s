; async_join.s: wait for several asynchronous receives, then compute once all have finished.
;
;   y = a + b   for N fp32 values a sent by the host into the West edge of PE (0, 0) and N
;   values b into its North edge; both streams arrive at the same time, on two microthreads.
;
;   wse-as kernels/examples/async_join.s -o join.wso -D N=16
;   The host side needs the Python API (wse-emu has no option to send wavelets):
;     fab.send(1, 0, 0, "west", a); fab.send(2, 0, 0, "north", b); fab.run(); fab.read("y")
;
;@ define N=16
;
; Defines: N, the number of values per stream.
; Layout:  one PE (a plain program on a 1x1 fabric).
; Colors:  C_A = 1 (west -> ramp), C_B = 2 (north -> ramp): host -> CE.
; Tasks:   main (local, activated at load): sets the count of receives still running (r10 = 2),
;               starts both receives as async ops, ut0 -> activate got_a, ut1 -> activate
;               got_b, and exits.
;          got_a, got_b (local): one task per receive, both entering `joined`. An activation
;               is one bit per task, so two ops activating the same task could be seen as one;
;               one task each counts every completion. `joined` counts down r10 (registers
;               belong to the CE and keep their values from task to task) and computes
;               y = a + b when it reaches 0.
; Memory:  a, b f32[N] (received), y f32[N] (the result).
.ifndef N
.error "define N (see the header)"
.endif

C_A = 1
C_B = 2

    .route C_A, west -> ramp
    .route C_B, north -> ramp
    .task main, local, start
    .task got_a, local, entry=joined
    .task got_b, local, entry=joined
    .dsd ain, fabin, color=C_A, len=N
    .dsd bin, fabin, color=C_B, len=N
    .dsd da,  mem1d, base=a, len=N
    .dsd db,  mem1d, base=b, len=N
    .dsd dy,  mem1d, base=y, len=N

main:
    addi r10, r0, 2                          ; receives still running
    ldsd d0, da
    ldsd a0, ain
    fmovs d0, a0 async ut0 activate got_a
    ldsd d1, db                              ; the op above took its DSRs at issue:
    ldsd a1, bin                             ; d1/a1 are free for the next one
    fmovs d1, a1 async ut1 activate got_b
    exit

joined:
    addi r10, r10, -1
    bne r10, r0, not_yet
    ldsd d2, dy
    ldsd a2, da
    ldsd b2, db
    fadds d2, a2, b2
not_yet:
    exit

    .data
a: .zero N, f32
b: .zero N, f32
y: .zero N, f32
    .export y
