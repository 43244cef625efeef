HALF = 1.0 / 2
    .data
    .f32 HALF                   ; 0.5
    .f32 float(3)               ; 3.0
    .f16 HALF * 3               ; 1.5
;@ data 0x0: 0x0000 0x3f00 0x0000 0x4040 0x3e00
