A = B + 1
B = A + 1                       ; error: `A` is defined in terms of itself
    addi r1, r0, A
