; chain_sum.s: the sum of a vector spread over a row of PEs, passed along the row; the last PE
; sends it out of the fabric's East edge to the host.
;
;   total = x[0] + x[1] + ... + x[P*N - 1]   over P*N fp32, N on each PE
;
;   wse-as kernels/examples/chain_sum.s -o chain.wso -D P=4 -D N=8 --arch wse3
;   wse-emu chain.wso --input x=x.npy --received sum.npy   (x.npy: shape (1, P, N))
;   (docs/cookbook.md runs it; tests/test_examples.py checks it against numpy)
;
; Defines: P   PEs in the row (the fabric is P x 1; default 4)
;          N   elements per PE: PE x holds x[x*N .. x*N + N-1] (default 8)
; Layout:  one program, `chain`, on the whole row. Every PE first adds up its own N elements
;          (a scalar loop, in `main`). PE 0 sends its sum East; every other PE adds the sum
;          that arrives from the West to its own and sends the result East. The last PE's
;          East port faces off the fabric, so its send goes to the host.
; Colors:  PE x sends East on x % 2 and receives from the West on (x + 1) % 2 (a
;          checkerboard: a route sends every wavelet that enters it to the same ports, so one
;          color cannot carry both "in from the West" and "out to the East" on one PE).
; Tasks:   main   (local, activated at load): r2 = the sum of my N elements; PE 0 stores it
;                 in `total` and sends it.
;          add_in (data, PEs x > 0, on the West color): r1 = the sum of all PEs before me;
;                 r2 = r2 + r1, stored in `total` and sent East. It runs after main has
;                 exited (tasks run to completion), so r2 already holds my own sum: the
;                 registers belong to the PE, not to a task.
; Memory:  x      f32[N]  my elements (the host writes them)
;          total  f32     the sum of x over PEs 0..x (on the last PE: everything)
; Numerics: each PE sums its N elements in order, starting from 0.0, then adds the sum from
;          the West: total_x = local_x + total_(x-1), each addition rounded to fp32.
; Cost:    the local sum is 5 instructions per element, on every PE at once; the chain then
;          adds 7 cycles per PE (the send, the hop, the data task). In all 5 N + 7 P cycles
;          (P=4, N=8: 68; P=16, N=64: 432, on wse2 and wse3 alike: all of it is scalar).
.ifndef P
P = 4
.endif
.ifndef N
N = 8
.endif
.if P < 1 || N < 1
.error "P and N must be at least 1"
.endif
.fabric P, 1

.program chain
    OUT = pe_x % 2                    ; the color I send East on
    IN  = 1 - OUT                     ; the color my West neighbour sends on

    .route OUT, ramp -> east          ; on the last PE, East is the host
    .if pe_x > 0
        .route IN, west -> ramp
    .endif

    .task main, local, start
    .if pe_x > 0
        .task add_in, data, color=IN
    .endif

main:                                 ; r2 = x[0] + ... + x[N-1], in order
    addi r2, r0, 0                    ; 0.0 has the bits 0
    addi r3, r0, x                    ; r3 = the address of x[i]
    addi r4, r0, N                    ; r4 = elements left
loop:
    ld32 r5, [r3]
    addf r2, r2, r5
    addi r3, r3, 2                    ; an fp32 is two 16-bit words
    addi r4, r4, -1
    bne r4, r0, loop
    .if pe_x == 0
    st32 r2, [total]
    send OUT, r2
    .endif
    exit

    .if pe_x > 0
add_in:                               ; r1 = the sum of PEs 0 .. x-1
    addf r2, r2, r1
    st32 r2, [total]
    send OUT, r2
    exit
    .endif

    .data
x:      .zero N, f32
total:  .f32 0.0
    .export x, total
.endprogram

.place chain, 0, 0, P, 1
