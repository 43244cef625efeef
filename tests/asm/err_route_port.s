    .route 3, west -> rmap      ; error: unknown symbol `rmap`; did you mean `ramp`?
    nop
