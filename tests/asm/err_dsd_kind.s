    .dsd x, mem2d, base=0, len=4  ; error: unknown DSD kind `mem2d`
    nop
