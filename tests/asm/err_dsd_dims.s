    .dsd x, mem4d, base=0, len=[1, 2, 3, 4, 5]  ; error: a mem4d DSD has 1 to 4 dimensions, got 5
    nop
