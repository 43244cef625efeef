    .if 1
    .if 0
    nop
    .else
    .if 1
    exit                        ; = 0x02000000
    .endif
    .endif
    .endif
