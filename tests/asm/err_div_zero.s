    addi r1, r0, 10 / 0         ; error: division by zero
    addi r1, r0, 10 % (2 - 2)   ; error: division by zero
