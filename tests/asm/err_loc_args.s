    .loc 3, 4                   ; error: `.loc` takes "file", LINE, COL
    nop
