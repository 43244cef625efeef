BIG = 1 << 255
    addi r1, r0, BIG * BIG      ; error: integer overflow
