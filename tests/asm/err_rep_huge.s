    .rep 100000000              ; error: repeat count 100000000 (0x5f5e100) is out of range
    nop
    .endr
