.macro inner, v
    addi r1, r0, v
.endm
.macro outer, v
    inner v + 1
    inner v * 2
.endm
    outer 5
;@ code 0x18100006 0x1810000a
;@ line 0 2 5 via inner 5 5 via outer 8 5
;@ line 1 2 5 via inner 6 5 via outer 8 5
