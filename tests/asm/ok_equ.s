.equ SIZE, 16
N = SIZE / 4
    addi r1, r0, N              ; = 0x18100004
    addi r1, r0, SIZE           ; = 0x18100010
