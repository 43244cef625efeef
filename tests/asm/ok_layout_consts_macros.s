.fabric 3, 1
COLOR = 6
.macro hop, c
    .route c, west -> east
.endm
.program p
    hop COLOR
    send COLOR, r1              ; = 0x5b308000
.endprogram
.rep 3, i
.place p, i, 0
.endr
;@ images 1
;@ placement [(0, 0, 3, 1, 0)]
;@ route color=6 positions=((8,2),)
