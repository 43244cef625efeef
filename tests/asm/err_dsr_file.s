    fmovh a0, a1                ; error: no form of `fmovh` takes (a-register, a-register)
