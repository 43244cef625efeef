    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1
    .if 1                       ; error: blocks are nested too deeply
    nop
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
    .endif
