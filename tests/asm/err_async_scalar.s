    addi r1, r0, 1 async ut1    ; error: `addi` takes no async clause
