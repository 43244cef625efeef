N = 1
N = 2                           ; error: `N` is already defined
    nop
