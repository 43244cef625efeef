    .DATA
v:  .U16 3
    .TEXT
    nop                         ; = 0x01000000
;@ data 2: 0x0003
