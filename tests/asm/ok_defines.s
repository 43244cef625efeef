;@ define N=12
;@ define SCALE=0.5
    addi r1, r0, N              ; = 0x1810000c
    li r2, SCALE                ; = 0x1f203f00 0x1a220000
