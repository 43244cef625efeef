.fabric 4, 4
.program p
    .if pe_x == 0 && pe_y == 0
    .task main, local, start
    .route 1, ramp -> east | south
    .elif pe_y == 0
    .route 1, west -> east | ramp
    .else
    .route 1, north -> ramp
    .endif
main:
    exit
.endprogram
.place p, 0, 0, 4, 4
;@ images 3
;@ pe 3, 0
;@ route color=1 positions=((8,18),)
;@ pe 2, 3
;@ same 0, 1
