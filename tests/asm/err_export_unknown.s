    nop
    .export nothing             ; error: cannot export unknown symbol `nothing`
