r3:                             ; error: `r3` is a reserved name
    nop
