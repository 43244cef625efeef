    nop                         ; = 0x01000000
    .data
v:  .u16 5
    .text
    ld16 r1, [r0 + v]           ; = 0x28100006
    exit                        ; = 0x02000000
    .data
w:  .u16 6
;@ data 6: 0x0005 0x0006
