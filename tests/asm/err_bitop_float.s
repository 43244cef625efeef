    addi r1, r0, 1.5 & 1        ; error: expected an integer operand for `&`
