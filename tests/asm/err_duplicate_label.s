here:
    nop
here:                           ; error: `here` is already defined
                                ; note: first defined at
    nop
