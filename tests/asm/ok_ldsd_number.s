    .dsd a, mem1d, base=0, len=1
    .dsd b, mem1d, base=0, len=1
    ldsd d0, 1                  ; = 0x50000001
    ldsd d0, b                  ; = 0x50000001
