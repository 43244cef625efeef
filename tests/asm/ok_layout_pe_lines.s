.fabric 2, 1
.program p
    nop
    .if pe_x
    nop
    .endif
    exit
.endprogram
.place p, 0, 0, 2, 1
;@ pe 1, 0
;@ line 0 3 5
;@ line 1 5 5
;@ line 2 7 5
