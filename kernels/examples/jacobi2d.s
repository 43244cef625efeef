; jacobi2d.s: T Jacobi iterations of a 5-point stencil on a 2D grid spread over PX x PY PEs,
; with halo exchange on all four sides.
;
;   u'[i,j] = W_N * (((u[i-1,j] + u[i+1,j]) + u[i,j+1]) + u[i,j-1]) + W_C * u[i,j]
;   over the whole (PY*NY) x (PX*NX) grid, u = 0 outside it, T times
;
;   wse-as kernels/examples/jacobi2d.s -o j.wso -D PX=3 -D PY=2 -D NX=4 -D NY=3 -D T=2 --arch wse3
;   (the host writes u with its halo, runs, reads u: tests/test_examples.py checks it against
;   numpy, bit for bit)
;
;@ define PX=3
;@ define PY=2
;@ define NX=4
;@ define NY=3
;@ define T=2
;
; Defines: PX, PY  the fabric (PX x PY PEs); NX, NY  the block of each PE (NX columns, NY
;          rows): PE (x, y) holds rows y*NY .. y*NY + NY-1, columns x*NX .. x*NX + NX-1;
;          T  iterations (>= 1); W_C, W_N  the weights (defaults 0.5 and 0.125).
; Layout:  one program, `jacobi`, on the whole fabric. Each iteration, every PE sends its
;          edge rows/columns to its neighbours and receives theirs into its halo, all eight
;          transfers at once as async tensor ops on microthreads ut0..ut7; each one activates
;          its own completion task (c0..c7, one shared entry `joined`), which counts down r10.
;          The last one computes the new block into t, copies it into u, and activates `main`
;          for the next iteration. A PE is never more than one iteration ahead of a
;          neighbour (it needs the neighbour's edges to finish one); its sends of the next
;          iteration wait in the queues until the neighbour starts receiving.
; Colors:  a checkerboard per direction (a color cannot both bring the West neighbour's
;          wavelets into a PE and carry its own East): East-bound 0 + x % 2 (sent by PE x),
;          received on 0 + (x+1) % 2; West-bound 2 + ...; South-bound 4 + y % 2, received on
;          4 + (y+1) % 2; North-bound 6 + .... Colors 0..7 get queues 0..7.
; Tasks:   main (local, activated at load, and by the last completion of each iteration but
;          the last): issue the transfers; a PE without neighbours (1x1) computes at once.
;          c0..c7 (local, entry `joined`): one per transfer (an activation is one bit: two
;          ops activating one task could run it once).
; Registers: r10 = transfers still running, r11 = iterations left (also in `iters`).
; DSRs:    d0/a0 the transfers (an async op takes its DSRs at issue, so they are reused at
;          once); d1/a1/b1 the stencil.
; Memory:  u      f32[(NY+2)*(NX+2)]  the block with a one-element halo, row-major: u[r][c] at
;                 element r*(NX+2) + c; the host writes the block into rows/columns 1..N and
;                 zeros in the halo (the halo of the grid's border stays 0); the result
;          t      f32[NX*NY]          the new block, row-major
;          iters  u32                 iterations left
; Cost:    per iteration about 2 (NX + NY) cycles of transfers (one element per cycle, the four
;          directions at once) and 7 NX NY cycles of stencil (strided views of u run at one
;          element per cycle); PX=PY=3, NX=4, NY=3, T=3: 416 cycles on wse3.
.ifndef PX
.error "define PX, PY, NX, NY and T (see the header)"
.endif
.if T < 1 || NX < 1 || NY < 1
.error "T, NX and NY must be at least 1"
.endif
.ifndef W_C
W_C = 0.5
.endif
.ifndef W_N
W_N = 0.125
.endif

.fabric PX, PY

E0 = 0                                  ; East-bound colors 0, 1
W0 = 2                                  ; West-bound colors 2, 3
S0 = 4                                  ; South-bound colors 4, 5
N0 = 6                                  ; North-bound colors 6, 7

.program jacobi
    ROW = NX + 2                        ; elements per row of u
    HAS_W = pe_x > 0
    HAS_E = pe_x < rect_w - 1
    HAS_N = pe_y > 0
    HAS_S = pe_y < rect_h - 1
    NOPS = 2 * (HAS_W + HAS_E + HAS_N + HAS_S)

    .if HAS_E
        .route E0 + pe_x % 2, ramp -> east
        .route W0 + (pe_x + 1) % 2, east -> ramp
    .endif
    .if HAS_W
        .route W0 + pe_x % 2, ramp -> west
        .route E0 + (pe_x + 1) % 2, west -> ramp
    .endif
    .if HAS_S
        .route S0 + pe_y % 2, ramp -> south
        .route N0 + (pe_y + 1) % 2, south -> ramp
    .endif
    .if HAS_N
        .route N0 + pe_y % 2, ramp -> north
        .route S0 + (pe_y + 1) % 2, north -> ramp
    .endif

    .task main, local, start
    .task c0, local, entry=joined
    .task c1, local, entry=joined
    .task c2, local, entry=joined
    .task c3, local, entry=joined
    .task c4, local, entry=joined
    .task c5, local, entry=joined
    .task c6, local, entry=joined
    .task c7, local, entry=joined

    ; the block shifted by (DX, DY): NX x NY elements, rows ROW apart (word = 2 * element)
    .macro view, NAME, DX, DY
    .dsd NAME, mem4d, base=u + 2 * ((1 + DY) * ROW + 1 + DX), len=[NX, NY], stride=[1, ROW]
    .endm
    view vc, 0, 0
    view vn, 0, -1
    view vs, 0, 1
    view vw, -1, 0
    view ve, 1, 0
    .dsd dt, mem1d, base=t, len=NX * NY
    .dsd rown, mem1d, base=u + 2 * (ROW + 1), len=NX                 ; my first row
    .dsd rows, mem1d, base=u + 2 * (NY * ROW + 1), len=NX            ; my last row
    .dsd colw, mem1d, base=u + 2 * (ROW + 1), len=NY, stride=ROW     ; my first column
    .dsd cole, mem1d, base=u + 2 * (ROW + NX), len=NY, stride=ROW    ; my last column
    .dsd hn, mem1d, base=u + 2, len=NX                               ; the halo, North
    .dsd hs, mem1d, base=u + 2 * ((NY + 1) * ROW + 1), len=NX        ; South
    .dsd hw, mem1d, base=u + 2 * ROW, len=NY, stride=ROW             ; West
    .dsd he, mem1d, base=u + 2 * (ROW + NX + 1), len=NY, stride=ROW  ; East
    .dsd toe, fabout, color=E0 + pe_x % 2, len=NY
    .dsd tow, fabout, color=W0 + pe_x % 2, len=NY
    .dsd tos, fabout, color=S0 + pe_y % 2, len=NX
    .dsd ton, fabout, color=N0 + pe_y % 2, len=NX
    .dsd frw, fabin, color=E0 + (pe_x + 1) % 2, len=NY
    .dsd fre, fabin, color=W0 + (pe_x + 1) % 2, len=NY
    .dsd frn, fabin, color=S0 + (pe_y + 1) % 2, len=NX
    .dsd frs, fabin, color=N0 + (pe_y + 1) % 2, len=NX

main:                                   ; one iteration: start the eight transfers
    addi r10, r0, NOPS
    .if NOPS == 0
    b compute
    .endif
    .if HAS_E
    ldsd d0, toe
    ldsd a0, cole
    fmovs d0, a0 async ut0 activate c0  ; my last column -> East
    ldsd d0, he
    ldsd a0, fre
    fmovs d0, a0 async ut1 activate c1  ; the East neighbour's first column -> my halo
    .endif
    .if HAS_W
    ldsd d0, tow
    ldsd a0, colw
    fmovs d0, a0 async ut2 activate c2
    ldsd d0, hw
    ldsd a0, frw
    fmovs d0, a0 async ut3 activate c3
    .endif
    .if HAS_S
    ldsd d0, tos
    ldsd a0, rows
    fmovs d0, a0 async ut4 activate c4
    ldsd d0, hs
    ldsd a0, frs
    fmovs d0, a0 async ut5 activate c5
    .endif
    .if HAS_N
    ldsd d0, ton
    ldsd a0, rown
    fmovs d0, a0 async ut6 activate c6
    ldsd d0, hn
    ldsd a0, frn
    fmovs d0, a0 async ut7 activate c7
    .endif
    exit

joined:                                 ; one transfer finished
    addi r10, r10, -1
    bne r10, r0, not_yet
compute:                                ; all of them: the halo is complete
    ldsd d1, dt
    ldsd a1, vn
    ldsd b1, vs
    fadds d1, a1, b1                    ; t = N + S
    ldsd a1, dt
    ldsd b1, ve
    fadds d1, a1, b1                    ; t += E
    ldsd b1, vw
    fadds d1, a1, b1                    ; t += W
    li r3, W_N
    fmuls d1, a1, r3                    ; t *= W_N
    ldsd b1, vc
    li r3, W_C
    fmacs d1, a1, b1, r3                ; t += u * W_C
    ldsd d1, vc
    fmovs d1, a1                        ; u = t
    ld32 r11, [iters]
    addi r11, r11, -1
    st32 r11, [iters]
    beq r11, r0, not_yet
    activate main                       ; the next iteration
not_yet:
    exit

    .data
iters: .u32 T
u: .zero (NX + 2) * (NY + 2), f32
t: .zero NX * NY, f32
    .export u
.endprogram

.place jacobi, 0, 0, PX, PY
