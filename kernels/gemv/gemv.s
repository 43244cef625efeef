; gemv.s: y = A x + b on a KX x KY rectangle of PEs, A fp16, x, b and y fp32.
; Defines used by the objdump round-trip test (tests/asm/test_roundtrip.py):
;@ define KX=4
;@ define KY=3
;@ define MB=8
;@ define NB=6
;
; Defines (wse-as -D / assemble_text(defines=...)):
;   KX, KY  the rectangle: KX columns (x grows East) by KY rows (y grows South)
;   MB, NB  the block of A on each PE: MB rows by NB columns (the driver pads A with zeros
;           to KY*MB x KX*NB; kernels/gemv/run.py computes MB = ceil(M/KY), NB = ceil(N/KX))
;
; Layout: PE (px, py) holds A[py*MB:(py+1)*MB, px*NB:(px+1)*NB], column-major, so column j
; of the block is the MB contiguous fp16 words at A + j*MB.
;
;        x0   x1   x2            x (NB fp32 per PE) is written by the host into the top row
;        |    |    |             and multicast down each column on C_X
;        v    v    v             (row 0: ramp -> ramp|south, middle: north -> ramp|south,
;      [A00]>[A01]>[A02]> y0     bottom: north -> ramp).
;      [A10]>[A11]>[A12]> y1     Partial y vectors flow West -> East on a checkerboard of
;                                C_R0/C_R1: column px sends on C_R(px%2) and receives on
;                                C_R((px+1)%2), so no color both enters and leaves a router.
;                                The result is in y on the East column.
;
; Colors:  C_X = 0 (x multicast), C_R0 = 1, C_R1 = 2 (row reduce checkerboard).
; Tasks:   main    local, activated at load: loads the DSRs; on row 0 starts the async send
;                  of x (microthread 0) down the column.
;          xtask   data task on C_X: one per x element j (payload = x_j in r1):
;                  y += fp32(A[:, j]) * x_j  (fmachs), then step the column DSR by MB words.
;          xdone   local, row 0: activated when the x send finishes; sends a control
;                  wavelet on C_X behind the data, whose payload (the id of reduce)
;                  activates reduce on every PE of the column as it reaches its RAMP.
;                  xtask has a lower id than reduce, so queued x elements are done first.
;          reduce  local: column 0 sends y East; middle columns send y + (incoming) East,
;                  element by element (pipelined); the East column adds the incoming
;                  partial into y.
; Registers: r1 = x_j (xtask), r3 = the id of reduce (xdone).
; DSRs: d0/a0 = y, b0 = current column of A (xtask); d1/a1 = x send (main, row 0);
;       d2/a2/b2 = reduce.
; Memory map (data, after the code):
;   A  fp16[MB*NB]  the block, column-major (written by the host)
;   y  fp32[MB]     partial / final y; the host writes b here on column 0, zeros elsewhere
;   x  fp32[NB]     row 0 only: this column's slice of x
; Source: the colors, task ids, tasks, DSDs, code and data are the macro gemv_pe of gemv.inc,
; shared with gemv_t.s (this kernel turned by a quarter); this file gives the layout: the
; routes, and each PE's place in the two directions.
.include "gemv.inc"

.fabric KX, KY

.program gemv
    ; ---- routes -------------------------------------------------------------------------
    .if KY == 1
        .route C_X, ramp -> ramp
    .elif pe_y == 0
        .route C_X, ramp -> ramp | south
    .elif pe_y == KY - 1
        .route C_X, north -> ramp
    .else
        .route C_X, north -> ramp | south
    .endif
    .if pe_x < KX - 1
        .route C_R0 + pe_x % 2, ramp -> east                ; my partial goes East
    .endif
    .if pe_x > 0
        .route C_R0 + (pe_x + 1) % 2, west -> ramp          ; my West neighbour's comes in
    .endif

    ; ---- tasks, DSDs, code and data (gemv.inc) ------------------------------------------
    ; x runs down the columns: the top row holds it; partial y runs East along the rows.
    ; x element j scales column j of the block: MB contiguous words, the next MB words on.
    gemv_pe XI=pe_y, RI=pe_x, RN=KX, YN=MB, XN=NB, ASTRIDE=1, ASTEP=MB
.endprogram

.place gemv, 0, 0, KX, KY
