.fabric 8, 8
.program p
    .if pe_x == 0
    addi r1, r0, 1
    .else
    addi r1, r0, 2
    .endif
    exit
.endprogram
.place p, 0, 0, 8, 8
;@ images 2
;@ placement [(0, 0, 1, 8, 0), (1, 0, 7, 8, 1)]
;@ pe 5, 5
;@ same 1, 0
;@ differ 0, 5
;@ code 0x18100002 0x02000000
