    addi r1, r0, r2 + 1         ; error: register `r2` cannot be used in an expression here
