    addi r1, r0, log2(12)       ; error: log2 needs a power of two; got 12 (0xc)
