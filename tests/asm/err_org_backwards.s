    nop
    nop
    .data
    .org 2                      ; error: would move the data address backwards
