    beq r1, r0, 40000           ; error: branch target 40000 (0x9c40) is outside the code
