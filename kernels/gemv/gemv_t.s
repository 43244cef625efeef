; gemv_t.s: y = A^T x + b on a KX x KY rectangle of PEs, with A stored exactly as for gemv.s
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define KX=4
;@ define KY=3
;@ define MB=8
;@ define NB=6
; (fp16, PE (px, py) holds A[py*MB:(py+1)*MB, px*NB:(px+1)*NB] column-major), x, b, y fp32.
; The same weights serve both products (as a forward and a backward pass would need).
;
; Defines: KX, KY, MB, NB as in gemv.s. Here x has length M (MB per PE row) and y length N.
;
;      x0 -> [A00] -> [A01] -> [A02]      x (MB fp32 per PE) is written by the host into the
;      x1 -> [A10] -> [A11] -> [A12]      West column and multicast East along each row on C_X
;              v        v        v        (col 0: ramp -> ramp|east, middle: west -> ramp|east,
;              y0       y1       y2       East column: west -> ramp).
;
;      Element i of x (row i of the block) does y += fp32(A[i, :]) * x_i. Row i of a
;      column-major block is a strided vector (stride MB): the fmachs runs at one element
;      per cycle instead of the mixed-class SIMD width (docs/timing.md: non-unit strides
;      have width 1). Partial y vectors flow North -> South on a checkerboard of C_R0/C_R1
;      (row py sends on C_R(py%2)); the result is in y on the bottom row.
;
; Colors:  C_X = 0 (x multicast along rows), C_R0 = 1, C_R1 = 2 (column reduce).
; Tasks:   main (local, start): load DSRs; on column 0 start the async send of x.
;          xtask (data on C_X): y += fp32(A[i, :]) * x_i; step the row DSR by one word.
;          xdone (local, column 0): after the x send, a control wavelet on C_X activates
;          reduce on every PE of the row (as in gemv.s; xtask's id is lower than reduce's).
;          reduce (local): row 0 sends y South; middle rows send y + (incoming) South;
;          the bottom row adds the incoming partial into y.
; Registers: r1 = x_i (xtask), r3 = the id of reduce (xdone).
; DSRs: d0/a0 = y, b0 = current row of A; d1/a1 = x send; d2/a2/b2 = reduce.
; Memory map: A fp16[MB*NB] (host), y fp32[NB] (host writes b on row 0, zeros elsewhere),
;             x fp32[MB] (column 0 only).
; Source: as gemv.s, the routes and each PE's place here, the rest gemv.inc's gemv_pe.
.include "gemv.inc"

.fabric KX, KY

.program gemv_t
    .if KX == 1
        .route C_X, ramp -> ramp
    .elif pe_x == 0
        .route C_X, ramp -> ramp | east
    .elif pe_x == KX - 1
        .route C_X, west -> ramp
    .else
        .route C_X, west -> ramp | east
    .endif
    .if pe_y < KY - 1
        .route C_R0 + pe_y % 2, ramp -> south               ; my partial goes South
    .endif
    .if pe_y > 0
        .route C_R0 + (pe_y + 1) % 2, north -> ramp         ; my North neighbour's comes in
    .endif

    ; x runs East along the rows: the West column holds it; partial y runs South down the
    ; columns. x element i scales row i of the (column-major) block: NB words MB apart, the
    ; next row one word on.
    gemv_pe XI=pe_x, RI=pe_y, RN=KY, YN=NB, XN=MB, ASTRIDE=MB, ASTEP=1
.endprogram

.place gemv_t, 0, 0, KX, KY
