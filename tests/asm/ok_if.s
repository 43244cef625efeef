MODE = 2
    .if MODE == 1
    addi r1, r0, 1
    .elif MODE == 2
    addi r1, r0, 2              ; = 0x18100002
    .else
    addi r1, r0, 3
    .endif
    .if 0
    .error "never"
    .endif
    .ifdef MODE
    nop                         ; = 0x01000000
    .endif
    .ifndef MODE
    exit
    .else
    exit                        ; = 0x02000000
    .endif
