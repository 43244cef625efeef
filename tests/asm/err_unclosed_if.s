    .if 1                       ; error: `.if` is never closed: missing `.endif`
    nop
