    addi r1, 5, r2              ; error: operand `r2` of `addi` must be a register (r0-r15), got an expression
    add r1, r2, 7               ; error: operand `r3` of `add` must be a register
