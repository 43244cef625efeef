start:
    nop                         ; = 0x01000000
loop: addi r1, r1, 1            ; = 0x18110001
    bne r1, r2, loop            ; = 0x3112ffff
    jmp start                   ; = 0x36000000
    call fn                     ; = 0x37000006
    b end                       ; = 0x30000002
fn: ret                         ; = 0x38f00000  (jr r15)
end: exit                       ; = 0x02000000
