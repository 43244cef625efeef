; async_square.s: receive a stream from the host on a microthread; the end of the receive
; activates the task that computes; the results stream back to the host.
;
;   y = x * x + 1   for N fp32 values x sent by the host into the West edge of PE (0, 0);
;   y leaves through the East edge, back to the host.
;
;   wse-as kernels/examples/async_square.s -o sq.wso -D N=16
;   The host side needs the Python API (wse-emu has no option to send wavelets):
;     fab.send(1, 0, 0, "west", x); fab.run(); fab.received(color=2)
;
;@ define N=16
;
; Defines: N, the number of values.
; Layout:  one PE (a file with .fabric/.program/.place would also do; this one is a plain
;          program `main` on a 1x1 fabric).
; Colors:  C_IN = 1 (west -> ramp: host -> CE), C_OUT = 2 (ramp -> east: CE -> host).
; Tasks:   main    (local, activated at load): starts `x <- fabin` as an async op on
;                  microthread 1 with `activate compute`, and exits at once.
;          compute (local): activated when the N-th element has arrived; y = x * x + 1;
;                  sends y out (synchronous fabric write, one element per cycle).
; Memory:  x f32[N] (received), y f32[N] (the result, also readable by symbol).
.ifndef N
.error "define N (see the header)"
.endif

C_IN = 1
C_OUT = 2

    .route C_IN, west -> ramp
    .route C_OUT, ramp -> east
    .task main, local, start
    .task compute, local
    .dsd xin,  fabin,  color=C_IN,  len=N
    .dsd yout, fabout, color=C_OUT, len=N
    .dsd dx,   mem1d, base=x, len=N
    .dsd dy,   mem1d, base=y, len=N

main:
    ldsd d0, dx
    ldsd a0, xin
    fmovs d0, a0 async ut1 activate compute   ; the main thread goes on at once
    exit                                      ; (the CE is free while x streams in)

compute:
    ldsd d0, dy
    ldsd a0, dx
    ldsd b0, dx
    fmuls d0, a0, b0                          ; y = x * x
    ldsd a0, dy
    li r2, 1.0
    fadds d0, a0, r2                          ; y = y + 1.0
    ldsd d1, yout
    ldsd a1, dy
    fmovs d1, a1                              ; y -> host, one wavelet per element
    exit

    .data
x: .zero N, f32
y: .zero N, f32
    .export x, y
