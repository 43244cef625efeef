    addi r1, r0, 0x7f           ; = 0x1810007f
    addi r1, r0, 0b1010         ; = 0x1810000a
    addi r1, r0, 1_000          ; = 0x181003e8
    addi r1, r0, -0x8000        ; = 0x18108000
    ori r1, r1, 0xFF_FF         ; = 0x1a11ffff
