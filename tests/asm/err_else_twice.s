    .if 0
    .else
    .else                       ; error: `.else` after `.else`
    .endif
