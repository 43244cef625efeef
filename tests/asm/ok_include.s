    .include "inc/consts.inc"
    send C_OUT, r1              ; = 0x5b288000
    bump r2
    bump r2, C_IN
;@ code 0x5b288000 0x18220001 0x18220004
