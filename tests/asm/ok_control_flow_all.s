top:
    blt r1, r2, top             ; = 0x32120000
    bge r1, r2, top             ; = 0x3312ffff
    bltu r1, r2, top            ; = 0x3412fffe
    bgeu r1, r2, top            ; = 0x3512fffd
    jr r3                       ; = 0x38300000
