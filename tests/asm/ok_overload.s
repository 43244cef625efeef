    faddh d0, a0, b0            ; = 0x82000000
    faddh d0, a0, r3            ; = 0x83001800
    fmovh d1, a2                ; = 0x80280000
    fmovh d1, r2                ; = 0x81201000
    mov16 d0, r1                ; = 0xc1000800
    mov16 d0, a1                ; = 0xc0040000
