    addi r1, r0, 1.5            ; error: imm16 must be an integer, got the float 1.5
