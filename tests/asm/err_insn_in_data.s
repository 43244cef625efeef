    .data
    nop                         ; error: instruction `nop` in the data section
