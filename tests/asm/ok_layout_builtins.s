.fabric 6, 4
.program p
    addi r1, r0, pe_x           ; within the rectangle
    addi r2, r0, abs_x
    addi r3, r0, rect_w * 100 + rect_h
    addi r4, r0, fabric_w * 100 + fabric_h
    addi r5, r0, pe_y * 10 + abs_y
    exit
.endprogram
.place p, 2, 1, 3, 2
;@ pe 3, 2
;@ code 0x18100001 0x18200003 0x1830012e 0x1840025c 0x1850000c 0x02000000
