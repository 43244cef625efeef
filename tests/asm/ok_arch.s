    .arch wse3
    nop                         ; = 0x01000000
