    li r1, 0x12345678           ; = 0x1f101234 0x1a115678
    li r1, -1                   ; = 0x1f10ffff 0x1a11ffff
    li r1, 0xffffffff           ; = 0x1f10ffff 0x1a11ffff
    li r1, -0x80000000          ; = 0x1f108000 0x1a110000
    li lr, 7                    ; = 0x1ff00000 0x1aff0007
