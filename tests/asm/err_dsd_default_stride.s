    .dsd ok, mem4d, base=0, len=[256, 200, 1]
    .dsd x, mem4d, base=0, len=[256, 200, 2]  ; error: dimension 2 of this mem4d DSD would have the stride 51200
    nop
