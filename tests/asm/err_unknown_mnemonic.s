    adi r1, r0, 1               ; error: unknown instruction `adi`; did you mean `andi`?
    fmacss d0, a0, b0, r1       ; error: did you mean `fmacs`?
