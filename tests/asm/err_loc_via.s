    .loc "k.s", 3, 4, "m", "k.s"          ; error: then for each macro expansion
    .loc "k.s", 3, 4, m, "k.s", 1, 1      ; error: `.loc` takes "file", LINE, COL
    .loc "k.s", 3, 4, "m-1", "k.s", 1, 1  ; error: 'm-1' is neither a macro name
    .loc "k.s", 3, 4, "m", "", 1, 1       ; error: `.loc` takes "file", LINE, COL
    .loc "", 0, 0, "m", "k.s", 1, 1       ; error: code with no file cannot come from a macro
    .loc "k.s", 3, 4, ".rep[x]", "k.s", 1, 1   ; error: nor `.rep[N]`
    nop
;@ errors 6
