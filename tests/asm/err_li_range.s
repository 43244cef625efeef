    li r1, 0x100000000          ; error: value 4294967296 (0x100000000) does not fit 32 bits
    li r2, -0x80000001          ; error: does not fit 32 bits
    li r3, 0xffffffff
