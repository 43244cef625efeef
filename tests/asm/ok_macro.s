.macro addk, reg, k = 1
    addi reg, reg, k            ; the body's line, with each expansion's invocation, is in LINES
.endm
    addk r1
    addk r2, 5
    addk k=3, reg=r3
;@ code 0x18110001 0x18220005 0x18330003
;@ line 0 2 5 via addk 4 5
;@ line 1 2 5 via addk 5 5
;@ line 2 2 5 via addk 6 5
