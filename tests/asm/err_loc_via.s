    .loc "k.s", 3, 4, "m", "k.s"          ; error: then for each macro expansion
    .loc "k.s", 3, 4, m, "k.s", 1, 1      ; error: `.loc` takes "file", LINE, COL
    .loc "k.s", 3, 4, "m-1", "k.s", 1, 1  ; error: 'm-1' is neither a macro name
    .loc "k.s", 3, 4, "m", "", 1, 1       ; error: `.loc` takes "file", LINE, COL
    .loc "", 0, 0, "m", "k.s", 1, 1       ; error: the file name is empty; a bare `.loc`
    .loc "k.s", 3, 4, ".rep[x]", "k.s", 1, 1   ; error: nor `.rep[N]`
    .loc "", 3, 4                          ; error: the file name is empty
    .loc "k\x00.s", 3, 4                   ; error: a file name cannot contain NUL
    .loc "k.s", 3, 4, "m", "k\x00.s", 1, 1  ; error: a file name cannot contain NUL
    .loc "k.s", 3, 4, ".rep[4294967296]", "k.s", 1, 1   ; error: the iteration in '.rep[4294967296]' is out of range
    .loc "k.s", 3, 4, ".rep[4294967295]", "k.s", 1, 1
    nop
;@ errors 10
