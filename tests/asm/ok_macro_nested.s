.macro inner, v
    addi r1, r0, v
.endm
.macro outer, v
    inner v + 1
    inner v * 2
.endm
    outer 5
;@ code 0x18100006 0x1810000a 0x18100000 0x18100001
;@ line 0 2 5 via inner 5 5 via outer 8 5
;@ line 1 2 5 via inner 6 5 via outer 8 5
    .rep 2, i
        inner i
    .endr
;@ line 2 2 5 via inner 13 9 via .rep[0] 12 5
;@ line 3 2 5 via inner 13 9 via .rep[1] 12 5
