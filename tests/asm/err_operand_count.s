    addi r1, r0                 ; error: `addi` takes 3 operands, got 2
    exit r1                     ; error: `exit` takes 0 operands, got 1
