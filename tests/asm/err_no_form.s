    faddh d0, a0, a1            ; error: no form of `faddh` takes (d-register, a-register, a-register)
                                ; note: the forms are
