    .if 1                       ; error: `.if` is never closed
    .endm                       ; error: `.endm` does not match the open `.if`
