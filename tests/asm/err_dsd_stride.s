    .dsd x, mem1d, base=0, len=4, stride=40000  ; error: stride 40000 (0x9c40) is out of range
    nop
