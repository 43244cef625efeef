    ld16 r1, [r2, r3]           ; error: a memory operand holds one address
