; hello.s: every PE holds one fp32 value; the values are summed along each row
; (West -> East) and then down the last column (North -> South). The total lands in
; PE (W-1, H-1) as the exported symbol `total`.
;
;   wse-as kernels/examples/hello.s -o hello.wso          (-D W=8 -D H=2 for another size)
;   wse-emu --grid 4x4 hello.wso --output total=total.npy --stats
;
; Layout: one program, `sum`, placed on the whole fabric.
; Colors: 0/1 alternate along a row (a checkerboard: a PE receives on one color and sends on
;         the other, since one color cannot both enter from the West and leave to the East
;         through the RAMP); 2/3 alternate down the last column.
; Tasks:  `start` (x = 0, activated at load), `row` (data task on the row color),
;         `col` (last column, y > 0: data task on the column color, blocked until the
;         row sum of this PE is known).
; Memory: `rowsum` (f32) in the last column, `total` (f32) everywhere (written at the end).
.ifndef W
W = 4
.endif
.ifndef H
H = 4
.endif
.fabric W, H

.program sum
    VALUE   = float(1 + abs_x + abs_y * fabric_w)  ; this PE's value: 1 + its index
    ROW_OUT = pe_x % 2
    ROW_IN  = 1 - ROW_OUT
    COL_OUT = 2 + pe_y % 2
    COL_IN  = 5 - COL_OUT
    LAST_X  = pe_x == rect_w - 1

    .if pe_x > 0
        .route ROW_IN, west -> ramp
    .endif
    .if !LAST_X
        .route ROW_OUT, ramp -> east
    .endif
    .if LAST_X && pe_y > 0
        .route COL_IN, north -> ramp
    .endif
    .if LAST_X && pe_y < rect_h - 1
        .route COL_OUT, ramp -> south
    .endif

    .macro row_done               ; r2 = the row's sum up to and including this PE
        .if !LAST_X
            send ROW_OUT, r2      ; pass it East
        .elif pe_y == rect_h - 1 && pe_y == 0
            st32 r2, [total]      ; a single row: done
        .elif pe_y == 0
            send COL_OUT, r2      ; top of the last column: start the column
        .else
            st32 r2, [rowsum]     ; wait for the column partial from the North
            unblock col
        .endif
        exit
    .endm

    .if pe_x == 0
        .task start, local, start
start:
        li r2, VALUE
        row_done
    .else
        .task row, data, color=ROW_IN
row:                              ; r1 = the partial sum from the West
        li r3, VALUE
        addf r2, r1, r3
        row_done
    .endif

    .if LAST_X && pe_y > 0
        .task col, data, color=COL_IN, blocked
col:                              ; r1 = the column's partial sum from the North
        ld32 r3, [rowsum]
        addf r2, r1, r3
        .if pe_y < rect_h - 1
            send COL_OUT, r2
        .else
            st32 r2, [total]
        .endif
        exit
    .endif

    .data
rowsum: .f32 0.0
total:  .f32 0.0
    .export total
.endprogram

.place sum, 0, 0, W, H
