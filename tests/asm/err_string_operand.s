    addi r1, r0, "five"         ; error: this kind of operand is not allowed in an instruction
