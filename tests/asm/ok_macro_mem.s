.macro load, dst, base, off
    ld16 dst, [base + off]
.endm
    load r1, r2, 3
;@ code 0x28120003
