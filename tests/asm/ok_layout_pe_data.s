.fabric 3, 1
.program p
    exit
    .data
id: .u16 abs_x * 7
    .export id
.endprogram
.place p, 0, 0, 3, 1
;@ images 3
;@ pe 2, 0
;@ data 2: 0x000e
;@ symbol id u16 2 1
