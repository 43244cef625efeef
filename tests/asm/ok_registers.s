    add r15, r14, r13           ; = 0x08fed000
    add lr, zero, r1            ; = 0x08f01000
    dsdbase d7, r1              ; = 0x51388000
    dsdbase a0, r1              ; = 0x51408000
    dsdbase b7, r1              ; = 0x51b88000
