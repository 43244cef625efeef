    mov r1, r2                  ; = 0x18120000
    mov zero, lr                ; = 0x180f0000
    ret                         ; = 0x38f00000
    b .                         ; = 0x30000000
