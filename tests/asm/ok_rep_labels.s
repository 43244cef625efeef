    .rep 2
top:
    b top
    .endr
;@ code 0x30000000 0x30000000
