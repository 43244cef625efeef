.program first, "shared name"
    nop
.endprogram
.place first, 0, 0
;@ name shared name
