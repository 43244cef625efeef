LEN = end - begin               ; uses labels defined later
    addi r1, r0, LEN            ; = 0x18100002
begin:
    nop                         ; = 0x01000000
    nop                         ; = 0x01000000
end:
    exit                        ; = 0x02000000
