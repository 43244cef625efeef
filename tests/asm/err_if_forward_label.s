    .if later > 0               ; error: unknown symbol `later`
    nop
    .endif
later:
    nop
