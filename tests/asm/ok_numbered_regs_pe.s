; a register number that depends on the PE: each PE whose number differs gets an image of its own
.fabric 3, 1
.program p
    .task main, local, start
main:
    addi r(pe_x + 1), r0, 7
    exit
.endprogram
.place p, 0, 0, 3, 1
;@ images 3
;@ pe 2, 0
;@ code 0x18300007 0x02000000
;@ differ 1, 0
