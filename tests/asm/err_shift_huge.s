    addi r1, r0, 1 << 100000    ; error: shift count 100000 (0x186a0) is too large
