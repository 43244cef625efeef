    .rep 3, i
    addi r1, r0, i              ; one per iteration
    .endr
    .rep 0
    nop
    .endr
;@ code 0x18100000 0x18100001 0x18100002
