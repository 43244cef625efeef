    addi r1, r0, hi17(5)        ; error: unknown function `hi17`; did you mean `hi16`?
