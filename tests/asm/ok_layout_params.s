.fabric 2, 1
.program p, N, M = 4
    addi r1, r0, N * 10 + M
    exit
.endprogram
.place p, 0, 0, N = 1
.place p, 1, 0, N = 2, M = 7
;@ images 2
;@ code 0x1810000e 0x02000000
;@ pe 1, 0
;@ code 0x1810001b 0x02000000
