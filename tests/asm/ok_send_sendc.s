    send 0, r1                  ; = 0x5b008000
    sendc 23, r15               ; = 0x5cbf8000
