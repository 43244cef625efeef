; stream.s: a producer that streams a vector on a microthread to a slower consumer: the
; wavelets back up until the producer's send waits for room (backpressure).
;
;   result = x[0]^2 + x[1]^2 + ... + x[N-1]^2   over N fp32, in order
;
;   wse-as kernels/examples/stream.s -o stream.wso -D N=32 -D K=4 --arch wse3
;   wse-emu stream.wso --input x@0,0=x.npy --output result@1,0=r.npy --output t_sent@0,0=t.npy
;   (docs/cookbook.md runs it; tests/test_examples.py checks it against numpy)
;
; Defines: N   elements (default 32)
;          K   iterations of a busy loop per element in the consumer, a stand-in for real
;              work (default 4, at least 1)
; Layout:  a 2x1 fabric: the program `producer` on PE (0,0), `consumer` on PE (1,0).
; Colors:  C_X = 0   PE (0,0) -> PE (1,0): x, one wavelet per element
;          C_OUT = 1 PE (1,0) -> the host, out of the fabric's East edge: the result
; Tasks:   producer: main (local, activated at load) reads the cycle counter into t_start and
;                    starts `fmovs` from x to a fabout DSD on C_X asynchronously, on
;                    microthread ut0, with `activate sent`; it exits at once.
;                    sent (local) runs when ut0's op has finished (its last element has left
;                    the CE) and stores the cycle in t_sent.
;          consumer: main (local, activated at load) sets the count r10 = N and r2 = 0.0.
;                    consume (data, on C_X) runs once per wavelet (r1 = x_i): r2 += x_i^2,
;                    then K turns of a busy loop; after the N-th it stores r2 in `result`
;                    and sends it to the host.
; Memory:  producer: x f32[N] (the host writes it); t_start, t_sent u32: the cycles at which
;                    main and sent ran their rdcyc
;          consumer: result f32
; Cost:    consume takes 2 K + 7 cycles per element (the task switch and 2 K + 6
;          instructions), so the run takes N (2 K + 7) + 12 cycles on wse3 (N=32, K=4: 492).
; Backpressure: the producer's op would send one element per cycle. The wavelets it has sent
;          wait in its output queue, the consumer's router buffer and its input queue (on
;          color 0 of wse3: 8 + 4 + 8 places, isa.md); once they are full the op waits for
;          room, so ut0 ends only when the consumer has taken all but 20 elements, and
;          t_sent grows with K (N=32, wse3: 113 for K=1, 179 for K=4, 443 for K=16). With
;          N <= 20 nothing waits (N=4: t_sent = 11, and `wse-emu --stats` counts 0 stalls).
.ifndef N
N = 32
.endif
.ifndef K
K = 4
.endif
.if N < 1 || K < 1
.error "N and K must be at least 1"
.endif
.fabric 2, 1
C_X = 0
C_OUT = 1

.program producer
    .route C_X, ramp -> east
    .task main, local, start
    .task sent, local
    .dsd dx, mem1d, base=x, len=N
    .dsd dout, fabout, color=C_X, len=N
main:
    rdcyc r2
    st32 r2, [t_start]
    ldsd d0, dout
    ldsd a0, dx
    fmovs d0, a0 async ut0 activate sent   ; the main thread goes on at once
    exit
sent:                                      ; ut0's op has sent its last element
    rdcyc r2
    st32 r2, [t_sent]
    exit
    .data
x:       .zero N, f32
t_start: .u32 0
t_sent:  .u32 0
    .export x, t_start, t_sent
.endprogram

.program consumer
    .route C_X, west -> ramp
    .route C_OUT, ramp -> east                ; East of PE (1,0) is the host
    .task main, local, start
    .task consume, data, color=C_X
main:
    addi r10, r0, N                           ; elements still to come
    addi r2, r0, 0                            ; the sum (0.0)
    exit
consume:                                      ; r1 = x_i
    mulf r5, r1, r1
    addf r2, r2, r5
    addi r6, r0, K
work:                                         ; K turns of a busy loop
    addi r6, r6, -1
    bne r6, r0, work
    addi r10, r10, -1
    bne r10, r0, more
    st32 r2, [result]                         ; the N-th element: done
    send C_OUT, r2
more:
    exit
    .data
result: .f32 0.0
    .export result
.endprogram

.place producer, 0, 0
.place consumer, 1, 0
