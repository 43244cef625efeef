.macro countdown, reg
again:
    addi reg, reg, -1
    bne reg, r0, again
.endm
    countdown r1
    countdown r2
;@ code 0x1811ffff 0x3110ffff 0x1822ffff 0x3120ffff
